"""Talking to systemd through `busctl` (the project has no D-Bus library).

The argument lists are built by pure functions (unit-tested without
systemd); ``Bus`` only runs them. busctl's typed-argument syntax: a
signature, then each value: arrays as a count followed by the elements,
structs as their fields in order, variants as a signature then the value,
booleans as true/false.
"""
from __future__ import annotations

import os
import subprocess
import time

from pyrunc.cgroups import common
from pyrunc.cgroups.convert import MAX_U64, blkio_weight_to_io_weight, cpu_shares_to_weight, memory_swap_to_v2
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEST = "org.freedesktop.systemd1"
OBJ = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
USEC_INFINITY = MAX_U64
DEFAULT_CPU_PERIOD = 100000  # usec, the kernel's default cfs period
START_TIMEOUT = 30.0  # seconds to wait for a started unit to become active

# (name, D-Bus signature, value)
Prop = tuple


# -- encoding ---------------------------------------------------------------------------
def value_args(sig: str, val: Any) -> list[str]:
    """One typed value in busctl's argument syntax (basic types and arrays of them)."""
    if sig == "b":
        return ["true" if val else "false"]
    if sig in ("s", "o", "g"):
        return [str(val)]
    if sig in ("y", "n", "q", "i", "u", "x", "t"):
        if isinstance(val, bool) or not isinstance(val, int):
            raise ValueError(f"D-Bus {sig}: not an integer: {val!r}")
        return [str(val)]
    if len(sig) == 2 and sig[0] == "a":
        out = [str(len(val))]
        for v in val:
            out += value_args(sig[1], v)
        return out
    raise ValueError(f"unsupported D-Bus signature {sig!r}")


def props_args(props: list[Prop]) -> list[str]:
    """An a(sv) property list: count, then name, variant signature, value."""
    out = [str(len(props))]
    for name, sig, val in props:
        out += [name, sig, *value_args(sig, val)]
    return out


def escape_label(s: str) -> str:
    """systemd's object-path label escaping: [A-Za-z0-9] kept, every other
    byte as _xx (lowercase hex); the empty string is "_"."""
    if not s:
        return "_"
    out = []
    for b in s.encode():
        c = chr(b)
        out.append(c if c.isascii() and c.isalnum() else f"_{b:02x}")
    return "".join(out)


def unit_object_path(unit: str) -> str:
    return f"{OBJ}/unit/{escape_label(unit)}"


# -- method calls (argument lists after `busctl --system|--user`) ---------------------------
def start_transient_unit_args(unit: str, props: list[Prop]) -> list[str]:
    # StartTransientUnit(name, mode, properties, aux units)
    return ["call", DEST, OBJ, MANAGER, "StartTransientUnit", "ssa(sv)a(sa(sv))",
            unit, "replace", *props_args(props), "0"]


def stop_unit_args(unit: str) -> list[str]:
    return ["call", DEST, OBJ, MANAGER, "StopUnit", "ss", unit, "replace"]


def reset_failed_unit_args(unit: str) -> list[str]:
    return ["call", DEST, OBJ, MANAGER, "ResetFailedUnit", "s", unit]


def set_unit_properties_args(unit: str, props: list[Prop]) -> list[str]:
    # SetUnitProperties(name, runtime, properties): runtime=true, nothing persisted
    return ["call", DEST, OBJ, MANAGER, "SetUnitProperties", "sba(sv)", unit, "true", *props_args(props)]


def unit_property_args(unit: str, prop: str) -> list[str]:
    return ["get-property", DEST, unit_object_path(unit), UNIT, prop]


def manager_property_args(prop: str) -> list[str]:
    return ["get-property", DEST, OBJ, MANAGER, prop]


def parse_property(out: str) -> str:
    """busctl get-property prints `s "active"`: the value, unquoted."""
    _sig, _, val = out.strip().partition(" ")
    if len(val) >= 2 and val[0] == val[-1] == '"':
        val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return val


# -- properties ------------------------------------------------------------------------------
def list_to_bits(spec: str) -> list[int]:
    """A cpuset list ("0-3,8") -> systemd's byte array: byte i bit j is CPU
    (or node) 8*i+j, as systemd's cpu_set_to_dbus lays it out."""
    ids: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise CgroupError(f"invalid cpuset list {spec!r}") from None
        if a < 0 or b < a:
            raise CgroupError(f"invalid cpuset list {spec!r}")
        ids.update(range(a, b + 1))
    if not ids:
        raise CgroupError(f"invalid cpuset list {spec!r}")
    out = [0] * (max(ids) // 8 + 1)
    for i in ids:
        out[i // 8] |= 1 << (i % 8)
    return out


def _u64(v: int) -> int:
    return MAX_U64 if v < 0 else v


def cpu_quota_props(quota: int | None, period: int | None) -> list[Prop]:
    """CPUQuotaPeriodUSec and CPUQuotaPerSecUSec. systemd keeps the quota
    per second of wall time in 10ms steps, so it is rounded up to one (the
    exact cpu.max is written to the file afterwards anyway)."""
    quota, period = quota or 0, period or 0
    out: list[Prop] = []
    if period:
        out.append(("CPUQuotaPeriodUSec", "t", period))
    if quota or period:
        per_sec = USEC_INFINITY
        if quota > 0:
            per_sec = quota * 1_000_000 // (period or DEFAULT_CPU_PERIOD)
            if per_sec % 10000:
                per_sec = (per_sec // 10000 + 1) * 10000
        out.append(("CPUQuotaPerSecUSec", "t", per_sec))
    return out


def resource_props(resources: Any, version: int) -> list[Prop]:
    """The linux.resources values systemd has unit properties for; the rest
    (and the exact values) go to the files through the fs driver."""
    get = common.get
    out: list[Prop] = []
    mem, cpu = get(resources, "memory"), get(resources, "cpu")
    pids, bio = get(resources, "pids"), get(resources, "blockIO")
    limit = get(mem, "limit")
    if limit:
        out.append(("MemoryMax" if version == 2 else "MemoryLimit", "t", _u64(limit)))
    if version == 2:
        if get(mem, "reservation"):
            out.append(("MemoryLow", "t", _u64(get(mem, "reservation"))))
        try:
            swap = memory_swap_to_v2(get(mem, "swap"), limit)
        except ValueError as e:
            raise CgroupError(f"{common.RES}.memory.swap: {e}") from None
        if swap is not None:
            out.append(("MemorySwapMax", "t", _u64(swap)))
    shares = get(cpu, "shares")
    if shares:
        if version == 2:
            out.append(("CPUWeight", "t", cpu_shares_to_weight(shares)))
        else:
            out.append(("CPUShares", "t", shares))
    out += cpu_quota_props(get(cpu, "quota"), get(cpu, "period"))
    if version == 2:
        # v1 cpusets are not systemd's: the fs driver writes them
        if get(cpu, "cpus"):
            out.append(("AllowedCPUs", "ay", list_to_bits(get(cpu, "cpus"))))
        if get(cpu, "mems"):
            out.append(("AllowedMemoryNodes", "ay", list_to_bits(get(cpu, "mems"))))
    plimit = get(pids, "limit")
    if plimit is not None and plimit != 0:
        # 0 is a real limit (spec 1.3) systemd cannot express: the file gets it
        out.append(("TasksMax", "t", _u64(plimit)))
    weight = get(bio, "weight")
    if weight:
        if version == 2:
            out.append(("IOWeight", "t", blkio_weight_to_io_weight(weight)))
        else:
            out.append(("BlockIOWeight", "t", weight))
    return out


def unit_props(unit: str, slice_: str, pid: int | None, version: int, container_id: str,
               resources: Any = None) -> list[Prop]:
    """Everything StartTransientUnit gets for the container's scope."""
    out: list[Prop] = [("Description", "s", f"pyrunc container {container_id}")]
    if unit.endswith(".slice"):
        out.append(("Wants", "as", [slice_]))
    else:
        out += [("Slice", "s", slice_), ("Delegate", "b", True)]
        if pid:
            out.append(("PIDs", "au", [pid]))
    out += [
        ("DefaultDependencies", "b", False),
        ("MemoryAccounting", "b", True), ("CPUAccounting", "b", True), ("TasksAccounting", "b", True),
        ("IOAccounting" if version == 2 else "BlockIOAccounting", "b", True),
    ]
    if resources is not None:
        out += resource_props(resources, version)
    return out


# -- running busctl ----------------------------------------------------------------------------
class Bus:
    """The system bus, or the caller's user bus when rootless."""

    def __init__(self, user: bool = False) -> None:
        self.user = user

    def run(self, args: list[str], what: str) -> str:
        cmd = ["busctl", "--user" if self.user else "--system", *args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT,
                               env=os.environ.copy())
        except FileNotFoundError:
            raise CgroupError("systemd cgroup driver: busctl not found (it ships with systemd)") from None
        except subprocess.TimeoutExpired:
            raise CgroupError(f"systemd: {what}: busctl timed out") from None
        if p.returncode != 0:
            raise CgroupError(f"systemd: {what}: {(p.stderr or p.stdout).strip() or f'busctl exit {p.returncode}'}")
        return p.stdout

    def start_unit(self, unit: str, props: list[Prop]) -> None:
        try:
            self.run(start_transient_unit_args(unit, props), f"start {unit}")
        except CgroupError as e:
            if "already exists" not in str(e):
                raise
            # a failed leftover of an earlier container keeps the name: reset, retry once
            try:
                self.reset_failed(unit)
            except CgroupError:
                pass  # the retry reports what is wrong
            self.run(start_transient_unit_args(unit, props), f"start {unit}")
        self.wait_active(unit)

    def active_state(self, unit: str) -> str:
        return parse_property(self.run(unit_property_args(unit, "ActiveState"), f"{unit} ActiveState"))

    def wait_active(self, unit: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            state = self.active_state(unit)
            if state == "active":
                return
            if state == "failed":
                raise CgroupError(f"systemd: unit {unit} failed to start")
            if time.monotonic() > deadline:
                raise CgroupError(f"systemd: unit {unit} not active after {timeout:g}s (state {state})")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def set_properties(self, unit: str, props: list[Prop]) -> None:
        if props:
            self.run(set_unit_properties_args(unit, props), f"set properties of {unit}")

    def stop_unit(self, unit: str) -> None:
        try:
            self.run(stop_unit_args(unit), f"stop {unit}")
        except CgroupError as e:
            if "not loaded" not in str(e) and "not found" not in str(e):
                raise
        try:
            self.reset_failed(unit)
        except CgroupError:
            pass  # only a failed unit has something to reset

    def reset_failed(self, unit: str) -> None:
        self.run(reset_failed_unit_args(unit), f"reset-failed {unit}")

    def manager_property(self, prop: str) -> str:
        return parse_property(self.run(manager_property_args(prop), f"manager {prop}"))
