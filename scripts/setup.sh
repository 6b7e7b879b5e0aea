#!/usr/bin/env bash
# Installs what lifeboat needs to build, test and run on Debian 12 — and does nothing when it is
# all there, so every other script can call it first. Run as root, or with sudo at hand.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git python3 tmux ca-certificates
  liblua5.4-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libyaml-dev libncurses-dev
  libjansson-dev libssl-dev libcmocka-dev
  libxml2-utils # xmllint, to check JUnit reports
  procps psmisc # ps, pgrep, pkill, killall: the tests look for stray processes
  openssh-client openssh-server # remote steps use ssh; the tests start a private sshd on 127.0.0.1
  time          # GNU /usr/bin/time, for peak memory in the benchmarks
  minisign      # tests/e2e/t80xx: lifeboat's signatures are checked by the real minisign
  chromium      # headless, renders the HTML report in tests/e2e/t4001 and for docs/report.png
  clang libclang-rt-14-dev # libFuzzer and its sanitizer runtimes: scripts/fuzz.sh, tests/fuzz
  bash-completion # tests/e2e/t7002 sources it before completion/lifeboat.bash
  # packaging and the self-contained checks (tests t7050-t7099)
  curl               # the tests fetch from lifeboat's services with it
  dpkg-dev file      # dpkg-shlibdeps, which CPack's DEB generator calls for Depends:
  debootstrap        # a minimal Debian 12 root to install the .deb into
  man-db             # man -l renders the man pages in the tests
  scdoc              # builds the man pages
  lua-check          # luacheck (and lua5.1, which it runs on) with the standard of runbook globals
  python3-jsonschema python3-yaml # check configs and reports against docs/schemas
  libpq-dev          # the team history on PostgreSQL (lib/central*.c)
  postgresql-15      # tests/e2e/pg.sh starts a private server for t83xx
  e2fsprogs mount    # chattr +i and read-only bind mounts: immutable backup copies (t8230, the demo)
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: not a Debian system (no dpkg-query); make sure the equivalents of these are installed:" >&2
  echo "  ${packages[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null || true)
  grep -qx installed <<<"$status" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup.sh: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup.sh: missing ${missing[*]}"
if [[ $(id -u) == 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: not root and no sudo; as root, run:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# Wait for a dpkg lock held by another apt (unattended upgrades on a fresh machine) instead of failing.
apt_opts=(-q -o DPkg::Lock::Timeout=300)
"${as_root[@]}" apt-get "${apt_opts[@]}" update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null || true)
  grep -qx installed <<<"$status" || still+=("$pkg")
done
if ((${#still[@]})); then
  echo "setup.sh: still not installed: ${still[*]}" >&2
  exit 1
fi
echo "setup.sh: installed ${missing[*]}"
