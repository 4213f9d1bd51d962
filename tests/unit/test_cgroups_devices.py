"""Device rules: spec parsing, v1 lines, and the v2 BPF program (run through
the interpreter in devices.evaluate; test_cgroups_v2 loads it for real)."""
from __future__ import annotations

import pytest
from pyrunc.cgroups import devices as d
from pyrunc.errors import CgroupError

R, W, M = d.ACC_READ, d.ACC_WRITE, d.ACC_MKNOD
CHAR, BLOCK = d.DEV_CHAR, d.DEV_BLOCK


def test_from_spec_defaults_and_order():
    rules = d.from_spec([{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1,
                                                              "minor": 3, "access": "wr"}])
    assert rules[0] == d.Rule("a", -1, -1, "rwm", False)
    assert rules[1] == d.Rule("c", 1, 3, "rw", True)
    assert rules[1].v1_line() == "c 1:3 rw"
    assert d.Rule("c", 136, -1, "rwm", True).v1_line() == "c 136:* rwm"


@pytest.mark.parametrize("dev,msg", [
    ({"type": "c"}, r"devices\[0\]\.allow: required"),
    ({"allow": True, "type": "x"}, r"devices\[0\]\.type: invalid"),
    ({"allow": True, "access": "rwx"}, r"devices\[0\]\.access: invalid"),
])
def test_from_spec_errors(dev, msg):
    with pytest.raises(CgroupError, match=msg):
        d.from_spec([dev])


def test_default_allow_list_is_runcs():
    lines = [r.v1_line() for r in d.DEFAULT_ALLOWED]
    assert lines == ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm",
                     "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"]
    rules = d.container_rules([{"allow": False, "access": "rwm"}])
    assert rules[0].is_all() and not rules[0].allow and rules[1:] == list(d.DEFAULT_ALLOWED)


def test_v1_writes():
    rules = d.from_spec([{"allow": False, "access": "rwm"}, {"allow": True, "type": "a", "access": "r"},
                         {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}])
    assert d.v1_writes(rules) == [
        ("devices.deny", "a"),
        ("devices.allow", "c *:* r"), ("devices.allow", "b *:* r"),  # a partial "a" is spelled out
        ("devices.deny", "c 1:3 w"),
    ]


def test_bpf_program_default_deny():
    prog = d.bpf_program(d.container_rules([{"allow": False, "access": "rwm"}]))
    ev = d.evaluate
    assert ev(prog, CHAR, R | W, 1, 3) == 1  # /dev/null
    assert ev(prog, CHAR, R, 1, 11) == 0  # /dev/kmsg
    assert ev(prog, CHAR, M, 1, 11) == 1  # mknod of anything
    assert ev(prog, BLOCK, M, 8, 0) == 1
    assert ev(prog, BLOCK, R, 8, 0) == 0
    assert ev(prog, CHAR, R | W, 136, 7) == 1  # any pts
    assert ev(prog, BLOCK, R, 136, 7) == 0  # a block device with pts numbers
    assert ev(prog, CHAR, R | M, 5, 1) == 0  # console numbers: not in the list


def test_bpf_program_order_later_wins():
    rules = d.from_spec([
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
        {"allow": False, "type": "c", "major": 1, "minor": 5, "access": "w"},
    ])
    prog = d.bpf_program(rules)
    assert d.evaluate(prog, CHAR, R, 1, 5) == 1
    assert d.evaluate(prog, CHAR, W, 1, 5) == 0
    assert d.evaluate(prog, CHAR, R | W, 1, 5) == 0  # any denied access denies


def test_bpf_program_without_deny_all_allows_by_default():
    prog = d.bpf_program(d.from_spec([{"allow": False, "type": "b", "major": 8, "access": "rwm"}]))
    assert d.evaluate(prog, BLOCK, R, 8, 1) == 0
    assert d.evaluate(prog, BLOCK, R, 9, 1) == 1
    assert d.evaluate(prog, CHAR, R, 8, 1) == 1
    assert d.default_allow(d.from_spec([{"allow": False, "access": "rwm"}])) is False
    assert d.default_allow([]) is True


def test_bpf_program_stops_at_last_reset():
    rules = d.from_spec([{"allow": True, "type": "c", "major": 4, "access": "rwm"},
                         {"allow": False, "access": "rwm"}])
    prog = d.bpf_program(rules)
    # the rule before the reset cannot matter: not emitted, and denied
    assert d.evaluate(prog, CHAR, R, 4, 0) == 0
    assert len(prog) == 6 + 2


def test_encode():
    raw = d.encode([(d.LDX_W, 2, 1, 4, 0), (d.EXIT, 0, 0, 0, 0)])
    assert raw == bytes([0x61, 0x12, 4, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
