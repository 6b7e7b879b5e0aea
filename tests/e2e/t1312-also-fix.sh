#!/bin/sh
# Issue 13, "also fix": show keeps what a service printed after its step ended; a rollback that
# never ran gives JUnit no skipped testcases; plan says "over 1 run"; the schedules table's
# last_exit_code is filled.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'show keeps a service'"'"'s output printed after its step ended' '
	write_runbook svc.lua <<-\EOF &&
	return runbook { name = "svc",
		phase "p" {
			step "ticker" { sh = "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.1; done", service = true },
			step "later" { sh = "sleep 0.8" },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes svc.lua --report r.json >out &&
	id=$(json_get r.json "d[\"run_id\"]") &&
	lb --db h.db show "$id" >show.out &&
	last=$(grep -o "tick-[0-9]*" show.out | sed "s/tick-//" | sort -n | tail -1) &&
	test "$last" -ge 6
'

test_expect_success 'JUnit: a rollback that never ran gives no testcase; one that ran does' '
	write_runbook rb.lua <<-\EOF &&
	return runbook { name = "rb",
		phase "ok" { step "a" { sh = "true" }, rollback = { step "undo a" { sh = "true" } } },
		phase "bad" { step "b" { sh = "exit 1" }, rollback = { step "undo b" { sh = "true" } } },
	}
	EOF
	expect_code 1 lb --db h.db run --yes rb.lua --junit r.xml >out &&
	assert_not_contains r.xml "rollback: undo a" &&
	assert_contains r.xml "rollback: undo b"
'

test_expect_success 'plan says "over 1 run"' '
	write_runbook one.lua <<-\EOF &&
	return runbook { name = "one", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 0 lb --db h.db run --yes one.lua >out &&
	lb --db h.db plan one.lua >plan.out &&
	assert_contains plan.out "over 1 run" &&
	assert_not_contains plan.out "over 1 runs"
'

test_expect_success 'the schedules table keeps the last drill'"'"'s exit code' '
	printf "schedules:\n  - { runbook: one.lua, cron: \"* * * * *\", yes: true }\n" >lifeboat.yaml &&
	expect_code 0 lb --db s.db scheduler --once >out 2>err &&
	test "$(sql s.db "select last_exit_code from schedules")" = 0
'

test_done
