#!/usr/bin/env bash
# Makes a minimal Debian 12 root file system with debootstrap (variant minbase, plus man-db so that
# `man` works in it) and prints its path. It is made once and kept (default
# /var/cache/lifeboat-test/bookworm); later calls only print the path. Tests copy it before
# changing anything in it. The mirror is the one apt on this machine already uses (its
# sources.list or sources.list.d), so no host name is written down here. Needs root.
# Usage: scripts/debian-root.sh [--print-mirror] [DIR]
set -euo pipefail

suite=bookworm
root=${LIFEBOAT_DEBIAN_ROOT:-/var/cache/lifeboat-test/$suite}
print_mirror=
while (($#)); do
  case $1 in
    --print-mirror) print_mirror=1; shift ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "debian-root.sh: unknown option '$1'" >&2; exit 2 ;;
    *) root=$1; shift ;;
  esac
done

# The first URI that apt uses for the suite itself (not -updates or -security), from one-line
# sources.list files and deb822 .sources files alike.
apt_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk -v suite="$suite" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk -v suite="$suite" '
      function flush() {
        if (deb && uri != "" && has) { print uri; found = 1 }
        deb = 0; uri = ""; has = 0
      }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      /^#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
      tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0 }
      END { if (!found) flush() }' "$f"
  done
}

mirror=$(apt_mirror | head -n 1)
if [[ -z $mirror ]]; then
  echo "debian-root.sh: apt's sources name no mirror for '$suite'" >&2
  exit 1
fi
if [[ -n $print_mirror ]]; then
  echo "$mirror"
  exit 0
fi

if [[ -f $root/.lifeboat-root-complete ]]; then
  echo "$root"
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "debian-root.sh: making a root file system needs root" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debian-root.sh: no debootstrap; run scripts/setup.sh" >&2; exit 1; }

mkdir -p "$(dirname "$root")"
# Two tests (or two CI runs) asking at once: the second waits for the first to finish.
exec 9>"$root.lock"
flock 9
if [[ ! -f $root/.lifeboat-root-complete ]]; then
  rm -rf "$root"
  echo "debian-root.sh: debootstrap $suite from $mirror into $root (once)" >&2
  log=$(mktemp)
  if ! debootstrap --variant=minbase --include=man-db "$suite" "$root" "$mirror" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    echo "debian-root.sh: debootstrap failed" >&2
    exit 1
  fi
  rm -f "$log"
  # The package lists, so that apt-get install in a copy resolves dependencies at once.
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  chroot "$root" apt-get -q update >/dev/null
  chroot "$root" apt-get clean
  touch "$root/.lifeboat-root-complete"
fi
echo "$root"
