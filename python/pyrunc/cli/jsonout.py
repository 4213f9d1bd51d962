"""JSON written the way Go's encoding/json writes it (engines parse our output)."""
from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from typing import Any


def go_json(obj: Any, indent: str | None = None, *, sort_keys: bool = False) -> str:
    """``json.Marshal`` (compact) or ``MarshalIndent("", indent)``: HTML
    characters escaped, non-ASCII kept, ``null`` for None; no newline.
    ``sort_keys``: as Go writes a map (the log's fields)."""
    if indent is None:
        s = json.dumps(obj, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    else:
        s = json.dumps(obj, sort_keys=sort_keys, indent=indent, ensure_ascii=False)
    return (
        s.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
