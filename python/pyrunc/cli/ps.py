"""``pyrunc ps <id> [ps options]``: the host's ps(1) lines for the container's processes."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable

from pyrunc.cli.command import command, option
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.cli.jsonout import go_json
from pyrunc.errors import PyruncError


@command(
    "ps",
    "ps displays the processes running inside a container",
    nargs=(1, None),
    args_usage="<container-id> [ps options]",
    reorder=False,
)
@option("--format", "-f", default="table", help="select one of: table or json")
def cli(opts: GlobalOptions, args: list[str], format: str) -> None:
    do_ps(opts, args[0], args[1:], format=format)


def filter_ps(output: str, pids: Iterable[int]) -> str:
    """Keep ps's header and the lines whose PID column is one of ``pids``."""
    lines = output.split("\n")
    header = lines[0]
    titles = header.split()
    if "PID" not in titles:
        raise PyruncError("couldn't find PID field in ps output")
    index = titles.index("PID")
    wanted = set(pids)
    out = [header]
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split()
        try:
            pid = int(fields[index])
        except (ValueError, IndexError):
            raise PyruncError(f'unable to parse pid: strconv.Atoi: parsing "{fields[index:index + 1]}": invalid syntax') from None
        if pid in wanted:
            out.append(line)
    return "\n".join(out) + "\n"


def do_ps(opts: GlobalOptions, cid: str, ps_args: list[str], *, format: str = "table") -> None:
    validate_id(cid)
    pids = [int(p) for p in call("ps", "ps", opts.root, cid) or ()]
    if format == "json":
        sys.stdout.write(go_json(pids) + "\n")
        return
    if format != "table":
        raise PyruncError("invalid format option")
    proc = subprocess.run(["ps", *(ps_args or ["-ef"])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise PyruncError(f"exit status {proc.returncode}: {text}")
    sys.stdout.write(filter_ps(text, pids))
