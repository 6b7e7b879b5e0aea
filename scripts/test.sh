#!/usr/bin/env bash
# Runs every test — unit (cmocka) and end to end (tests/e2e) — twice: on the normal build and on
# the ASan/UBSan build. Exits non-zero if either run fails; each run ends with ctest's summary line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
bash scripts/build.sh
bash scripts/build.sh --sanitize

# ctest in folder $1. Its closing "N% tests passed, M tests failed out of T" is repeated as the
# run's last line, after the timing and failure list that ctest prints below it.
run_ctest() {
  local dir=$1 log rc=0 summary
  log=$(mktemp)
  echo "== ctest --test-dir $dir"
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 2>&1 | tee "$log" || rc=$?
  summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
  rm -f "$log"
  if ((rc)); then
    echo "== ctest --test-dir $dir failed (exit $rc)"
  fi
  if [[ -n $summary ]]; then
    echo "$summary"
  fi
  return "$rc"
}

status=0
run_ctest build || status=1
(
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_ctest build-asan
) || status=1
exit "$status"
