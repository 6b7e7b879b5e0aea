#!/usr/bin/env bash
# Configures and builds lifeboat with CMake: into build/, or with --sanitize into build-asan/
# with AddressSanitizer and UndefinedBehaviorSanitizer, or with --tsan into build-tsan/ with
# ThreadSanitizer. The build type is CMakeLists.txt's
# default (RelWithDebInfo). Further -D options go to cmake, e.g. -DLIFEBOAT_WERROR=ON.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: scripts/build.sh [--sanitize | --tsan] [-DNAME=VALUE]..."
}

dir=build
sanitize=OFF
tsan=OFF
cmake_args=()
for arg in "$@"; do
  case $arg in
    --sanitize) dir=build-asan sanitize=ON ;;
    --tsan) dir=build-tsan tsan=ON ;;
    -D*) cmake_args+=("$arg") ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

# LIFEBOAT_SANITIZE and LIFEBOAT_TSAN are passed either way, so a cached value never turns build/
# into a sanitizer build.
cmake -S . -B "$dir" -DLIFEBOAT_SANITIZE="$sanitize" -DLIFEBOAT_TSAN="$tsan" ${cmake_args[@]+"${cmake_args[@]}"}
cmake --build "$dir" -j "$(nproc)"
