"""pyrunc: an OCI container runtime with runc's command line and a Python API.

The public API is :class:`pyrunc.Runtime` (see :mod:`pyrunc.api`); raw
namespace and syscall helpers are in :mod:`pyrunc.low`. Importing this package
is cheap: submodules load on first use.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # importing typing would cost `pyrunc --version` a third of its time
    from typing import Any

__version__ = "0.1.0"
OCI_VERSION = "1.3.0"

__all__ = ["__version__", "OCI_VERSION", "Runtime", "Container", "State", "PyruncError"]


def __getattr__(name: str) -> Any:
    # Deferred imports keep `pyrunc --version` fast.
    if name in ("Runtime", "Container", "State"):
        from pyrunc import api

        return getattr(api, name)
    if name == "PyruncError":
        from pyrunc.errors import PyruncError

        return PyruncError
    raise AttributeError(f"module 'pyrunc' has no attribute {name!r}")
