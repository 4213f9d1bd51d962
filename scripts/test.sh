#!/usr/bin/env bash
# The test suite: the Rust core's unit tests, then pytest (unit, CLI, and the
# integration tests with real containers, which need root and skip otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -q -p pyrunc-core
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider "$@"
