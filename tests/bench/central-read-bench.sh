#!/usr/bin/env bash
# Times the --central readers (SPEC 11) against the same commands on the local file, in the same
# run: a history of N runs (default 10 000, tests/bench/history-gen.c, 3 phases of 4 steps each)
# is pushed to a private PostgreSQL 15 (initdb into a temporary folder, 127.0.0.1, a free port),
# then each reader runs 7 times each way, the median printed (a best time hides the load):
#   history (default limit), history --json, history --limit N (every run), report --format html
#   of the newest run, show --json and plan.
# Prints wall times, the central/local ratio, the 200 ms target for history --central, and the
# load average at the start and at the end (the machine is shared: read the ratios).
# Usage: tests/bench/central-read-bench.sh [--build-dir DIR] [N]   (as root: initdb runs as postgres)
# Exits 0 whether or not the target is met; non-zero only when something could not be measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

build=
runs=10000
while (($#)); do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) runs=$1; shift ;;
  esac
done
best_of=7
target_ms=200
pg_bin=/usr/lib/postgresql/15/bin

die() {
  echo "central-read-bench.sh: $*" >&2
  exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-central-read-bench.XXXXXX")
chown postgres: "$tmp" || die "cannot give $tmp to the postgres user (run as root)"
cleanup() {
  (cd / && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$tmp/pg" stop -m immediate >/dev/null 2>&1) || true
  rm -rf "$tmp"
}
trap cleanup EXIT
db=$tmp/history.db

# shellcheck source=tests/bench/bench-lib.sh
. tests/bench/bench-lib.sh

# LABEL ARGS...: lifeboat ARGS on the local file, then with --central; one line
both() {
  local label=$1 l c verdict=''
  shift
  l=$(time_median "$lb" --db "$db" "$@")
  c=$(time_median "$lb" --db "$db" "$@" --central)
  [[ $label == history* ]] && { ((c < target_ms)) && verdict="  (< $target_ms ms: met)" || verdict="  (< $target_ms ms: MISSED)"; }
  printf '%-34s local %5d ms   central %5d ms   %5.2fx%s\n' "$label" "$l" "$c" \
    "$(awk -v a="$c" -v b="$l" 'BEGIN { printf "%.2f", b ? a / b : 0 }')" "$verdict"
}

if [[ -z $build ]]; then
  bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; die "build failed"; }
  build=build
fi
lb=$(cd "$build" && pwd)/lifeboat
[[ -x $lb && -f $build/liblbcore.a ]] || die "no lifeboat or liblbcore.a in '$build'"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -std=c11 -O2 -D_GNU_SOURCE -Ilib tests/bench/history-gen.c "$build/liblbcore.a" \
  $(pkg-config --libs lua5.4 sqlite3 yaml-0.1 jansson libcrypto libpq) -lpthread -ldl -lm \
  -o "$tmp/history-gen" || die "cannot build tests/bench/history-gen.c"

echo "lifeboat --central reader benchmarks: $("$lb" --version), $(nproc) cpus, $(date -u +%FT%TZ)"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "each figure: the median of $best_of runs"

# --- a private PostgreSQL --------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd / && runuser -u postgres -- "$pg_bin/initdb" -D "$tmp/pg" -U postgres -A trust --no-sync \
  -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1) || { cat "$tmp/initdb.log"; die "initdb failed"; }
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nfsync = off\n" \
  "$port" "$tmp" >>"$tmp/pg/postgresql.conf"
(cd / && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w start >/dev/null) ||
  { cat "$tmp/pg.log"; die "the server did not start"; }
"$pg_bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "create database lifeboat" ||
  die "cannot create the database"
printf 'central: { url: "postgresql://postgres@127.0.0.1:%s/lifeboat" }\nroles: { data-eng: {}, ml-eng: {}, sre: {} }\n' \
  "$port" >"$tmp/lifeboat.yaml"
cd "$tmp"

t0=$(now_ms)
"$tmp/history-gen" "$db" "$runs" || die "history-gen failed"
printf '%-34s %6d ms\n' "generating $runs runs:" "$(($(now_ms) - t0))"
t0=$(now_ms)
"$lb" --db "$db" push >"$tmp/push.out" 2>&1 || { cat "$tmp/push.out"; die "push failed"; }
printf '%-34s %6d ms   (%s)\n' "pushing them:" "$(($(now_ms) - t0))" "$(tail -n 1 "$tmp/push.out")"

newest=$("$lb" --db "$db" history --json --limit 1 |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["runs"][0]["run_id"])')
cat >"$tmp/feature-store.lua" <<'EOF'
return runbook { name = "feature-store", rto = "15m", rpo = "1h",
  phase "restore" { role = "data-eng", budget = "5m", step "copy snapshot" { sh = "true" } },
  phase "retrain" { role = "ml-eng", budget = "4m", step "train model" { sh = "true" } },
  phase "redeploy" { role = "sre", budget = "3m", step "start model server" { sh = "true" } },
}
EOF

both "history (default limit):" history
both "history --json:" history --json
both "history --limit $runs (every run):" history --limit "$runs"
both "report --format html (newest):" report "$newest" --format html -o "$tmp/r.html"
both "show --json (newest):" show --json "$newest"
both "plan:" plan "$tmp/feature-store.lua"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
