#!/bin/sh
# Issue 10 item 16: `exclusive` holds for names too long for a file name (they are hashed into the
# lock's path), and when the lock cannot be taken at all the run is refused (exit 5) instead of
# running unlocked.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

long=$(printf 'x%.0s' $(seq 260))
printf 'return runbook { name = "%s", phase "p" { step "s" { sh = "touch started-$LB_N; test -e go || exec sleep 30.1251" } } }\n' \
	"${long}a" >long-a.lua
sed "s/${long}a/${long}b/" long-a.lua >long-b.lua

test_expect_success 'a 261-character runbook name is still exclusive' '
	LB_N=1 "$LIFEBOAT" run --yes long-a.lua >first.out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e started-1" 10 &&
	LB_N=2 expect_code 5 lb run --yes long-a.lua >second.out 2>second.err &&
	assert_contains second.err "is already running as run" &&
	test ! -e started-2 &&
	ls .lifeboat/locks >locks &&
	assert_contains locks "~" &&
	kill -TERM "$pid" &&
	code=0 && { wait "$pid" || code=$?; } &&
	test "$code" = 143 &&
	no_step_process "sleep 30.1251"
'

test_expect_success 'two long names that share their first 260 characters have two locks' '
	rm -f started-*
	LB_N=3 "$LIFEBOAT" run --yes long-a.lua >first.out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e started-3" 10 &&
	touch go &&
	LB_N=4 expect_code 0 lb run --yes long-b.lua >second.out 2>&1 &&
	test -e started-4 &&
	rm go &&
	kill -TERM "$pid" &&
	{ wait "$pid" || :; } &&
	no_step_process "sleep 30.1251"
'

test_expect_success 'a lock that cannot be taken refuses the run (exit 5) and says why' '
	write_runbook short.lua <<-\EOF &&
	return runbook { name = "short", phase "p" { step "s" { sh = "touch short-ran" } } }
	EOF
	mkdir -p db && : >db/locks &&
	expect_code 5 lb --db db/history.db run --yes short.lua >out 2>err &&
	cat out err >all &&
	assert_contains all "exclusive and its lock cannot be taken" &&
	assert_contains all "db/locks/short@-.lock" &&
	test ! -e short-ran &&
	lb --db db/history.db history --json >h.json &&
	same "$(jv h.json runs.0.status)" refused
'

test_expect_success 'exclusive = false still runs without any lock' '
	write_runbook free.lua <<-\EOF &&
	return runbook { name = "free", exclusive = false, phase "p" { step "s" { sh = "touch free-ran" } } }
	EOF
	expect_code 0 lb --db db/history.db run --yes free.lua >out 2>err &&
	test -e free-ran
'

test_done
