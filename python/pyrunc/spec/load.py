"""config.json (or an ``exec --process`` process.json) -> the spec model.

Typing is checked here, against the model's type hints and the schema's
integer ranges; every error names the field (``process.user.uid: expected an
integer, got string``). Unknown properties are ignored, as the spec requires,
and a JSON ``null`` counts as an absent property (Go's decoder, which runc
uses, does the same). Semantic checks live in :mod:`pyrunc.spec.validate`.
"""
from __future__ import annotations

import dataclasses
import json
import os

from pyrunc.errors import SpecError, field_path
from pyrunc.spec import model
from pyrunc.spec.model import Process, Spec, json_key

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any, Literal, Union, overload

    Path = tuple[Union[str, int], ...]

_RANGES = {
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}


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


# Field tables, one per model class, built on first use from the annotation
# strings (the model uses `from __future__ import annotations`): resolving them
# with typing.get_type_hints() would import and run far more than `create` needs.
# A type is a model class, bool/int/str, or ("list" | "dict", item type).
_TABLES: dict[type, tuple[tuple[str, str, Any, str, bool], ...]] = {}
_SCALARS = {"bool": bool, "int": int, "str": str}


def _parse_type(s: str) -> Any:
    s = s.strip()
    if s.startswith("Optional[") and s.endswith("]"):
        return _parse_type(s[9:-1])
    if s.startswith("list[") and s.endswith("]"):
        return ("list", _parse_type(s[5:-1]))
    if s.startswith("dict[str,") and s.endswith("]"):
        return ("dict", _parse_type(s[9:-1]))
    if s in _SCALARS:
        return _SCALARS[s]
    tp = getattr(model, s, None)
    if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        raise TypeError(f"unsupported model type {s!r}")  # a bug in model.py
    return tp


def _table(cls: type) -> tuple[tuple[str, str, Any, str, bool], ...]:
    t = _TABLES.get(cls)
    if t is None:
        t = _TABLES[cls] = tuple(
            (f.name, json_key(f.name), _parse_type(f.type), f.metadata.get("kind", ""),  # type: ignore[arg-type]
             bool(f.metadata.get("required")))
            for f in dataclasses.fields(cls)
        )
    return t


def _convert(tp: Any, v: Any, path: Path, kind: str = "") -> Any:
    if tp.__class__ is tuple:
        if tp[0] == "list":
            if not isinstance(v, list):
                raise _fail(path, "an array", v)
            item = tp[1]
            return [_convert(item, x, (*path, i), kind) for i, x in enumerate(v)]
        if not isinstance(v, dict):
            raise _fail(path, "an object", v)
        item = tp[1]
        return {k: _convert(item, x, (*path, k), kind) for k, x in v.items()}
    if tp not in _SCALAR_TYPES:
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


_SCALAR_TYPES = (bool, int, str)


def _build(cls: type, d: dict[str, Any], path: Path) -> Any:
    kwargs = {}
    for name, key, tp, kind, required in _table(cls):
        v = d.get(key)
        if v is None:
            if required:
                raise SpecError(field_path(*path, key), "missing required property")
            continue
        kwargs[name] = _convert(tp, v, (*path, key), kind)
    return cls(**kwargs)


if TYPE_CHECKING:
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

        warnings = _validate(spec, rootless=rootless, bundle=bundle_dir, no_pivot=no_pivot,
                             systemd_cgroup=systemd_cgroup)
        if warnings:
            import logging  # only when there is something to say: it is a large import

            for w in warnings:
                logging.getLogger("pyrunc").warning("%s", w)
    return spec
