#!/usr/bin/env bash
# Configures and builds lifeboat with CMake: into build/, or with --sanitize into build-asan/
# with AddressSanitizer and UndefinedBehaviorSanitizer. The build type is CMakeLists.txt's
# default (RelWithDebInfo). Further -D options go to cmake, e.g. -DLIFEBOAT_WERROR=ON.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: scripts/build.sh [--sanitize] [-DNAME=VALUE]..."
}

dir=build
sanitize=OFF
cmake_args=()
for arg in "$@"; do
  case $arg in
    --sanitize) dir=build-asan sanitize=ON ;;
    -D*) cmake_args+=("$arg") ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

# LIFEBOAT_SANITIZE is passed either way, so a cached value never turns build/ into a sanitizer build.
cmake -S . -B "$dir" -DLIFEBOAT_SANITIZE="$sanitize" ${cmake_args[@]+"${cmake_args[@]}"}
cmake --build "$dir" -j "$(nproc)"
