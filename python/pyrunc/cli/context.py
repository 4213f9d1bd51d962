"""What every command gets: the global options, id validation, lifecycle lookup."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from pyrunc.errors import NotImplementedYet, PyruncError

PROG = "pyrunc"

# runc's rule (libcontainer's idRegex plus the "."/".." check): the id names a
# directory under --root, so no slash and no path-walking names.
_ID_RE = re.compile(r"^[\w+\-.]+$", re.ASCII)


@dataclass
class GlobalOptions:
    """runc's global flags, after parsing (``rootless`` None means auto)."""

    root: str = "/run/pyrunc"
    log: str | None = None
    log_format: str = "text"
    debug: bool = False
    systemd_cgroup: bool = False
    rootless: bool | None = None
    root_set: bool = False  # --root given explicitly (runc 1.2's list checks it)


def default_root() -> str:
    """``/run/pyrunc``; ``$XDG_RUNTIME_DIR/pyrunc`` for a non-root user that has
    one (runc's shouldHonorXDGRuntimeDir, without its userns special case)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.geteuid() != 0:
        return os.path.join(xdg, "pyrunc")
    return "/run/pyrunc"


def validate_id(cid: str) -> str:
    if not _ID_RE.match(cid) or cid in (".", ".."):
        raise PyruncError("invalid container ID format")
    return cid


def lifecycle(name: str, command: str) -> Callable[..., Any]:
    """``pyrunc.container.lifecycle.<name>``, or NotImplementedYet while that
    module (written concurrently) lacks it."""
    try:
        from pyrunc.container import lifecycle as mod
    except ImportError as e:
        if e.name not in ("pyrunc.container", "pyrunc.container.lifecycle"):
            raise
        raise NotImplementedYet(f"{command} is not implemented yet") from None
    fn = getattr(mod, name, None)
    if fn is None:
        raise NotImplementedYet(f"{command} is not implemented yet")
    return fn  # type: ignore[no-any-return]


def parse_rootless(value: str) -> bool | None:
    """``--rootless true|false|auto`` (Go's ParseBool spellings)."""
    from pyrunc.cli.goflag import parse_bool

    if value == "auto":
        return None
    try:
        return parse_bool(value)
    except ValueError:
        raise PyruncError(f'invalid --rootless value: strconv.ParseBool: parsing "{value}": invalid syntax') from None


def call(command: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``lifecycle.<name>(*args, **kwargs)``. A keyword the function does
    not take is dropped when unset, and is NotImplementedYet when set, so a
    flag the core does not support yet fails clearly instead of as a TypeError."""
    import inspect

    fn = lifecycle(name, command)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(*args, **kwargs)
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in list(kwargs):
            if key not in params:
                value = kwargs.pop(key)
                if value not in (None, False, "", 0, [], ()):
                    flag = key.replace("_", "-")
                    raise NotImplementedYet(f"{command} --{flag} is not implemented yet")
    return fn(*args, **kwargs)
