"""Idmapped bind mounts: mounts[].uidMappings/gidMappings and the idmap and
ridmap options (mount_setattr(MOUNT_ATTR_IDMAP), Linux 5.12+)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conftest import Bundle, Runtime


def _maps(container_id: int, host_id: int, size: int) -> list[dict[str, int]]:
    return [{"containerID": container_id, "hostID": host_id, "size": size}]


def _shared_dir(tmp_path: Path) -> Path:
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o777)
    (d / "root-file").write_text("r")
    (d / "five-file").write_text("5")
    os.chown(d / "five-file", 5, 5)
    return d


def _bind(d: Path, options: list[str], **extra: Any) -> dict[str, Any]:
    return {"destination": "/m", "type": "bind", "source": str(d), "options": options, **extra}


def _userns(cfg: dict[str, Any], host: int = 100000) -> None:
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = _maps(0, host, 65536)
    cfg["linux"]["gidMappings"] = _maps(0, host, 65536)


def test_idmapped_bind_mount_with_its_own_mappings(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """On-disk ids 0..999 show as 2000..2999 through the mount; a file made
    through it by uid 2001 is uid 1 on disk."""
    d = _shared_dir(tmp_path)
    bundle.config["mounts"].append(_bind(d, ["rbind", "rw"], uidMappings=_maps(0, 2000, 1000),
                                         gidMappings=_maps(0, 2000, 1000)))
    bundle.config["process"]["user"] = {"uid": 2001, "gid": 2001}
    bundle.set_args("sh", "-c", "stat -c '%n %u:%g' /m/root-file /m/five-file; touch /m/new && stat -c '%n %u:%g' "
                                "/m/new; grep ' /m ' /proc/self/mountinfo")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[:3] == ["/m/root-file 2000:2000", "/m/five-file 2005:2005", "/m/new 2001:2001"]
    assert "idmapped" in lines[3]
    st = os.stat(d / "new")
    assert (st.st_uid, st.st_gid) == (1, 1)
    # The host's view of the directory is untouched.
    assert os.stat(d / "root-file").st_uid == 0


def test_idmapped_mount_needs_the_ids_mapped(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """Root (uid 0) is outside the mount's mapping: it cannot create files there."""
    d = _shared_dir(tmp_path)
    bundle.config["mounts"].append(_bind(d, ["rbind", "rw"], uidMappings=_maps(0, 2000, 1000),
                                         gidMappings=_maps(0, 2000, 1000)))
    bundle.set_args("sh", "-c", "touch /m/x; echo rc=$?")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.out == "rc=1\n", r
    assert not (d / "x").exists()


def test_idmap_option_uses_the_containers_userns(runtime: Runtime, bundle: Bundle, tmp_path: Path,
                                                 traversable: None) -> None:
    """A user-namespaced container (root = host uid 100000) with an `idmap`
    bind mount sees the host's root-owned files as its own, and what it
    creates there belongs to host root, not to 100000."""
    d = _shared_dir(tmp_path)
    _userns(bundle.config)
    (bundle.rootfs / "m").mkdir()  # the image's root is not the container root's
    bundle.config["mounts"].append(_bind(d, ["rbind", "rw", "idmap"]))
    bundle.set_args("sh", "-c", "stat -c '%u:%g' /m/root-file /m/five-file; touch /m/new; echo rc=$?")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert r.out.splitlines() == ["0:0", "5:5", "rc=0"]
    st = os.stat(d / "new")
    assert (st.st_uid, st.st_gid) == (0, 0)


def test_ridmap_maps_submounts_too(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """With a tmpfs mounted below the source, ridmap idmaps the whole rbind
    tree and idmap only its top mount."""
    import subprocess

    d = _shared_dir(tmp_path)
    sub = d / "sub"
    sub.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "pyrunc-test", str(sub)], check=True)
    try:
        (sub / "f").write_text("")
        maps = {"uidMappings": _maps(0, 2000, 1000), "gidMappings": _maps(0, 2000, 1000)}
        bundle.config["mounts"].append(_bind(d, ["rbind", "rw", "ridmap"], **maps))
        bundle.config["mounts"].append({"destination": "/n", "type": "bind", "source": str(d),
                                        "options": ["rbind", "rw", "idmap"], **maps})
        bundle.set_args("stat", "-c", "%u", "/m/root-file", "/m/sub/f", "/n/root-file", "/n/sub/f")
        r = runtime("run", "-b", str(bundle.path), runtime.new_id())
        assert r.rc == 0, r
        assert r.out.split() == ["2000", "2000", "2000", "0"]
    finally:
        subprocess.run(["umount", str(sub)], check=True)


def test_idmap_without_mappings_or_userns_is_refused(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    d = _shared_dir(tmp_path)
    bundle.config["mounts"].append(_bind(d, ["rbind", "idmap"]))
    bundle.write()
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    assert "mounts[" in r.error_text() and "idmap" in r.error_text()
