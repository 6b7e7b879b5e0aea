# tests/bench/bench-lib.sh - what the benchmark scripts share; sourced after they set
# best_of (runs per figure), tmp (a scratch folder) and define die MESSAGE. time_median's
# figure is the one to quote on a shared machine: a best time hides how often the load slowed a
# run down, a median does not.

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

# The wall times in ms of $best_of runs of CMD (its output discarded), one a line; dies if CMD fails.
time_runs() {
  local t0 ms i rc
  for ((i = 0; i < best_of; i++)); do
    t0=$(now_ms)
    rc=0
    "$@" >/dev/null 2>"$tmp/stderr" || rc=$?
    ms=$(($(now_ms) - t0))
    ((rc == 0)) || die "'$*' exited $rc: $(tail -n 5 "$tmp/stderr")"
    echo "$ms"
  done
}

# The best wall time in ms of $best_of runs of CMD.
time_best() {
  local times
  times=$(time_runs "$@") || exit 1
  sort -n <<<"$times" | head -n 1
}

# The median wall time in ms of $best_of runs of CMD.
time_median() {
  local times
  times=$(time_runs "$@") || exit 1
  # shellcheck disable=SC2086 # one number a word
  median $times
}

# The median of numbers (the lower of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"
}

# The median of the numbers in FILE, one a line.
median_of() {
  # shellcheck disable=SC2046 # one number a word
  median $(cat "$1")
}
