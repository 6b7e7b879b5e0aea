#!/usr/bin/env bash
# Benchmarks signature verification (SPEC 9) against coreutils' b2sum, the same BLAKE2b-512 over
# the same file, measured in the same run (house style: ratios, not timed tests):
#   1. `lifeboat verify` of a signed 1 MiB runbook vs `b2sum` of it;
#   2. `lifeboat verify` of a signed 100 MiB artifact vs `b2sum` of it;
#   3. peak memory of both verifications (GNU time): files are streamed, so it stays flat.
# For the 1 MiB file process start-up dominates (lifeboat maps 11 shared libraries and
# initialises OpenSSL: ~2 ms more than b2sum), so the size-dependent cost is printed too: each
# tool's time minus its time on a 3-byte file. That is what require_signed adds to a `run`,
# where no extra process starts.
# Prints the load average before and after, so a figure can be told from a busy machine's.
# Usage: tests/bench/verify-bench.sh   (exits 0 whether or not targets are met)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

best_of=7
ratio_target=1.2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-verify-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now_ns() { date +%s%N; }
die() { echo "verify-bench.sh: $*" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; }

# best A B: the best of $best_of wall times (ns) of commands A and B, taken in turns, as "a b"
best_pair() {
  local a=$1 b=$2 best_a='' best_b='' t i
  for ((i = 0; i < best_of; i++)); do
    t=$(now_ns); eval "$a" >/dev/null 2>&1 || die "'$a' failed"; t=$(($(now_ns) - t))
    if [[ -z $best_a ]] || ((t < best_a)); then best_a=$t; fi
    t=$(now_ns); eval "$b" >/dev/null 2>&1 || die "'$b' failed"; t=$(($(now_ns) - t))
    if [[ -z $best_b ]] || ((t < best_b)); then best_b=$t; fi
  done
  echo "$best_a $best_b"
}

verdict() {
  if awk -v v="$1" -v t="$ratio_target" 'BEGIN { exit !(v <= t) }'; then echo "target met"; else echo "target MISSED"; fi
}

bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; die "build failed"; }
lb=$PWD/build/lifeboat
command -v b2sum >/dev/null || die "no b2sum (coreutils)"
echo "verification benchmark: $("$lb" --version), $(nproc) cpus, $(date -u +%FT%TZ)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"$lb" -q keygen "$tmp/k"
# a 1 MiB runbook (text), and a 100 MiB artifact (incompressible)
awk 'BEGIN { for (i = 0; length(s) < 1048576; i++) s = s sprintf("-- line %d of a large runbook, padding padding padding\n", i); printf "%s", substr(s, 1, 1048576) }' >"$tmp/runbook.lua"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$tmp/model.bin"
printf 'hi\n' >"$tmp/tiny"
"$lb" -q sign --key "$tmp/k.key" "$tmp/runbook.lua" "$tmp/model.bin" "$tmp/tiny"
# warm the page cache, so both tools read from memory
cat "$tmp/runbook.lua" "$tmp/model.bin" >/dev/null

read -r v0 b0 < <(best_pair "'$lb' -q verify --pub '$tmp/k.pub' '$tmp/tiny'" "b2sum '$tmp/tiny'")
printf '%-12s %9d bytes, best of %d: lifeboat verify %8s ms   b2sum %8s ms   (start-up)\n' \
  tiny 3 "$best_of" "$(ms "$v0")" "$(ms "$b0")"
for f in runbook.lua model.bin; do
  read -r v b < <(best_pair "'$lb' -q verify --pub '$tmp/k.pub' '$tmp/$f'" "b2sum '$tmp/$f'")
  r=$(ratio "$v" "$b")
  size=$(stat -c %s "$tmp/$f")
  printf '%-12s %9d bytes, best of %d: lifeboat verify %8s ms   b2sum %8s ms   ratio %s (<= %s) %s\n' \
    "$f" "$size" "$best_of" "$(ms "$v")" "$(ms "$b")" "$r" "$ratio_target" "$(verdict "$r")"
  dv=$((v > v0 ? v - v0 : 0)) db=$((b > b0 ? b - b0 : 0))
  r=$(ratio "$dv" "$db")
  printf '%-12s %9s        without start-up: lifeboat %8s ms   b2sum %8s ms   ratio %s (<= %s) %s\n' \
    "" "" "$(ms "$dv")" "$(ms "$db")" "$r" "$ratio_target" "$(verdict "$r")"
done

for f in runbook.lua model.bin; do
  /usr/bin/time -f %M -o "$tmp/rss" "$lb" -q verify --pub "$tmp/k.pub" "$tmp/$f" >/dev/null
  printf '%-12s peak memory of lifeboat verify: %s KiB\n' "$f" "$(tail -n 1 "$tmp/rss")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
