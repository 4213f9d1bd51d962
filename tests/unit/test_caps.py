"""The capability table, strict and lenient name parsing, cap_last_cap."""
from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

import pytest
from pyrunc.errors import SpecError
from pyrunc.spec import Capabilities
from pyrunc.spec import caps as c

PR_CAPBSET_READ = 23


def test_table_bounds() -> None:
    assert c.CAPABILITIES["CAP_CHOWN"] == 0
    assert c.CAPABILITIES["CAP_SYS_ADMIN"] == 21
    assert c.CAPABILITIES["CAP_AUDIT_READ"] == 37
    assert c.CAPABILITIES["CAP_CHECKPOINT_RESTORE"] == 40
    assert sorted(c.CAPABILITIES.values()) == list(range(41))
    assert c.CAP_NAMES[27] == "CAP_MKNOD"


def test_table_agrees_with_the_kernel_bounding_set() -> None:
    # prctl(PR_CAPBSET_READ) answers EINVAL exactly for numbers the kernel lacks
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    last = c.last_cap()
    assert libc.prctl(PR_CAPBSET_READ, last, 0, 0, 0) in (0, 1)
    assert libc.prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) == -1


def test_last_cap_reads_proc_and_falls_back(tmp_path: Path) -> None:
    assert c.last_cap() == int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    f = tmp_path / "cap_last_cap"
    f.write_text("35\n")
    assert c.last_cap(str(f)) == 35
    assert c.last_cap(str(tmp_path / "missing")) == 40
    assert c.known_caps(35)[-1] == "CAP_WAKE_ALARM"
    assert len(c.known_caps(35)) == 36


def test_parse_caps_strict() -> None:
    assert c.parse_caps(["CAP_KILL", "CAP_CHOWN"], "process.capabilities.bounding", last=40) == [5, 0]
    with pytest.raises(SpecError) as e:
        c.parse_caps(["CAP_KILL", "CAP_CHOWN", "CAP_FOO"], "process.capabilities.bounding", last=40)
    assert str(e.value) == 'process.capabilities.bounding[2]: unknown capability "CAP_FOO"'
    with pytest.raises(SpecError) as e:
        c.parse_caps(["CAP_BPF"], "process.capabilities.effective", last=37)
    assert str(e.value) == ('process.capabilities.effective[0]: '
                            'capability "CAP_BPF" is not supported by this kernel')


def test_resolve_drops_and_reports_like_runc() -> None:
    caps = Capabilities(bounding=["CAP_CHOWN", "CAP_UNKNOWN", "CAP_BPF"],
                        effective=["CAP_UNKNOWN2", "CAP_KILL"], ambient=["CAP_CHOWN", "CAP_CHOWN"])
    r = c.resolve(caps, last=38)
    assert r.bounding == [0] and r.effective == [5] and r.ambient == [0]
    assert r.permitted == [] and r.inheritable == []
    assert r.unknown == ["CAP_BPF", "CAP_UNKNOWN", "CAP_UNKNOWN2"]
    assert r.warning() == "ignoring unknown or unavailable capabilities: [CAP_BPF CAP_UNKNOWN CAP_UNKNOWN2]"
    assert c.resolve(None).warning() == ""
    assert c.unknown_cap_fields(caps, last=38) == [
        ("process.capabilities.bounding[1]", "CAP_UNKNOWN"),
        ("process.capabilities.bounding[2]", "CAP_BPF"),
        ("process.capabilities.effective[0]", "CAP_UNKNOWN2"),
    ]
