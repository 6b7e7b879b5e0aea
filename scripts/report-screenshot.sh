#!/usr/bin/env bash
# Remakes docs/report.png, the README's picture of the HTML report: a history of 40 runs made by
# tests/bench/history-gen.c, then its showcase drill (a fault phase, retries, a phase over budget,
# a person's wait, notes, a failing cleanup step, a missed RPO, an RTO trend at risk), reported
# as HTML and photographed by headless Chromium (scripts/setup.sh installs it), offline.
# Usage: scripts/report-screenshot.sh [--build-dir DIR] [OUT.png]   (default docs/report.png)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=
out=docs/report.png
while (($#)); do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) out=$1; shift ;;
  esac
done
command -v chromium >/dev/null || { echo "report-screenshot.sh: no chromium; run scripts/setup.sh" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-screenshot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [[ -z $build ]]; then
  bash scripts/build.sh >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
  build=build
fi
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -std=c11 -O2 -D_GNU_SOURCE -Ilib tests/bench/history-gen.c "$build/liblbcore.a" \
  $(pkg-config --libs lua5.4 sqlite3 yaml-0.1 jansson libcrypto) -ldl -lm -o "$tmp/history-gen"
id=$("$tmp/history-gen" "$tmp/history.db" 40 --showcase)
"$build/lifeboat" --db "$tmp/history.db" report "$id" --format html -o "$tmp/report.html" >/dev/null

mkdir -p "$(dirname "$out")"
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --force-device-scale-factor=1 --user-data-dir="$tmp/profile" --window-size=1200,1140 \
  --screenshot="$out_abs" "file://$tmp/report.html" >/dev/null 2>"$tmp/chromium.log" ||
  { cat "$tmp/chromium.log" >&2; exit 1; }
echo "report-screenshot.sh: wrote $out ($(stat -c %s "$out") bytes)"
