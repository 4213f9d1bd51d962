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

import signal as _signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Container", "Runtime", "State"]


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
