#!/bin/sh
# The console (SPEC 6 and 8) under a remote step: the hosts counted (ok / failed / unreachable)
# and a row per host that is not ok, with its status and exit code, from the instances the
# engine records. Live (a run executed by the console) and --watch (a run another process
# executes), under tmux against the private sshd.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/sshd.sh"

need_tmux
CONSOLE_SIZE=100x30

test_expect_success 'setup: a private sshd, a runbook on a group and an unreachable host' '
	sshd_start &&
	write_runbook fleet.lua <<-\EOF
	return runbook { name = "fleet", phase "roll" {
	    step "deploy" { sh = "[ $LIFEBOAT_HOST != h2 ] || exit 7; echo rtx8111", on = { "web", "closed" },
	                    max_failed_hosts = 2 },
	    step "hold" { manual = "Look at the hosts" },
	  } }
	EOF
'

test_expect_success 'live: counts, and a row per host not ok with status and exit code' '
	con c1 console fleet.lua &&
	wait_screen c1 "WAITING FOR A PERSON" 30 &&
	screen c1 >s1 &&
	cat s1 &&
	assert_contains s1 "hosts: 2 ok · 1 failed · 1 unreachable" &&
	grep -E "✗ h2 +failed +exit 7" s1 &&
	grep -E "✗ closed +unreachable +cannot connect" s1 &&
	! grep -E "✗ h[13] " s1 &&
	keys c1 y &&
	wait_screen c1 "q quits and prints the summary" &&
	screen c1 >s1b &&
	assert_contains s1b "hosts: 2 ok · 1 failed · 1 unreachable" &&
	keys c1 q &&
	wait_for "test -s c1.code" 15
'

test_expect_success '--watch: the same rows, read from the history' '
	lb run fleet.lua </dev/null >bg.out 2>&1 &
	bg=$! &&
	at_exit "kill $bg" &&
	wait_for "lb history --json | jv - runs.0.status | grep -qx running" 10 &&
	id=$(lb history --json | jv - runs.0.run_id) &&
	wait_for "lb show $id --json | jv - phases.0.steps.1.status | grep -qx running" 30 &&
	con w1 console --watch "$id" &&
	wait_screen w1 "WAITING FOR A PERSON" &&
	screen w1 >sw &&
	cat sw &&
	assert_contains sw "watching run fleet" &&
	assert_contains sw "hosts: 2 ok · 1 failed · 1 unreachable" &&
	grep -E "✗ h2 +failed +exit 7" sw &&
	grep -E "✗ closed +unreachable" sw &&
	keys w1 y &&
	wait_for "! kill -0 $bg 2>/dev/null" 15 &&
	keys w1 q &&
	wait_for "test -s w1.code" 15
'

test_expect_success 'no sanitizer report from any console; nothing left on the hosts' '
	for f in *.err
	do
		if grep -l -e "Sanitizer" -e "runtime error" "$f"; then
			cat "$f"
			exit 1
		fi
	done &&
	test "$(remote_count rtx8111)" = 0
'

test_done
