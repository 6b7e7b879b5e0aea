#!/usr/bin/env bash
# Benchmarks signature verification (SPEC 9) against coreutils' b2sum, the same BLAKE2b-512 over
# the same file, measured in the same run (house style: ratios, not timed tests):
#   1. `lifeboat verify` of a signed 1 MiB runbook vs `b2sum` of it;
#   2. `lifeboat verify` of a signed 100 MiB artifact vs `b2sum` of it;
#   3. peak memory of both verifications (GNU time): files are streamed, so it stays flat.
# Each figure is the median of $runs runs of the two commands taken in turns (never the best),
# wall time and CPU time (user+sys of the command), with the load average beside it: on a busy
# machine both tools slow down, the shorter one more, so a ratio then flatters lifeboat.
# For the 1 MiB file process start-up dominates (lifeboat maps its libraries, SQLite, Lua and
# OpenSSL among them, and starts OpenSSL's provider: about 2.5 ms more than b2sum), so the
# size-dependent cost is printed too: each tool's CPU time minus its CPU time on a 3-byte file.
# That is what require_signed adds to a `run`, where no extra process starts.
# Usage: tests/bench/verify-bench.sh [RUNS]   (default 21; exits 0 whether or not targets are met)
# LIFEBOAT=BINARY measures that binary (an older build, say) instead of building this tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

runs=${1:-21}
ratio_target=1.2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-verify-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

die() { echo "verify-bench.sh: $*" >&2; exit 1; }
# shellcheck source=tests/bench/bench-lib.sh
. tests/bench/bench-lib.sh	# median_of
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# pair NAME A B: $runs runs of commands A and B (argument lists, one a line) in turns, each run's
# wall and CPU (user+sys, from wait4) microseconds into $tmp/NAME.{a,b}.{wall,cpu}; python3
# starts them, so no process of the harness's own falls inside an interval
pair() {
  printf '%s\n' "$2" >"$tmp/$1.a.cmd"
  printf '%s\n' "$3" >"$tmp/$1.b.cmd"
  python3 - "$runs" "$tmp/$1" <<'EOP' || die "'$2' or '$3' failed"
import os, sys, time
runs, base = int(sys.argv[1]), sys.argv[2]
cmds = {s: open(f"{base}.{s}.cmd").read().split("\n")[:-1] for s in "ab"}
out = {(s, k): open(f"{base}.{s}.{k}", "w") for s in "ab" for k in ("wall", "cpu")}
null = os.open(os.devnull, os.O_WRONLY)
for _ in range(runs):
    for s in "ab":
        t = time.perf_counter_ns()
        pid = os.posix_spawnp(cmds[s][0], cmds[s], os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, status, ru = os.wait4(pid, 0)
        wall = (time.perf_counter_ns() - t) // 1000
        if status:
            sys.exit(1)
        print(wall, file=out[s, "wall"])
        print(round((ru.ru_utime + ru.ru_stime) * 1e6), file=out[s, "cpu"])
EOP
}
med() { median_of "$tmp/$1"; }
ms() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e3 }'; }

verdict() {
  if awk -v v="$1" -v t="$ratio_target" 'BEGIN { exit !(v <= t) }'; then echo "target met"; else echo "target MISSED"; fi
}

if [[ -n ${LIFEBOAT:-} ]]; then
  lb=$(realpath "$LIFEBOAT")
else
  bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; die "build failed"; }
  lb=$PWD/build/lifeboat
fi
command -v b2sum >/dev/null || die "no b2sum (coreutils)"
echo "verification benchmark: $("$lb" --version), $(nproc) cpus, $(date -u +%FT%TZ), median of $runs"
echo "load average before: $(load)"

"$lb" -q keygen "$tmp/k"
# a 1 MiB runbook (text), and a 100 MiB artifact (incompressible)
awk 'BEGIN { for (i = 0; length(s) < 1048576; i++) s = s sprintf("-- line %d of a large runbook, padding padding padding\n", i); printf "%s", substr(s, 1, 1048576) }' >"$tmp/runbook.lua"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$tmp/model.bin"
printf 'hi\n' >"$tmp/tiny"
"$lb" -q sign --key "$tmp/k.key" "$tmp/runbook.lua" "$tmp/model.bin" "$tmp/tiny"
# warm the page cache, so both tools read from memory
cat "$tmp/runbook.lua" "$tmp/model.bin" >/dev/null

verify=$(printf '%s\n' "$lb" -q verify --pub "$tmp/k.pub")
pair tiny "$verify
$tmp/tiny" "b2sum
$tmp/tiny"
printf '%-12s %9d bytes: lifeboat verify %7s ms (CPU %7s)   b2sum %7s ms (CPU %7s)   (start-up)   load %s\n' \
  tiny 3 "$(ms "$(med tiny.a.wall)")" "$(ms "$(med tiny.a.cpu)")" "$(ms "$(med tiny.b.wall)")" \
  "$(ms "$(med tiny.b.cpu)")" "$(load)"
for f in runbook.lua model.bin; do
  pair "$f" "$verify
$tmp/$f" "b2sum
$tmp/$f"
  v=$(med "$f.a.wall") b=$(med "$f.b.wall") vc=$(med "$f.a.cpu") bc=$(med "$f.b.cpu")
  r=$(ratio "$v" "$b") rc=$(ratio "$vc" "$bc")
  printf '%-12s %9d bytes: lifeboat verify %7s ms (CPU %7s)   b2sum %7s ms (CPU %7s)   load %s\n' \
    "$f" "$(stat -c %s "$tmp/$f")" "$(ms "$v")" "$(ms "$vc")" "$(ms "$b")" "$(ms "$bc")" "$(load)"
  printf '%-12s ratio %s wall (%s), %s CPU (%s); target <= %s\n' "" "$r" "$(verdict "$r")" "$rc" \
    "$(verdict "$rc")" "$ratio_target"
  # the size-dependent part, from CPU time (wall time minus wall time is noise on a busy machine)
  v0=$(med tiny.a.cpu) b0=$(med tiny.b.cpu)
  dv=$((vc > v0 ? vc - v0 : 0)) db=$((bc > b0 ? bc - b0 : 0))
  r=$(ratio "$dv" "$db")
  printf '%-12s without start-up: lifeboat %7s ms CPU   b2sum %7s ms CPU   ratio %s (%s)\n' \
    "" "$(ms "$dv")" "$(ms "$db")" "$r" "$(verdict "$r")"
done

for f in runbook.lua model.bin; do
  /usr/bin/time -f %M -o "$tmp/rss" "$lb" -q verify --pub "$tmp/k.pub" "$tmp/$f" >/dev/null
  printf '%-12s peak memory of lifeboat verify: %s KiB\n' "$f" "$(tail -n 1 "$tmp/rss")"
done
echo "load average after: $(load)"
