#!/usr/bin/env bash
# The main job: a custom parallel pipeline built with floe::delayed, with a progress bar.
# (The climate analysis of the talk replaces it once floe-io and the CLI land.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo run --release -p floe --example delayed
