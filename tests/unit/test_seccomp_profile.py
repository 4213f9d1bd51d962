"""pyrunc.seccomp: profile checks with field paths, model and dict forms."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pyrunc import seccomp
from pyrunc.errors import SpecError
from pyrunc.spec import from_dict

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec" / "schema" / "defs-linux.json"


def _profile() -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "listenerPath": "/run/agent.sock",
        "listenerMetadata": "meta",
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
            {
                "names": ["personality"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 0xFFFF, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}],
            },
            {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22},
        ],
    }


def _spec(sc: dict[str, Any]) -> Any:
    return from_dict(
        {
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
            "linux": {"seccomp": sc},
        }
    )


def test_seccomp_validate_dict_returns_config_json_form() -> None:
    p = _profile()
    assert seccomp.validate(p) == p
    # a copy: callers may change it without touching the input
    out = seccomp.validate(p)
    out["syscalls"].clear()
    assert p["syscalls"]


def test_seccomp_model_and_raw_dict_agree() -> None:
    spec = _spec(_profile())
    from_model = seccomp.validate(spec.linux.seccomp)
    from_dict_form = seccomp.validate(spec.to_dict()["linux"]["seccomp"])
    assert from_model == from_dict_form == _profile()


def test_seccomp_plain_objects_with_snake_case_attributes() -> None:
    arg = SimpleNamespace(index=1, value=5, value_two=None, op="SCMP_CMP_GT")
    call = SimpleNamespace(names=["kill"], action="SCMP_ACT_ERRNO", errno_ret=3, args=[arg])
    prof = SimpleNamespace(
        default_action="SCMP_ACT_ALLOW",
        default_errno_ret=None,
        architectures=[],
        flags=None,
        listener_path=None,
        listener_metadata=None,
        syscalls=[call],
    )
    assert seccomp.to_json(prof) == {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": [],
        "syscalls": [
            {
                "names": ["kill"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 3,
                "args": [{"index": 1, "value": 5, "op": "SCMP_CMP_GT"}],
            }
        ],
    }


@pytest.mark.parametrize(
    "change, field, msg",
    [
        (lambda p: p.pop("defaultAction"), "linux.seccomp.defaultAction", "is required"),
        (
            lambda p: p.update(defaultAction="SCMP_ACT_FOO"),
            "linux.seccomp.defaultAction",
            'unknown action "SCMP_ACT_FOO"',
        ),
        (
            lambda p: (p.pop("defaultErrnoRet"), p.update(defaultAction="SCMP_ACT_NOTIFY")),
            "linux.seccomp.defaultAction",
            "cannot be used as the default",
        ),
        (
            lambda p: p.update(defaultAction="SCMP_ACT_KILL"),
            "linux.seccomp.defaultErrnoRet",
            "SCMP_ACT_KILL does not take an errno",
        ),
        (lambda p: p.update(defaultErrnoRet=-1), "linux.seccomp.defaultErrnoRet", "must be an integer"),
        (
            lambda p: p["architectures"].append("SCMP_ARCH_Z80"),
            "linux.seccomp.architectures[2]",
            "unknown architecture",
        ),
        (
            lambda p: p["flags"].append("SECCOMP_FILTER_FLAG_X"),
            "linux.seccomp.flags[1]",
            'unknown flag "SECCOMP_FILTER_FLAG_X"',
        ),
        (lambda p: p.pop("listenerPath"), "linux.seccomp.listenerMetadata", "without listenerPath"),
        (
            lambda p: (p.pop("listenerPath"), p.pop("listenerMetadata")),
            "linux.seccomp.listenerPath",
            "required when SCMP_ACT_NOTIFY",
        ),
        (
            lambda p: p["syscalls"][3].update(action="SCMP_ACT_FOO"),
            "linux.seccomp.syscalls[3].action",
            'unknown action "SCMP_ACT_FOO"',
        ),
        (
            lambda p: p["syscalls"][0].update(errnoRet=5),
            "linux.seccomp.syscalls[0].errnoRet",
            "SCMP_ACT_ALLOW does not take",
        ),
        (lambda p: p["syscalls"][0].update(names=[]), "linux.seccomp.syscalls[0].names", "at least one"),
        (
            lambda p: p["syscalls"][0].update(names=["read", ""]),
            "linux.seccomp.syscalls[0].names[1]",
            "non-empty string",
        ),
        (
            lambda p: p["syscalls"][1]["names"].append("write"),
            "linux.seccomp.syscalls[1].names",
            "write syscall",
        ),
        (
            lambda p: p["syscalls"][2]["args"][0].update(op="SCMP_CMP_X"),
            "linux.seccomp.syscalls[2].args[0].op",
            "unknown operator",
        ),
        (
            lambda p: p["syscalls"][2]["args"][0].update(index=6),
            "linux.seccomp.syscalls[2].args[0].index",
            "from 0 to 5",
        ),
        (
            lambda p: p["syscalls"][2]["args"][0].update(value=2**64),
            "linux.seccomp.syscalls[2].args[0].value",
            "integer",
        ),
        (
            lambda p: p["syscalls"][2]["args"][0].pop("op"),
            "linux.seccomp.syscalls[2].args[0].op",
            "is required",
        ),
        (
            lambda p: p["syscalls"][2]["args"][0].update(valueTwo="8"),
            "linux.seccomp.syscalls[2].args[0].valueTwo",
            "integer",
        ),
    ],
)
def test_seccomp_errors_name_the_field(change: Any, field: str, msg: str) -> None:
    p = _profile()
    change(p)
    with pytest.raises(SpecError) as ei:
        seccomp.validate(p)
    assert ei.value.field == field
    assert msg in ei.value.msg
    assert str(ei.value).startswith(field + ": ")


@pytest.mark.skipif(not SCHEMA.exists(), reason="runtime-spec schema not beside the repo")
def test_seccomp_name_lists_match_the_spec_schema() -> None:
    defs = json.loads(SCHEMA.read_text())["definitions"]
    assert sorted(seccomp.ACTIONS) == sorted(defs["SeccompAction"]["enum"])
    assert sorted(seccomp.OPERATORS) == sorted(defs["SeccompOperators"]["enum"])
    assert sorted(seccomp.ARCHES) == sorted(defs["SeccompArch"]["enum"])
    assert sorted(seccomp.FLAGS) == sorted(defs["SeccompFlag"]["enum"])
