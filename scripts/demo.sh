#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs the feature-store chaos drill with every
# manual step confirmed automatically. Exits with lifeboat's exit code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
bash scripts/build.sh

rc=0
./build/lifeboat drill --yes runbooks/feature-store.lua || rc=$?
echo "hint: ./build/lifeboat history lists the runs; ./build/lifeboat report RUN_ID --format html writes a report under reports/"
exit "$rc"
