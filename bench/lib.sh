# The common preamble of the bench/*.sh scripts. Source it after `set -euo pipefail`:
#
#   here=$(cd "$(dirname "$0")" && pwd)
#   source "$here/lib.sh"
#   build=build/release; runs=3                   # defaults, one variable per option
#   bench_parse_options "build runs" "$@"         # --build DIR, --runs N, -h/--help
#   bench_require "$build/apps/mqfleet/mqfleet"   # exit 2 with a hint when missing
#   bench_workdir                                 # $work: a temp dir, removed at exit
#   bench_start_broker "$mqfleet" --allow-anonymous   # sets $broker_pid and $broker_port
#
# Every process started with bench_start_broker or passed to bench_track is killed at
# exit (normal end, error or Ctrl-C), then $work is removed.

# Prints the calling script's header comment (from line 2 to the first line that is not
# a comment), without the leading "# ".
bench_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# bench_parse_options "name1 name2 ..." "$@": sets the variable of each `--name VALUE`
# (dashes become underscores: --id-prefix -> id_prefix). -h/--help prints the usage and
# exits 0; an unknown option or a missing value exits 2.
bench_parse_options() {
  local allowed=" $1 "
  shift
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h|--help) bench_usage; exit 0 ;;
      --*)
        local name=${1#--}
        name=${name//-/_}
        if [[ $allowed != *" $name "* ]]; then
          echo "unknown argument: $1 (see --help)" >&2
          exit 2
        fi
        if [[ $# -lt 2 ]]; then
          echo "$1 needs a value" >&2
          exit 2
        fi
        printf -v "$name" '%s' "$2"
        shift 2 ;;
      *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
  done
}

# bench_require FILE...: every FILE must be an executable; else exit 2 naming the build.
bench_require() {
  local file
  for file in "$@"; do
    if [[ ! -x $file ]]; then
      echo "missing $file: build it first (e.g. cmake --preset release && cmake --build build/release -j2 --target mqfleet)" >&2
      exit 2
    fi
  done
}

bench_pids=()

# bench_track PID...: kill these processes at exit (if still running).
bench_track() { bench_pids+=("$@"); }

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ -n ${work:-} ]]; then rm -rf "$work"; fi
  return 0
}

# bench_workdir: creates $work (a fresh temp dir) and installs the exit trap.
bench_workdir() {
  work=$(mktemp -d)
  trap bench_cleanup EXIT
}

# bench_start_broker MQFLEET ARGS...: starts `MQFLEET broker --bind 127.0.0.1 --port 0
# ARGS...` in the background (stdout in $work/broker.out, log in $work/broker.log), waits
# for its listening line and sets $broker_pid and $broker_port. Exits 1 with the log
# when it does not start within 10 s.
bench_start_broker() {
  local mqfleet=$1
  shift
  "$mqfleet" broker --bind 127.0.0.1 --port 0 "$@" >"$work/broker.out" 2>"$work/broker.log" &
  broker_pid=$!
  bench_track "$broker_pid"
  broker_port=
  local _
  for _ in $(seq 100); do
    broker_port=$(sed -n 's/.*"listening".*"mqtt":\([0-9]*\).*/\1/p' "$work/broker.out" | head -1)
    [[ -n $broker_port ]] && return 0
    kill -0 "$broker_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the broker did not start:" >&2
  cat "$work/broker.log" >&2
  exit 1
}

# bench_stop_broker: stops the broker of bench_start_broker (SIGTERM) and waits for it.
bench_stop_broker() {
  if [[ -n ${broker_pid:-} ]]; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  broker_pid=
}

# bench_raise_nofile N: raises the descriptor limit to the hard limit; prints the limit
# and returns 1 when it stays below N.
bench_raise_nofile() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if (( $(ulimit -n) < $1 )); then
    ulimit -n
    return 1
  fi
}
