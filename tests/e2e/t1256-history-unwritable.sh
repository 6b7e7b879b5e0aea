#!/bin/sh
# Issue 10 item 9, SPEC 3: a run the history cannot keep exits 7 and says so at the end — a disk
# that fills up mid-run, a history deleted mid-run; later runs on a full or read-only disk start
# nothing, explain why, and never point at `lifeboat show` for a run that does not exist. The
# full and read-only disks are small tmpfs mounts (the tests run as root, as CI does).
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

mkdir small &&
mount -t tmpfs -o size=320k tmpfs small ||
	_lb_bail "cannot mount a tmpfs (these tests need root, as CI has)"
at_exit "umount -l $TEST_DIR/small"

{
	echo 'return runbook { name = "fill", phase "p" {'
	for i in 1 2 3 4 5 6; do
		echo "	step \"s$i\" { sh = \"head -c 200000 /dev/urandom | base64\" },"
	done
	echo '	step "last" { sh = "touch last-ran" } } }'
} >fill.lua
write_runbook mark.lua <<\EOF
return runbook { name = "mark", phase "p" { step "s" { sh = "touch mark-ran" } } }
EOF

test_expect_success 'a disk that fills up mid-run: the run ends, says it is not recorded, exits 7' '
	expect_code 7 lb --db small/h.db run --yes fill.lua >out 2>err &&
	test -e last-ran &&
	assert_contains err "cannot write the history" &&
	assert_contains err "is not recorded in the history at '"'"'small/h.db'"'"'" &&
	assert_contains out "NOT RECORDED · exit 7" &&
	assert_not_contains out "lifeboat show"
'

# SQLite may still find room for the new run in pages it holds (then the run goes ahead and is
# not recorded at its end) or not (then nothing runs): either way exit 7, the reason, no show
test_expect_success 'the next run on the full disk says why it exits 7 and points at no run' '
	expect_code 7 lb --db small/h.db run --yes mark.lua >out 2>err &&
	assert_contains err "database or disk is full" &&
	assert_not_contains out "lifeboat show"
'

test_expect_success 'on a read-only disk a run starts nothing, says read-only, exits 7' '
	umount small && mount -t tmpfs -o size=4m tmpfs small &&
	expect_code 0 lb --db small/h.db run --yes mark.lua >out &&
	rm mark-ran &&
	mount -o remount,ro small &&
	expect_code 7 lb --db small/h.db run --yes mark.lua >out 2>err &&
	test ! -e mark-ran &&
	assert_contains err "nothing ran" &&
	assert_contains err "read-only" &&
	assert_not_contains out "lifeboat show"
'

test_expect_success 'a history deleted mid-run is detected and reported: exit 7' '
	write_runbook del.lua <<-\EOF &&
	return runbook { name = "del", phase "p" {
		step "rm" { sh = "rm -f gone.db gone.db-wal gone.db-shm" },
		step "after" { sh = "touch after-ran" } } }
	EOF
	expect_code 7 lb --db gone.db run --yes del.lua >out 2>err &&
	test -e after-ran &&
	assert_contains err "the history file '"'"'gone.db'"'"' was deleted or replaced while this run was using it" &&
	assert_contains out "NOT RECORDED · exit 7" &&
	assert_not_contains out "lifeboat show"
'

test_expect_success 'a step failure on a full disk still exits 7: the run is not recorded (SPEC 3 order)' '
	umount -l small && mount -t tmpfs -o size=320k tmpfs small &&
	sed "s/touch last-ran/exit 1/" fill.lua >fillfail.lua &&
	expect_code 7 lb --db small/h.db run --yes fillfail.lua >out 2>err &&
	assert_contains out "failed, NOT RECORDED · exit 7"
'

test_done
