"""The container lifecycle: create, start, run, state, list, kill, delete.

These are the functions the CLI (``cli/<cmd>.py``) and :mod:`pyrunc.api` call.
Each command that changes a container holds the flock on its state dir
(:meth:`StateDir.lock`); the status always comes from the kernel
(:func:`state.current_status`), and every move is checked against the table
in :mod:`status`. ``create`` undoes everything it did when any step fails.
"""
from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import sys
import time

from pyrunc.container import execfifo, hooks
from pyrunc.container.state import (
    ContainerState,
    StateDir,
    current_status,
    list_ids,
    proc_start_time,
    reap,
    rfc3339nano,
    write_pid_file,
)
from pyrunc.container.status import (
    Status,
    check_delete,
    check_kill,
    check_start,
)
from pyrunc.errors import ContainerNotExist, PyruncError, StateError

# state, start, kill and delete run this module's import on every call:
# typing and ctypes load only where needed.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PR_SET_CHILD_SUBREAPER = 36
# How long delete waits for a SIGKILLed init to go (runc: 100 x 100ms).
KILL_WAIT = 10.0


# --------------------------------------------------------------------------- helpers


def _cgroup_manager_for(st: ContainerState) -> Any:
    if not st.cgroup:
        return None
    from pyrunc import cgroups

    return cgroups.from_state(st.cgroup)


def _frozen(mgr: Any) -> bool:
    if mgr is None:
        return False
    try:
        return bool(mgr.frozen())
    except (OSError, PyruncError):
        return False


def _manager_or_none(st: ContainerState) -> Any:
    """The cgroup manager, or None (with a warning) when state.json's cgroup
    part cannot be read back: status and delete must still work then."""
    try:
        return _cgroup_manager_for(st)
    except PyruncError as e:
        _warn(f"container {st.id}: cgroup state: {e}")
        return None


def _status(sd: StateDir, st: ContainerState) -> Status:
    stored = Status(st.status)
    frozen = _frozen(_manager_or_none(st)) if stored is not Status.CREATING else False
    return current_status(sd, st, frozen)


def _rootless(rootless: bool | None) -> bool:
    return os.geteuid() != 0 if rootless is None else rootless


def _own_pidns(st: ContainerState) -> bool:
    linux = st.config.get("linux") or {}
    return any(ns.get("type") == "pid" and not ns.get("path") for ns in linux.get("namespaces") or [])


def _signal_init(st: ContainerState, sig: int) -> None:
    """Signal the init through a pidfd checked against the stored start time,
    so a reused pid is never signalled."""
    if st.init_pid <= 0:
        # A create still before child_pid: there is no init to signal yet.
        raise StateError("container not running")
    try:
        pidfd = os.pidfd_open(st.init_pid)
    except ProcessLookupError:
        raise StateError("container not running") from None
    try:
        if proc_start_time(st.init_pid) != st.init_start:
            raise StateError("container not running")
        signal.pidfd_send_signal(pidfd, sig)
    except ProcessLookupError:
        raise StateError("container not running") from None
    finally:
        os.close(pidfd)




def _kill_and_reap(pid: int) -> None:
    if pid <= 0:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    reap(pid)


def _wait_gone(st: ContainerState, timeout: float = KILL_WAIT) -> None:
    deadline = time.monotonic() + timeout
    # A pidfd turns readable the moment the init exits: no polling interval
    # (a 10 ms sleep was most of `delete -f`'s wall time).
    try:
        pidfd = os.pidfd_open(st.init_pid)
    except OSError:
        pidfd = -1
    try:
        while st.init_alive():
            # Reap it when it is our child (run, the API): a zombie counts as gone.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(st.init_pid, os.WNOHANG)
            left = deadline - time.monotonic()
            if left < 0:
                raise StateError("container init still running")
            if pidfd >= 0:
                select.select([pidfd], [], [], min(left, 0.1))
            else:
                time.sleep(0.01)
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def _warn(msg: str) -> None:
    from pyrunc import log

    log.warning(msg)


# --------------------------------------------------------------------------- create


def _load_spec(bundle: str, rootless: bool, no_pivot: bool, systemd_cgroup: bool) -> Any:
    from pyrunc.spec import load_bundle

    return load_bundle(bundle, rootless=rootless, no_pivot=no_pivot, systemd_cgroup=systemd_cgroup)


def create(
    root: str,
    cid: str,
    bundle: str,
    *,
    pid_file: str | None = None,
    console_socket: str | None = None,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
    preserve_fds: int = 0,
    systemd_cgroup: bool = False,
    rootless: bool | None = None,
    pidfd_socket: str | None = None,
) -> None:
    """Set the container up; its init waits on exec.fifo until ``start``.
    The init stays a child of this process (a subreaper adopts it when we exit).
    ``pidfd_socket`` (runc 1.2's --pidfd-socket) gets a pidfd of the init."""
    _create(root, cid, bundle, pid_file=pid_file, console_socket=console_socket, no_pivot=no_pivot,
            no_new_keyring=no_new_keyring, preserve_fds=preserve_fds, systemd_cgroup=systemd_cgroup,
            rootless=rootless, pidfd_socket=pidfd_socket)


def _create(
    root: str,
    cid: str,
    bundle: str,
    *,
    pid_file: str | None,
    console_socket: str | None,
    no_pivot: bool,
    no_new_keyring: bool,
    preserve_fds: int,
    systemd_cgroup: bool,
    rootless: bool | None,
    pidfd_socket: str | None = None,
    on_console: Any = None,
) -> ContainerState:
    """``on_console(master_fd)`` takes the pty master in the foreground
    (``run`` without -d); without it the container is detached."""
    from pyrunc.container import exec as exec_mod
    from pyrunc.container import idmap, notify
    from pyrunc.container import plan as plan_mod
    from pyrunc.container import spawn as spawn_mod
    from pyrunc.container import tty as tty_mod

    is_rootless = _rootless(rootless)
    sd = StateDir(root, cid)
    bundle = os.path.abspath(bundle or ".")
    # Everything that can be checked without side effects comes first.
    spec = _load_spec(bundle, is_rootless, no_pivot, systemd_cgroup)
    config = spec.to_dict()
    linux = config.get("linux") or {}
    process = config.get("process") or {}
    tty_mod.check_terminal(bool(process.get("terminal")), on_console is None, console_socket)
    # Socket activation: the LISTEN_FDS passed to us go first, then --preserve-fds.
    preserve_fds = exec_mod.activation(process, preserve_fds)
    from pyrunc import cgroups

    mgr = cgroups.new_manager(linux.get("cgroupsPath") or None, cid, systemd=systemd_cgroup,
                              rootless=is_rootless)
    plan = plan_mod.build_create_plan(config, bundle, preserve_fds=preserve_fds, no_pivot=no_pivot,
                                      rootless=is_rootless, cgroup_manager=mgr, cid=cid,
                                      no_new_keyring=no_new_keyring)
    sd.make()
    stage1 = 0
    st = ContainerState(
        id=cid,
        bundle=bundle,
        rootfs=plan["rootfs"]["path"],
        created=rfc3339nano(),
        oci_version=config.get("ociVersion", ""),
        status=Status.CREATING.value,
        annotations=dict(config.get("annotations") or {}),
        systemd_cgroup=systemd_cgroup,
        rootless=is_rootless,
        config_path=os.path.join(bundle, "config.json"),
        config=config,
        owner_uid=os.geteuid(),
    )
    cgroup_made = False
    try:
        with sd.lock():
            st.cgroup = mgr.to_state()
            sd.save(st)
            execfifo.create(sd.fifo, *_root_ids(linux))
            notify.add_to_plan(plan, config, sd)
            mgr.create()
            cgroup_made = True
            if spec.linux is not None and spec.linux.resources is not None:
                mgr.apply(spec.linux.resources)
            if mgr.to_state() != st.cgroup:
                st.cgroup = mgr.to_state()
                sd.save(st)
            ours, theirs = spawn_mod.socketpair()
            fifo_fd = execfifo.open_path(sd.fifo)
            # Idmapped bind mounts are made here and passed after the fifo.
            mount_fds: list[int] = []
            try:
                mount_fds = idmap.idmapped_mounts(plan, config, plan["fifo_fd"] + 1)
                stage1 = spawn_mod.spawn(plan, [theirs.fileno(), fifo_fd, *mount_fds], preserve_fds)
            finally:
                # Our copies must go, or EOF from the init would never come.
                theirs.close()
                os.close(fifo_fd)
                idmap.close_fds(mount_fds)
            h = spawn_mod.CreateHandlers(sd, st, config, stage1, console_socket, is_rootless)
            h.on_console = on_console
            chan = spawn_mod.CreateChannel(ours, h)
            try:
                # Stage 1 waits for `go`, so it and all its descendants are counted.
                mgr.add_pid(stage1)
                chan.send("go")
                spawn_mod.dispatch(chan, h, until="ready")
            finally:
                chan.close()
            if not h.stage1_reaped:
                spawn_mod.reap(stage1)
            st.status = Status.CREATED.value
            sd.save(st)
            if pid_file:
                write_pid_file(pid_file, st.init_pid)
            if pidfd_socket:
                spawn_mod.send_pidfd(pidfd_socket, st.init_pid)
    except BaseException:
        _undo_create(sd, st, mgr if cgroup_made else None, stage1)
        raise
    return st


def _root_ids(linux: dict[str, Any]) -> tuple[int, int]:
    """Host uid/gid that container root maps to (the fifo's owner, as runc)."""
    def host(maps: list[dict[str, Any]]) -> int:
        for m in maps:
            if m.get("containerID", 0) <= 0 < m.get("containerID", 0) + m.get("size", 0):
                return int(m.get("hostID", 0)) - int(m.get("containerID", 0))
        return 0
    return host(linux.get("uidMappings") or []), host(linux.get("gidMappings") or [])




def _undo_create(sd: StateDir, st: ContainerState, mgr: Any, stage1: int) -> None:
    """Kill and reap every child, remove the cgroup and the state dir."""
    _kill_and_reap(stage1)
    if st.init_pid:
        _kill_and_reap(st.init_pid)
    if mgr is not None:
        with contextlib.suppress(Exception):
            mgr.kill_all(signal.SIGKILL)
        with contextlib.suppress(Exception):
            _destroy_cgroup(mgr)
    sd.remove()


def _destroy_cgroup(mgr: Any) -> None:
    # Killed processes leave the cgroup asynchronously: retry for a while.
    deadline = time.monotonic() + 5.0
    while True:
        try:
            mgr.destroy()
            return
        except (OSError, PyruncError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# --------------------------------------------------------------------------- start


def start(root: str, cid: str) -> None:
    """Let a created container's init execve the process; run poststart hooks.
    With NOTIFY_SOCKET, wait for the container's READY= and pass it on."""
    from pyrunc.container.notify import Proxy

    sd = StateDir(root, cid)
    proxy = None
    with sd.lock():
        st = sd.load()
        check_start(_status(sd, st))
        # Bound before the process runs, so its first READY= is not lost.
        proxy = Proxy.listen(sd)
        try:
            execfifo.release(sd.fifo, st.init_alive)
        except BaseException:
            if proxy is not None:
                proxy.close()
            raise
        st.status = Status.RUNNING.value
        sd.save(st)
        try:
            hooks.run_hooks(st.config, "poststart", st.oci_state(Status.RUNNING))
        except PyruncError:
            # runtime-spec 1.3 and runc 1.2: a failing poststart hook is an
            # error, and the container is stopped.
            with contextlib.suppress(StateError, OSError):
                _signal_init(st, signal.SIGKILL)
            if proxy is not None:
                proxy.close()
            raise
    if proxy is not None:
        proxy.forward(st.init_pid, st.init_start)


# --------------------------------------------------------------------------- run


class _Forwarder:
    """Signal handlers installed before create: signals that arrive before the
    init exists are queued, later ones go straight to it (runc forwards every
    signal but SIGCHLD, SIGWINCH and SIGURG)."""

    SKIP = frozenset({signal.SIGCHLD, signal.SIGWINCH, signal.SIGURG, signal.SIGKILL, signal.SIGSTOP})

    def __init__(self) -> None:
        self.pid = 0
        self.pending: list[int] = []
        self.old: dict[int, Any] = {}

    def install(self) -> None:
        for sig in signal.valid_signals():
            if sig in self.SKIP:
                continue
            try:
                self.old[sig] = signal.signal(sig, self._handle)
            except (OSError, ValueError, RuntimeError):
                pass

    def restore(self) -> None:
        for sig, h in self.old.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(sig, h)
        self.old.clear()

    def _handle(self, sig: int, _frame: Any) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
        else:
            self.pending.append(sig)

    def attach(self, pid: int) -> None:
        self.pid = pid
        for sig in self.pending:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        self.pending.clear()


def _set_subreaper() -> None:
    # prctl(PR_SET_CHILD_SUBREAPER): processes orphaned inside the container
    # (no own pid namespace) come back to us to be reaped (prctl(2)).
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}")


def exit_code(status: int) -> int:
    """The shell's convention, as runc: the exit code, or 128+signal."""
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return 255


def _wait_init(pid: int, reap_all: bool) -> int:
    """Reap children until the init is among them; as a subreaper, orphans
    handed to us are reaped on the way."""
    while True:
        try:
            got, status = os.waitpid(-1 if reap_all else pid, 0)
        except ChildProcessError:
            # Not our child (cannot happen with CLONE_PARENT): poll instead.
            while proc_start_time(pid) is not None:
                time.sleep(0.05)
            return 0
        if got == pid:
            return exit_code(status)


def run(
    root: str,
    cid: str,
    bundle: str,
    *,
    detach: bool = False,
    keep: bool = False,
    no_subreaper: bool = False,
    **create_kwargs: Any,
) -> int:
    """create + start. In the foreground: forward signals, wait, delete (unless
    ``keep``) and return the container's exit status; ``detach``: return 0."""
    from pyrunc.container import tty as tty_mod

    fwd: _Forwarder | None = None
    masters: list[int] = []
    if not detach:
        if not no_subreaper:
            _set_subreaper()
        fwd = _Forwarder()
        fwd.install()
    try:
        st = _create(root, cid, bundle, **_create_defaults(create_kwargs),
                     on_console=None if detach else masters.append)
        try:
            start(root, cid)
        except BaseException:
            with contextlib.suppress(Exception):
                delete(root, cid, force=True)
            raise
        if detach or fwd is None:
            return 0
        fwd.attach(st.init_pid)
        if masters:
            # process.terminal: relay the pty (raw mode, window size) until the init exits.
            code = tty_mod.foreground(masters.pop(), st.init_pid,
                                      lambda: _wait_init(st.init_pid, not no_subreaper))
        else:
            code = _wait_init(st.init_pid, not no_subreaper)
    finally:
        if fwd is not None:
            fwd.restore()
        for fd in masters:
            with contextlib.suppress(OSError):
                os.close(fd)
    if not keep:
        delete(root, cid, force=True)
    return code


def _create_defaults(kw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pid_file": None, "console_socket": None, "no_pivot": False, "no_new_keyring": False,
        "preserve_fds": 0, "systemd_cgroup": False, "rootless": None, "pidfd_socket": None,
    }
    unknown = set(kw) - set(out)
    if unknown:
        raise TypeError(f"run() got unexpected arguments {sorted(unknown)}")
    out.update(kw)
    return out


# --------------------------------------------------------------------------- state, list


def _state_dict(sd: StateDir, st: ContainerState, status: Status, owner: str) -> dict[str, Any]:
    """runc's containerState: pid 0 once stopped, annotations only when set;
    ociVersion is the runtime's spec version, not config.json's (runc's too)."""
    from pyrunc import OCI_VERSION

    d: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "id": st.id,
        "pid": 0 if status is Status.STOPPED else st.init_pid,
        "status": status.value,
        "bundle": st.bundle,
        "rootfs": st.rootfs,
        "created": st.created,
    }
    if st.annotations:
        d["annotations"] = dict(st.annotations)
    d["owner"] = owner
    return d


def state(root: str, cid: str) -> dict[str, Any]:
    """``pyrunc state``: runc's JSON fields (owner is empty, as runc leaves it)."""
    sd = StateDir(root, cid)
    st = sd.load()
    return _state_dict(sd, st, _status(sd, st), "")


def list_containers(root: str) -> list[dict[str, Any]]:
    """``pyrunc list``: every container under root, owner filled in; dirs
    without a loadable state.json are reported on stderr and skipped (runc)."""
    out = []
    for cid in list_ids(root):
        sd = StateDir(root, cid)
        try:
            st = sd.load()
        except PyruncError as e:
            sys.stderr.write(f"load container {cid}: {e}\n")
            continue
        out.append(_state_dict(sd, st, _status(sd, st), sd.owner()))
    return out


# --------------------------------------------------------------------------- kill


def _parse_signal(sig: int | str) -> int:
    if isinstance(sig, int):
        return sig
    from pyrunc.signals import parse_signal

    return parse_signal(sig)


def kill(root: str, cid: str, sig: int | str = signal.SIGTERM, all: bool = False) -> None:
    """Signal the init. ``all`` signals every process in the cgroup; it is no
    error when the container has stopped (runc 1.2), leftovers in its cgroup
    still get the signal. A SIGKILL of a container that shares a pid
    namespace kills every process in its cgroup (runc 1.2): only the death
    of a pid namespace's init makes the kernel kill the rest."""
    signum = _parse_signal(sig)
    sd = StateDir(root, cid)
    if not sd.exists():
        raise ContainerNotExist()
    st = sd.load()
    status = _status(sd, st)
    mgr = _cgroup_manager_for(st)
    if all and status is Status.STOPPED:
        if mgr is not None and mgr.exists():
            _kill_cgroup(st, mgr, signum, status)
        return
    check_kill(status)
    if mgr is not None and (all or (signum == signal.SIGKILL and not _own_pidns(st))):
        _kill_cgroup(st, mgr, signum, status)
        return
    _signal_init(st, signum)
    if status is Status.PAUSED and signum == signal.SIGKILL and mgr is not None:
        # A frozen task cannot die: thaw so the SIGKILL is delivered (runc).
        with contextlib.suppress(Exception):
            mgr.thaw()


def _kill_cgroup(st: ContainerState, mgr: Any, signum: int, status: Status) -> None:
    try:
        if status is Status.PAUSED:
            # Frozen tasks cannot fork: signal them as they are, and do not
            # let the manager's freeze/thaw round trip resume the container.
            for pid in mgr.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            if signum == signal.SIGKILL:
                mgr.thaw()
        else:
            mgr.kill_all(signum)
    except (OSError, PyruncError) as e:
        if not st.rootless or status is Status.STOPPED:
            raise
        # A rootless container's cgroup may not be ours to read (runc 1.2).
        _warn(f"failed to kill all processes, possibly due to lack of cgroup: {e}")
        _signal_init(st, signum)


# --------------------------------------------------------------------------- delete


def delete(root: str, cid: str, force: bool = False) -> None:
    """Remove a stopped container (a created one is killed first, as runc);
    ``force`` kills a running or paused one. Missing + force is not an error."""
    sd = StateDir(root, cid)
    if not sd.exists():
        if force:
            return
        raise ContainerNotExist()
    with sd.lock():
        if not sd.has_state():
            # A create that died before writing anything: runc removes the dir.
            sd.remove()
            if force:
                return
            raise ContainerNotExist()
        st = sd.load()
        status = _status(sd, st)
        check_delete(cid, status, force)
        mgr = _manager_or_none(st)
        if status is not Status.STOPPED:
            with contextlib.suppress(StateError, OSError):
                _signal_init(st, signal.SIGKILL)
            if status is Status.PAUSED and mgr is not None:
                with contextlib.suppress(Exception):
                    mgr.thaw()
            _wait_gone(st)
        _destroy(sd, st, mgr)
    hooks.run_hooks(st.config, "poststop", st.oci_state(Status.STOPPED), warn_only=True)


def _destroy(sd: StateDir, st: ContainerState, mgr: Any) -> None:
    if mgr is not None:
        # Without its own pid namespace the container's other processes
        # outlive the init: kill them through the cgroup.
        with contextlib.suppress(Exception):
            if mgr.pids():
                mgr.kill_all(signal.SIGKILL)
        try:
            _destroy_cgroup(mgr)
        except (OSError, PyruncError) as e:
            _warn(f"remove cgroup: {e}")
    sd.remove()


# --------------------------------------------------------------------------- pause, resume, update, events (control.py)


def pause(root: str, cid: str) -> None:
    """Freeze the container's processes; see :func:`pyrunc.container.control.pause`."""
    from pyrunc.container import control

    control.pause(root, cid)


def resume(root: str, cid: str) -> None:
    """Thaw a paused container; see :func:`pyrunc.container.control.resume`."""
    from pyrunc.container import control

    control.resume(root, cid)


def update(root: str, cid: str, resources: dict[str, Any] | None = None,
           intel_rdt: dict[str, Any] | None = None) -> None:
    """Apply a (partial) linux.resources object; see :func:`pyrunc.container.control.update`."""
    from pyrunc.container import control

    control.update(root, cid, resources, intel_rdt=intel_rdt)


def events(root: str, cid: str, *, interval: float = 5.0, stats: bool = False) -> Any:
    """Stats and OOM events as runc's JSON objects; see :func:`pyrunc.container.control.events`."""
    from pyrunc.container import control

    return control.events(root, cid, interval=interval, stats=stats)


def stats(root: str, cid: str) -> dict[str, Any]:
    """runc's stats object (``events --stats``'s "data")."""
    from pyrunc.container import control

    return control.stats(root, cid)


# For the API: a helper that waits for a container this process created.
def wait(root: str, cid: str, poll: float = 0.05, timeout: float | None = None) -> int | None:
    """Wait until the container stops; the exit status when its init was our
    child (``run``/API create), else None."""
    st = StateDir(root, cid).load()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            got, status = os.waitpid(st.init_pid, os.WNOHANG)
            if got == st.init_pid:
                return exit_code(status)
        except ChildProcessError:
            if not st.init_alive():
                return None
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(errno.ETIMEDOUT, f"container {cid} still running")
        time.sleep(poll)


# --------------------------------------------------------------------------- exec, ps (container/exec.py, ps.py)


def exec_process(root: str, cid: str, **kwargs: Any) -> int:
    """``pyrunc exec``; see :func:`pyrunc.container.exec.exec_process` for the arguments."""
    from pyrunc.container import exec as exec_mod

    return exec_mod.exec_process(root, cid, **kwargs)


def ps(root: str, cid: str) -> list[int]:
    """Host pids of the container's processes (``ps -f json``)."""
    from pyrunc.container import ps as ps_mod

    return ps_mod.pids(root, cid)


__all__ = [
    "create",
    "delete",
    "events",
    "exec_process",
    "exit_code",
    "kill",
    "list_containers",
    "pause",
    "ps",
    "resume",
    "run",
    "start",
    "state",
    "stats",
    "update",
    "wait",
]
