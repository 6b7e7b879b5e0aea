#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs the feature-store chaos drill with every
# manual step confirmed automatically. Exits with lifeboat's exit code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
bash scripts/build.sh

# the environment first (store, ingest and model server in the background, 3-2-1 snapshots),
# then the preflight a nightly job would run, then the drill
./build/lifeboat run --yes runbooks/feature-store-setup.lua
./build/lifeboat probe runbooks/feature-store.lua || echo "(lifeboat probe exited $?)"
rc=0
./build/lifeboat drill --yes runbooks/feature-store.lua \
  --report reports/feature-store.json --junit reports/feature-store.xml || rc=$?
echo "next: ./build/lifeboat history lists the runs; ./build/lifeboat show RUN_ID shows one"
exit "$rc"
