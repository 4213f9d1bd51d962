"""``pyrunc ps``: the container's processes, from its cgroup.

``pids`` is what ``ps -f json`` prints (host pids); :func:`table` runs the
host's ps(1) (``-ef`` unless told otherwise) and keeps its header and the
lines whose PID column is one of the container's, as runc does.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence

from pyrunc.container.state import StateDir
from pyrunc.errors import PyruncError


def pids(root: str, cid: str) -> list[int]:
    """Host pids of every process in the container's cgroup (empty once the
    cgroup is gone)."""
    st = StateDir(root, cid).load()
    if not st.cgroup:
        return []
    from pyrunc import cgroups

    mgr = cgroups.from_state(st.cgroup)
    try:
        return sorted(int(p) for p in mgr.pids())
    except FileNotFoundError:
        return []


def filter_ps(output: str, wanted: Iterable[int]) -> str:
    """Keep ps's header and the lines whose PID column is one of ``wanted``."""
    lines = output.split("\n")
    titles = lines[0].split()
    if "PID" not in titles:
        raise PyruncError("couldn't find PID field in ps output")
    index = titles.index("PID")
    keep = set(wanted)
    out = [lines[0]]
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split()
        try:
            pid = int(fields[index])
        except (ValueError, IndexError):
            bad = fields[index] if index < len(fields) else ""
            raise PyruncError(f'unable to parse pid: strconv.Atoi: parsing "{bad}": invalid syntax') from None
        if pid in keep:
            out.append(line)
    return "\n".join(out) + "\n"


def table(root: str, cid: str, ps_args: Sequence[str] = ()) -> str:
    """``ps -f table``: the host's ps output filtered to the container."""
    wanted = pids(root, cid)
    try:
        proc = subprocess.run(["ps", *(ps_args or ["-ef"])], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
    except FileNotFoundError:
        raise PyruncError('exec: "ps": executable file not found in $PATH') from None
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise PyruncError(f"exit status {proc.returncode}: {text}")
    return filter_ps(text, wanted)


__all__ = ["filter_ps", "pids", "table"]
