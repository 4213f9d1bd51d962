//! Builds the `pyrunc-init` binary (crate pyrunc-core) and embeds it in the extension.
//!
//! Why a second binary: the container's init must not be a fork of the Python
//! interpreter. A fork would keep CPython's heap (the waiting init would cost
//! ~10 MB instead of ~1 MB) and /proc/PID/exe would point at the host's python
//! binary, which a process in the container could reopen (CVE-2019-5736).
//! At run time `spawn` copies these bytes into a sealed memfd and fexecve()s it.
use std::{env, fs, path::PathBuf, process::Command};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let core = manifest.join("core");
    println!("cargo:rerun-if-changed={}", core.join("src").display());
    println!("cargo:rerun-if-changed={}", core.join("Cargo.toml").display());
    println!("cargo:rerun-if-env-changed=PYRUNC_INIT_PROFILE");

    let target = env::var("TARGET").expect("TARGET");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    // A target dir of its own: the outer cargo holds a lock on its own.
    let target_dir = manifest.join("..").join("target").join("pyrunc-init");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "-p", "pyrunc-core", "--bin", "pyrunc-init", "--target", &target])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(manifest.join(".."))
        // Static: the init runs before and after pivot_root and needs no loader.
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET");
    let status = cmd.status().expect("running cargo for pyrunc-init");
    assert!(status.success(), "building pyrunc-init failed");
    let built = target_dir.join(&target).join("release").join("pyrunc-init");
    fs::copy(&built, out.join("pyrunc-init")).expect("copying pyrunc-init");
}
