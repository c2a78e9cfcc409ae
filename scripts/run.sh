#!/usr/bin/env bash
# The main job: the talk's climate analysis on a synthetic dataset of daily NetCDF4 files
# (8 days of (4, 721, 1440) float32, written first), with a progress bar; the maps land in
# ./floe-climate/ (mean.png, anomaly.png, day-vs-night.png). Extra arguments go to
# `floe climate` (e.g. --synthetic 30, --data DIR, --chunks 4,200,200, --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo run --release -p floe-cli -- climate --synthetic 8 --out floe-climate "$@"
