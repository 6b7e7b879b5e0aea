#!/bin/sh
# Remote sh steps (SPEC 8) against a real sshd on 127.0.0.1: a group succeeds on every host,
# a failing host fails the step and is named, max_failed_hosts tolerates, unreachable is told
# apart from exit 255, retries re-run only the failed hosts, no new host starts once too many
# failed, params and secrets travel over stdin (no ps listing, redacted output), ssh() in Lua.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/sshd.sh"

test_expect_success 'setup: a private sshd' '
	sshd_start &&
	mkdir -p remote
'

test_expect_success 'a step on a group runs on every host, output prefixed by the host' '
	write_runbook group.lua <<-EOF &&
	return runbook { name = "group", params = { dir = "$TEST_DIR/remote" },
	  phase "deploy" {
	    step "hello" { sh = "echo hello from \$LIFEBOAT_HOST in \$LIFEBOAT_STEP; pwd; touch \"\$dir/hello-\$LIFEBOAT_HOST\"",
	                   on = "web" },
	  } }
	EOF
	lb run --yes group.lua >out &&
	assert_contains out "h1: hello from h1 in hello" &&
	assert_contains out "h2: hello from h2 in hello" &&
	assert_contains out "h3: hello from h3 in hello" &&
	assert_contains out "h1: /root" &&
	test -e remote/hello-h1 && test -e remote/hello-h2 && test -e remote/hello-h3 &&
	test ! -e remote/hello-h4 &&
	test "$(sql .lifeboat/history.db "select group_concat(host || \"=\" || status, \",\") from (select host, status from host_instances order by seq)")" = "h1=succeeded,h2=succeeded,h3=succeeded"
'

test_expect_success 'one host failing fails the step and names it; remote_workdir' '
	write_runbook onefail.lua <<-EOF &&
	return runbook { name = "onefail", remote_workdir = "$TEST_DIR/remote",
	  phase "deploy" {
	    step "roll" { sh = "pwd; [ \$LIFEBOAT_HOST != h2 ] || exit 3", on = "web" },
	  } }
	EOF
	expect_code 1 lb run --yes onefail.lua >out &&
	assert_contains out "h1: $TEST_DIR/remote" &&
	assert_contains out "1 of 3 hosts did not succeed (max_failed_hosts 0): h2 failed: exited with code 3" &&
	lb show "$(sql .lifeboat/history.db "select id from runs where runbook = \"onefail\"")" >show &&
	assert_contains show "h2"
'

test_expect_success 'max_failed_hosts tolerates that many; one more fails' '
	write_runbook tolerate.lua <<-\EOF &&
	return runbook { name = "tolerate", phase "deploy" {
	    step "roll" { sh = "[ $LIFEBOAT_HOST != h2 ]", on = "web", max_failed_hosts = 1 },
	    step "roll2" { sh = "[ $LIFEBOAT_HOST = h1 ]", on = "web", max_failed_hosts = 1 },
	  } }
	EOF
	expect_code 1 lb run --yes tolerate.lua >out 2>&1 &&
	assert_contains out "1 host did not succeed, tolerated (max_failed_hosts 1)" &&
	assert_contains out "2 of 3 hosts did not succeed (max_failed_hosts 1)"
'

test_expect_success 'unreachable (closed port) is told apart from a command exiting 255' '
	write_runbook u.lua <<-\EOF &&
	return runbook { name = "u", phase "p" {
	    step "s" { sh = "exit 255", on = "bad", max_failed_hosts = 2 } } }
	EOF
	lb run --yes u.lua >out 2>&1 &&
	run=$(sql .lifeboat/history.db "select id from runs where runbook = \"u\"") &&
	test "$(sql .lifeboat/history.db "select status, exit_code from host_instances where run_id = \"$run\" and host = \"h1\"")" = "failed|255" &&
	test "$(sql .lifeboat/history.db "select status, coalesce(exit_code, \"none\") from host_instances where run_id = \"$run\" and host = \"closed\"")" = "unreachable|none" &&
	assert_contains out "closed unreachable: cannot connect to '"'"'closed'"'"'" &&
	assert_contains out "Connection refused" &&
	assert_contains out "h1 failed: exited with code 255"
'

test_expect_success 'an unknown host key is never accepted: unreachable, and the error says how to add it' '
	write_runbook k.lua <<-\EOF &&
	return runbook { name = "k", phase "p" { step "s" { sh = "true", on = "stranger" } } }
	EOF
	expect_code 1 lb run --yes k.lua >out 2>&1 &&
	assert_contains out "stranger unreachable: the host key of '"'"'stranger'"'"' is not known" &&
	assert_contains out "StrictHostKeyChecking=accept-new stranger" &&
	test ! -s "$SSH_DIR/empty_known_hosts"
'

test_expect_success 'retries re-run only the hosts that did not succeed' '
	rm -f remote/count-* &&
	write_runbook retry.lua <<-EOF &&
	return runbook { name = "retry", params = { dir = "$TEST_DIR/remote" }, phase "p" {
	    step "s" { sh = "echo x >>\"\$dir/count-\$LIFEBOAT_HOST\"; [ \$LIFEBOAT_HOST != h2 ] || [ \$(wc -l <\"\$dir/count-h2\") -ge 2 ]",
	               on = "web", retries = 2, retry_delay = "100ms" } } }
	EOF
	lb run --yes retry.lua >out &&
	test "$(wc -l <remote/count-h1)" = 1 &&
	test "$(wc -l <remote/count-h2)" = 2 &&
	test "$(wc -l <remote/count-h3)" = 1 &&
	run=$(sql .lifeboat/history.db "select id from runs where runbook = \"retry\"") &&
	test "$(sql .lifeboat/history.db "select attempt || host || status from host_instances where run_id = \"$run\" order by attempt, seq" | tr "\n" " ")" = "1h1succeeded 1h2failed 1h3succeeded 2h2succeeded "
'

test_expect_success 'once more than max_failed_hosts failed, no new host starts' '
	rm -f remote/ran-* &&
	cat >serial.yaml <<-EOF &&
	hosts: { all: [h1, h2, h3, h4, h5, h6, h7, h8] }
	ssh: { config: $SSH_DIR/config, parallel: 2 }
	EOF
	write_runbook serial.lua <<-EOF &&
	return runbook { name = "serial", params = { dir = "$TEST_DIR/remote" }, phase "p" {
	    step "s" { sh = "touch \"\$dir/ran-\$LIFEBOAT_HOST\"; case \$LIFEBOAT_HOST in h1|h2) exit 1;; esac",
	               on = "all", max_failed_hosts = 1 } } }
	EOF
	expect_code 1 lb --config serial.yaml run --yes serial.lua >out &&
	test -e remote/ran-h1 && test -e remote/ran-h2 &&
	test "$(ls remote | grep -c ran-)" -le 3 &&
	run=$(sql .lifeboat/history.db "select id from runs where runbook = \"serial\"") &&
	test "$(sql .lifeboat/history.db "select count(*) from host_instances where run_id = \"$run\" and status = \"skipped\"")" -ge 5
'

test_expect_success 'params and secrets go over stdin: in no ps listing, masked in every output' '
	cat >secret.yaml <<-EOF &&
	hosts: { db: [h4] }
	ssh: { config: $SSH_DIR/config }
	secrets: [LB_TOKEN, LB_DBPASS]
	environments: { prod: { params: { token: tok-7f3a9c1e5b } } }
	EOF
	write_runbook sec.lua <<-EOF &&
	return runbook { name = "sec", params = { token = "unset", dir = "$TEST_DIR/remote" }, phase "p" {
	    step "s" { sh = "echo token \$token pass \$LB_DBPASS; touch \"\$dir/sec-started\"; sleep 3", on = "db" } } }
	EOF
	rm -f remote/sec-started || exit 1
	( LB_TOKEN=tok-7f3a9c1e5b LB_DBPASS=pw-c0ffee-42 "$LIFEBOAT" --config secret.yaml run --yes --env prod sec.lua >sec.out 2>&1; echo $? >sec.code ) &
	wait_for "test -e remote/sec-started" 20 &&
	ps -eo args >ps.txt && rsh "ps -eo args" >>ps.txt &&
	assert_not_contains ps.txt "tok-7f3a9c1e5b" &&
	assert_not_contains ps.txt "pw-c0ffee-42" &&
	assert_contains ps.txt "exec sh -c" &&
	wait_for "test -s sec.code" 30 &&
	test "$(cat sec.code)" = 0 &&
	assert_contains sec.out "h4: token *** pass ***" &&
	assert_not_contains sec.out "tok-7f3a9c1e5b" &&
	! grep -r "tok-7f3a9c1e5b\|pw-c0ffee-42" .lifeboat
'

test_expect_success 'ssh(host, cmd) in Lua returns like sh(); a group or an unknown host raises' '
	write_runbook lua.lua <<-\EOF &&
	return runbook { name = "lua", phase "p" {
	    step "s" { run = function(ctx)
	      local r = ssh("h3", "echo out-$LIFEBOAT_HOST; echo err >&2; exit 4", { check = false })
	      assert(r.code == 4 and r.stdout == "out-h3\n" and r.stderr == "err\n" and r.status == "failed", r.stdout)
	      assert(ssh("db", "true").code == 0)
	      local ok, e = pcall(ssh, "web", "true")
	      assert(not ok and e:find("group of 3 hosts"), e)
	      ok, e = pcall(ssh, "closed", "true")
	      assert(not ok and e:find("unreachable"), e)
	      ok, e = pcall(ssh, "h1", "exit 2")
	      assert(not ok and e:find("exited with 2"), e)
	      log("lua ok")
	    end } } }
	EOF
	lb run --yes lua.lua >out &&
	assert_contains out "lua ok"
'

test_expect_success 'the run leaves no master connection and no control folder' '
	TMPDIR=$TEST_DIR/tmp && export TMPDIR && mkdir -p "$TMPDIR" &&
	lb run --yes group.lua >out &&
	test -z "$(ls "$TMPDIR")" &&
	no_process_matching "ControlPath=$TMPDIR"
'

test_done
