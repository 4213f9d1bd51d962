"""`pyrunc features` against the runtime-spec schema, and every claim it
makes checked against what a real container on this host can use."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Bundle, Runtime, is_pyrunc

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="checks pyrunc's own claims")

# ../shared beside the checkout, as on the developers' and CI machines.
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec" / "schema"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "pyrunc", "features"], capture_output=True, text=True, check=True)
    # runc's shape: 4-space indented JSON.
    assert r.stdout.startswith('{\n    "ociVersionMin"')
    return json.loads(r.stdout)


def test_features_validate_against_the_schema(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    if not SCHEMA_DIR.is_dir():
        pytest.skip("runtime-spec schemas not found")

    def retrieve(uri: str) -> Any:
        # The schemas $ref each other by relative file name.
        return DRAFT4.create_resource(json.loads(Path(uri[len("file://"):]).read_text()))

    schema = json.loads((SCHEMA_DIR / "features-schema.json").read_text())
    schema["id"] = (SCHEMA_DIR / "features-schema.json").as_uri()
    validator = jsonschema.Draft4Validator(schema, registry=referencing.Registry(retrieve=retrieve))
    assert [e.message for e in validator.iter_errors(doc)] == []
    # A wrong document is caught (the $refs resolved, the check is not a no-op).
    bad = json.loads(json.dumps(doc))
    bad["linux"]["seccomp"]["actions"] = ["SCMP_ACT_NOPE"]
    assert list(validator.iter_errors(bad))


def test_features_annotations(doc: dict[str, Any]) -> None:
    from pyrunc import __version__

    a = doc["annotations"]
    assert a["io.github.pyrunc.version"] == __version__
    assert a["io.github.pyrunc.seccomp.library"] == "pyrunc (built-in)"
    assert a["org.opencontainers.runc.checkpoint.enabled"] == "false"
    commit = a["io.github.pyrunc.commit"]
    assert commit == "unknown" or (len(commit) == 40 and int(commit, 16) >= 0)
    assert list(a) == sorted(a)
    assert doc["potentiallyUnsafeConfigAnnotations"] == []


def test_features_seccomp_claims_hold(doc: dict[str, Any], runtime: Runtime, bundle: Bundle) -> None:
    sc = doc["linux"]["seccomp"]
    if not sc["enabled"]:
        pytest.skip("seccomp reported disabled")
    assert set(sc["supportedFlags"]) <= set(sc["knownFlags"])
    assert {"SCMP_ACT_NOTIFY", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_ERRNO"} <= set(sc["actions"])
    assert "SCMP_CMP_MASKED_EQ" in sc["operators"]
    # Every flag the kernel is said to support really loads in a container.
    for flag in sc["supportedFlags"]:
        if flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
            continue  # only meaningful with a notify listener (test_seccomp's agent)
        bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "flags": [flag],
                                             "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
        bundle.set_args("grep", "^Seccomp:", "/proc/self/status")
        r = runtime("run", "-b", str(bundle.path), runtime.new_id())
        assert (r.rc, r.out) == (0, "Seccomp:\t2\n"), (flag, r)


def test_features_namespaces_claims_hold(doc: dict[str, Any], runtime: Runtime, bundle: Bundle) -> None:
    """A container with every namespace features lists (but user, which
    needs maps: test_userns) gets a new one of each."""
    kinds = [k for k in doc["linux"]["namespaces"] if k != "user"]
    bundle.config["linux"]["namespaces"] = [{"type": k} for k in kinds]
    files = {"mount": "mnt", "network": "net"}
    names = [files.get(k, k) for k in kinds]
    bundle.set_args("sh", "-c", " ; ".join(f"readlink /proc/self/ns/{n}" for n in names))
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    inside = r.out.split()
    assert len(inside) == len(names)
    for n, link in zip(names, inside):
        assert link != os.readlink(f"/proc/self/ns/{n}"), n


def test_features_capabilities_claims_hold(doc: dict[str, Any], runtime: Runtime, bundle: Bundle) -> None:
    """The kernel's whole list; a container gets each one this caller has
    (this test's own bounding set may lack some, e.g. in a sandbox)."""
    from pyrunc.spec.caps import CAPABILITIES

    caps = doc["linux"]["capabilities"]
    assert len(caps) == int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1
    assert [CAPABILITIES[c] for c in caps] == list(range(len(caps)))
    ours = int(next(ln for ln in Path("/proc/self/status").read_text().splitlines()
                    if ln.startswith("CapBnd:")).split()[1], 16)
    usable = [c for c in caps if ours >> CAPABILITIES[c] & 1]
    bundle.config["process"]["capabilities"] = {"bounding": usable, "effective": usable, "permitted": usable}
    bundle.set_args("grep", "^CapBnd:", "/proc/self/status")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert int(r.out.split()[1], 16) == ours


def test_features_lsm_claims_hold(doc: dict[str, Any], runtime: Runtime, bundle: Bundle) -> None:
    from pyrunc import lsm

    assert doc["linux"]["apparmor"]["enabled"] == lsm.apparmor_enabled()
    assert doc["linux"]["selinux"]["enabled"] == lsm.selinux_enabled()
    if not doc["linux"]["apparmor"]["enabled"]:
        bundle.config["process"]["apparmorProfile"] = "pyrunc-test"
        bundle.write()
        r = runtime("run", "-b", str(bundle.path), runtime.new_id())
        assert r.rc == 1 and "process.apparmorProfile" in r.error_text(), r


def test_features_idmap_claim_holds(doc: dict[str, Any], runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    enabled = doc["linux"]["mountExtensions"]["idmap"]["enabled"]
    src = tmp_path / "src"
    src.mkdir()
    maps = [{"containerID": 0, "hostID": 3000, "size": 10}]
    bundle.config["mounts"].append({"destination": "/m", "type": "bind", "source": str(src),
                                    "options": ["rbind"], "uidMappings": maps, "gidMappings": maps})
    bundle.set_args("stat", "-c", "%u", "/m")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    if enabled:
        assert (r.rc, r.out) == (0, "3000\n"), r
    else:
        assert r.rc == 1, r
