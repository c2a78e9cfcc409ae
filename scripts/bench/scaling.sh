#!/usr/bin/env bash
# Multi-core scaling: floe-bench's workloads at 1, 2, 4, 8 and 16 worker threads (those
# the machine has), as JSON lines. Where BIN_DIR also has the `floe` command (which needs
# the NetCDF C library to write), the climate workload runs too, over 120 daily files it
# writes first with `floe climate --synthetic`.
#
#   cargo build --release -p floe-bench -p floe-cli
#   bash scripts/bench/scaling.sh target/release OUT_DIR [THREADS...]
#
# OUT_DIR/scaling.jsonl gets one line per measurement (each workload's own JSON plus the
# thread count); OUT_DIR/machine.txt what the machine is. Each command has a time limit, so
# a slow case costs its own figures only.
set -uo pipefail
bin=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2
threads=("$@")
cores=$(nproc)
if [ ${#threads[@]} -eq 0 ]; then
  threads=()
  for t in 1 2 4 8 16; do
    [ "$t" -le "$cores" ] && threads+=("$t")
  done
fi
work=${SCALING_WORK:-$(mktemp -d)}
log="$out/scaling.jsonl"
: >"$log"

{
  echo "cores: $cores"
  grep -m1 "model name" /proc/cpuinfo
  grep -m1 -o -w "avx512f\|avx2" /proc/cpuinfo | head -1
  free -g | head -2
  date -u
} >"$out/machine.txt" 2>&1

# Runs a floe-bench command, appending its lines tagged with the thread count.
bench() {
  local t=$1 limit=$2
  shift 2
  timeout "$limit" "$bin/floe-bench" "$@" --threads "$t" 2>>"$out/stderr.txt" |
    sed "s/^{/{\"threads_run\": $t, /" >>"$log"
}

climate=false
if [ -x "$bin/floe" ] && "$bin/floe" --version >/dev/null 2>&1; then
  echo "scaling: writing 120 days of synthetic data to $work/data" >&2
  start=$(date +%s.%N)
  if timeout 300 "$bin/floe" climate --synthetic 120 --out "$work" --threads "$cores" >/dev/null 2>>"$out/stderr.txt"; then
    climate=true
    echo "{\"workload\": \"setup\", \"case\": \"synthetic_120\", \"seconds\": $(awk "BEGIN{print $(date +%s.%N) - $start}")}" >>"$log"
  fi
fi

for t in "${threads[@]}"; do
  echo "scaling: $t threads" >&2
  bench "$t" 60 overhead --case map_reduce_threads --reps 3
  bench "$t" 150 elementwise --case ones --case random --case random_1block --case sum_1gb --reps 3
  if $climate; then
    bench "$t" 120 climate --data "$work/data" --case cfile_mean --case c200_mean --reps 3
  fi
  bench "$t" 120 scan --case sum0 --case cumsum0 --case cumsum1 --reps 2
  bench "$t" 180 linalg --case svd_tall --case svd_compressed --reps 2
done
if $climate; then
  bench 1 60 climate --data "$work/data" --case read_floor --reps 3
fi
echo "scaling: done; $(wc -l <"$log") lines in $log" >&2
