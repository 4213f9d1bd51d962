"""Turn a mount's ``options`` list into mount(2) flags, propagation changes,
mount_setattr(2) recursive attributes and the filesystem data string.

The option table is config.md's "Linux mount options" (the same set runc
reports in ``runc features``). Later options override earlier ones, so
``["ro", "rw"]`` is read-write. Unknown options are filesystem-specific and
go, comma-joined, to mount(2)'s ``data`` argument.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# mount(2) flags, <linux/mount.h>
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_I_VERSION = 1 << 23
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25

# mount_setattr(2) attributes, <linux/mount.h>
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8
MOUNT_ATTR__ATIME = 0x70
MOUNT_ATTR_RELATIME = 0x0
MOUNT_ATTR_NOATIME = 0x10
MOUNT_ATTR_STRICTATIME = 0x20
MOUNT_ATTR_NODIRATIME = 0x80
MOUNT_ATTR_IDMAP = 0x100000
MOUNT_ATTR_NOSYMFOLLOW = 0x200000

# name -> (clear?, MS_* flag). "clear" options remove a flag ("rw" clears MS_RDONLY).
_FLAGS: dict[str, tuple[bool, int]] = {
    "async": (True, MS_SYNCHRONOUS),
    "atime": (True, MS_NOATIME),
    "bind": (False, MS_BIND),
    "dev": (True, MS_NODEV),
    "diratime": (True, MS_NODIRATIME),
    "dirsync": (False, MS_DIRSYNC),
    "exec": (True, MS_NOEXEC),
    "iversion": (False, MS_I_VERSION),
    "lazytime": (False, MS_LAZYTIME),
    "loud": (True, MS_SILENT),
    "mand": (False, MS_MANDLOCK),
    "noatime": (False, MS_NOATIME),
    "nodev": (False, MS_NODEV),
    "nodiratime": (False, MS_NODIRATIME),
    "noexec": (False, MS_NOEXEC),
    "noiversion": (True, MS_I_VERSION),
    "nolazytime": (True, MS_LAZYTIME),
    "nomand": (True, MS_MANDLOCK),
    "norelatime": (True, MS_RELATIME),
    "nostrictatime": (True, MS_STRICTATIME),
    "nosuid": (False, MS_NOSUID),
    "nosymfollow": (False, MS_NOSYMFOLLOW),  # Linux 5.10
    "rbind": (False, MS_BIND | MS_REC),
    "relatime": (False, MS_RELATIME),
    "remount": (False, MS_REMOUNT),
    "ro": (False, MS_RDONLY),
    "rw": (True, MS_RDONLY),
    "silent": (False, MS_SILENT),
    "strictatime": (False, MS_STRICTATIME),
    "suid": (True, MS_NOSUID),
    "symfollow": (True, MS_NOSYMFOLLOW),
    "sync": (False, MS_SYNCHRONOUS),
}

_PROPAGATION: dict[str, int] = {
    "private": MS_PRIVATE,
    "rprivate": MS_PRIVATE | MS_REC,
    "shared": MS_SHARED,
    "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE,
    "rslave": MS_SLAVE | MS_REC,
    "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}

# name -> (clear?, MOUNT_ATTR_*), applied with mount_setattr(AT_RECURSIVE) (Linux 5.12)
_REC_ATTRS: dict[str, tuple[bool, int]] = {
    "rro": (False, MOUNT_ATTR_RDONLY),
    "rrw": (True, MOUNT_ATTR_RDONLY),
    "rnosuid": (False, MOUNT_ATTR_NOSUID),
    "rsuid": (True, MOUNT_ATTR_NOSUID),
    "rnodev": (False, MOUNT_ATTR_NODEV),
    "rdev": (True, MOUNT_ATTR_NODEV),
    "rnoexec": (False, MOUNT_ATTR_NOEXEC),
    "rexec": (True, MOUNT_ATTR_NOEXEC),
    "rnodiratime": (False, MOUNT_ATTR_NODIRATIME),
    "rdiratime": (True, MOUNT_ATTR_NODIRATIME),
    "rnosymfollow": (False, MOUNT_ATTR_NOSYMFOLLOW),  # Linux 5.14
    "rsymfollow": (True, MOUNT_ATTR_NOSYMFOLLOW),
}

# recursive access-time options -> the mode they select. The "no"/"r" forms of
# a mode select the kernel default (relatime), except rnorelatime, which can
# only mean strictatime.
_ATIME_MODES: dict[str, int] = {
    "rrelatime": MOUNT_ATTR_RELATIME,
    "rnoatime": MOUNT_ATTR_NOATIME,
    "rstrictatime": MOUNT_ATTR_STRICTATIME,
    "ratime": MOUNT_ATTR_RELATIME,
    "rnostrictatime": MOUNT_ATTR_RELATIME,
    "rnorelatime": MOUNT_ATTR_STRICTATIME,
}

# "defaults" is mount(8)'s rw,suid,dev,exec,async: all clearing flags that are
# already clear, so it is a no-op (runc passes it on as data; we drop it, which
# keeps bind mounts with "defaults" valid).
_NOOP = ("defaults",)
_OTHER = ("tmpcopyup", "idmap", "ridmap")

#: every option name pyrunc understands, sorted (``pyrunc features`` mountOptions)
MOUNT_OPTIONS: list[str] = sorted([*_FLAGS, *_PROPAGATION, *_REC_ATTRS, *_ATIME_MODES, *_NOOP, *_OTHER])


@dataclass
class MountOptions:
    """The parsed form of one ``mounts[i].options``."""

    flags: int = 0  # MS_* to set in mount(2)
    clear_flags: int = 0  # MS_* explicitly cleared ("rw", "dev"...), for remounts
    propagation: list[int] = field(default_factory=list)  # MS_* propagation, applied in order
    data: str = ""  # filesystem-specific options, comma-joined
    rec_attr_set: int = 0  # MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE)
    rec_attr_clr: int = 0
    tmpcopyup: bool = False
    idmap: bool = False  # "idmap" or "ridmap" given
    ridmap: bool = False  # the idmapping is applied recursively

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & MS_BIND)

    @property
    def recursive_bind(self) -> bool:
        return self.is_bind and bool(self.flags & MS_REC)

    @property
    def data_options(self) -> list[str]:
        return self.data.split(",") if self.data else []


def parse(options: list[str]) -> MountOptions:
    """Parse a mount's options; later options override earlier ones."""
    m = MountOptions()
    data: list[str] = []
    for o in options:
        if o in _FLAGS:
            clear, flag = _FLAGS[o]
            if clear:
                m.flags &= ~flag
                m.clear_flags |= flag
            else:
                m.flags |= flag
                m.clear_flags &= ~flag
        elif o in _PROPAGATION:
            m.propagation.append(_PROPAGATION[o])
        elif o in _ATIME_MODES:
            # The access time is an enum, not bits: mount_setattr(2) wants the
            # new mode in attr_set and all of MOUNT_ATTR__ATIME in attr_clr
            # (clearing only part of it is EINVAL).
            m.rec_attr_set = (m.rec_attr_set & ~MOUNT_ATTR__ATIME) | _ATIME_MODES[o]
            m.rec_attr_clr |= MOUNT_ATTR__ATIME
        elif o in _REC_ATTRS:
            clear, attr = _REC_ATTRS[o]
            if clear:
                m.rec_attr_clr |= attr
                m.rec_attr_set &= ~attr
            else:
                m.rec_attr_set |= attr
                m.rec_attr_clr &= ~attr
        elif o == "tmpcopyup":
            m.tmpcopyup = True
        elif o == "idmap":
            m.idmap, m.ridmap = True, False
        elif o == "ridmap":
            m.idmap, m.ridmap = True, True
        elif o in _NOOP:
            continue
        else:
            data.append(o)
    m.data = ",".join(data)
    return m


_MS_NAMES = [
    (MS_RDONLY, "MS_RDONLY"), (MS_NOSUID, "MS_NOSUID"), (MS_NODEV, "MS_NODEV"),
    (MS_NOEXEC, "MS_NOEXEC"), (MS_SYNCHRONOUS, "MS_SYNCHRONOUS"), (MS_REMOUNT, "MS_REMOUNT"),
    (MS_MANDLOCK, "MS_MANDLOCK"), (MS_DIRSYNC, "MS_DIRSYNC"), (MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"),
    (MS_NOATIME, "MS_NOATIME"), (MS_NODIRATIME, "MS_NODIRATIME"), (MS_BIND, "MS_BIND"),
    (MS_MOVE, "MS_MOVE"), (MS_REC, "MS_REC"), (MS_SILENT, "MS_SILENT"),
    (MS_UNBINDABLE, "MS_UNBINDABLE"), (MS_PRIVATE, "MS_PRIVATE"), (MS_SLAVE, "MS_SLAVE"),
    (MS_SHARED, "MS_SHARED"), (MS_RELATIME, "MS_RELATIME"), (MS_I_VERSION, "MS_I_VERSION"),
    (MS_STRICTATIME, "MS_STRICTATIME"), (MS_LAZYTIME, "MS_LAZYTIME"),
]


def flags_str(flags: int) -> str:
    """``MS_BIND|MS_REC`` form of a flag word, for error messages."""
    names = [n for bit, n in _MS_NAMES if flags & bit]
    rest = flags & ~sum(bit for bit, _ in _MS_NAMES)
    if rest:
        names.append(hex(rest))
    return "|".join(names) or "0"
