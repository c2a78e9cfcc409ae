#!/usr/bin/env bash
# Checks that what the build makes runs on a baseline x86-64 processor (SSE2 only, no AVX):
# floe's test binaries, built with the repository's flags, run their kernel tests under
# qemu's user-mode emulation of such a processor. A build that assumes AVX anywhere on the
# default path (say `target-cpu=native` in .cargo/config.toml) dies there with an illegal
# instruction; the kernels' run-time dispatch must take their portable loops instead.
#
#   bash scripts/check-portable.sh      (test.sh runs it after `cargo test --workspace`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

if [ "$(uname -m)" != x86_64 ]; then
  echo "check-portable: not an x86-64 machine, nothing to check" >&2
  exit 0
fi
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
  echo "check-portable: installing qemu-user" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user
fi
CPU=qemu64 # x86-64 baseline: SSE, SSE2, SSE3; no SSSE3, SSE4, AVX, AVX2 or FMA

# The check must be able to fail: code built for Haswell (AVX, AVX2, FMA) has to die on the
# emulated processor with an illegal instruction (SIGILL: exit status 132), and the same
# code built for the baseline has to run there, or passing would prove nothing.
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf '%s\n' \
  'fn main() {' \
  '    let n = std::env::args().count() * 64;' \
  '    let v: Vec<f64> = (0..n).map(|i| i as f64).collect();' \
  '    println!("{}", v.iter().map(|x| x * 2.5 + 1.0).sum::<f64>());' \
  '}' >"$probe_dir/probe.rs"
rustc -O -C target-cpu=haswell -o "$probe_dir/haswell" "$probe_dir/probe.rs"
rustc -O -o "$probe_dir/baseline" "$probe_dir/probe.rs"
status=0
qemu-x86_64 -cpu "$CPU" "$probe_dir/haswell" >/dev/null 2>&1 </dev/null || status=$?
if [ "$status" -ne 132 ]; then
  echo "check-portable: Haswell code under qemu's $CPU exited with $status, not SIGILL (132); this check could not fail" >&2
  exit 1
fi
qemu-x86_64 -cpu "$CPU" "$probe_dir/baseline" >/dev/null </dev/null

# floe-array's unit and integration test binaries, built with the repository's profile and
# flags (as `cargo test --workspace` built them, or built here).
binaries=$(cargo test -p floe-array --lib --test it --no-run --message-format=json |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["name"], m["executable"])')
if [ "$(printf '%s\n' "$binaries" | grep -c .)" -ne 2 ]; then
  echo "check-portable: floe-array's two test binaries not found: $binaries" >&2
  exit 1
fi
while read -r name exe; do
  # The kernels with a run-time choice of vector width (sums, random numbers) and the
  # reductions and elementwise operations around them.
  case "$name" in
    floe_array) filters=(reduction:: elementwise::) ;;
    *) filters=(creation:: reductions::) ;;
  esac
  echo "== $name under qemu -cpu $CPU: ${filters[*]}" >&2
  qemu-x86_64 -cpu "$CPU" "$exe" --quiet "${filters[@]}" </dev/null
done <<<"$binaries"
echo "check-portable: the tests pass on a baseline x86-64 processor" >&2
