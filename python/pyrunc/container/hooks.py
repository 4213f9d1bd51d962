"""OCI hooks run by stage 0: prestart, createRuntime (on the init's ``hooks``
message), poststart (by ``start``) and poststop (by ``delete``).

createContainer and startContainer run inside the container's namespaces, so
the init runs those itself (plan.create_container_hooks/start_container_hooks).

Each hook gets the container's state JSON on stdin; ``args`` is the whole argv
(args[0] included) and an absent ``env`` means the runtime's own environment,
as runc (Go's os/exec) does. A timeout kills the hook. Failures name the hook
by its config field: ``hooks.createRuntime[1]``.
"""
from __future__ import annotations

import json
import os
import signal

from pyrunc.errors import HookError, field_path

# start and delete import this module for every container, with or without
# hooks: subprocess (the cost of a whole `pyrunc state`) loads in run_hook().
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# Where each kind runs and what a failure does (runtime-spec 1.3 runtime.md):
# a failing prestart/createRuntime/poststart hook is an error that stops the
# container; a failing poststop hook is a warning.
PHASES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
STAGE0_PHASES = ("prestart", "createRuntime", "poststart", "poststop")
INIT_PHASES = ("createContainer", "startContainer")


def hooks_of(config: Mapping[str, Any], phase: str) -> list[dict[str, Any]]:
    """The hooks of one phase from a config.json dict."""
    hooks = config.get("hooks") or {}
    return list(hooks.get(phase) or [])


def _status_text(rc: int) -> str:
    # Go's ProcessState.String(): "exit status 1", "signal: killed".
    if rc >= 0:
        return f"exit status {rc}"
    try:
        name = signal.Signals(-rc).name
    except ValueError:
        return f"signal: {-rc}"
    return "signal: " + {
        "SIGKILL": "killed",
        "SIGTERM": "terminated",
        "SIGSEGV": "segmentation fault",
        "SIGABRT": "aborted",
        "SIGINT": "interrupt",
        "SIGHUP": "hangup",
        "SIGPIPE": "broken pipe",
    }.get(name, name.lower())


def run_hook(hook: Mapping[str, Any], state: Mapping[str, Any], field: str) -> None:
    """Run one hook; raise HookError naming ``field`` when it fails."""
    path = hook.get("path") or ""
    args = list(hook.get("args") or []) or [path]
    env_list = hook.get("env")
    env: dict[str, str] | None = None
    if env_list is not None:
        env = {}
        for item in env_list:
            k, _, v = item.partition("=")
            env[k] = v
    timeout = hook.get("timeout")
    import subprocess

    stdin = json.dumps(state, separators=(",", ":")).encode()
    try:
        proc = subprocess.Popen(
            args,
            executable=path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            # runc runs hooks from inside the bundle (it chdirs there for create).
            cwd=_hook_cwd(state),
        )
    except OSError as e:
        raise HookError(field, f"error running hook: {path}: {e.strerror or e}") from None
    try:
        out, err = proc.communicate(stdin, timeout=timeout if timeout and timeout > 0 else None)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise HookError(field, f"error running hook: timeout after {timeout} seconds") from None
    except BrokenPipeError:
        # The hook did not read its stdin; that is allowed.
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise HookError(
            field,
            f"error running hook: {_status_text(proc.returncode)}, "
            f"stdout: {out.decode(errors='replace')}, stderr: {err.decode(errors='replace')}",
        )


def _hook_cwd(state: Mapping[str, Any]) -> str:
    bundle = state.get("bundle") or ""
    return bundle if bundle and os.path.isdir(bundle) else "/"


def run_hooks(
    config: Mapping[str, Any],
    phase: str,
    state: Mapping[str, Any],
    *,
    warn_only: bool = False,
) -> None:
    """Run every hook of ``phase`` in order. The first failure raises, unless
    ``warn_only`` (poststop): then it is logged and the rest still run."""
    for i, hook in enumerate(hooks_of(config, phase)):
        field = field_path("hooks", phase, i)
        try:
            run_hook(hook, state, field)
        except HookError as e:
            if not warn_only:
                raise
            from pyrunc import log

            log.warning(str(e))


def plan_hooks(config: Mapping[str, Any], phase: str) -> list[dict[str, Any]]:
    """The plan's form of the hooks the init runs (see rust/core/src/plan.rs Hook)."""
    out = []
    for i, hook in enumerate(hooks_of(config, phase)):
        h: dict[str, Any] = {"field": field_path("hooks", phase, i), "path": hook.get("path") or ""}
        if hook.get("args"):
            h["args"] = list(hook["args"])
        if hook.get("env") is not None:
            h["env"] = list(hook["env"])
        if hook.get("timeout") is not None:
            h["timeout"] = int(hook["timeout"])
        out.append(h)
    return out


def has_roundtrip_hooks(config: Mapping[str, Any]) -> bool:
    """The init asks stage 0 (``hooks`` message) when any pre-pivot hook exists;
    it then also gets the state JSON for createContainer/startContainer."""
    return any(hooks_of(config, p) for p in ("prestart", "createRuntime", "createContainer", "startContainer"))
