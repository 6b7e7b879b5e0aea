#!/usr/bin/env bash
# Benchmarks the team history on PostgreSQL (SPEC 11) against baselines measured in the same run,
# on a private PostgreSQL 15 (tests/e2e/pg.sh, as the tests start it; fsync off there):
#   1. a run of 1000 `sh = "true"` steps with `central:` set (server up, the sender sending as the
#      run goes) vs the same run without, 11 times each, interleaved: the median wall time (target:
#      at most 1.05x) and the median CPU time (user+sys of lifeboat and its steps; the server's
#      not counted), and whether every step arrived. Medians, not best times: on a shared machine
#      a best time hides how often the load slowed a side down. On a busy machine the wall time
#      says little: the sender's CPU (at nice 10) and the server's compete with the engine for
#      the same cores. Measured first, on an idle server: after the pushes below the server
#      vacuums and checkpoints for seconds, on the same two cores;
#   2. `lifeboat push` of a backlog of 1000 runs of 10 steps (a real run of 10 steps, copied in
#      SQL into 1000 runs with their phases, attempts and audit entries), 3 times, each a fresh
#      copy of the history into an empty database: the median in seconds, rows per second
#      (target: under 10 s on the 2-core machine).
# The load average is printed at the start and the end: on a busy machine both sides slow down and
# the figures say less. Exits 0 whether or not targets are met; non-zero only when something could
# not be measured. Run as root (the server runs as the postgres user, as in the tests).
# Usage: tests/bench/central-bench.sh [RUNS] [STEPS]   (defaults 1000 and 1000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
src=$PWD
runs=${1:-1000}
steps=${2:-1000}
push_times=3
best_of=11	# runs per side (bench-lib.sh's name); the median is printed
push_target_s=10
ratio_target=1.05

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-central-bench.XXXXXX")
exits=()
cleanup() {
  local c
  for c in "${exits[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
die() {
  echo "central-bench.sh: $*" >&2
  exit 1
}
# what tests/e2e/pg.sh expects of the test harness (tests/e2e/lib.sh)
at_exit() { exits=("$*" "${exits[@]}"); }
_lb_say() { echo "central-bench.sh: $*" >&2; }
_lb_bail() { die "$*"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# shellcheck source=tests/bench/bench-lib.sh
. "$src/tests/bench/bench-lib.sh"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; die "build failed"; }
lb=$src/build/lifeboat
echo "central benchmarks: $("$lb" --version), $(nproc) cpus, $(date -u +%FT%TZ), load average $(loadavg)"

# shellcheck source=tests/e2e/pg.sh
. "$src/tests/e2e/pg.sh"
pg_start >"$tmp/pg.log" 2>&1 || { cat "$tmp/pg.log"; die "cannot start PostgreSQL"; }
cd "$tmp"
printf 'central:\n  url: "%s"\n' "$PG_URL" >central.yaml
: >plain.yaml

# --- 1. a run of $steps steps with and without central ---------------------------------------
{
  echo 'local s = {}'
  echo "for i = 1, $steps do s[#s + 1] = step(\"s\" .. i) { sh = \"true\" } end"
  echo 'return runbook { name = "long", phase "work" (s) }'
} >long.lua
# wall and CPU (user+sys of lifeboat and its steps, GNU time) of each run, per side
declare -A walls cpus
for ((i = 0; i < best_of; i++)); do
  for side in plain central; do
    rm -f "$side.db"*
    /usr/bin/time -f "%e %U %S" -o "$side.time" \
      "$lb" --config "$side.yaml" --db "$side.db" run --yes long.lua >/dev/null 2>"$side.err" ||
      { cat "$side.err"; die "the $side run failed"; }
    read -r w u s <"$side.time"
    w=$(awk -v w="$w" 'BEGIN { printf "%d", w * 1000 }')
    c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')
    walls[$side]+="$w "
    cpus[$side]+="$c "
    if [[ $side == central ]]; then
      src_id=$(sqlite3 central.db "select id from central_source")
      got=$(psql -X -A -t "$PG_URL" -c "select count(*) from steps where source_id = '$src_id'")
      left=$(sqlite3 central.db "select count(*) from central_queue")
      [[ $got == "$steps" && $left == 0 ]] || die "after the run the server holds $got of $steps steps, $left changes left"
    fi
  done
done
declare -A wall cpu
for side in plain central; do
  # shellcheck disable=SC2086 # the lists are words on purpose
  wall[$side]=$(median ${walls[$side]})
  # shellcheck disable=SC2086
  cpu[$side]=$(median ${cpus[$side]})
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '%-44s central %6d ms   without %6d ms   ratio %s   (<= %s)\n' "run of $steps steps, wall, median of $best_of" \
  "${wall[central]}" "${wall[plain]}" "$(ratio "${wall[central]}" "${wall[plain]}")" "$ratio_target"
printf '%-44s central %6d ms   without %6d ms   ratio %s\n' "the same, CPU time, median of $best_of" \
  "${cpu[central]}" "${cpu[plain]}" "$(ratio "${cpu[central]}" "${cpu[plain]}")"

# --- 2. a backlog of $runs runs of 10 steps --------------------------------------------------
{
  echo 'local s = {}'
  echo 'for i = 1, 10 do s[#s + 1] = step("s" .. i) { sh = "true" } end'
  echo 'return runbook { name = "backlog", rto = "5m", phase "work" (s) }'
} >backlog.lua
"$lb" --config plain.yaml --db backlog.db run --yes backlog.lua >/dev/null || die "the backlog's run failed"
# the columns of table $1 with column $2 replaced by the SQL $3
cols() {
  local q="'"
  sqlite3 backlog.db "select group_concat(case name when '$2' then '${3//$q/$q$q}' else '\"' || name || '\"' end, ', ')
    from pragma_table_info('$1')"
}
{
  echo "BEGIN;"
  echo "CREATE TEMP TABLE k AS WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $((runs - 1))) SELECT n FROM k;"
  echo "INSERT INTO runs SELECT $(cols runs id "id || '-' || n") FROM runs, k;"
  for t in phases steps attempts run_sources; do
    echo "INSERT INTO $t SELECT $(cols $t run_id "run_id || '-' || n") FROM $t, k;"
  done
  echo "INSERT INTO audit SELECT $(cols audit seq "seq + n * (SELECT max(seq) FROM audit)" |
    sed "s/\"run_id\"/run_id || '-' || n/") FROM audit, k;"
  echo "COMMIT;"
} >clone.sql
sqlite3 backlog.db <clone.sql || die "cannot copy the run"
n_runs=$(sqlite3 backlog.db "select count(*) from runs")
n_steps=$(sqlite3 backlog.db "select count(*) from steps")
# each time a fresh copy of the history (a new file: a new source id, everything queued) into an
# empty database of its own
pushes=()
for ((i = 1; i <= push_times; i++)); do
  _pg_as "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
    -c "CREATE DATABASE push$i OWNER lifeboat" >/dev/null || die "cannot create database push$i"
  printf 'central:\n  url: "%s"\n' "${PG_URL%/lifeboat}/push$i" >push$i.yaml
  cp backlog.db push$i.db
  t0=$(now_ms)
  "$lb" --config push$i.yaml --db push$i.db push >push.out 2>&1 || { cat push.out; die "push failed"; }
  pushes+=($(($(now_ms) - t0)))
  rows=$(sed -n 's/^pushed \([0-9]*\) rows.*/\1/p' push.out)
  got=$(psql -X -A -t "${PG_URL%/lifeboat}/push$i" -c "select count(*) from steps")
  [[ $got == "$n_steps" ]] || die "the server holds $got steps, the history $n_steps"
done
push_ms=$(median "${pushes[@]}")
printf '%-44s %6d ms   %d rows, %d rows/s   (< %d s; each: %s ms)\n' \
  "push: $n_runs runs, $n_steps steps, median of $push_times" "$push_ms" "$rows" \
  $((rows * 1000 / (push_ms ? push_ms : 1))) "$push_target_s" "${pushes[*]}"

echo "load average at the end: $(loadavg)"
