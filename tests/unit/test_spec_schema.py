"""The loader against the runtime-spec documents and JSON schema.

Every ```json example in config.md and config-linux.md (embedded in a minimal
config when it is a fragment) must be schema-valid and load; type errors must
be rejected by both the schema and the loader, with the field named."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from pyrunc.errors import SpecError
from pyrunc.spec import from_dict

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec"
SCHEMA_DIR = SPEC_DIR / "schema"

pytestmark = pytest.mark.skipif(not SCHEMA_DIR.is_dir(), reason="runtime-spec checkout not available")

TOP_KEYS = {"ociVersion", "root", "mounts", "process", "hostname", "domainname", "hooks", "annotations", "linux"}
LINUX_KEYS = {"namespaces", "uidMappings", "gidMappings", "devices", "netDevices", "cgroupsPath", "resources",
              "sysctl", "seccomp", "rootfsPropagation", "maskedPaths", "readonlyPaths", "mountLabel",
              "intelRdt", "memoryPolicy", "personality", "timeOffsets"}
RESOURCE_KEYS = {"memory", "cpu", "blockIO", "hugepageLimits", "network", "pids", "rdma", "unified"}
BASE = {"ociVersion": "1.3.0"}


def _validator() -> jsonschema.Draft4Validator:
    def retrieve(uri: str) -> referencing.Resource:
        path = Path(uri.removeprefix("file://"))
        return referencing.jsonschema.DRAFT4.create_resource(json.loads(path.read_text()))

    schema = json.loads((SCHEMA_DIR / "config-schema.json").read_text())
    schema["id"] = (SCHEMA_DIR / "config-schema.json").as_uri()
    return jsonschema.Draft4Validator(schema, registry=referencing.Registry(retrieve=retrieve))


VALIDATOR = _validator() if SCHEMA_DIR.is_dir() else None


def schema_errors(doc: Any) -> list[str]:
    assert VALIDATOR is not None
    return [e.message for e in VALIDATOR.iter_errors(doc)]


def _repair(text: str) -> str:
    # The docs' snippets have trailing commas and one missing comma
    # (memoryPolicy); fix only those two slips.
    text = re.sub(r",(\s*[}\]])", r"\1", text.strip().rstrip(","))
    return re.sub(r'"(\s*\n\s*)"', r'",\1"', text)


def _embed(frag: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    keys = set(frag)
    if keys <= TOP_KEYS:
        doc.update(frag)
    elif keys <= RESOURCE_KEYS or (keys == {"devices"} and all("allow" in d for d in frag["devices"])):
        doc["linux"] = {"resources": frag}
    elif keys <= LINUX_KEYS:
        doc["linux"] = frag
    else:
        raise AssertionError(f"cannot place fragment with keys {sorted(keys)}")
    return doc


def doc_examples() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name in ("config.md", "config-linux.md"):
        text = (SPEC_DIR / name).read_text()
        for n, m in enumerate(re.finditer(r"```json\n(.*?)```", text, re.DOTALL)):
            body = _repair(m.group(1))
            obj = json.loads(body if body.startswith("{") else "{" + body + "}")
            if "state" in obj and "fds" in obj:  # the seccomp agent's process state, not a config
                continue
            doc = obj if "ociVersion" in obj else _embed(obj)
            out.append((f"{name}#{n}", doc))
    return out


EXAMPLES = doc_examples() if SCHEMA_DIR.is_dir() else []


def test_examples_found() -> None:
    # config.md and config-linux.md together hold a few dozen examples
    assert len(EXAMPLES) >= 30
    assert any("ociVersion" in d and "linux" in d and "hooks" in d for _, d in EXAMPLES)


@pytest.mark.parametrize("name,doc", EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_doc_example_schema_valid_and_loads(name: str, doc: dict[str, Any]) -> None:
    assert schema_errors(doc) == []
    spec = from_dict(doc)
    # round trip: writing back and loading again gives the same model
    assert from_dict(spec.to_dict()) == spec
    assert schema_errors(spec.to_dict()) == []


def test_full_example_round_trips_exactly() -> None:
    (doc,) = [d for _, d in EXAMPLES if "ociVersion" in d and "hooks" in d and "linux" in d]
    assert from_dict(doc).to_dict() == doc


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    parts = [int(p) if p.isdigit() else p for p in path.split("/")]
    cur: Any = doc
    for p in parts[:-1]:
        cur = cur[p]
    if value is _DELETE:
        del cur[parts[-1]]
    else:
        cur[parts[-1]] = value
    return doc


_DELETE = object()

FULL = next((d for _, d in EXAMPLES if "ociVersion" in d and "hooks" in d and "linux" in d), {})

# (where, bad value, expected error): all are type/shape errors the schema rejects too
TYPE_ERRORS = [
    ("process/user/uid", "0", "process.user.uid: expected an integer, got string"),
    ("process/user/uid", -1, "process.user.uid: value -1 out of range for uint32"),
    ("process/user/gid", 2**32, "process.user.gid: value 4294967296 out of range for uint32"),
    ("process/user/additionalGids", [5, "6"], "process.user.additionalGids[1]: expected an integer, got string"),
    ("process/args", "sh", "process.args: expected an array, got string"),
    ("process/terminal", "yes", "process.terminal: expected a boolean, got string"),
    ("process/cwd", _DELETE, "process.cwd: missing required property"),
    ("process/rlimits/0/soft", -1, "process.rlimits[0].soft: value -1 out of range for uint64"),
    ("process/rlimits/1/type", _DELETE, "process.rlimits[1].type: missing required property"),
    ("process/capabilities/bounding", [1], "process.capabilities.bounding[0]: expected a string, got number"),
    ("process/oomScoreAdj", 1.5, "process.oomScoreAdj: expected an integer, got number"),
    ("process/ioPriority/priority", 2**31, "process.ioPriority.priority: value 2147483648 out of range for int32"),
    ("root", "rootfs", "root: expected an object, got string"),
    ("root/path", _DELETE, "root.path: missing required property"),
    ("root/readonly", 1, "root.readonly: expected a boolean, got number"),
    ("mounts/1/destination", _DELETE, "mounts[1].destination: missing required property"),
    ("mounts/2/options", "nosuid", "mounts[2].options: expected an array, got string"),
    ("mounts/0", "proc", "mounts[0]: expected an object, got string"),
    ("hostname", 7, "hostname: expected a string, got number"),
    ("hooks/prestart/0/path", _DELETE, "hooks.prestart[0].path: missing required property"),
    ("hooks/poststart/0/timeout", "5", "hooks.poststart[0].timeout: expected an integer, got string"),
    ("annotations/com.example.key1", 1, 'annotations["com.example.key1"]: expected a string, got number'),
    ("linux/namespaces/0", "pid", "linux.namespaces[0]: expected an object, got string"),
    ("linux/namespaces/2/type", _DELETE, "linux.namespaces[2].type: missing required property"),
    ("linux/uidMappings/0/hostID", 2**32, "linux.uidMappings[0].hostID: value 4294967296 out of range for uint32"),
    ("linux/gidMappings/0/size", _DELETE, "linux.gidMappings[0].size: missing required property"),
    ("linux/devices/1/major", "8", "linux.devices[1].major: expected an integer, got string"),
    ("linux/sysctl/net.ipv4.ip_forward", 1, 'linux.sysctl["net.ipv4.ip_forward"]: expected a string, got number'),
    ("linux/resources/memory/limit", 1.5, "linux.resources.memory.limit: expected an integer, got number"),
    ("linux/resources/memory/disableOOMKiller", "no",
     "linux.resources.memory.disableOOMKiller: expected a boolean, got string"),
    ("linux/resources/blockIO/weight", 70000, "linux.resources.blockIO.weight: value 70000 out of range for uint16"),
    ("linux/resources/blockIO/throttleWriteIOPSDevice/0/major", _DELETE,
     "linux.resources.blockIO.throttleWriteIOPSDevice[0].major: missing required property"),
    ("linux/resources/network/classID", -1, "linux.resources.network.classID: value -1 out of range for uint32"),
    ("linux/resources/hugepageLimits/0/limit", _DELETE,
     "linux.resources.hugepageLimits[0].limit: missing required property"),
    ("linux/resources/devices/0/allow", _DELETE, "linux.resources.devices[0].allow: missing required property"),
    ("linux/resources/cpu/cpus", 2, "linux.resources.cpu.cpus: expected a string, got number"),
    ("linux/seccomp/defaultAction", _DELETE, "linux.seccomp.defaultAction: missing required property"),
    ("linux/seccomp/syscalls/0/names", "getcwd", "linux.seccomp.syscalls[0].names: expected an array, got string"),
    ("linux/timeOffsets/monotonic/secs", "1", "linux.timeOffsets.monotonic.secs: expected an integer, got string"),
    ("linux/maskedPaths", {"a": "b"}, "linux.maskedPaths: expected an array, got object"),
    ("ociVersion", 1, "ociVersion: expected a string, got number"),
    ("ociVersion", _DELETE, "ociVersion: missing required property"),
]


@pytest.mark.parametrize("where,value,expected", TYPE_ERRORS, ids=[t[0] for t in TYPE_ERRORS])
def test_type_error_rejected_by_schema_and_loader(where: str, value: Any, expected: str) -> None:
    doc = _set(FULL, where, value)
    assert schema_errors(doc), "the schema should reject this document too"
    with pytest.raises(SpecError) as e:
        from_dict(doc)
    assert str(e.value) == expected


def test_unknown_properties_are_ignored() -> None:
    doc = _set(FULL, "process/fancyNewThing", {"x": 1})
    doc = _set(doc, "linux/resources/memory/someFutureKnob", True)
    doc["windows"] = {"layerFolders": ["x"]}
    doc["vendorExtension"] = [1, 2]
    assert from_dict(doc) == from_dict(FULL)


def test_null_is_absent() -> None:
    # Go's decoder (runc) treats null as "not set"
    doc = _set(FULL, "hostname", None)
    assert from_dict(doc).hostname is None
