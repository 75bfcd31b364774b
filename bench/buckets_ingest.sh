#!/usr/bin/env bash
# Data bucket ingest and export, one run: the SAME load (broker_load, N publishers -> 1
# subscriber, JSON payloads, QoS 0) against `mqfleet broker` with buckets OFF (no bucket
# defined) and ON (one enabled bucket matching every message), interleaved, then an
# export of the stored points. Prints per run: delivered msg/s, and for ON the points
# stored, dropped, and the ingest rate = points stored / (load time + drain time at
# shutdown); then the medians, the throughput cost, and export time + peak RSS.
# Two phases: SATURATED (closed loop: as fast as broker and load client go; on 2 cores the
# writer thread competes with the io threads and the load client for CPU) and SUSTAINED
# (open loop at --rate msg/s: every point must be stored, none dropped), the latter also
# with the broker's CPU seconds (user + system, all threads) for OFF and ON.
#
# Usage: bench/buckets_ingest.sh [--build DIR] [--runs N] [--publishers N] [--messages N] [--payload B] [--rate R]
#   --build       build directory with apps/mqfleet/mqfleet and bench/broker_load/broker_load
#                 (default build/release: cmake --preset release && cmake --build build/release
#                 --target mqfleet broker_load)
#   --runs        repetitions of OFF and ON (default 3)
#   --publishers  publishing connections (default 50)
#   --messages    messages per publisher (default 20000: 1,000,000 points per ON run)
#   --payload     payload bytes (default 96)
#   --rate        sustained phase: total msg/s (default 100000; 0 skips the phase)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build=build/release
runs=3
publishers=50
messages=20000
payload=96
rate=100000
bench_parse_options "build runs publishers messages payload rate" "$@"

mqfleet=$build/apps/mqfleet/mqfleet
load=$build/bench/broker_load/broker_load
bench_require "$mqfleet" "$load"
# The broker of each run is started inside run_once's subshell, so it stops it itself.
bench_workdir

# One account, every load connection a device with the same credential.
export BENCH_SECRET=bench-secret-0123456789
for ((i = 0; i < publishers; i++)); do
  "$mqfleet" device add bench "bench-p$i" --registry "$work/off.json" --credential-env BENCH_SECRET 2>/dev/null
done
"$mqfleet" device add bench bench-s0 --registry "$work/off.json" --credential-env BENCH_SECRET 2>/dev/null
cp "$work/off.json" "$work/on.json"
"$mqfleet" bucket add bench ingest --topic 'bench/#' --registry "$work/on.json" 2>/dev/null

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# run_once off|on RUN [LOAD ARGS...] -> prints "msg_per_s points dropped ingest_per_s broker_cpu_s"
run_once() {
  local mode=$1 run=$2 data="$work/data-$1-$2"
  shift 2
  "$mqfleet" broker --port 0 --bind 127.0.0.1 --registry "$work/$mode.json" --data-dir "$data" \
    --sys-interval 0 >"$work/listen" 2>"$work/broker-$mode-$run.log" &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$work/listen" 2>/dev/null && break; sleep 0.1; done
  local port
  port=$(sed -n 's/.*"mqtt":\([0-9]*\).*/\1/p' "$work/listen")
  local result
  result=$("$load" -p "$port" --publishers "$publishers" --subscribers 1 --messages "$messages" --payload "$payload" \
    --qos 0 --window 64 --json --username bench --password "$BENCH_SECRET" --id-prefix bench- --topic bench/load "$@")
  local seconds rate
  seconds=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$result")
  rate=$(sed -n 's/.*"msg_per_s":\([0-9]*\).*/\1/p' <<<"$result")
  local t0 t1 cpu
  sleep 0.2 # lets the writer finish the last commit window, so CPU includes it
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat")
  t0=$(date +%s.%N)
  kill -TERM "$pid"
  wait "$pid" || true
  t1=$(date +%s.%N)
  if [[ $mode == on ]]; then
    local stats points dropped
    stats=$("$mqfleet" bucket stats ingest --data-dir "$data" --format json)
    points=$(sed -n 's/.*"points": \([0-9]*\).*/\1/p' <<<"$stats")
    dropped=$(sed -n 's/.*"dropped": \([0-9]*\).*/\1/p' <<<"$stats")
    local ingest
    ingest=$(awk -v p="$points" -v s="$seconds" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", p / (s + (b - a))}')
    echo "$rate $points $dropped $ingest $cpu"
    # The export uses the first sustained run (every point stored), else the first saturated one.
    if [[ $run == s1 || ($run == 1 && ! -d $work/export-source) ]]; then
      rm -rf "$work/export-source"
      mv "$data" "$work/export-source"
    fi
  else
    echo "$rate - - - $cpu"
  fi
  rm -rf "$data"
}

printf '%-4s %-4s %12s %10s %8s %12s\n' run mode msg/s points dropped ingest/s
: >"$work/off.txt"; : >"$work/on.txt"; : >"$work/ingest.txt"
for ((r = 1; r <= runs; r++)); do
  for mode in off on; do
    read -r got points dropped ingest _ < <(run_once "$mode" "$r")
    printf '%-4s %-4s %12s %10s %8s %12s\n' "$r" "$mode" "$got" "$points" "$dropped" "$ingest"
    echo "$got" >>"$work/$mode.txt"
    [[ $mode == on ]] && echo "$ingest" >>"$work/ingest.txt"
  done
done
off=$(median <"$work/off.txt")
on=$(median <"$work/on.txt")
ingest=$(median <"$work/ingest.txt")
echo "median delivered msg/s: off $off, on $on; cost $(awk -v a="$off" -v b="$on" 'BEGIN {printf "%.1f", (1 - b / a) * 100}') %"
echo "median ingest points/s (stored / (load + drain)): $ingest"

if [[ $rate != 0 ]]; then
  echo
  echo "sustained: --rate $rate msg/s in total, $((publishers * messages)) messages per run"
  printf '%-4s %-4s %12s %10s %8s %12s %10s\n' run mode msg/s points dropped ingest/s broker_cpu_s
  : >"$work/s-off.txt"; : >"$work/s-on.txt"; : >"$work/s-cpu-off.txt"; : >"$work/s-cpu-on.txt"
  for ((r = 1; r <= runs; r++)); do
    for mode in off on; do
      read -r got points dropped ingest cpu < <(run_once "$mode" "s$r" --rate "$rate")
      printf '%-4s %-4s %12s %10s %8s %12s %10s\n' "$r" "$mode" "$got" "$points" "$dropped" "$ingest" "$cpu"
      echo "$got" >>"$work/s-$mode.txt"
      echo "$cpu" >>"$work/s-cpu-$mode.txt"
      if [[ $mode == on && $points != $((publishers * messages)) ]]; then
        echo "sustained run $r stored $points of $((publishers * messages)) points ($dropped dropped): the rate is not sustained" >&2
      fi
    done
  done
  off=$(median <"$work/s-off.txt"); on=$(median <"$work/s-on.txt")
  coff=$(median <"$work/s-cpu-off.txt"); con=$(median <"$work/s-cpu-on.txt")
  echo "sustained median delivered msg/s: off $off, on $on; cost $(awk -v a="$off" -v b="$on" 'BEGIN {printf "%.1f", (1 - b / a) * 100}') %"
  echo "sustained median broker CPU s: off $coff, on $con; buckets add $(awk -v a="$coff" -v b="$con" -v n="$((publishers * messages))" 'BEGIN {printf "%.2f us per point", (b - a) * 1e6 / n}')"
fi

# Export of the first sustained ON run's points (all 1,000,000 stored): time and peak RSS per format.
points=$("$mqfleet" bucket stats ingest --data-dir "$work/export-source" --format json | sed -n 's/.*"points": \([0-9]*\).*/\1/p')
for format in csv ndjson; do
  /usr/bin/time -f "%e %M" -o "$work/time" "$mqfleet" bucket export ingest --data-dir "$work/export-source" \
    --format "$format" --output "$work/out.$format" 2>/dev/null
  read -r secs kb <"$work/time"
  echo "export $points points as $format: ${secs} s, peak RSS $((kb / 1024)) MiB, $(($(stat -c %s "$work/out.$format") / 1048576)) MiB written"
done
