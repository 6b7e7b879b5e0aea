#!/usr/bin/env bash
# Builds the Debian package: a release build in build-pkg/ (or the build folder given), then
# `cpack -G DEB` (Depends: from dpkg-shlibdeps, plus libcurl4 and libpq5, which lifeboat loads with
# dlopen).
# Prints the path of the .deb it made. Install it with: apt-get install ./lifeboat_*.deb
# Usage: scripts/package.sh [--build-dir DIR] [--out DIR]   (default out: the repository's root)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=
out=$PWD
while (($#)); do
  case $1 in
    --build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

if [[ -z $build ]]; then
  bash scripts/setup.sh >&2
  build=build-pkg
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIFEBOAT_SANITIZE=OFF >&2
  cmake --build "$build" -j "$(nproc)" >&2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-cpack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# A private staging folder, so two packagings of one build folder never meet.
(cd "$build" && cpack -G DEB -B "$stage" >"$stage/cpack.log" 2>&1) || { cat "$stage/cpack.log" >&2; exit 1; }
deb=$(find "$stage" -maxdepth 1 -name 'lifeboat_*.deb' | head -n 1)
[[ -n $deb ]] || { cat "$stage/cpack.log" >&2; echo "package.sh: cpack made no .deb" >&2; exit 1; }
mv "$deb" "$out/"
echo "$out/$(basename "$deb")"
