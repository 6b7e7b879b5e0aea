#!/bin/sh
# Nothing left behind on the hosts (SPEC 8): a timeout and an abort stop the remote command's whole
# group; a lifeboat killed with SIGKILL leaves nothing after a few seconds (end of input); a silent
# partition (the local ssh master stopped with SIGSTOP) stops it within ~12 s (no heartbeat); a
# resumed instance waits for the lock of the previous one; resume re-runs only the hosts that had not
# succeeded.
#
# The "remote" side is this machine, where lifeboat's own end-of-run cleanup could find a remote
# command by the LIFEBOAT_RUN_ID in its environment; on a real host it cannot. So the commands here
# drop that variable (env -u), and only the wrapper on the host can have stopped them.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/sshd.sh"

CRASHTEST=${LIFEBOAT_CRASHTEST:-}

test_expect_success 'setup: a private sshd' '
	sshd_start &&
	mkdir -p remote
'

run_id () {
	sql .lifeboat/history.db "select id from runs where runbook = '$1' order by started_at desc limit 1"
}

test_expect_success 'a timeout stops the command on every host: timed_out, nothing left' '
	write_runbook to.lua <<-\EOF &&
	return runbook { name = "to", phase "p" {
	    step "s" { sh = "exec env -u LIFEBOAT_RUN_ID sleep 41.101", on = "web", timeout = "2s" } } }
	EOF
	expect_code 1 lb run --yes to.lua >out &&
	assert_contains out "h1 timed_out: timed out after 2s (stopped on the host)" &&
	test "$(remote_count "sleep 41.101")" = 0 &&
	test "$(sql .lifeboat/history.db "select group_concat(status) from host_instances where run_id = \"$(run_id to)\"")" = "timed_out,timed_out,timed_out"
'

test_expect_success 'an abort stops the command on every host: interrupted, exit 130, nothing left' '
	write_runbook ab.lua <<-\EOF
	return runbook { name = "ab", phase "p" {
	    step "s" { sh = "exec env -u LIFEBOAT_RUN_ID sleep 41.202", on = "web" } } }
	EOF
	"$LIFEBOAT" run --yes ab.lua >ab.out 2>&1 &
	pid=$! &&
	wait_for "test \"\$(remote_count \"sleep 41.202\")\" = 3" 20 &&
	lb abort "$(run_id ab)" >/dev/null &&
	code=0 && wait $pid || code=$? &&
	test "$code" = 130 &&
	test "$(remote_count "sleep 41.202")" = 0 &&
	test "$(sql .lifeboat/history.db "select group_concat(status) from host_instances where run_id = \"$(run_id ab)\"")" = "interrupted,interrupted,interrupted"
'

test_expect_success 'kill -9 of lifeboat: the hosts stop the command within a few seconds' '
	write_runbook k9.lua <<-\EOF
	return runbook { name = "k9", phase "p" {
	    step "s" { sh = "exec env -u LIFEBOAT_RUN_ID sleep 41.303", on = "web" } } }
	EOF
	"$LIFEBOAT" run --yes k9.lua >k9.out 2>&1 &
	pid=$! &&
	wait_for "test \"\$(remote_count \"sleep 41.303\")\" = 3" 20 &&
	kill -9 $pid &&
	wait_for "test \"\$(remote_count \"sleep 41.303\")\" = 0" 6
'

test_expect_success 'a silent partition (local ssh SIGSTOPped): stopped on the host within ~12 s; resume waits for its lock' '
	write_runbook part.lua <<-EOF
	return runbook { name = "part", params = { dir = "$TEST_DIR/remote" }, phase "p" {
	    step "s" { on = "db", sh = [[
	      if [ -e "\$dir/resumed" ]; then echo new-start >>"\$dir/part.log"; exit 0; fi
	      exec env -u LIFEBOAT_RUN_ID sh -c "trap \"echo old-end >>\$dir/part.log; exit 1\" TERM; echo start >>\$dir/part.log; sleep 41.404 & wait"
	    ]] } } }
	EOF
	"$LIFEBOAT" run --yes part.lua >part.out 2>&1 &
	pid=$! &&
	wait_for "test \"\$(remote_count \"sleep 41.404\")\" -ge 1" 20 &&
	master=$(pgrep -f -- "-F $SSH_DIR/config .*ControlMaster=yes.*-- h4\$") &&
	test -n "$master" &&
	at_exit "kill -CONT $master; kill $master" &&
	kill -STOP "$master" &&
	part_t0=$(date +%s) &&
	kill -9 $pid &&
	touch remote/resumed || exit 1
	( "$LIFEBOAT" resume "$(run_id part)" --yes >resume.out 2>&1; echo $? >resume.code ) &
	wait_for "grep -q old-end remote/part.log" 16 &&
	t1=$(date +%s) &&
	echo "stopped on the host $((t1 - part_t0)) s after the partition" &&
	test $((t1 - part_t0)) -le 13 &&
	wait_for "test \"\$(remote_count \"sleep 41.404\")\" = 0" 5 &&
	wait_for "test -s resume.code" 30 &&
	test "$(cat resume.code)" = 0 &&
	assert_contains resume.out "waiting for the previous instance of this step on this host to end" &&
	test "$(tr "\n" " " <remote/part.log)" = "start old-end new-start "
'

test_expect_success 'resume of a run killed during a remote step re-runs only the hosts not succeeded' '
	rm -f remote/count-* remote/resumed &&
	write_runbook res.lua <<-EOF
	return runbook { name = "res", params = { dir = "$TEST_DIR/remote" }, phase "p" {
	    step "s" { on = "web", sh = [[
	      if [ \$LIFEBOAT_HOST = h2 ] && [ ! -e "\$dir/resumed" ]; then exec env -u LIFEBOAT_RUN_ID sleep 41.505; fi
	      echo ran >>"\$dir/count-\$LIFEBOAT_HOST"
	    ]] } } }
	EOF
	"$LIFEBOAT" run --yes res.lua >res.out 2>&1 &
	pid=$! &&
	wait_for "test -e remote/count-h1 && test -e remote/count-h3 && test \"\$(remote_count \"sleep 41.505\")\" = 1" 20 &&
	sleep 0.5 &&
	kill -9 $pid &&
	touch remote/resumed &&
	lb resume "$(run_id res)" --yes >resume2.out 2>&1 &&
	test "$(wc -l <remote/count-h1)" = 1 &&
	test "$(wc -l <remote/count-h2)" = 1 &&
	test "$(wc -l <remote/count-h3)" = 1 &&
	test "$(remote_count "sleep 41.505")" = 0 &&
	lb show "$(run_id res)" --json >res.json &&
	test "$(sql .lifeboat/history.db "select group_concat(attempt || host || status, \" \") from (select * from host_instances where run_id = \"$(run_id res)\" order by attempt, seq)")" = "1h1succeeded 1h2interrupted 1h3succeeded 2h2succeeded"
'

test_done
