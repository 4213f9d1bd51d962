"""Device cgroup rules: linux.resources.devices plus runc's default allow list,
as v1 devices.allow/devices.deny lines and as a v2 BPF_PROG_TYPE_CGROUP_DEVICE
program (pure data: a list of instructions; ``bpf.py`` loads it).

Rules apply in order and a later rule overrides an earlier one for the
devices it matches (spec: "The runtime MUST apply entries in the listed
order"), starting from "everything allowed" like a fresh v1 devices cgroup.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from pyrunc.cgroups.common import RES, get
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any

WILDCARD = -1


@dataclass(frozen=True)
class Rule:
    type: str = "a"  # a, c or b
    major: int = WILDCARD
    minor: int = WILDCARD
    access: str = "rwm"
    allow: bool = False

    def v1_line(self) -> str:
        """"c 1:3 rwm" as devices.allow/devices.deny take it ("a" for all)."""
        if self.type == "a":
            return "a"
        mj = "*" if self.major == WILDCARD else str(self.major)
        mn = "*" if self.minor == WILDCARD else str(self.minor)
        return f"{self.type} {mj}:{mn} {self.access}"

    def is_all(self) -> bool:
        """All devices, all access: resets the list (type "a" ignores numbers)."""
        return self.type == "a" and self.access == "rwm"


def _rule(t: str, mj: int, mn: int, acc: str = "rwm") -> Rule:
    return Rule(t, mj, mn, acc, True)


# runc 1.2's AllowedDevices, appended after the spec's rules (specconv). runc
# 1.2.0 dropped tun/tap (10:200) and 1.2.2 put it back; we follow 1.2.2+.
DEFAULT_ALLOWED: tuple[Rule, ...] = (
    _rule("c", WILDCARD, WILDCARD, "m"),  # mknod of any device; open is what counts
    _rule("b", WILDCARD, WILDCARD, "m"),
    _rule("c", 1, 3),  # /dev/null
    _rule("c", 1, 8),  # /dev/random
    _rule("c", 1, 7),  # /dev/full
    _rule("c", 5, 0),  # /dev/tty
    _rule("c", 1, 5),  # /dev/zero
    _rule("c", 1, 9),  # /dev/urandom
    _rule("c", 136, WILDCARD),  # /dev/pts/* (and /dev/console, a bind of a pts)
    _rule("c", 5, 2),  # /dev/ptmx
    _rule("c", 10, 200),  # /dev/net/tun
)


def from_spec(devices: Sequence[Any]) -> list[Rule]:
    """linux.resources.devices (model objects or JSON dicts) -> rules."""
    out = []
    for i, d in enumerate(devices or []):
        fld = f"{RES}.devices[{i}]"
        allow = get(d, "allow")
        if allow is None:
            raise CgroupError(f"{fld}.allow: required")
        t = get(d, "type") or "a"
        if t not in ("a", "b", "c"):
            raise CgroupError(f"{fld}.type: invalid device type {t!r}")
        acc = get(d, "access") or "rwm"
        if not acc or any(c not in "rwm" for c in acc):
            raise CgroupError(f"{fld}.access: invalid access {acc!r}")
        # canonical order without duplicates, so "wr" and "rw" compare equal
        acc = "".join(c for c in "rwm" if c in acc)
        mj, mn = get(d, "major"), get(d, "minor")
        out.append(Rule(t, WILDCARD if mj is None else int(mj), WILDCARD if mn is None else int(mn),
                        acc, bool(allow)))
    return out


def container_rules(devices: Sequence[Any]) -> list[Rule]:
    """What a new container gets: the spec's rules, then the default allow list."""
    return from_spec(devices) + list(DEFAULT_ALLOWED)


def v1_writes(rules: Sequence[Rule]) -> list[tuple[str, str]]:
    """[(file, line)] for a v1 devices cgroup, in order; the kernel keeps the
    same ordered allow/deny semantics, "a" resetting the list."""
    out = []
    for r in rules:
        f = "devices.allow" if r.allow else "devices.deny"
        if r.type == "a" and not r.is_all():
            # the kernel reads any "a" line as the full reset: spell out c and b
            out += [(f, f"c *:* {r.access}"), (f, f"b *:* {r.access}")]
        else:
            out.append((f, r.v1_line()))
    return out


def default_allow(rules: Sequence[Rule]) -> bool:
    """Whether a device no rule matches is allowed: the last "a" rule decides."""
    allow = True
    for r in rules:
        if r.is_all():
            allow = r.allow
    return allow


# --- BPF program ---------------------------------------------------------------
# Context: struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
# access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*  (linux/bpf.h)
DEV_BLOCK, DEV_CHAR = 1, 2
ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4

# opcodes (linux/bpf_common.h, linux/bpf.h)
LDX_W = 0x61  # BPF_LDX|BPF_MEM|BPF_W
ALU32_AND_K = 0x54  # BPF_ALU|BPF_AND|BPF_K
ALU32_RSH_K = 0x74  # BPF_ALU|BPF_RSH|BPF_K
MOV64_X = 0xBF  # BPF_ALU64|BPF_MOV|BPF_X
MOV64_K = 0xB7
AND64_K = 0x57
JNE_K = 0x55  # BPF_JMP|BPF_JNE|BPF_K
JNE_X = 0x5D
JEQ_K = 0x15
EXIT = 0x95

Insn = tuple[int, int, int, int, int]  # (code, dst, src, off, imm)


def _acc_bits(access: str) -> int:
    return (ACC_READ if "r" in access else 0) | (ACC_WRITE if "w" in access else 0) | (
        ACC_MKNOD if "m" in access else 0)


def _rule_block(r: Rule) -> list[Insn]:
    """Instructions returning the rule's verdict when it matches; every
    mismatch jumps past the block (offsets fixed at the end)."""
    block: list[Insn] = []
    jumps = []
    if r.type != "a":
        jumps.append(len(block))
        block.append((JNE_K, 2, 0, 0, DEV_BLOCK if r.type == "b" else DEV_CHAR))
    bits = _acc_bits(r.access)
    if bits != 7:
        block.append((MOV64_X, 1, 3, 0, 0))
        block.append((AND64_K, 1, 0, 0, bits))
        jumps.append(len(block))
        if r.allow:
            # allow matches only when every requested access is granted
            block.append((JNE_X, 1, 3, 0, 0))
        else:
            # deny matches when any requested access is denied
            block.append((JEQ_K, 1, 0, 0, 0))
    if r.type != "a" and r.major != WILDCARD:
        jumps.append(len(block))
        block.append((JNE_K, 4, 0, 0, r.major))
    if r.type != "a" and r.minor != WILDCARD:
        jumps.append(len(block))
        block.append((JNE_K, 5, 0, 0, r.minor))
    block.append((MOV64_K, 0, 0, 0, 1 if r.allow else 0))
    block.append((EXIT, 0, 0, 0, 0))
    for j in jumps:
        code, dst, src, _off, imm = block[j]
        block[j] = (code, dst, src, len(block) - j - 1, imm)
    return block


def bpf_program(rules: Sequence[Rule]) -> list[Insn]:
    """The device filter: the last matching rule wins, so the rules are tested
    newest first and the first match returns; nothing matching falls back to
    the default (allow, as a fresh v1 devices cgroup)."""
    prog: list[Insn] = [
        (LDX_W, 2, 1, 0, 0), (ALU32_AND_K, 2, 0, 0, 0xFFFF),  # r2 = device type
        (LDX_W, 3, 1, 0, 0), (ALU32_RSH_K, 3, 0, 0, 16),  # r3 = requested access
        (LDX_W, 4, 1, 4, 0),  # r4 = major
        (LDX_W, 5, 1, 8, 0),  # r5 = minor
    ]
    # an "a" rule with all access ends the search: older rules never matter
    effective: list[Rule] = []
    for r in reversed(rules):
        effective.append(r)
        if r.is_all():
            break
    else:
        effective.append(Rule("a", access="rwm", allow=True))
    for r in effective:
        prog.extend(_rule_block(r))
    return prog


def encode(prog: Sequence[Insn]) -> bytes:
    """struct bpf_insn[]: u8 code, u8 dst:4|src:4, s16 off, s32 imm."""
    return b"".join(struct.pack("<BBhi", c, (s << 4) | d, o, i) for c, d, s, o, i in prog)


def evaluate(prog: Sequence[Insn], dev_type: int, access: int, major: int, minor: int) -> int:
    """A tiny interpreter for the instructions bpf_program emits, so the
    program's logic is unit-tested without loading it into a kernel."""
    regs = [0] * 11
    ctx = [(access << 16) | dev_type, major, minor]
    pc = 0
    while pc < len(prog):
        code, dst, src, off, imm = prog[pc]
        pc += 1
        if code == LDX_W:
            regs[dst] = ctx[off // 4]
        elif code == ALU32_AND_K or code == AND64_K:
            regs[dst] &= imm
        elif code == ALU32_RSH_K:
            regs[dst] = (regs[dst] & 0xFFFFFFFF) >> imm
        elif code == MOV64_X:
            regs[dst] = regs[src]
        elif code == MOV64_K:
            regs[dst] = imm
        elif code == JNE_K:
            pc += off if regs[dst] != imm else 0
        elif code == JNE_X:
            pc += off if regs[dst] != regs[src] else 0
        elif code == JEQ_K:
            pc += off if regs[dst] == imm else 0
        elif code == EXIT:
            return regs[0]
        else:
            raise ValueError(f"unknown opcode {code:#x}")
    raise ValueError("program fell off the end")
