"""``pyrunc exec``: a new process in a running container, and the process fds
(``--preserve-fds``, ``LISTEN_FDS``) that create and exec share.

The process is the container's ``process`` with the command line's overrides
(runc's getProcess), or a whole ``process.json`` (``-p``, as containerd
writes it; then no other flag changes it). The init runs in ``exec`` mode
(rust/core/src/plan.rs): stage 1 joins every namespace of the container
through fds of the container init's /proc/PID/ns files that stage 0 opened
and checked, user namespace first, and clones the process with CLONE_PARENT,
so it is our child. After ``ready`` the sync socket is close-on-exec: EOF
means the execve worked, an ``error`` message that it failed.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import errno
import os
import signal
from collections.abc import Callable, Sequence

from pyrunc.container.state import ContainerState, StateDir, current_status, proc_start_time, write_pid_file
from pyrunc.container.status import Status
from pyrunc.errors import InitError, PyruncError, StateError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any

# config.json namespace type -> /proc/PID/ns name.
NS_FILES = {
    "pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "user": "user",
    "cgroup": "cgroup", "time": "time",
}



# --------------------------------------------------------------------------- process fds


def listen_fds() -> int:
    """systemd socket activation (sd_listen_fds(3)): the number of fds from 3
    up that were passed to this very process, 0 when none."""
    try:
        if int(os.environ.get("LISTEN_PID", "")) != os.getpid():
            return 0
        n = int(os.environ.get("LISTEN_FDS", ""))
    except ValueError:
        return 0
    return max(n, 0)


def check_preserved(first: int, count: int) -> None:
    """Every fd to pass must be open (runc stats each one)."""
    for i in range(count):
        try:
            os.fstat(first + i)
        except OSError as e:
            raise SyscallError("fstat", e.errno or errno.EBADF,
                               f"unable to stat preserved-fd {i} (of {count})", "--preserve-fds",
                               "stage0") from None


def activation(process: dict[str, Any], preserve_fds: int) -> int:
    """For create/run: with LISTEN_FDS for us, the container's process gets
    those fds first (at 3...) with LISTEN_FDS=n and LISTEN_PID=1 (its pid
    inside), then the ``preserve_fds`` ones. Returns the total to keep."""
    n = listen_fds()
    if n:
        process["env"] = [*(process.get("env") or []), f"LISTEN_FDS={n}", "LISTEN_PID=1"]
    check_preserved(3 + n, preserve_fds)
    return n + preserve_fds


# --------------------------------------------------------------------------- the process


def _parse_sub_cgroups(args: Sequence[str]) -> dict[str, str]:
    """``--cgroup [<controller>[,<controller>]:]<path>`` (runc's parseCgroupPaths)."""
    paths: dict[str, str] = {}
    for arg in args:
        ctrs, sep, path = arg.partition(":")
        if not sep:
            if len(args) != 1:
                raise PyruncError(f"invalid --cgroup argument: {arg} (missing <controller>: prefix)")
            paths[""] = arg
            continue
        for c in ctrs.split(","):
            if not c:
                raise PyruncError(f"invalid --cgroup argument: {arg} (empty <controller> prefix)")
            if c in paths:
                raise PyruncError(f"invalid --cgroup argument(s): controller {c} specified multiple times")
            paths[c] = path
    return paths


def exec_process_dict(
    config: dict[str, Any],
    *,
    args: Sequence[str] = (),
    process: str | None = None,
    cwd: str | None = None,
    env: Sequence[str] = (),
    tty: bool | None = None,
    uid: int | None = None,
    gid: int | None = None,
    additional_gids: Sequence[int] = (),
    process_label: str | None = None,
    apparmor: str | None = None,
    no_new_privs: bool | None = None,
    caps: Sequence[str] = (),
) -> dict[str, Any]:
    """The process to run, as a config.json ``process`` object."""
    if process:
        from pyrunc.spec.load import read_json

        proc = read_json(process)
        if not isinstance(proc, dict):
            raise PyruncError(f"{process}: the process must be a JSON object")
        return dict(proc)
    proc = copy.deepcopy(config.get("process") or {})
    if not args:
        raise PyruncError("args must not be empty")
    proc["args"] = list(args)
    if cwd:
        proc["cwd"] = cwd
    if apparmor:
        proc["apparmorProfile"] = apparmor
    if process_label:
        proc["selinuxLabel"] = process_label
    if caps:
        c = proc.setdefault("capabilities", {})
        for name in caps:
            for s in ("bounding", "effective", "permitted"):
                if name not in c.setdefault(s, []):
                    c[s].append(name)
            # Ambient needs inheritable, which --cap never adds (CVE-2022-29162):
            # only when the config already has inheritable bits.
            if c.get("inheritable") and name not in c.setdefault("ambient", []):
                c["ambient"].append(name)
    proc["env"] = [*(proc.get("env") or []), *env]
    # Not inherited from config.json: a terminal only when asked for (runc).
    proc["terminal"] = bool(tty)
    if no_new_privs is not None:
        proc["noNewPrivileges"] = bool(no_new_privs)
    user = proc.setdefault("user", {})
    if uid is not None:
        user["uid"] = uid
    if gid is not None:
        user["gid"] = gid
    if additional_gids:
        user["additionalGids"] = [*(user.get("additionalGids") or []), *additional_gids]
    return proc


def _validated(proc: dict[str, Any]) -> dict[str, Any]:
    from pyrunc import log
    from pyrunc.spec import from_dict, validate_process

    model = from_dict(proc, process_only=True)
    for w in validate_process(model):
        log.warning(w)
    return model.to_dict()


def build_exec_plan(config: dict[str, Any], proc: dict[str, Any], ns_paths: dict[str, str],
                    preserve_fds: int) -> dict[str, Any]:
    """The init's plan in exec mode. What the process does not set comes from
    the container (capabilities, rlimits, security labels), as in runc."""
    from pyrunc.container import plan as plan_mod
    from pyrunc.errors import field_path

    base = config.get("process") or {}
    proc = dict(proc)
    if proc.get("capabilities") is None and base.get("capabilities") is not None:
        proc["capabilities"] = base["capabilities"]
    if not proc.get("rlimits") and base.get("rlimits"):
        proc["rlimits"] = base["rlimits"]
    for key in ("apparmorProfile", "selinuxLabel"):
        if not proc.get(key) and base.get(key):
            proc[key] = base[key]
    linux = config.get("linux") or {}
    namespaces = []
    for i, ns in enumerate(linux.get("namespaces") or []):
        path = ns_paths.get(ns.get("type", ""))
        if path:
            namespaces.append({"type": ns["type"], "path": path, "field": field_path("linux", "namespaces", i)})
    plan: dict[str, Any] = {
        "mode": "exec",
        "sync_fd": 3 + preserve_fds,
        "namespaces": namespaces,
        "process": plan_mod.build_process(proc, preserve_fds=preserve_fds),
    }
    # The container's seccomp profile applies to exec'd processes too (runc).
    if linux.get("seccomp"):
        plan["seccomp"] = plan_mod.seccomp_plan(linux["seccomp"])
    return plan


# --------------------------------------------------------------------------- stage 0


def _status(sd: StateDir, st: ContainerState, mgr: Any) -> Status:
    frozen = False
    if mgr is not None and Status(st.status) is not Status.CREATING:
        with contextlib.suppress(OSError, PyruncError):
            frozen = bool(mgr.frozen())
    return current_status(sd, st, frozen)


def _open_namespaces(st: ContainerState) -> dict[str, int]:
    """O_RDONLY fds of the init's namespace files, checked to belong to the
    recorded init (not a reused pid) after they were opened."""
    fds: dict[str, int] = {}
    try:
        for ns in (st.config.get("linux") or {}).get("namespaces") or []:
            kind = ns.get("type", "")
            name = NS_FILES.get(kind)
            if name is None or kind in fds:
                continue
            path = f"/proc/{st.init_pid}/ns/{name}"
            try:
                fds[kind] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    raise StateError("cannot exec in a stopped container") from None
                raise SyscallError("open", e.errno or errno.EIO, f"open {path}", stage="stage0") from None
        if proc_start_time(st.init_pid) != st.init_start:
            raise StateError("cannot exec in a stopped container")
    except BaseException:
        for fd in fds.values():
            os.close(fd)
        raise
    return fds


def _join_cgroup(mgr: Any, pid: int, sub: dict[str, str]) -> None:
    """The container's cgroup, or the given sub-cgroups of it (--cgroup)."""
    if mgr is None:
        return
    if not sub:
        mgr.add_pid(pid)
        return
    from pyrunc.cgroups import common

    def below(base: str, rel: str) -> str:
        path = os.path.normpath(os.path.join(base, rel.lstrip("/")))
        if os.path.relpath(path, base).startswith(".."):
            raise PyruncError(f"invalid --cgroup path {rel!r}")
        return path

    if getattr(mgr, "version", 1) == 2:
        if set(sub) != {""}:
            raise PyruncError("cgroup v2 does not have controllers, use --cgroup <path>")
        common.write_procs(below(mgr.path, sub[""]), pid)
        return
    paths: dict[str, str] = dict(mgr.paths)
    for ctr in sub:
        if ctr and ctr not in paths:
            raise PyruncError(f"--cgroup: unknown controller {ctr}")
    done = set()
    for ctr, base in sorted(paths.items()):
        rel = sub.get(ctr, sub.get(""))
        target = below(base, rel) if rel else base
        if target not in done:
            common.write_procs(target, pid)
            done.add(target)


class _ExecHandlers:
    """Stage 0's answers while an exec starts (spawn.Handlers' interface)."""

    def __init__(self, stage1: int, console: Callable[[int], None] | None) -> None:
        self.stage1 = stage1
        self.pid = 0
        self.on_console = console
        self.stage1_reaped = False

    def make(self) -> Any:
        from pyrunc.container import spawn as spawn_mod

        outer = self

        class H(spawn_mod.Handlers):
            def child_pid(self, pid: int) -> None:
                outer.pid = pid

            def console(self, fd: int) -> None:
                if outer.on_console is None:
                    os.close(fd)
                    raise spawn_mod.ProtocolError("sync: unexpected console")
                outer.on_console(fd)

            def seccomp_fd(self, fd: int) -> None:
                outer.seccomp_fd(fd)

            def eof(self) -> PyruncError:
                return outer.eof()

        return H()

    # The container's state, for a SCMP_ACT_NOTIFY listener (set by start_exec).
    st: ContainerState | None = None

    def seccomp_fd(self, fd: int) -> None:
        """The exec'd process's notify fd goes to listenerPath, as at create."""
        from pyrunc import seccomp

        try:
            profile = ((self.st.config if self.st else {}).get("linux") or {}).get("seccomp") or {}
            if self.st is None or not profile.get("listenerPath"):
                return
            seccomp.send_to_listener(profile["listenerPath"], fd, pid=self.pid,
                                     state=self.st.oci_state(Status.RUNNING),
                                     metadata=profile.get("listenerMetadata"))
        finally:
            os.close(fd)

    def eof(self) -> PyruncError:
        from pyrunc.container import spawn as spawn_mod

        status = None
        if not self.stage1_reaped:
            status = spawn_mod.reap(self.stage1)
            self.stage1_reaped = True
        if status is None and self.pid:
            status = spawn_mod.reap(self.pid)
        text = f": {spawn_mod.wait_status_text(status)}" if status is not None else ""
        return InitError(f"exec process exited before it was ready{text}")


def start_exec(
    root: str,
    cid: str,
    proc: dict[str, Any],
    *,
    preserve_fds: int = 0,
    cgroups: Sequence[str] = (),
    ignore_paused: bool = False,
    on_console: Callable[[int], None] | None = None,
    stdio: Sequence[int] | None = None,
) -> int:
    """Start ``proc`` in the container; returns its host pid (our child).
    ``on_console`` gets the pty master when ``proc`` has a terminal."""
    from pyrunc import cgroups as cg
    from pyrunc.container import spawn as spawn_mod

    sd = StateDir(root, cid)
    st = sd.load()
    mgr = cg.from_state(st.cgroup) if st.cgroup else None
    status = _status(sd, st, mgr)
    if status is Status.STOPPED:
        raise StateError("cannot exec in a stopped container")
    if status is Status.PAUSED and not ignore_paused:
        raise StateError("cannot exec in a paused container (use --ignore-paused to override)")
    if status not in (Status.CREATED, Status.RUNNING, Status.PAUSED):
        raise StateError(f"cannot exec in a {status.value} container")
    sub = _parse_sub_cgroups(list(cgroups))
    proc = _validated(proc)
    check_preserved(3, preserve_fds)
    ns_fds = _open_namespaces(st)
    stage1 = 0
    try:
        kinds = list(ns_fds)
        sync_fd = 3 + preserve_fds
        # The ns fds land right after the sync socket; stage 1 opens them
        # through its own /proc/self/fd before it joins anything.
        ns_paths = {k: f"/proc/self/fd/{sync_fd + 1 + i}" for i, k in enumerate(kinds)}
        plan = build_exec_plan(st.config, proc, ns_paths, preserve_fds)
        ours, theirs = spawn_mod.socketpair()
        try:
            stage1 = spawn_mod.spawn(plan, [theirs.fileno(), *(ns_fds[k] for k in kinds)], preserve_fds,
                                     stdio=stdio)
        finally:
            theirs.close()
    finally:
        for fd in ns_fds.values():
            os.close(fd)
    eh = _ExecHandlers(stage1, on_console)
    eh.st = st
    h = eh.make()
    chan = spawn_mod.Channel(ours)
    try:
        try:
            _join_cgroup(mgr, stage1, sub)
            chan.send("go")
            spawn_mod.dispatch(chan, h, until="ready")
            if not eh.stage1_reaped:
                spawn_mod.reap(stage1)
                eh.stage1_reaped = True
            # After ready: EOF when execve worked (the socket is CLOEXEC),
            # else the init's one error message.
            msg, fds = chan.recv()
            spawn_mod.close_fds(fds)
            if msg is not None:
                if msg.get("type") == "error":
                    raise spawn_mod.error_from_message(msg)
                raise spawn_mod.ProtocolError(f"sync: expected EOF after ready, got {msg.get('type')}")
        finally:
            chan.close()
    except BaseException:
        for pid in (stage1, eh.pid):
            if pid > 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                spawn_mod.reap(pid)
        raise
    if not eh.pid:
        raise InitError("exec: the init never reported the process's pid")
    return eh.pid


def wait_process(pid: int) -> int:
    """waitpid the exec'd process: its exit code, or 128+signal."""
    from pyrunc.container.lifecycle import exit_code

    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return 255
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            return exit_code(status)


def exec_process(
    root: str,
    cid: str,
    *,
    args: Sequence[str] = (),
    process: str | None = None,
    cwd: str | None = None,
    env: Sequence[str] = (),
    tty: bool | None = None,
    uid: int | None = None,
    gid: int | None = None,
    additional_gids: Sequence[int] = (),
    detach: bool = False,
    pid_file: str | None = None,
    process_label: str | None = None,
    apparmor: str | None = None,
    no_new_privs: bool | None = None,
    caps: Sequence[str] = (),
    preserve_fds: int = 0,
    cgroups: Sequence[str] = (),
    ignore_paused: bool = False,
    console_socket: str | None = None,
    pidfd_socket: str | None = None,
    no_subreaper: bool = False,
) -> int:
    """``pyrunc exec``: start the process; detached, return 0 once it runs;
    else relay stdio (or the terminal) and signals and return its status."""
    from pyrunc.container import spawn as spawn_mod
    from pyrunc.container import tty as tty_mod
    from pyrunc.container.lifecycle import _Forwarder

    sd = StateDir(root, cid)
    st = sd.load()
    proc = exec_process_dict(st.config, args=args, process=process, cwd=cwd, env=env, tty=tty, uid=uid,
                             gid=gid, additional_gids=additional_gids, process_label=process_label,
                             apparmor=apparmor, no_new_privs=no_new_privs, caps=caps)
    terminal = bool(proc.get("terminal"))
    tty_mod.check_terminal(terminal, detach, console_socket)
    masters: list[int] = []

    def on_console(fd: int) -> None:
        if console_socket:
            tty_mod.send_console(console_socket, fd)
        else:
            masters.append(fd)

    fwd: _Forwarder | None = None
    if not detach:
        # Installed first: a signal that arrives while the process starts is
        # queued and delivered to it (runc's order).
        fwd = _Forwarder()
        with contextlib.suppress(ValueError):
            fwd.install()
    try:
        pid = start_exec(root, cid, proc, preserve_fds=preserve_fds, cgroups=cgroups,
                         ignore_paused=ignore_paused, on_console=on_console)
        try:
            if pid_file:
                write_pid_file(pid_file, pid)
            if pidfd_socket:
                spawn_mod.send_pidfd(pidfd_socket, pid)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            spawn_mod.reap(pid)
            raise
        if detach or fwd is None:
            return 0
        fwd.attach(pid)
        if masters:
            return tty_mod.foreground(masters.pop(), pid, lambda: wait_process(pid))
        return wait_process(pid)
    finally:
        if fwd is not None:
            fwd.restore()
        spawn_mod.close_fds(masters)


# --------------------------------------------------------------------------- for the API


@dataclasses.dataclass(frozen=True)
class Completed:
    """A finished exec: its status (128+signal when killed) and output."""

    exit_code: int
    stdout: bytes
    stderr: bytes


def _process_for(root: str, cid: str, args: Sequence[str], overrides: dict[str, Any]) -> dict[str, Any]:
    st = StateDir(root, cid).load()
    return exec_process_dict(st.config, args=args, **overrides)


def run_captured(root: str, cid: str, args: Sequence[str], *, input: bytes | None = None,
                 timeout: float | None = None, **overrides: Any) -> Completed:
    """Run a process in the container with pipes for its stdio; wait for it.
    ``overrides`` are exec_process_dict()'s (env, cwd, uid, caps, ...)."""
    import selectors
    import time

    proc = _process_for(root, cid, args, {**overrides, "tty": False})
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = start_exec(root, cid, proc, stdio=(in_r, out_w, err_w))
    except BaseException:
        for fd in (in_r, in_w, out_r, out_w, err_r, err_w):
            os.close(fd)
        raise
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    bufs: dict[int, bytearray] = {out_r: bytearray(), err_r: bytearray()}
    pending = memoryview(input or b"")
    deadline = None if timeout is None else time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    try:
        for fd in bufs:
            sel.register(fd, selectors.EVENT_READ)
        if pending:
            os.set_blocking(in_w, False)
            sel.register(in_w, selectors.EVENT_WRITE)
        else:
            os.close(in_w)
            in_w = -1
        # Until both outputs hit EOF (a background child that keeps them
        # open keeps us here too, as with subprocess).
        while out_r in sel.get_map() or err_r in sel.get_map():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                os.kill(pid, signal.SIGKILL)
                wait_process(pid)
                raise TimeoutError(errno.ETIMEDOUT, f"exec in {cid} timed out")
            for key, _ in sel.select(left):
                fd = int(key.fd)
                if fd == in_w:
                    try:
                        n = os.write(in_w, pending[:65536])
                        pending = pending[n:]
                    except BrokenPipeError:
                        pending = memoryview(b"")
                    if not pending:
                        sel.unregister(in_w)
                        os.close(in_w)
                        in_w = -1
                    continue
                data = os.read(fd, 65536)
                if data:
                    bufs[fd] += data
                else:
                    sel.unregister(fd)
    finally:
        sel.close()
        for fd in (in_w, out_r, err_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
    return Completed(wait_process(pid), bytes(bufs[out_r]), bytes(bufs[err_r]))


def start_pty(root: str, cid: str, args: Sequence[str], **overrides: Any) -> tuple[int, int]:
    """Start a process on a new pty in the container: (host pid, pty master).
    The caller owns both: read/write the master, close it, and reap the pid
    (:func:`wait_process`)."""
    proc = _process_for(root, cid, args, {**overrides, "tty": True})
    masters: list[int] = []
    pid = start_exec(root, cid, proc, on_console=masters.append)
    if len(masters) != 1:
        raise InitError("exec: no pty master arrived")
    return pid, masters[0]


__all__ = [
    "Completed",
    "activation",
    "build_exec_plan",
    "check_preserved",
    "exec_process",
    "exec_process_dict",
    "listen_fds",
    "run_captured",
    "start_exec",
    "start_pty",
    "wait_process",
]
