//! The five capability sets: bounding, ambient (prctl), and
//! effective/permitted/inheritable (capset v3).
use crate::error::{SysError, SysResult};

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The highest capability this kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn mask(caps: &[u32]) -> u64 {
    caps.iter().filter(|&&c| c < 64).fold(0u64, |m, &c| m | (1u64 << c))
}

/// Drop from the bounding set every capability not in `keep`.
pub fn limit_bounding(keep: &[u32]) -> SysResult<()> {
    let keep = mask(keep);
    for cap in 0..=last_cap() {
        if keep & (1u64 << cap) == 0 {
            // SAFETY: plain prctl with integer arguments.
            let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            // EINVAL: the kernel does not know this capability; nothing to drop.
            if r < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINVAL {
                return Err(SysError::last("prctl", format!("PR_CAPBSET_DROP {cap}")));
            }
        }
    }
    Ok(())
}

/// capset(2) of the effective, permitted and inheritable sets.
pub fn set_caps(effective: &[u32], permitted: &[u32], inheritable: &[u32]) -> SysResult<()> {
    let (e, p, i) = (mask(effective), mask(permitted), mask(inheritable));
    let mut hdr = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let data = [
        CapData { effective: e as u32, permitted: p as u32, inheritable: i as u32 },
        CapData { effective: (e >> 32) as u32, permitted: (p >> 32) as u32, inheritable: (i >> 32) as u32 },
    ];
    // SAFETY: header and two data structs of the v3 ABI.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if r < 0 {
        return Err(SysError::last("capset", ""));
    }
    Ok(())
}

/// Read the effective, permitted, inheritable masks of `pid` (0 = self).
pub fn get_caps(pid: i32) -> SysResult<(u64, u64, u64)> {
    let mut hdr = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and two data structs of the v3 ABI.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut hdr as *mut CapHeader, data.as_mut_ptr()) };
    if r < 0 {
        return Err(SysError::last("capget", pid.to_string()));
    }
    let join = |lo: u32, hi: u32| (lo as u64) | ((hi as u64) << 32);
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ))
}

/// Clear the ambient set and raise `caps` in it (they must be permitted and inheritable).
pub fn set_ambient(caps: &[u32]) -> SysResult<()> {
    // SAFETY: plain prctl calls with integer arguments.
    unsafe {
        if libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0) < 0 {
            return Err(SysError::last("prctl", "PR_CAP_AMBIENT_CLEAR_ALL"));
        }
        for &cap in caps {
            let r = libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong, cap as libc::c_ulong, 0, 0);
            if r < 0 {
                return Err(SysError::last("prctl", format!("PR_CAP_AMBIENT_RAISE {cap}")));
            }
        }
    }
    Ok(())
}

pub fn set_keepcaps(on: bool) -> SysResult<()> {
    // SAFETY: plain prctl.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, on as libc::c_ulong, 0, 0, 0) } < 0 {
        return Err(SysError::last("prctl", "PR_SET_KEEPCAPS"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_sets_bits_and_ignores_out_of_range() {
        assert_eq!(mask(&[0, 1, 40]), 0b11 | (1u64 << 40));
        assert_eq!(mask(&[64, 99]), 0);
    }
}
