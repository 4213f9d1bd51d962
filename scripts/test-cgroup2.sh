#!/usr/bin/env bash
# The cgroup tests again on a cgroup-v2-only kernel: ../shared/vm/cgroup2-vm boots a small
# QEMU guest (cgroup2 mounted with every controller) that shares this checkout, and runs
# them there as root. This machine is cgroup v1 (hybrid); most hosts are v2.
#   bash scripts/test-cgroup2.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
vm=../shared/vm/cgroup2-vm
[ -x "$vm" ] || { echo "test-cgroup2.sh: $vm not found" >&2; exit 1; }
files=(tests/integration/test_cgroups_v2.py tests/integration/test_resources.py
       tests/integration/test_pause.py tests/integration/test_update.py
       tests/integration/test_events.py tests/integration/test_kill_all.py
       tests/integration/test_run.py)
# The venv's own interpreter, not a pyenv shim (shims are slow under TCG).
exec "$vm" --timeout 3000 -- "$PWD/.venv/bin/python" -m pytest -q -p no:cacheprovider "${files[@]}" "$@"
