"""``pyrunc update``: change a running container's resource limits."""
from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from pyrunc.cli.command import command, option
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.errors import PyruncError

_DESCRIPTION = """\
Change the resource limits of a running container, from the options below or,
with -r, from a JSON file ('-' for stdin) holding an OCI "linux.resources" object
(then every other option is ignored), e.g.:

   {"memory": {"limit": 0, "reservation": 0, "swap": 0},
    "cpu": {"shares": 0, "quota": 0, "burst": 0, "period": 0, "realtimeRuntime": 0,
            "realtimePeriod": 0, "cpus": "", "mems": ""},
    "blockIO": {"weight": 0}, "pids": {"limit": 0}}"""

# flag -> (section, key, parser); parsers name Go's strconv function in errors.
_NUMERIC = {
    "cpu_period": ("cpu", "period", "uint"),
    "cpu_quota": ("cpu", "quota", "int"),
    "cpu_burst": ("cpu", "burst", "uint"),
    "cpu_share": ("cpu", "shares", "uint"),
    "cpu_rt_period": ("cpu", "realtimePeriod", "uint"),
    "cpu_rt_runtime": ("cpu", "realtimeRuntime", "int"),
}
_MEMORY = {
    "memory": "limit",
    "memory_swap": "swap",
    "memory_reservation": "reservation",
}

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(s: str) -> int:
    """docker/go-units RAMInBytes: "512m", "1.5G", "1024" (binary units)."""
    m = _SIZE_RE.match(s)
    if not m:
        raise ValueError(f"invalid size: '{s}'")
    size = float(m.group(1))
    unit = (m.group(2) or "").lower()
    return int(size * _UNITS.get(unit, 1))


def _go_parse(kind: str, name: str, value: str) -> int:
    fn = "ParseUint" if kind == "uint" else "ParseInt"
    ok = re.match(r"^[0-9]+$" if kind == "uint" else r"^[+-]?[0-9]+$", value)
    if not ok:
        raise PyruncError(f'invalid value for {name}: strconv.{fn}: parsing "{value}": invalid syntax')
    return int(value)


def resources_from_flags(flags: dict[str, Any], given: set) -> dict[str, Any]:
    """An OCI linux.resources dict holding only what the flags set."""
    res: dict[str, Any] = {}
    if "blkio_weight" in given:
        res.setdefault("blockIO", {})["weight"] = int(flags["blkio_weight"])
    if flags.get("cpu_idle"):
        res.setdefault("cpu", {})["idle"] = _go_parse("int", "cpu-idle", flags["cpu_idle"])
    for dest, (section, key, kind) in _NUMERIC.items():
        value = flags.get(dest) or ""
        if value:
            res.setdefault(section, {})[key] = _go_parse(kind, dest.replace("_", "-"), value)
    for dest, key in (("cpuset_cpus", "cpus"), ("cpuset_mems", "mems")):
        if flags.get(dest):
            res.setdefault("cpu", {})[key] = flags[dest]
    for dest, key in _MEMORY.items():
        value = flags.get(dest) or ""
        if value:
            try:
                res.setdefault("memory", {})[key] = -1 if value == "-1" else ram_in_bytes(value)
            except ValueError as e:
                raise PyruncError(f"invalid value for {dest.replace('_', '-')}: {e}") from None
    if "pids_limit" in given:
        res.setdefault("pids", {})["limit"] = int(flags["pids_limit"])
    return res


def read_resources(path: str) -> dict[str, Any]:
    try:
        if path == "-":
            data = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                data = f.read()
        obj = json.loads(data)
    except OSError as e:
        raise PyruncError(f"open {path}: {(e.strerror or str(e)).lower()}") from None
    except ValueError as e:
        raise PyruncError(f"unable to parse resources: {e}") from None
    if not isinstance(obj, dict):
        raise PyruncError("unable to parse resources: not a JSON object")
    return obj


@command("update", "update container resource constraints", description=_DESCRIPTION)
@option("--resources", "-r", help="path to the file containing the resources to update or '-' to read from the standard input")
@option("--blkio-weight", kind="uint", default=0, help="Specifies per cgroup weight, range is from 10 to 1000")
@option("--cpu-period", help="CPU CFS period to be used for hardcapping (in usecs). 0 to use system default")
@option("--cpu-quota", help="CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period")
@option("--cpu-burst", help="CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period")
@option("--cpu-share", help="CPU shares (relative weight vs. other containers)")
@option("--cpu-rt-period", help="CPU realtime period to be used for hardcapping (in usecs). 0 to use system default")
@option("--cpu-rt-runtime", help="CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period")
@option("--cpuset-cpus", help="CPU(s) to use")
@option("--cpuset-mems", help="Memory node(s) to use")
@option("--kernel-memory", hidden=True, help="(obsoleted; do not use)")
@option("--kernel-memory-tcp", hidden=True, help="(obsoleted; do not use)")
@option("--memory", help="Memory limit (in bytes)")
@option("--cpu-idle", help="set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE")
@option("--memory-reservation", help="Memory reservation or soft_limit (in bytes)")
@option("--memory-swap", help="Total memory usage (memory + swap); set '-1' to enable unlimited swap")
@option("--pids-limit", kind="int", default=0, help="Maximum number of pids allowed in the container")
@option("--l3-cache-schema", help="The string of Intel RDT/CAT L3 cache schema")
@option("--mem-bw-schema", help="The string of Intel RDT/MBA memory bandwidth schema")
def cli(opts: GlobalOptions, args: list[str], **flags: Any) -> None:
    given = click.get_current_context().meta.get("pyrunc.given", set())
    do_update(opts, args[0], flags, given)


def do_update(opts: GlobalOptions, cid: str, flags: dict[str, Any], given: set | None = None) -> None:
    validate_id(cid)
    given = set(given or ())
    if flags.get("resources"):
        resources = read_resources(flags["resources"])
    else:
        resources = resources_from_flags(flags, given)
    if flags.get("kernel_memory") or flags.get("kernel_memory_tcp"):
        from pyrunc import log

        log.warning("kernel memory settings are ignored and will be removed")
    intel_rdt = {}
    if flags.get("l3_cache_schema"):
        intel_rdt["l3CacheSchema"] = flags["l3_cache_schema"]
    if flags.get("mem_bw_schema"):
        intel_rdt["memBwSchema"] = flags["mem_bw_schema"]
    call("update", opts.root, cid, resources, intel_rdt=intel_rdt or None)
