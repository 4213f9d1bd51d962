"""What every command gets: the global options, id validation, lifecycle lookup."""
from __future__ import annotations

import os

from pyrunc.errors import PyruncError

TYPE_CHECKING = False
if TYPE_CHECKING:  # on every command's path: no typing, dataclasses, re or inspect
    from typing import Any, Callable

PROG = "pyrunc"

# runc's rule (libcontainer's idRegex ``^[\w+-\.]+$`` plus the "."/".." check):
# the id names a directory under --root, so no slash and no path-walking names.
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-.")


class GlobalOptions:
    """runc's global flags, after parsing (``rootless`` None means auto)."""

    __slots__ = ("debug", "log", "log_format", "root", "root_set", "rootless", "systemd_cgroup")

    def __init__(
        self,
        root: str = "/run/pyrunc",
        log: str | None = None,
        log_format: str = "text",
        debug: bool = False,
        systemd_cgroup: bool = False,
        rootless: bool | None = None,
        root_set: bool = False,  # --root given explicitly (runc 1.2's list checks it)
    ) -> None:
        self.root = root
        self.log = log
        self.log_format = log_format
        self.debug = debug
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless
        self.root_set = root_set

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"GlobalOptions({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GlobalOptions):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


def default_root() -> str:
    """``/run/pyrunc``; ``$XDG_RUNTIME_DIR/pyrunc`` for a non-root user that has
    one (runc's shouldHonorXDGRuntimeDir, without its userns special case)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.geteuid() != 0:
        return os.path.join(xdg, "pyrunc")
    return "/run/pyrunc"


def validate_id(cid: str) -> str:
    if not cid or not _ID_CHARS.issuperset(cid) or cid in (".", ".."):
        raise PyruncError("invalid container ID format")
    return cid


def lifecycle(name: str) -> Callable[..., Any]:
    """``pyrunc.container.lifecycle.<name>``, imported only when a command runs."""
    from pyrunc.container import lifecycle as mod

    return getattr(mod, name)  # type: ignore[no-any-return]


def parse_rootless(value: str) -> bool | None:
    """``--rootless true|false|auto`` (Go's ParseBool spellings)."""
    from pyrunc.cli.goflag import parse_bool

    if value == "auto":
        return None
    try:
        return parse_bool(value)
    except ValueError:
        raise PyruncError(f'invalid --rootless value: strconv.ParseBool: parsing "{value}": invalid syntax') from None


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """``lifecycle.<name>(*args, **kwargs)``."""
    return lifecycle(name)(*args, **kwargs)
