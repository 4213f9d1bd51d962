"""`pyrunc features` validates against the runtime-spec features schema."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec" / "schema"


def _validator(name: str):
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    if not SCHEMA_DIR.is_dir():
        pytest.skip("runtime-spec schemas not found")

    def retrieve(uri: str):
        # The schemas $ref each other by relative file name.
        return DRAFT4.create_resource(json.loads(Path(uri[len("file://"):]).read_text()))

    schema = json.loads((SCHEMA_DIR / name).read_text())
    schema["id"] = (SCHEMA_DIR / name).as_uri()  # draft-4 base URI
    return jsonschema.Draft4Validator(schema, registry=referencing.Registry(retrieve=retrieve))


def test_features_validates_against_schema(cli):
    r = cli("features")
    assert r.code == 0
    assert r.out.startswith('{\n    "ociVersionMin": "1.0.0",\n')
    assert r.out.endswith("}\n")
    doc = json.loads(r.out)
    errors = list(_validator("features-schema.json").iter_errors(doc))
    assert errors == []


def test_features_claims_only_real_things():
    from pyrunc import _native
    from pyrunc.features import features

    doc = features()
    assert doc["ociVersionMax"] == "1.3.0"
    assert doc["linux"]["apparmor"] == {"enabled": False}
    probe = getattr(_native, "seccomp_supported", None)
    assert doc["linux"]["seccomp"]["enabled"] is bool(probe and probe())
    for ns in doc["linux"]["namespaces"]:
        path = {"mount": "mnt", "network": "net"}.get(ns, ns)
        assert os.path.exists(f"/proc/self/ns/{path}")
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert len(doc["linux"]["capabilities"]) == last + 1
    assert list(doc["annotations"]) == sorted(doc["annotations"])


def test_features_schema_check_rejects_bad_documents():
    # Guards the validator set-up itself (resolved $refs, not a no-op).
    v = _validator("features-schema.json")
    assert list(v.iter_errors({"ociVersionMin": "1.0.0", "ociVersionMax": "1.3.0", "linux": {"namespaces": ["bogus"]}}))
    assert list(v.iter_errors({"ociVersionMin": 1, "ociVersionMax": "1.3.0"}))
