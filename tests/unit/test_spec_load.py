"""Reading config.json / process.json files, the JSON key mapping and to_dict()."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pyrunc.errors import SpecError
from pyrunc.spec import Process, Spec, from_dict, json_key, load, load_bundle, load_process
from pyrunc.spec.model import Linux, Resources, Seccomp

MINIMAL = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}},
    "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]},
}


def write_bundle(tmp_path: Path, doc: object) -> Path:
    (tmp_path / "rootfs").mkdir(exist_ok=True)
    (tmp_path / "config.json").write_text(json.dumps(doc))
    return tmp_path


def test_json_key_mapping() -> None:
    assert json_key("oci_version") == "ociVersion"
    assert json_key("no_new_privileges") == "noNewPrivileges"
    assert json_key("hugepage_limits") == "hugepageLimits"
    assert json_key("block_io") == "blockIO"
    assert json_key("throttle_read_iops_device") == "throttleReadIOPSDevice"
    assert json_key("disable_oom_killer") == "disableOOMKiller"
    assert json_key("class_") == "class"
    assert json_key("container_id") == "containerID"
    assert json_key("exec_cpu_affinity") == "execCPUAffinity"


def test_attribute_names_and_defaults() -> None:
    doc = json.loads(json.dumps(MINIMAL))
    doc["linux"]["resources"] = {"memory": {"limit": 1 << 20, "disableOOMKiller": True},
                                 "blockIO": {"weight": 10}}
    doc["process"]["noNewPrivileges"] = True
    s = from_dict(doc)
    assert isinstance(s, Spec)
    assert s.oci_version == "1.3.0"
    assert s.process is not None and s.process.no_new_privileges is True
    assert s.linux is not None and s.linux.resources is not None
    assert s.linux.resources.memory is not None and s.linux.resources.memory.limit == 1 << 20
    assert s.linux.resources.memory.disable_oom_killer is True
    assert s.linux.resources.block_io is not None and s.linux.resources.block_io.weight == 10
    # absent optional objects are None, absent lists and maps empty
    assert s.hooks is None and s.linux.seccomp is None and s.process.capabilities is None
    assert s.mounts == [] and s.linux.uid_mappings == [] and s.annotations == {}
    assert s.namespace("pid") is not None and s.namespace("user") is None


def test_to_dict_round_trip_omits_unset() -> None:
    s = from_dict(MINIMAL)
    assert s.to_dict() == MINIMAL
    assert "hooks" not in s.to_dict() and "mounts" not in s.to_dict()


def test_to_dict_writes_process_user_ids() -> None:
    # uid/gid are REQUIRED by the spec text; a missing user becomes 0:0, as in runc
    doc = {"ociVersion": "1.3.0", "process": {"cwd": "/", "args": ["true"]}}
    assert from_dict(doc).to_dict()["process"]["user"] == {"uid": 0, "gid": 0}


def test_seccomp_flags_empty_list_is_kept() -> None:
    # absent flags and [] mean different things to runc (SPEC_ALLOW default)
    base = {"ociVersion": "1.3.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}}
    s = from_dict(base)
    assert s.linux is not None and s.linux.seccomp is not None and s.linux.seccomp.flags is None
    base["linux"]["seccomp"]["flags"] = []  # type: ignore[index]
    s = from_dict(base)
    assert s.to_dict()["linux"]["seccomp"]["flags"] == []


def test_model_built_in_python_serialises() -> None:
    seccomp = Seccomp(default_action="SCMP_ACT_LOG")
    s = Spec(oci_version="1.3.0", linux=Linux(resources=Resources(), seccomp=seccomp))
    assert s.to_dict() == {"ociVersion": "1.3.0",
                           "linux": {"resources": {}, "seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}


def test_top_level_must_be_object() -> None:
    with pytest.raises(SpecError, match="expected a JSON object, got array"):
        from_dict([1])


def test_process_only() -> None:
    p = from_dict({"cwd": "/", "args": ["ls"], "env": ["A=1"], "user": {"uid": 5, "gid": 6}},
                  process_only=True)
    assert isinstance(p, Process)
    assert (p.user.uid, p.user.gid, p.args) == (5, 6, ["ls"])
    with pytest.raises(SpecError) as e:
        from_dict({"cwd": "/", "args": "ls"}, process_only=True)
    assert str(e.value) == "process.args: expected an array, got string"


def test_load_missing_file_has_runc_text(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        load_bundle(tmp_path)
    assert str(e.value) == "JSON specification file config.json not found"
    with pytest.raises(SpecError, match=r"JSON specification file .*/nope.json not found"):
        load(tmp_path / "nope.json")


def test_load_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{\n  "ociVersion": "1.3.0",\n  "root": {"path": "rootfs",}\n}\n')
    with pytest.raises(SpecError) as e:
        load_bundle(tmp_path)
    assert str(e.value).startswith("config.json: invalid JSON at line 3 column 29: ")


def test_load_rejects_nan_and_bad_utf8(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text('{"ociVersion": "1.3.0", "process": {"oomScoreAdj": NaN}}')
    with pytest.raises(SpecError, match="invalid JSON value NaN"):
        load(p)
    p.write_bytes(b'{"ociVersion": "1.3.\xff"}')
    with pytest.raises(SpecError, match="invalid UTF-8 at byte 20"):
        load(p)


def test_load_bundle_validates(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, MINIMAL)
    s = load_bundle(bundle)
    assert s.root is not None and s.root.path == "rootfs"
    doc = json.loads(json.dumps(MINIMAL))
    doc["hostname"] = "box"
    write_bundle(tmp_path, doc)
    with pytest.raises(SpecError) as e:
        load_bundle(bundle)
    assert str(e.value) == "hostname: unable to set hostname without a private UTS namespace"
    assert load_bundle(bundle, validate=False).hostname == "box"


def test_load_bundle_logs_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    doc = json.loads(json.dumps(MINIMAL))
    doc["process"]["capabilities"] = {"bounding": ["CAP_CHOWN", "CAP_NOPE"]}
    bundle = write_bundle(tmp_path, doc)
    with caplog.at_level(logging.WARNING, logger="pyrunc"):
        load_bundle(bundle)
    assert "process.capabilities.bounding[1]: ignoring unknown or unavailable capabilities: [CAP_NOPE]" \
        in caplog.messages


def test_load_process_file(tmp_path: Path) -> None:
    p = tmp_path / "process.json"
    p.write_text(json.dumps({"cwd": "/tmp", "args": ["id"], "terminal": True}))
    proc = load_process(p)
    assert proc.cwd == "/tmp" and proc.terminal is True
    p.write_text(json.dumps({"cwd": "/tmp", "args": ["id"], "user": {"uid": "root"}}))
    with pytest.raises(SpecError) as e:
        load_process(p)
    assert str(e.value) == "process.user.uid: expected an integer, got string"
