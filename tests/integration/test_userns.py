"""User namespaces with linux.uidMappings/gidMappings written by stage 0:
multiple ranges, files owned by the mapped host ids, setgroups."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conftest import Bundle, Runtime

RANGES = [{"containerID": 0, "hostID": 100000, "size": 1000},
          {"containerID": 1000, "hostID": 300000, "size": 1000}]



def _userns(cfg: dict[str, Any], uid_maps: list[dict[str, int]] = RANGES,
            gid_maps: list[dict[str, int]] = RANGES) -> None:
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = uid_maps
    cfg["linux"]["gidMappings"] = gid_maps


def _out_dir(bundle: Bundle, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    bundle.add_bind(out, "/out")
    os.chmod(out, 0o777)
    (bundle.rootfs / "out").mkdir()  # container root cannot create it in the host-owned rootfs
    return out


def test_userns_multiple_ranges(runtime: Runtime, bundle: Bundle, tmp_path: Path, traversable: None) -> None:
    """Root of the container is host uid 100000; container uid 1500 (second
    range) is host 300500. Files each makes on a bind mount are theirs."""
    _userns(bundle.config)
    out = _out_dir(bundle, tmp_path)
    bundle.set_args("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /out/root-made; "
                                "stat -c %u:%g /out/root-made")
    cid = runtime.new_id()
    r = runtime("run", "-b", str(bundle.path), cid)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert [line.split() for line in lines[:4]] == [["0", "100000", "1000"], ["1000", "300000", "1000"]] * 2
    assert lines[4] == "0:0"
    st = os.stat(out / "root-made")
    assert (st.st_uid, st.st_gid) == (100000, 100000)
    bundle.config["process"]["user"] = {"uid": 1500, "gid": 1500}
    bundle.set_args("sh", "-c", "id -u; touch /out/user-made")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert (r.rc, r.out) == (0, "1500\n"), r
    st = os.stat(out / "user-made")
    assert (st.st_uid, st.st_gid) == (300500, 300500)


def test_userns_unmapped_ids_are_nobody(runtime: Runtime, bundle: Bundle, tmp_path: Path,
                                        traversable: None) -> None:
    """Host files owned by ids outside the maps show as the overflow id;
    mapped ones as their container id."""
    _userns(bundle.config)
    out = _out_dir(bundle, tmp_path)
    for name, host_id in (("unmapped", 50000), ("mapped", 300007)):
        (out / name).write_text("")
        os.chown(out / name, host_id, host_id)
    bundle.set_args("stat", "-c", "%u:%g", "/out/unmapped", "/out/mapped")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    overflow = Path("/proc/sys/kernel/overflowuid").read_text().strip()
    assert r.out.splitlines() == [f"{overflow}:{overflow}", "1007:1007"]


def test_userns_setgroups_allowed_for_root_caller(runtime: Runtime, bundle: Bundle, traversable: None) -> None:
    """A root stage 0 leaves setgroups allowed (runc), so additionalGids work."""
    _userns(bundle.config)
    bundle.config["process"]["user"] = {"uid": 0, "gid": 0, "additionalGids": [10, 1010]}
    bundle.set_args("sh", "-c", "cat /proc/self/setgroups; id -G")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert r.out.splitlines() == ["allow", "0 10 1010"]


def test_userns_missing_mapping_for_the_user_fails(runtime: Runtime, bundle: Bundle, traversable: None) -> None:
    _userns(bundle.config)
    bundle.config["process"]["user"] = {"uid": 5000, "gid": 5000}
    bundle.set_args("true")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    assert "process.user" in r.error_text() or "uid" in r.error_text().lower()
    assert list(runtime.root.iterdir()) == []
