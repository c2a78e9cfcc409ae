#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, unit, integration and
# property tests, and doctests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test (unit, integration, property tests, doctests)" >&2
cargo test --workspace
