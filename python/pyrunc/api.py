"""The public Python API: :class:`Runtime`, :class:`Container` and :class:`State`.

A thin, typed layer over :mod:`pyrunc.container.lifecycle` (what the CLI
uses too), so a container made here is seen by ``pyrunc --root ... list``::

    from pyrunc import Runtime

    rt = Runtime(root="/run/pyrunc")
    c = rt.create("web", "/path/to/bundle")   # init set up, waiting
    c.start()
    print(c.state().status)                   # "running"
    c.kill("TERM")
    c.wait()                                  # exit status (the init is our child)
    c.delete()

    code = rt.run("job", "/path/to/bundle")   # create + start + wait + delete

Errors are :class:`pyrunc.errors.PyruncError` subclasses with runc's texts
(``ContainerNotExist``, ``StateError``, ``SpecError`` naming the config field...).

A container created here has its init as a child of this process: call
:meth:`Container.wait` (or reap it yourself) once it stops, or it stays a
zombie until this process exits.
"""
from __future__ import annotations

import builtins
import os
import signal as _signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Container", "ExecResult", "PtyProcess", "Runtime", "State"]


@dataclass(frozen=True)
class State:
    """A container's state as ``pyrunc state`` prints it (runc's fields)."""

    id: str
    pid: int
    status: str
    bundle: str
    rootfs: str
    created: str
    oci_version: str = ""
    owner: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        return cls(
            id=d["id"],
            pid=int(d.get("pid", 0)),
            status=d["status"],
            bundle=d.get("bundle", ""),
            rootfs=d.get("rootfs", ""),
            created=d.get("created", ""),
            oci_version=d.get("ociVersion", ""),
            owner=d.get("owner", ""),
            annotations=dict(d.get("annotations") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """runc's JSON object, keys in its order; annotations only when set."""
        d: dict[str, Any] = {
            "ociVersion": self.oci_version, "id": self.id, "pid": self.pid, "status": self.status,
            "bundle": self.bundle, "rootfs": self.rootfs, "created": self.created,
        }
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        d["owner"] = self.owner
        return d

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True)
class ExecResult:
    """A process run with :meth:`Runtime.exec`: its exit status (128+signal
    when killed) and what it wrote."""

    exit_code: int
    stdout: bytes
    stderr: bytes


class PtyProcess:
    """A process on a pty of its own in a container (:meth:`Runtime.exec_pty`):
    ``master`` is the pty master fd (read its output, write its input), ``pid``
    its host pid, a child of this process. Use as a context manager, or call
    :meth:`wait` and :meth:`close`."""

    def __init__(self, pid: int, master: int) -> None:
        self.pid = pid
        self.master = master
        self.exit_code: int | None = None

    def resize(self, rows: int, cols: int) -> None:
        from pyrunc.container import tty

        tty.set_winsize(self.master, rows, cols)

    def wait(self) -> int:
        """Reap the process: its exit status (128+signal when killed)."""
        if self.exit_code is None:
            from pyrunc.container import exec as exec_mod

            self.exit_code = exec_mod.wait_process(self.pid)
        return self.exit_code

    def close(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def __enter__(self) -> PtyProcess:  # noqa: PYI034 (py39: no typing.Self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        if self.exit_code is None:
            try:
                os.kill(self.pid, _signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait()


class Container:
    """A handle on one container under a :class:`Runtime`'s root. It holds no
    state of its own: every call reads the state dir."""

    def __init__(self, runtime: Runtime, container_id: str) -> None:
        self.runtime = runtime
        self.id = container_id

    def __repr__(self) -> str:
        return f"Container({self.id!r}, root={self.runtime.root!r})"

    def state(self) -> State:
        return self.runtime.state(self.id)

    @property
    def status(self) -> str:
        return self.state().status

    @property
    def pid(self) -> int:
        return self.state().pid

    def start(self) -> None:
        self.runtime.start(self.id)

    def kill(self, sig: int | str = _signal.SIGTERM, all: bool = False) -> None:
        self.runtime.kill(self.id, sig, all=all)

    def delete(self, force: bool = False) -> None:
        self.runtime.delete(self.id, force=force)

    def pause(self) -> None:
        self.runtime.pause(self.id)

    def resume(self) -> None:
        self.runtime.resume(self.id)

    def update(self, resources: dict[str, Any]) -> None:
        self.runtime.update(self.id, resources)

    def stats(self) -> dict[str, Any]:
        return self.runtime.stats(self.id)

    def events(self, interval: float = 5.0) -> Iterator[dict[str, Any]]:
        return self.runtime.events(self.id, interval=interval)

    def exec(self, args: Sequence[str], **kw: Any) -> ExecResult:
        """See :meth:`Runtime.exec`."""
        return self.runtime.exec(self.id, args, **kw)

    def exec_pty(self, args: Sequence[str], **kw: Any) -> PtyProcess:
        """See :meth:`Runtime.exec_pty`."""
        return self.runtime.exec_pty(self.id, args, **kw)

    def ps(self) -> list[int]:
        return self.runtime.ps(self.id)

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until the container stops. Returns the exit status (128+signal
        when killed) when its init is this process's child, else None."""
        from pyrunc.container import lifecycle

        return lifecycle.wait(self.runtime.root, self.id, timeout=timeout)


class Runtime:
    """The containers under one state root (the CLI's ``--root``)."""

    def __init__(self, root: str = "/run/pyrunc", *, systemd_cgroup: bool = False,
                 rootless: bool | None = None) -> None:
        self.root = root
        self.systemd_cgroup = systemd_cgroup
        self.rootless = rootless

    def __repr__(self) -> str:
        return f"Runtime(root={self.root!r})"

    @staticmethod
    def spec(rootless: bool = False) -> dict[str, Any]:
        """A default config.json as a dict (what ``pyrunc spec`` writes)."""
        from pyrunc.spec.default import default_spec

        return default_spec(rootless=rootless)

    def _create_kwargs(self, kw: dict[str, Any]) -> dict[str, Any]:
        kw.setdefault("systemd_cgroup", self.systemd_cgroup)
        kw.setdefault("rootless", self.rootless)
        return kw

    def create(
        self,
        container_id: str,
        bundle: str,
        *,
        pid_file: str | None = None,
        console_socket: str | None = None,
        no_pivot: bool = False,
        no_new_keyring: bool = False,
        preserve_fds: int = 0,
    ) -> Container:
        """Set a container up from a bundle; it waits until :meth:`start`."""
        from pyrunc.container import lifecycle

        lifecycle.create(self.root, container_id, bundle, **self._create_kwargs({
            "pid_file": pid_file, "console_socket": console_socket, "no_pivot": no_pivot,
            "no_new_keyring": no_new_keyring, "preserve_fds": preserve_fds}))
        return Container(self, container_id)

    def start(self, container_id: str) -> None:
        from pyrunc.container import lifecycle

        lifecycle.start(self.root, container_id)

    def run(
        self,
        container_id: str,
        bundle: str,
        *,
        detach: bool = False,
        keep: bool = False,
        subreaper: bool = False,
        **create_kwargs: Any,
    ) -> int:
        """create + start; in the foreground wait, delete (unless ``keep``) and
        return the exit status. Unlike the CLI the calling process does not
        become a child subreaper unless ``subreaper`` is set. Signals are
        forwarded to the container only when called from the main thread."""
        from pyrunc.container import lifecycle

        return lifecycle.run(self.root, container_id, bundle, detach=detach, keep=keep,
                             no_subreaper=not subreaper, **self._create_kwargs(create_kwargs))

    def container(self, container_id: str) -> Container:
        """A handle on an existing container (raises ContainerNotExist)."""
        self.state(container_id)
        return Container(self, container_id)

    def state(self, container_id: str) -> State:
        from pyrunc.container import lifecycle

        return State.from_dict(lifecycle.state(self.root, container_id))

    def list(self) -> list[State]:
        from pyrunc.container import lifecycle

        return [State.from_dict(d) for d in lifecycle.list_containers(self.root)]

    def kill(self, container_id: str, sig: int | str = _signal.SIGTERM, *, all: bool = False) -> None:
        """Signal the init (``sig`` as a number or a name like ``"KILL"``)."""
        from pyrunc.container import lifecycle

        lifecycle.kill(self.root, container_id, sig, all=all)

    def delete(self, container_id: str, *, force: bool = False) -> None:
        from pyrunc.container import lifecycle

        lifecycle.delete(self.root, container_id, force=force)

    def pause(self, container_id: str) -> None:
        """Freeze every process of a running (or created) container."""
        from pyrunc.container import lifecycle

        lifecycle.pause(self.root, container_id)

    def resume(self, container_id: str) -> None:
        """Thaw a paused container."""
        from pyrunc.container import lifecycle

        lifecycle.resume(self.root, container_id)

    def update(self, container_id: str, resources: dict[str, Any]) -> None:
        """Change limits live from a (partial) OCI ``linux.resources`` object in
        its JSON form, e.g. ``{"memory": {"limit": 64 << 20}, "pids": {"limit": 100}}``;
        devices are never changed. The container's state keeps the new values."""
        from pyrunc.container import lifecycle

        lifecycle.update(self.root, container_id, resources)

    def exec(self, container_id: str, args: Sequence[str], *, input: bytes | None = None,
             timeout: float | None = None, env: Sequence[str] = (), cwd: str | None = None,
             uid: int | None = None, gid: int | None = None, additional_gids: Sequence[int] = (),
             caps: Sequence[str] = (), no_new_privs: bool | None = None) -> ExecResult:
        """Run ``args`` in the container like ``pyrunc exec`` (its namespaces,
        cgroup, the container's process settings with these overrides), with
        ``input`` on its stdin and its stdout and stderr captured."""
        from pyrunc.container import exec as exec_mod

        done = exec_mod.run_captured(self.root, container_id, args, input=input, timeout=timeout, env=env,
                                     cwd=cwd, uid=uid, gid=gid, additional_gids=additional_gids, caps=caps,
                                     no_new_privs=no_new_privs)
        return ExecResult(done.exit_code, done.stdout, done.stderr)

    def exec_pty(self, container_id: str, args: Sequence[str], *, env: Sequence[str] = (),
                 cwd: str | None = None, uid: int | None = None, gid: int | None = None,
                 caps: Sequence[str] = ()) -> PtyProcess:
        """Start ``args`` in the container on a new pty (``pyrunc exec -t``);
        returns the pty master and the pid."""
        from pyrunc.container import exec as exec_mod

        pid, master = exec_mod.start_pty(self.root, container_id, args, env=env, cwd=cwd, uid=uid, gid=gid,
                                         caps=caps)
        return PtyProcess(pid, master)

    def ps(self, container_id: str) -> builtins.list[int]:
        """Host pids of the container's processes (``pyrunc ps -f json``)."""
        from pyrunc.container import ps as ps_mod

        return ps_mod.pids(self.root, container_id)

    def stats(self, container_id: str) -> dict[str, Any]:
        """runc's stats object (``pyrunc events --stats``'s "data"): cpu, cpuset,
        memory, pids, blkio, hugetlb..."""
        from pyrunc.container import lifecycle

        return lifecycle.stats(self.root, container_id)  # type: ignore[no-any-return]

    def events(self, container_id: str, *, interval: float = 5.0) -> Iterator[dict[str, Any]]:
        """``pyrunc events``: a stats event every ``interval`` seconds and an
        ``{"type": "oom", "id": ...}`` event whenever the OOM killer acts in the
        container; ends when the container stops. Close the iterator to stop early."""
        from pyrunc.container import lifecycle

        return iter(lifecycle.events(self.root, container_id, interval=interval, stats=False))
