#!/bin/sh
# The Debian package as a user meets it: scripts/package.sh makes the .deb from this build;
# `apt-get install ./lifeboat_*.deb` installs it with its dependencies into a clean minimal
# Debian 12 (made once by scripts/debian-root.sh with debootstrap, copied for this test);
# `lifeboat --version`, `man lifeboat`, `lifeboat check` and `lifeboat run` work there on a
# shipped example; `apt-get purge` then leaves nothing behind but what the user made (the
# config and the history). Needs root (chroot, mounts) and apt's mirror.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

cache=/var/cache/lifeboat-test
build=$(dirname "$LIFEBOAT")

test_expect_success 'scripts/package.sh makes a .deb whose Depends has libcurl4, libpq5 and the linked libraries' '
	bash "$LIFEBOAT_SRC/scripts/package.sh" --build-dir "$build" --out "$TEST_DIR" >deb.path &&
	deb=$(cat deb.path) && test -f "$deb" &&
	case $deb in */lifeboat_*_*.deb) ;; *) echo "unexpected name $deb"; false ;; esac &&
	dpkg-deb -f "$deb" Depends >depends &&
	cat depends &&
	grep -q "libcurl4" depends && grep -q "libpq5" depends &&
	grep -q "liblua5.4-0" depends && grep -q "libsqlite3-0" depends &&
	grep -q "libyaml-0-2" depends && grep -q "libjansson4" depends && grep -q "libc6" depends &&
	dpkg-deb -f "$deb" Recommends | grep -q "python3" &&
	dpkg-deb -c "$deb" | sed "s/.* \.//" >contents &&
	for f in /usr/bin/lifeboat /usr/share/doc/lifeboat/examples/restore-db.lua \
		/usr/share/doc/lifeboat/examples/lifeboat.example.yaml \
		/usr/share/lifeboat/schemas/lifeboat.yaml.schema.json \
		/usr/share/lifeboat/schemas/report.schema.json \
		/usr/share/lifeboat/lua/lifeboat.lua /usr/share/lifeboat/lua/luacheckrc \
		/usr/lib/systemd/system/lifeboat-scheduler.service \
		/usr/lib/systemd/system/lifeboat-scheduler.timer; do
		grep -qx "$f" contents || { echo "the package lacks $f"; return 1; }
	done &&
	for f in $(cd "$LIFEBOAT_SRC/docs/man" 2>/dev/null && ls ./*.scd 2>/dev/null); do
		page=$(basename "$f" .scd) &&
		grep -qx "/usr/share/man/man${page##*.}/$page" contents ||
			{ echo "the package lacks the man page $page"; return 1; }
	done &&
	if [ -f "$LIFEBOAT_SRC/completion/lifeboat.bash" ]; then
		grep -qx /usr/share/bash-completion/completions/lifeboat contents ||
			{ echo "the package lacks the bash completion"; false; }
	fi &&
	! grep -q "crashtest" contents &&
	! grep -q "^/usr/share/doc/lifeboat/examples/demo/state" contents
'

# The script run inside the clean root: the user's whole session with the package.
cat >inside.sh <<-\EOF
	set -eu
	export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export HOME=/root LANG=C.UTF-8 LIFEBOAT_USER=alice
	apt_get () { apt-get -q -o DPkg::Lock::Timeout=120 "$@"; }
	apt_get update >/dev/null
	# what apt itself recommends (so it keeps it after a purge): the user has it before lifeboat
	apt_get install -y --no-install-recommends ca-certificates >/dev/null
	dpkg-query -W -f="\${Package}\n" | sort >/lifeboat-test/packages-before
	snapshot () {
		find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /run \
			-o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/log \
			-o -path /var/lib/man-db -o -path /lifeboat-test \) -prune -o -print | sort
	}
	snapshot >/lifeboat-test/before
	cd /lifeboat-test
	apt_get install -y ./lifeboat_*.deb >/lifeboat-test/install.log 2>&1 ||
		{ cat /lifeboat-test/install.log; exit 1; }
	command -v lifeboat
	lifeboat --version
	MANPAGER=cat MANWIDTH=80 man lifeboat >/lifeboat-test/man.txt 2>&1 ||
		{ cat /lifeboat-test/man.txt; exit 1; }
	for page in $(ls /usr/share/man/man5 | sed -n "s/^\(lifeboat.*\)\.5\(\.gz\)*\$/\1/p"); do
		MANPAGER=cat man 5 "$page" >/dev/null || { echo "man 5 $page fails"; exit 1; }
		echo "man 5 $page: ok"
	done
	# as the README says: copy an example, then check and run it
	mkdir -p /root/drill
	cd /root/drill
	cp /usr/share/doc/lifeboat/examples/restore-db.lua .
	cp /usr/share/doc/lifeboat/examples/lifeboat.example.yaml lifeboat.yaml
	lifeboat check restore-db.lua
	lifeboat run --yes restore-db.lua --report report.json >/lifeboat-test/run.out 2>&1 ||
		{ cat /lifeboat-test/run.out; exit 1; }
	tail -n 1 /lifeboat-test/run.out
	lifeboat history restore-db.lua
	# the README's first drill
	cd /root/drill
	lifeboat init starter >/dev/null
	(cd starter && lifeboat run --yes runbooks/starter.lua >/lifeboat-test/starter.out 2>&1) ||
		{ cat /lifeboat-test/starter.out; exit 1; }
	tail -n 1 /lifeboat-test/starter.out
	apt_get purge -y lifeboat >/lifeboat-test/purge.log 2>&1 || { cat /lifeboat-test/purge.log; exit 1; }
	apt_get autoremove --purge -y >>/lifeboat-test/purge.log 2>&1 || { cat /lifeboat-test/purge.log; exit 1; }
	snapshot >/lifeboat-test/after
	dpkg-query -W -f="\${Package}\n" | sort >/lifeboat-test/packages-after
EOF

test_expect_success 'installed in a clean Debian 12: --version, man, check, run; purged: only the user'"'"'s files remain' '
	root=$(bash "$LIFEBOAT_SRC/scripts/debian-root.sh") &&
	test -x "$root/usr/bin/apt-get" &&
	cp -a "$root" sysroot &&
	# --one-file-system: never into a mount that is somehow still there (/dev, /proc, /sys)
	at_exit "rm -rf --one-file-system \"$TEST_DIR/sysroot\"" &&
	cp /etc/resolv.conf sysroot/etc/resolv.conf &&
	mkdir sysroot/lifeboat-test && mkdir -p "$cache/archives/partial" &&
	cp "$(cat deb.path)" inside.sh sysroot/lifeboat-test/ &&
	# The mounts live in a mount namespace of their own and go with it. In a chroot (a stranger
	# running the suite inside one) / is no mount point, whose propagation cannot be changed:
	# there the namespace keeps its parent'"'"'s, and the mounts are undone by hand as well.
	if mountpoint -q /; then propagation=private; else propagation=unchanged; fi &&
	# one at a time on this machine: the downloaded packages are shared, and so is apt lock
	flock -w 600 "$cache/archives.lock" unshare -m --propagation $propagation sh -ec "
		mount -t proc proc sysroot/proc
		mount --rbind /dev sysroot/dev
		mount --rbind /sys sysroot/sys
		mount --bind \"$cache/archives\" sysroot/var/cache/apt/archives
		rc=0
		chroot sysroot /usr/bin/env -i sh /lifeboat-test/inside.sh || rc=\$?
		umount -l sysroot/var/cache/apt/archives sysroot/proc
		umount -R -l sysroot/dev sysroot/sys
		exit \$rc
	" >session.out 2>&1 || { cat session.out; false; } &&
	cat session.out &&
	assert_contains session.out "/usr/bin/lifeboat" &&
	grep -Eq "^lifeboat [0-9]+\.[0-9]+" session.out &&
	grep -q "lifeboat" sysroot/lifeboat-test/man.txt &&
	assert_contains session.out "restore-db.lua: ok" &&
	grep -q "succeeded" sysroot/lifeboat-test/run.out &&
	tail -n 1 sysroot/lifeboat-test/starter.out | grep -q "succeeded · exit 0" &&
	test -s sysroot/root/drill/.lifeboat/history.db &&
	test -s sysroot/root/drill/report.json &&
	test ! -e sysroot/usr/bin/lifeboat &&
	test ! -e sysroot/usr/share/doc/lifeboat &&
	test ! -e sysroot/usr/share/lifeboat &&
	comm -13 sysroot/lifeboat-test/before sysroot/lifeboat-test/after >added &&
	comm -23 sysroot/lifeboat-test/before sysroot/lifeboat-test/after >removed &&
	{ grep -v -e "^/root/drill\$" -e "^/root/drill/" added >left || true; } &&
	{ test ! -s left || { echo "left behind after purge:"; cat left; false; }; } &&
	{ test ! -s removed || { echo "gone after purge:"; cat removed; false; }; } &&
	{ cmp -s sysroot/lifeboat-test/packages-before sysroot/lifeboat-test/packages-after ||
		{ echo "packages before and after:"; diff sysroot/lifeboat-test/packages-before \
			sysroot/lifeboat-test/packages-after; false; }; } &&
	grep -qx /root/drill/.lifeboat/history.db added &&
	grep -qx /root/drill/lifeboat.yaml added
'

test_expect_success 'the history the installed lifeboat wrote reads back with this build' '
	lb --db sysroot/root/drill/.lifeboat/history.db history --json >h.json &&
	test "$(json_get h.json "len(d[\"runs\"])")" = 1 &&
	test "$(json_get h.json "d[\"runs\"][0][\"status\"]")" = succeeded
'

test_done
