#!/usr/bin/env bash
# Installs what pyrunc's build, tutorial and tests need on Debian/Ubuntu (as root),
# then builds pyrunc into ./.venv. Needs a Rust toolchain (cargo) on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# podman (pulls conmon) and containerd (ctr, containerd-shim-runc-v2) drive pyrunc in
# tests/integration/test_{podman,containerd}.py; uidmap (newuidmap/newgidmap) maps
# /etc/subuid ranges for rootless containers (tests/integration/test_rootless.py);
# gcc builds the static syscall payload of tests/integration/test_seccomp.py.
packages=(busybox-static runc crun iproute2 procps psmisc python3-venv podman containerd uidmap gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "install.sh: cargo not found: install a Rust toolchain (rustup.rs) first" >&2; exit 1; }

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q maturin
# Editable: the Rust extension is built once, the Python sources are used in place.
.venv/bin/pip install -q -e '.[test]'
.venv/bin/pyrunc --version
