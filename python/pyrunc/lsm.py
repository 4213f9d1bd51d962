"""Stage-0 checks for the Linux security modules: AppArmor and SELinux.

The init writes the labels (rust/core/src/init/lsm.rs); this module decides,
before anything starts, what it is asked to write, as runc does:

- ``process.apparmorProfile`` on a host without AppArmor is an error naming
  the field: a container the engine meant to confine must not run unconfined.
- ``process.selinuxLabel`` and ``linux.mountLabel`` where SELinux is disabled
  are dropped with a debug line (go-selinux's calls are no-ops there).

``PYRUNC_FORCE_LSM=1`` (a test switch) skips the host checks so the tests can
drive the init's procfs verification on a host with neither module.
"""
from __future__ import annotations

import os

from pyrunc.errors import SpecError

__all__ = [
    "apparmor_enabled",
    "apparmor_profile",
    "mount_label",
    "selinux_enabled",
    "selinux_label",
]

APPARMOR_ENABLED = "/sys/module/apparmor/parameters/enabled"
SELINUX_MNT = "/sys/fs/selinux"


def _forced() -> bool:
    return os.environ.get("PYRUNC_FORCE_LSM") == "1"


def apparmor_enabled() -> bool:
    """AppArmor is built in and switched on (the module parameter reads "Y"),
    and its securityfs interface is there to load profiles through."""
    try:
        with open(APPARMOR_ENABLED) as f:
            on = f.read(1) == "Y"
    except OSError:
        return False
    return on and os.path.isdir("/sys/kernel/security/apparmor")


def selinux_enabled() -> bool:
    """selinuxfs is mounted (go-selinux's test, minus its /proc fallbacks)."""
    if not os.path.exists(os.path.join(SELINUX_MNT, "enforce")):
        return False
    try:
        with open("/proc/self/mounts") as f:
            return any(line.split()[2] == "selinuxfs" for line in f if len(line.split()) > 2)
    except OSError:
        return False


def apparmor_profile(profile: str, field: str = "process.apparmorProfile") -> str:
    """The profile for the plan; an error when it is set and AppArmor is off."""
    if profile and not _forced() and not apparmor_enabled():
        raise SpecError(field, f"apparmor profile {profile!r} is set but AppArmor is not enabled on this host")
    return profile


def _selinux(label: str, field: str) -> str:
    if label and not _forced() and not selinux_enabled():
        from pyrunc import log

        log.debug(f"{field} {label!r} ignored: SELinux is disabled on this host")
        return ""
    return label


def selinux_label(label: str) -> str:
    """process.selinuxLabel for the plan; "" where SELinux is disabled."""
    return _selinux(label, "process.selinuxLabel")


def mount_label(label: str) -> str:
    """linux.mountLabel for the plan (context= on mounts); "" where SELinux is disabled."""
    return _selinux(label, "linux.mountLabel")
