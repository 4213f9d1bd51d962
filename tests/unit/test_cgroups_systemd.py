"""systemd driver: cgroupsPath parsing and the "systemd not running" error."""
from __future__ import annotations

import pytest
from pyrunc import cgroups
from pyrunc.cgroups import systemd
from pyrunc.errors import CgroupError


def test_parse_default():
    p = systemd.parse("", "abc")
    assert (p.slice, p.prefix, p.name, p.unit) == ("system.slice", "pyrunc", "abc", "pyrunc-abc.scope")


@pytest.mark.parametrize("path,unit,slice_", [
    ("machine.slice:docker:abc", "docker-abc.scope", "machine.slice"),
    (":cri:xyz", "cri-xyz.scope", "system.slice"),
    ("user.slice::xyz", "xyz.scope", "user.slice"),
    ("system.slice:x:pod-1.slice", "pod-1.slice", "system.slice"),
])
def test_parse(path, unit, slice_):
    p = systemd.parse(path, "ignored")
    assert p.unit == unit and p.slice == slice_


@pytest.mark.parametrize("path", ["/abs/path", "a:b", "a:b:c:d", "x.slice:p:", "notaslice:p:n"])
def test_parse_rejects(path):
    with pytest.raises(CgroupError, match="linux.cgroupsPath"):
        systemd.parse(path, "id")


@pytest.mark.parametrize("name,path", [
    ("-.slice", "/"), ("system.slice", "/system.slice"),
    ("kubepods-burstable-pod1.slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"),
])
def test_slice_path(name, path):
    assert systemd.slice_path(name) == path


@pytest.mark.parametrize("name", ["a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "a.scope"])
def test_slice_path_rejects(name):
    with pytest.raises(CgroupError):
        systemd.slice_path(name)


def test_unit_path():
    assert systemd.unit_path(systemd.parse("a-b.slice:p:n", "x")) == "/a.slice/a-b.slice/p-n.scope"


def test_not_running(tmp_path):
    with pytest.raises(CgroupError, match="systemd not running"):
        systemd.check_available(str(tmp_path / "nope"))


def test_new_manager_systemd_without_systemd(monkeypatch, tmp_path):
    monkeypatch.setattr(systemd, "SYSTEMD_RUNDIR", str(tmp_path / "nope"))
    monkeypatch.setattr(systemd.check_available, "__defaults__", (str(tmp_path / "nope"),))
    with pytest.raises(CgroupError, match="systemd not running"):
        cgroups.new_manager(":pyrunc:x", "x", systemd=True, root=str(tmp_path))
    with pytest.raises(CgroupError, match="slice:prefix:name"):
        cgroups.new_manager("/bad", "x", systemd=True, root=str(tmp_path))
