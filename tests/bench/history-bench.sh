#!/usr/bin/env bash
# Times the history readers on a history of N runs (default 10 000), made in a second or two by
# tests/bench/history-gen.c through the store's own writer (3 phases of 4 steps per run):
#   1. `lifeboat history` (default limit), and `history --limit N` listing every run;
#   2. `lifeboat report RUN --format html` of the newest run and of the oldest (its RTO trend is
#      read up to that run), and `--format md`;
#   3. `lifeboat plan` (each phase's median and p95 from the history, in one query).
# Each is the best of 5 wall times, printed against the 200 ms target with "target met/MISSED".
# Usage: tests/bench/history-bench.sh [--build-dir DIR] [N]
#   --build-dir: use that CMake build (its lifeboat and liblbcore.a) instead of running
#   scripts/build.sh into build/.
# Exits 0 whether or not targets are met; non-zero only when something could not be measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

build=
runs=10000
while (($#)); do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) runs=$1; shift ;;
  esac
done
best_of=5
target_ms=200

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-history-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/history.db

die() {
  echo "history-bench.sh: $*" >&2
  exit 1
}

# shellcheck source=tests/bench/bench-lib.sh
. tests/bench/bench-lib.sh

# LABEL CMD...: one line of results
measure() {
  local label=$1 ms verdict
  shift
  ms=$(time_best "$@")
  if ((ms < target_ms)); then verdict="target met"; else verdict="target MISSED"; fi
  printf '%-44s %6d ms   (< %d ms) %s\n' "$label" "$ms" "$target_ms" "$verdict"
}

# --- build ---------------------------------------------------------------------------------

if [[ -z $build ]]; then
  bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; die "build failed"; }
  build=build
fi
lb=$(cd "$build" && pwd)/lifeboat
[[ -x $lb && -f $build/liblbcore.a ]] || die "no lifeboat or liblbcore.a in '$build'"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -std=c11 -O2 -D_GNU_SOURCE -Ilib tests/bench/history-gen.c "$build/liblbcore.a" \
  $(pkg-config --libs lua5.4 sqlite3 yaml-0.1 jansson libcrypto) -ldl -lm -o "$tmp/history-gen" ||
  die "cannot build tests/bench/history-gen.c"

echo "lifeboat history benchmarks: $("$lb" --version 2>&1 | head -n 1), $(nproc) cpus, $(date -u +%FT%TZ)"

t0=$(now_ms)
"$tmp/history-gen" "$db" "$runs" || die "history-gen failed"
printf '%-44s %6d ms   (%s MiB)\n' "generating $runs runs:" "$(($(now_ms) - t0))" \
  "$(awk -v b="$(stat -c %s "$db")" 'BEGIN { printf "%.1f", b / 1048576 }')"

newest=$("$lb" --db "$db" history --json --limit 1 |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["runs"][0]["run_id"])')
oldest=$("$lb" --db "$db" history --json --limit "$runs" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["runs"][-1]["run_id"])')
cat >"$tmp/feature-store.lua" <<'EOF'
return runbook { name = "feature-store", rto = "15m", rpo = "1h",
  phase "restore" { role = "data-eng", budget = "5m", step "copy snapshot" { sh = "true" } },
  phase "retrain" { role = "ml-eng", budget = "4m", step "train model" { sh = "true" } },
  phase "redeploy" { role = "sre", budget = "3m", step "start model server" { sh = "true" } },
}
EOF

# --- the figures ------------------------------------------------------------------------------

measure "history (default limit), best of $best_of:" "$lb" --db "$db" history
measure "history --limit $runs, best of $best_of:" "$lb" --db "$db" history --limit "$runs"
measure "report --format html (newest), best of $best_of:" \
  "$lb" --db "$db" report "$newest" --format html -o "$tmp/newest.html"
measure "report --format html (oldest), best of $best_of:" \
  "$lb" --db "$db" report "$oldest" --format html -o "$tmp/oldest.html"
measure "report --format md, best of $best_of:" \
  "$lb" --db "$db" report "$newest" --format md -o "$tmp/newest.md"
measure "plan (phase p50/p95 from history), best of $best_of:" \
  "$lb" --db "$db" plan "$tmp/feature-store.lua"
