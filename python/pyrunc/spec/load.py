"""config.json (or an ``exec --process`` process.json) -> the spec model.

Typing is checked here, against the model's type hints and the schema's
integer ranges; every error names the field (``process.user.uid: expected an
integer, got string``). Unknown properties are ignored, as the spec requires,
and a JSON ``null`` counts as an absent property (Go's decoder, which runc
uses, does the same). Semantic checks live in :mod:`pyrunc.spec.validate`.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import typing
from typing import Any, Literal, Union, overload

from pyrunc.errors import SpecError, field_path
from pyrunc.spec import model
from pyrunc.spec.model import Process, Spec, json_key

log = logging.getLogger("pyrunc")

_RANGES = {
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}

Path = tuple[Union[str, int], ...]


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _fail(path: Path, expected: str, v: Any) -> SpecError:
    return SpecError(field_path(*path), f"expected {expected}, got {_json_type(v)}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model))


def _convert(tp: Any, v: Any, path: Path, kind: str = "") -> Any:
    origin = typing.get_origin(tp)
    if origin is Union:  # Optional[X]
        (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(tp, v, path, kind)
    if origin is list:
        if not isinstance(v, list):
            raise _fail(path, "an array", v)
        (item,) = typing.get_args(tp)
        return [_convert(item, x, (*path, i), kind) for i, x in enumerate(v)]
    if origin is dict:
        if not isinstance(v, dict):
            raise _fail(path, "an object", v)
        _, item = typing.get_args(tp)
        return {k: _convert(item, x, (*path, k), kind) for k, x in v.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(v, dict):
            raise _fail(path, "an object", v)
        return _build(tp, v, path)
    if tp is bool:
        if not isinstance(v, bool):
            raise _fail(path, "a boolean", v)
        return v
    if tp is int:
        # JSON 1.0 is a number but not an integer (the schema's draft-04 view too)
        if not isinstance(v, int) or isinstance(v, bool):
            raise _fail(path, "an integer", v)
        lo, hi = _RANGES.get(kind, (None, None))
        if lo is not None and not lo <= v <= hi:  # type: ignore[operator]
            raise SpecError(field_path(*path), f"value {v} out of range for {kind}")
        return v
    if tp is str:
        if not isinstance(v, str):
            raise _fail(path, "a string", v)
        return v
    raise TypeError(f"unsupported model type {tp!r}")  # a bug in model.py


def _build(cls: type, d: dict[str, Any], path: Path) -> Any:
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        key = json_key(f.name)
        v = d.get(key)
        if v is None:
            if f.metadata.get("required"):
                raise SpecError(field_path(*path, key), "missing required property")
            continue
        kwargs[f.name] = _convert(hints[f.name], v, (*path, key), f.metadata.get("kind", ""))
    return cls(**kwargs)


@overload
def from_dict(d: Any, *, process_only: Literal[False] = ...) -> Spec: ...
@overload
def from_dict(d: Any, *, process_only: Literal[True]) -> Process: ...


def from_dict(d: Any, *, process_only: bool = False) -> Union[Spec, Process]:
    """Build a :class:`Spec` from decoded JSON, or a :class:`Process` with
    ``process_only`` (``exec --process``); field paths then start at
    ``process``, as in config.json."""
    if process_only:
        if not isinstance(d, dict):
            raise _fail(("process",), "an object", d)
        return _build(Process, d, ("process",))
    if not isinstance(d, dict):
        raise SpecError("", f"expected a JSON object, got {_json_type(d)}")
    return _build(Spec, d, ())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON value {name}")


def read_json(path: Union[str, os.PathLike[str]], name: str = "") -> Any:
    """Read and decode a JSON file; errors are SpecError with runc's not-found
    text and the line and column of a syntax error."""
    shown = name or os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise SpecError("", f"JSON specification file {shown} not found") from None
    except OSError as e:
        raise SpecError("", f"open {shown}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError("", f"{shown}: invalid UTF-8 at byte {e.start}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        msg = e.msg[:1].lower() + e.msg[1:]
        raise SpecError("", f"{shown}: invalid JSON at line {e.lineno} column {e.colno}: {msg}") from None
    except ValueError as e:
        raise SpecError("", f"{shown}: {e}") from None


def load(path: Union[str, os.PathLike[str]], *, name: str = "") -> Spec:
    """Load a config.json (typing only; call :func:`pyrunc.spec.validate.validate`)."""
    return from_dict(read_json(path, name))


def load_process(path: Union[str, os.PathLike[str]]) -> Process:
    """Load an ``exec --process`` file into a :class:`Process`."""
    return from_dict(read_json(path), process_only=True)


def load_bundle(
    bundle_dir: Union[str, os.PathLike[str]],
    *,
    validate: bool = True,
    rootless: bool = False,
    no_pivot: bool = False,
    systemd_cgroup: bool = False,
) -> Spec:
    """Load ``<bundle>/config.json`` and (by default) validate it against the
    bundle; warnings go to the ``pyrunc`` logger."""
    spec = load(os.path.join(bundle_dir, "config.json"), name="config.json")
    if validate:
        from pyrunc.spec.validate import validate as _validate

        for w in _validate(spec, rootless=rootless, bundle=bundle_dir, no_pivot=no_pivot,
                           systemd_cgroup=systemd_cgroup):
            log.warning("%s", w)
    return spec
