#!/usr/bin/env bash
# Fuzzes lifeboat's parsers with libFuzzer (tests/fuzz/fuzz_*.c) under ASan and UBSan: builds them
# with clang into build-fuzz/ (cmake -DLIFEBOAT_FUZZ=ON), seeds each corpus from
# tests/fuzz/corpus/<name>/ and the repo's own runbooks and configs, and runs each harness for
# SECONDS (default 60). A crash, a leak, a timeout or a sanitizer report fails the run; the input
# that caused it is kept in build-fuzz/artifacts/ and printed as a reproducer command.
#
#   bash scripts/fuzz.sh [SECONDS] [NAME...]     e.g. scripts/fuzz.sh 600 runbook config
#
# The corpus each run grows is kept in build-fuzz/corpus/ and reused by the next run. scripts/test.sh
# runs every harness for 30 s as a regression run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number, not '$secs'" >&2; exit 2; }
shift || true
names=("$@")
if ((${#names[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.c; do
    n=${f##*/fuzz_}
    names+=("${n%.c}")
  done
fi

CC=clang cmake -S . -B build-fuzz -DLIFEBOAT_FUZZ=ON -DLIFEBOAT_SANITIZE=OFF -DLIFEBOAT_TSAN=OFF >/dev/null
targets=()
for n in "${names[@]}"; do
  [[ -f tests/fuzz/fuzz_$n.c ]] || { echo "fuzz.sh: no harness tests/fuzz/fuzz_$n.c" >&2; exit 2; }
  targets+=("fuzz_$n")
done
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}" >/dev/null

# seeds: the committed ones, and the repo's own runbooks and configs for the loaders
seed() { # NAME
  local dir=build-fuzz/corpus/$1
  mkdir -p "$dir"
  cp -n tests/fuzz/corpus/"$1"/* "$dir"/ 2>/dev/null || true
  case $1 in
    runbook) for f in runbooks/*.lua runbooks/demo/*.lua; do [[ -f $f ]] && cp -n "$f" "$dir/repo-${f//\//-}"; done ;;
    config) for f in runbooks/*.yaml; do [[ -f $f ]] && cp -n "$f" "$dir/repo-${f//\//-}"; done ;;
  esac
  return 0
}

mkdir -p build-fuzz/artifacts
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for n in "${names[@]}"; do
  seed "$n"
  log=build-fuzz/fuzz_$n.log
  echo "== fuzz_$n for ${secs}s"
  # -timeout: one input may take at most 25 s (the runbook loader's own limit is 10 s)
  if ./build-fuzz/fuzz_"$n" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/"$n"- build-fuzz/corpus/"$n" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$log" | tr '\n' ' '
    echo
  else
    status=1
    echo "== fuzz_$n FAILED; its log:"
    tail -n 60 "$log"
    for a in build-fuzz/artifacts/"$n"-*; do
      [[ -f $a ]] && echo "== reproduce: ./build-fuzz/fuzz_$n $a"
    done
  fi
done
exit "$status"
