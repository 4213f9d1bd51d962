"""mounts[].options -> mount(2) flags, propagation, mount_setattr attributes, data."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyrunc.spec import mountopts as mo
from pyrunc.spec.mountopts import MOUNT_OPTIONS, parse

SPEC_CONFIG_MD = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec" / "config.md"


def test_constants_match_linux_headers() -> None:
    assert (mo.MS_RDONLY, mo.MS_NOSUID, mo.MS_NODEV, mo.MS_NOEXEC) == (1, 2, 4, 8)
    assert (mo.MS_BIND, mo.MS_REC, mo.MS_PRIVATE, mo.MS_SHARED) == (4096, 16384, 1 << 18, 1 << 20)
    assert (mo.MS_RELATIME, mo.MS_I_VERSION) == (1 << 21, 1 << 23)
    assert (mo.MS_STRICTATIME, mo.MS_LAZYTIME) == (1 << 24, 1 << 25)
    assert (mo.MOUNT_ATTR__ATIME, mo.MOUNT_ATTR_IDMAP) == (0x70, 0x100000)
    assert mo.MOUNT_ATTR_NOSYMFOLLOW == 0x200000


def test_plain_flags_and_data() -> None:
    m = parse(["nosuid", "noexec", "nodev", "mode=755", "size=65536k"])
    assert m.flags == mo.MS_NOSUID | mo.MS_NOEXEC | mo.MS_NODEV
    assert m.data == "mode=755,size=65536k"
    assert m.data_options == ["mode=755", "size=65536k"]
    assert not m.is_bind and m.propagation == [] and m.rec_attr_set == m.rec_attr_clr == 0


def test_later_option_wins() -> None:
    m = parse(["ro", "rw"])
    assert m.flags & mo.MS_RDONLY == 0 and m.clear_flags & mo.MS_RDONLY
    m = parse(["rw", "ro"])
    assert m.flags & mo.MS_RDONLY and m.clear_flags & mo.MS_RDONLY == 0
    m = parse(["nosuid", "suid", "dev", "nodev"])
    assert m.flags == mo.MS_NODEV and m.clear_flags == mo.MS_NOSUID


def test_bind_and_rbind() -> None:
    m = parse(["bind"])
    assert m.is_bind and not m.recursive_bind and m.flags == mo.MS_BIND
    m = parse(["rbind", "ro"])
    assert m.is_bind and m.recursive_bind and m.flags == mo.MS_BIND | mo.MS_REC | mo.MS_RDONLY


def test_propagation_kept_in_order() -> None:
    m = parse(["rbind", "rslave", "private", "runbindable"])
    assert m.propagation == [mo.MS_SLAVE | mo.MS_REC, mo.MS_PRIVATE, mo.MS_UNBINDABLE | mo.MS_REC]
    assert m.flags == mo.MS_BIND | mo.MS_REC  # propagation is not part of the mount(2) flags


def test_recursive_attributes() -> None:
    m = parse(["rbind", "rro", "rnosuid", "rnodev", "rnoexec"])
    want = mo.MOUNT_ATTR_RDONLY | mo.MOUNT_ATTR_NOSUID | mo.MOUNT_ATTR_NODEV | mo.MOUNT_ATTR_NOEXEC
    assert (m.rec_attr_set, m.rec_attr_clr) == (want, 0)
    m = parse(["rro", "rrw", "rsuid"])
    assert (m.rec_attr_set, m.rec_attr_clr) == (0, mo.MOUNT_ATTR_RDONLY | mo.MOUNT_ATTR_NOSUID)
    m = parse(["rnosymfollow", "rnodiratime"])
    assert m.rec_attr_set == mo.MOUNT_ATTR_NOSYMFOLLOW | mo.MOUNT_ATTR_NODIRATIME


@pytest.mark.parametrize("opts,mode", [
    (["rnoatime"], mo.MOUNT_ATTR_NOATIME),
    (["rstrictatime"], mo.MOUNT_ATTR_STRICTATIME),
    (["rrelatime"], mo.MOUNT_ATTR_RELATIME),
    (["rnoatime", "rstrictatime"], mo.MOUNT_ATTR_STRICTATIME),  # an enum: the last one wins
    (["rnoatime", "ratime"], mo.MOUNT_ATTR_RELATIME),
    (["rstrictatime", "rnostrictatime"], mo.MOUNT_ATTR_RELATIME),
    (["rnorelatime"], mo.MOUNT_ATTR_STRICTATIME),
])
def test_recursive_atime_is_an_enum(opts: list[str], mode: int) -> None:
    # mount_setattr(2): the mode goes in attr_set with all of MOUNT_ATTR__ATIME in attr_clr
    m = parse(opts)
    assert m.rec_attr_set & mo.MOUNT_ATTR__ATIME == mode
    assert m.rec_attr_clr & mo.MOUNT_ATTR__ATIME == mo.MOUNT_ATTR__ATIME


def test_idmap_tmpcopyup_defaults() -> None:
    m = parse(["rbind", "idmap"])
    assert m.idmap and not m.ridmap and m.data == ""
    m = parse(["bind", "ridmap"])
    assert m.idmap and m.ridmap
    m = parse(["tmpcopyup", "defaults"])
    assert m.tmpcopyup and m.flags == 0 and m.data == ""


def test_every_option_named_in_config_md_is_known() -> None:
    if not SPEC_CONFIG_MD.exists():
        pytest.skip("runtime-spec checkout not available")
    text = SPEC_CONFIG_MD.read_text()
    table = text.split("### <a name=\"configLinuxMountOptions\" />", 1)[1].split("[^1]:", 1)[0]
    names = {n.strip() for n in re.findall(r"^ `([a-z ]+)`\s*\|", table, re.MULTILINE)}
    assert len(names) > 50
    assert names <= set(MOUNT_OPTIONS), names - set(MOUNT_OPTIONS)
    # and no known option ends up in data
    for name in MOUNT_OPTIONS:
        assert parse([name]).data == "", name


def test_mount_options_sorted_unique() -> None:
    assert sorted(set(MOUNT_OPTIONS)) == MOUNT_OPTIONS


def test_flags_str() -> None:
    assert mo.flags_str(mo.MS_BIND | mo.MS_REC) == "MS_BIND|MS_REC"
    assert mo.flags_str(0) == "0"
    assert mo.flags_str(mo.MS_RDONLY | (1 << 30)) == "MS_RDONLY|0x40000000"
