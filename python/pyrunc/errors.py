"""The exception hierarchy, config field paths and exit codes.

Every error pyrunc raises on purpose is a :class:`PyruncError`; the CLI turns
it into one log line and exit code 1 (``cli/main.py``). Messages follow one
shape: ``<field>: <operation> <details>: <errno text>``, lowercase, no
trailing period.
"""
from __future__ import annotations

import os

# Every command imports this module: no typing or re here.
_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_KEY_CHARS = _KEY_START | frozenset("0123456789")


def _plain_key(p: str) -> bool:
    """``^[A-Za-z_][A-Za-z0-9_]*$``"""
    return bool(p) and p[0] in _KEY_START and all(c in _KEY_CHARS for c in p)


def field_path(*parts: str | int) -> str:
    """Build a config.json field path: ``field_path("mounts", 3, "destination")``
    gives ``mounts[3].destination``; keys that are not plain identifiers are
    bracket-quoted: ``linux.sysctl["net.ipv4.ip_forward"]``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _plain_key(p):
            out += f".{p}" if out else p
        else:
            out += '["' + p.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


class PyruncError(Exception):
    """Base of every error pyrunc reports; the CLI exits with ``exit_code``."""

    exit_code = 1


class UsageError(PyruncError):
    """Bad command line (runc exits 1 for these, not click's 2)."""


class NotImplementedYet(PyruncError):
    """A runc command or option pyrunc does not do yet."""


class SpecError(PyruncError):
    """config.json (or a process.json) is invalid: names the field."""

    def __init__(self, field: str, msg: str) -> None:
        self.field = field
        self.msg = msg
        super().__init__(f"{field}: {msg}" if field else msg)


class SyscallError(PyruncError, OSError):
    """A syscall failed, in stage 0 or reported by the init over the sync socket."""

    def __init__(
        self,
        syscall: str,
        err: int,
        detail: str = "",
        field: str = "",
        stage: str = "",
    ) -> None:
        self.syscall = syscall
        self.stage = stage
        self.field = field
        self.detail = detail
        text = os.strerror(err) if err else ""
        parts = [p for p in (field, detail or syscall) if p]
        msg = ": ".join(parts)
        if text:
            msg = f"{msg}: {text}" if msg else text
        PyruncError.__init__(self, msg)
        self.errno = err
        self.strerror = text or msg
        self.args = (err, msg)

    def __str__(self) -> str:
        return str(self.args[1])


class InitError(PyruncError):
    """The init reported a failure that is not a syscall's (bad executable...)."""

    def __init__(self, msg: str, field: str = "", stage: str = "") -> None:
        self.field = field
        self.stage = stage
        super().__init__(f"{field}: {msg}" if field else msg)


class StateError(PyruncError):
    """The container is not in a state that allows the operation (runc's wording)."""


class ContainerNotExist(StateError):
    def __init__(self, msg: str = "container does not exist") -> None:
        super().__init__(msg)


class ContainerExists(StateError):
    def __init__(self, cid: str) -> None:
        super().__init__("container with given ID already exists")
        self.cid = cid


class HookError(PyruncError):
    def __init__(self, field: str, msg: str) -> None:
        self.field = field
        super().__init__(f"{field}: {msg}")


class CgroupError(PyruncError):
    def __init__(self, msg: str, controller: str = "", file: str = "", err: int | None = None) -> None:
        self.controller = controller
        self.file = file
        self.errno = err
        if err:
            msg = f"{msg}: {os.strerror(err)}"
        super().__init__(msg)
