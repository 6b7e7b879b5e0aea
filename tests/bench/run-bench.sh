#!/usr/bin/env bash
# Benchmarks lifeboat against baselines measured in the same run, so the numbers are ratios that
# hold on a busy or slow machine (house style: benchmarks print ratios, they do not fail):
#   1. a runbook of N `sh = "true"` steps vs a plain sh script running `sh -c true` N times;
#   2. `lifeboat --version` vs /bin/true, 200 invocations each (start-up cost);
#   3. peak RSS of a 10 000-step run, from GNU time.
# History is on, with its default durability, in a temporary database.
# Usage: tests/bench/run-bench.sh [N]   (N: steps for 1., default 1000; its target is for 1000)
# Exits 0 whether or not targets are met; non-zero only when something could not be measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

steps=${1:-1000}
rss_steps=10000
version_runs=200
best_of=3
ratio_target=1.5  # lifeboat/sh for 1000 steps, at most
rss_target_mib=20 # peak memory of a 10 000-step run, less than

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/history.db

# --- helpers -------------------------------------------------------------------------------

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

die() {
  echo "run-bench.sh: $*" >&2
  exit 1
}

# Prints the best wall time in ms of $best_of runs of CMD (its output discarded); dies if CMD fails.
time_best() {
  local best='' t0 ms i rc
  for ((i = 0; i < best_of; i++)); do
    t0=$(now_ms)
    rc=0
    "$@" >/dev/null 2>"$tmp/stderr" || rc=$?
    ms=$(($(now_ms) - t0))
    ((rc == 0)) || die "'$*' exited $rc: $(tail -n 5 "$tmp/stderr")"
    if [[ -z $best ]] || ((ms < best)); then best=$ms; fi
  done
  echo "$best"
}

# Runs CMD... $version_runs times (one timed sample for time_best).
repeat() {
  local i
  for ((i = 0; i < version_runs; i++)); do "$@"; done
}

# A runbook of $1 steps, each `sh = "true"`, in one phase.
gen_runbook() {
  awk -v n="$1" 'BEGIN {
    print "return runbook { name = \"bench\","
    print "  phase \"p\" {"
    for (i = 1; i <= n; i++) printf "    step \"s%d\" { sh = \"true\" },\n", i
    print "  },"
    print "}"
  }'
}

# The same work as plain sh: one `sh -c true` per step.
gen_sh() {
  awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) print "sh -c true" }'
}

# The one place that says how lifeboat runs a benchmark runbook.
lb_run() {
  "$lb" --db "$db" run --yes "$1"
}

ratio() { # A B -> A/B with two decimals
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

verdict() { # VALUE OP TARGET, OP one of <= <
  if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !(op == "<=" ? v <= t : v < t) }'; then
    echo "target met"
  else
    echo "target MISSED"
  fi
}

# --- build ---------------------------------------------------------------------------------

bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; die "build failed"; }
lb=$PWD/build/lifeboat
echo "lifeboat benchmarks: $("$lb" --version 2>&1 | head -n 1), $(nproc) cpus, $(date -u +%FT%TZ)"

# --- 1. N steps: lifeboat vs sh ------------------------------------------------------------

gen_runbook "$steps" >"$tmp/bench-$steps.lua"
gen_sh "$steps" >"$tmp/bench-$steps.sh"
sh_ms=$(time_best sh "$tmp/bench-$steps.sh")
lb_ms=$(time_best lb_run "$tmp/bench-$steps.lua")
r=$(ratio "$lb_ms" "$sh_ms")
note=$(verdict "$r" "<=" "$ratio_target")
((steps == 1000)) || note="$note (the target is for 1000 steps)"
printf '%-34s lifeboat %6d ms   sh %6d ms   ratio %s   (<= %s) %s\n' \
  "$steps steps, best of $best_of:" "$lb_ms" "$sh_ms" "$r" "$ratio_target" "$note"

# --- 2. start-up: --version vs /bin/true ----------------------------------------------------

v_ms=$(time_best repeat "$lb" --version)
t_ms=$(time_best repeat /bin/true)
printf '%-34s lifeboat %6d ms   true %4d ms   ratio %s\n' \
  "--version x$version_runs, best of $best_of:" "$v_ms" "$t_ms" "$(ratio "$v_ms" "$t_ms")"

# --- 3. peak memory of a 10 000-step run -----------------------------------------------------

gen_runbook "$rss_steps" >"$tmp/bench-$rss_steps.lua"
rc=0
/usr/bin/time -f %M -o "$tmp/rss" "$lb" --db "$db" run --yes "$tmp/bench-$rss_steps.lua" \
  >/dev/null 2>"$tmp/stderr" || rc=$?
((rc == 0)) || die "the $rss_steps-step run exited $rc: $(tail -n 5 "$tmp/stderr")"
rss_mib=$(awk -v k="$(tail -n 1 "$tmp/rss")" 'BEGIN { printf "%.2f", k / 1024 }')
printf '%-34s %s MiB   (< %s MiB) %s\n' "peak RSS, $rss_steps steps:" "$rss_mib" "$rss_target_mib" \
  "$(verdict "$rss_mib" "<" "$rss_target_mib")"
