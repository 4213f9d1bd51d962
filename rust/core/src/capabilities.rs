//! The five capability sets as the init applies them: lists of capability
//! numbers from the plan, on top of the raw capget/capset/prctl helpers in
//! `low::creds` (what `pyrunc.low` exposes too).
use crate::error::{SysError, SysResult};
use crate::low;

pub use low::{set_ambient, set_keepcaps};

fn mask(caps: &[u32]) -> u64 {
    caps.iter().filter(|&&c| c < 64).fold(0u64, |m, &c| m | (1u64 << c))
}

/// Drop from the bounding set every capability not in `keep`.
pub fn limit_bounding(keep: &[u32]) -> SysResult<()> {
    let keep = mask(keep);
    for cap in 0..=low::cap_last_cap() {
        if keep & (1u64 << cap) != 0 {
            continue;
        }
        match low::drop_bounding(cap) {
            // EINVAL: the kernel does not know this capability; nothing to drop.
            Err(e) if e.errno == nix::errno::Errno::EINVAL => {}
            Err(e) => return Err(SysError { arg: format!("PR_CAPBSET_DROP {cap}"), ..e }),
            Ok(()) => {}
        }
    }
    Ok(())
}

/// capset(2) of the effective, permitted and inheritable sets.
pub fn set_caps(effective: &[u32], permitted: &[u32], inheritable: &[u32]) -> SysResult<()> {
    low::capset(mask(effective), mask(permitted), mask(inheritable))
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
