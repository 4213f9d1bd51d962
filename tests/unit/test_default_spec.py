"""`pyrunc spec`: runc's example spec, schema-valid, written like runc writes it."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyrunc.spec.default import default_spec, dumps, to_rootless

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec" / "schema"


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    if not SCHEMA_DIR.is_dir():
        pytest.skip("runtime-spec schemas not found")

    def retrieve(uri: str):
        return DRAFT4.create_resource(json.loads(Path(uri[len("file://"):]).read_text()))

    schema = json.loads((SCHEMA_DIR / "config-schema.json").read_text())
    schema["id"] = (SCHEMA_DIR / "config-schema.json").as_uri()
    return jsonschema.Draft4Validator(schema, registry=referencing.Registry(retrieve=retrieve))


@pytest.mark.parametrize("rootless", [False, True])
def test_default_spec_validates_against_schema(rootless):
    errors = [e.message for e in _validator().iter_errors(default_spec(rootless=rootless))]
    assert errors == []


def test_default_spec_schema_check_is_not_a_no_op():
    bad = default_spec()
    bad["mounts"][0]["destination"] = 5
    del bad["ociVersion"]
    assert len(list(_validator().iter_errors(bad))) >= 2


def test_default_spec_content():
    s = default_spec()
    assert s["ociVersion"] == "1.3.0"
    assert s["process"]["args"] == ["sh"] and s["process"]["terminal"] is True
    assert "ambient" not in s["process"]["capabilities"]
    assert [m["destination"] for m in s["mounts"]] == [
        "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup",
    ]
    ns = [n["type"] for n in s["linux"]["namespaces"]]
    assert ns[:5] == ["pid", "network", "ipc", "uts", "mount"]
    assert ("cgroup" in ns) == os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    assert s["linux"]["resources"] == {"devices": [{"allow": False, "access": "rwm"}]}
    # Fresh objects each call: callers may edit them.
    s["process"]["args"].append("x")
    assert default_spec()["process"]["args"] == ["sh"]


def test_default_spec_rootless():
    s = default_spec(rootless=True)
    linux = s["linux"]
    assert list(linux)[:2] == ["uidMappings", "gidMappings"]
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
    ns = [n["type"] for n in linux["namespaces"]]
    assert "network" not in ns and ns[-1] == "user" and ns.count("user") == 1
    assert "resources" not in linux
    sys_mount = next(m for m in s["mounts"] if m["destination"] == "/sys")
    assert sys_mount == {
        "destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
    }
    for m in s["mounts"]:
        assert not any(o.startswith(("uid=", "gid=")) for o in m.get("options", []))
    assert "options" not in s["mounts"][0]


def test_default_spec_to_rootless_is_idempotent():
    s = default_spec(rootless=True)
    again = copy.deepcopy(s)
    to_rootless(again)
    assert again == s


def test_default_spec_dumps_like_go_marshalindent():
    text = dumps(default_spec())
    assert text.startswith('{\n\t"ociVersion": "1.3.0",\n\t"process": {\n\t\t"terminal": true,')
    assert not text.endswith("\n")


def _pyrunc(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pyrunc", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_default_spec_command_writes_file(tmp_path):
    old = os.umask(0o027)
    try:
        r = _pyrunc("spec", cwd=tmp_path)
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    path = tmp_path / "config.json"
    assert path.read_text() == dumps(default_spec())
    assert path.stat().st_mode & 0o777 == 0o640
    r = _pyrunc("spec", cwd=tmp_path)
    assert r.returncode == 1
    assert 'msg="File config.json exists. Remove it first"' in r.stderr


def test_default_spec_command_bundle_and_rootless(tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    r = _pyrunc("spec", "--rootless", "-b", str(bundle), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((bundle / "config.json").read_text()) == default_spec(rootless=True)
    r = _pyrunc("spec", "-bundle", str(tmp_path / "missing"), cwd=tmp_path)
    assert r.returncode == 1 and "no such file or directory" in r.stderr


def _normalise_runc_1_1(spec: dict) -> dict:
    """runc 1.1 -> 1.2+ example changes (see pyrunc.spec.default's docstring)."""
    spec = copy.deepcopy(spec)
    spec["ociVersion"] = "1.3.0"
    spec["process"]["capabilities"].pop("ambient", None)
    if "/sys/devices/virtual/tpm" not in spec["linux"]["maskedPaths"]:
        spec["linux"]["maskedPaths"].append("/sys/devices/virtual/tpm")
    return spec


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc not installed")
@pytest.mark.parametrize("rootless", [False, True])
def test_default_spec_differential_runc(tmp_path, rootless):
    flags = ["--rootless"] if rootless else []
    (tmp_path / "runc").mkdir()
    (tmp_path / "ours").mkdir()
    r = subprocess.run(["runc", "spec", *flags], cwd=tmp_path / "runc", capture_output=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert _pyrunc("spec", *flags, cwd=tmp_path / "ours").returncode == 0
    theirs_text = (tmp_path / "runc" / "config.json").read_text()
    ours_text = (tmp_path / "ours" / "config.json").read_text()
    theirs = _normalise_runc_1_1(json.loads(theirs_text))
    ours = json.loads(ours_text)
    assert ours == theirs
    # Same key order (Go struct order) everywhere, not only equal content.
    assert json.dumps(ours) == json.dumps(theirs)
    # Our writer reproduces runc's bytes for runc's own document (tabs, ": ",
    # no trailing newline).
    assert dumps(json.loads(theirs_text)) == theirs_text
