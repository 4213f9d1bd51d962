"""runc-compatible logging: ``--log FILE``, ``--log-format text|json``, ``--debug``.

runc logs through logrus, and engines parse what it writes: containerd's shim
reads the ``--log`` file as JSON lines and keeps the last ``level=error``
message as the failure reason. So the shapes are kept byte-for-byte:

- json: ``{"level":"error","msg":"...","time":"2006-01-02T15:04:05Z07:00"}``,
  keys sorted (logrus marshals a map), one object per line;
- text, not a terminal: ``time="..." level=error msg="..."``, values quoted
  with Go's ``%q`` only when they hold characters outside ``[A-Za-z0-9-._/@^+]``;
- text on a terminal: ``ERRO[0000] message`` with ANSI colours.

Other modules log with ``from pyrunc import log; log.warning("...")``. The
default (before the CLI configures anything) is text on stderr, level info.
"""
from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # every command imports this module: no typing, dataclasses or json here
    from typing import Any

__all__ = [
    "LogSettings",
    "configure",
    "debug",
    "error",
    "go_quote",
    "info",
    "is_debug",
    "rfc3339",
    "settings",
    "warning",
]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
# logrus level names as written in the output ("warning", not "warn").
_COLOURS = {"debug": 37, "info": 36, "warning": 33, "error": 31}
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


class LogSettings:
    __slots__ = ("debug", "fd", "format", "path")

    def __init__(self, path: str | None = None, format: str = "text", debug: bool = False, fd: int = 2) -> None:
        self.path = path  # None: stderr
        self.format = format
        self.debug = debug
        self.fd = fd

    def __repr__(self) -> str:
        return f"LogSettings(path={self.path!r}, format={self.format!r}, debug={self.debug!r}, fd={self.fd!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogSettings):
            return NotImplemented
        return (self.path, self.format, self.debug, self.fd) == (other.path, other.format, other.debug, other.fd)

    __hash__ = None  # type: ignore[assignment]


_settings = LogSettings()
_start = time.monotonic()


def configure(path: str | None = None, fmt: str = "text", debug: bool = False) -> LogSettings:
    """Set up the log sink like runc's ``configLogrus``; raises ValueError for a
    bad format and OSError when the file cannot be opened."""
    global _settings
    if fmt not in ("", "text", "json"):
        raise ValueError(f"invalid log-format: {fmt}")
    fd = 2
    if path:
        # runc opens with O_APPEND|O_SYNC, mode 0644: lines from several
        # processes (create, then the shim's later calls) interleave whole.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_SYNC | os.O_CLOEXEC, 0o644)
    if _settings.fd != 2 and _settings.fd != fd:
        try:
            os.close(_settings.fd)
        except OSError:
            pass
    _settings = LogSettings(path=path or None, format=fmt or "text", debug=debug, fd=fd)
    return _settings


def settings() -> LogSettings:
    return _settings


def is_debug() -> bool:
    return _settings.debug


def logs_to_stderr() -> bool:
    return _settings.fd == 2


def rfc3339(t: float | None = None) -> str:
    """Go's time.RFC3339 in local time: seconds, ``Z`` for UTC."""
    stamp = time.localtime(t if t is not None else time.time())
    off = stamp.tm_gmtoff or 0
    base = time.strftime("%Y-%m-%dT%H:%M:%S", stamp)
    if off == 0:
        return base + "Z"
    sign = "+" if off > 0 else "-"
    off = abs(off)
    return f"{base}{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"


_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(s: str) -> str:
    """Go's strconv.Quote (what ``%q`` prints)."""
    out = ['"']
    for ch in s:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            cp = ord(ch)
            if cp < 0x80:
                out.append(f"\\x{cp:02x}")
            elif cp < 0x10000:
                out.append(f"\\u{cp:04x}")
            else:
                out.append(f"\\U{cp:08x}")
    out.append('"')
    return "".join(out)


def _text_value(v: Any) -> str:
    s = v if isinstance(v, str) else str(v)
    if s and all(c in _SAFE for c in s):
        return s
    return go_quote(s) if s else ""


def _go_json(obj: dict[str, Any]) -> str:
    # encoding/json with HTML escaping on, as logrus' JSONFormatter uses it.
    from pyrunc.cli.jsonout import go_json

    return go_json(obj, sort_keys=True)


def format_line(level: str, msg: str, fields: dict[str, Any] | None = None, *, tty: bool = False) -> str:
    """One log line (with its newline) in the configured format."""
    fields = fields or {}
    if _settings.format == "json":
        data: dict[str, Any] = dict(fields)
        data.update(level=level, msg=msg, time=rfc3339())
        return _go_json(data) + "\n"
    if tty:
        elapsed = int(time.monotonic() - _start)
        colour = _COLOURS[level]
        text = f"\x1b[{colour}m{level.upper()[:4]}\x1b[0m[{elapsed:04d}] {msg.rstrip(chr(10)):<44} "
        for k in sorted(fields):
            text += f" \x1b[{colour}m{k}\x1b[0m={_text_value(fields[k])}"
        return text + "\n"
    parts = [f"time={go_quote(rfc3339())}", f"level={level}", f"msg={_text_value(msg)}"]
    parts += [f"{k}={_text_value(fields[k])}" for k in sorted(fields)]
    return " ".join(parts) + "\n"


def _emit(level: str, msg: str, fields: dict[str, Any]) -> None:
    if _LEVELS[level] < (_LEVELS["debug"] if _settings.debug else _LEVELS["info"]):
        return
    fd = _settings.fd
    tty = fd == 2 and _settings.format != "json" and _isatty(2)
    data = format_line(level, msg, fields, tty=tty).encode("utf-8", "backslashreplace")
    try:
        # One write per line: O_APPEND keeps concurrent writers' lines whole.
        os.write(fd, data)
    except OSError:
        pass


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def debug(msg: str, **fields: Any) -> None:
    _emit("debug", msg, fields)


def info(msg: str, **fields: Any) -> None:
    _emit("info", msg, fields)


def warning(msg: str, **fields: Any) -> None:
    _emit("warning", msg, fields)


def error(msg: str, **fields: Any) -> None:
    _emit("error", msg, fields)


def flush() -> None:
    """Nothing is buffered; kept so callers need not know that."""
    if _settings.fd == 2:
        sys.stderr.flush()
