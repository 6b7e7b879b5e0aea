# tests/bench/bench-lib.sh - what the benchmark scripts share; sourced after they set
# best_of (runs per figure), tmp (a scratch folder) and define die MESSAGE. time_median's
# figure is the one to quote on a shared machine: a best time hides how often the load slowed a
# run down, a median does not.

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

# The best wall time in ms of $best_of runs of CMD (its output discarded); dies if CMD fails.
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

# The median wall time in ms of $best_of runs of CMD (its output discarded); dies if CMD fails.
time_median() {
  local t0 ms i rc times=()
  for ((i = 0; i < best_of; i++)); do
    t0=$(now_ms)
    rc=0
    "$@" >/dev/null 2>"$tmp/stderr" || rc=$?
    ms=$(($(now_ms) - t0))
    ((rc == 0)) || die "'$*' exited $rc: $(tail -n 5 "$tmp/stderr")"
    times+=("$ms")
  done
  median "${times[@]}"
}

# The median of integers (the lower of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"
}
