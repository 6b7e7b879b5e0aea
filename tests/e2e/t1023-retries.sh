#!/bin/sh
# retries count attempts: a step with retries = N runs at most N+1 times, each attempt recorded in
# the history, with retry_delay between them (SPEC 1, 5).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

Q="'"	# a single quote, for SQL strings in the test bodies

test_expect_success 'a step that fails twice and then passes: 3 attempts, succeeded' '
	write_runbook flaky.lua <<-\EOF &&
	return runbook { name = "flaky",
		phase "p" { step "s" { retries = 2, retry_delay = "100ms", sh = [[
			n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n >count
			echo "attempt $n"
			[ $n -ge 3 ]
		]] } },
	}
	EOF
	expect_code 0 lb --db h.db run --yes flaky.lua --report r.json >out &&
	test "$(cat count)" = 3 &&
	same "$(jv r.json status phases.0.steps.0.status phases.0.steps.0.attempts)" \
		"succeeded succeeded 3" &&
	run=$(jv r.json run_id) &&
	test "$(sql h.db "select group_concat(status) from (select status from attempts where run_id = $Q$run$Q order by attempt)")" = "failed,failed,succeeded"
'

test_expect_success 'a step that always fails with retries = 2: 3 attempts, failed, 3 rows' '
	write_runbook broken.lua <<-\EOF &&
	return runbook { name = "broken",
		phase "p" { step "s" { retries = 2, retry_delay = "100ms", sh = "echo x >>tries; exit 5" } },
	}
	EOF
	elapsed_ms expect_code 1 lb --db h.db run --yes broken.lua --report r.json >out &&
	test "$LAST_CODE" = 0 &&
	test "$(wc -l <tries)" -eq 3 &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.0.attempts phases.0.steps.0.exit_code)" \
		"failed 3 5" &&
	run=$(jv r.json run_id) &&
	test "$(sql h.db "select count(*) from attempts where run_id = $Q$run$Q")" = 3 &&
	test "$(sql h.db "select group_concat(attempt) from (select attempt from attempts where run_id = $Q$run$Q order by attempt)")" = "1,2,3" &&
	test "$(sql h.db "select count(*) from attempts where run_id = $Q$run$Q and exit_code = 5 and status = ${Q}failed$Q")" = 3 &&
	test "$ELAPSED_MS" -ge 200
'

test_expect_success 'a step without retries runs once' '
	write_runbook once.lua <<-\EOF &&
	return runbook { name = "once",
		phase "p" { step "s" { sh = "echo x >>once; exit 1" } },
	}
	EOF
	expect_code 1 lb --db h.db run --yes once.lua --report r.json >out &&
	test "$(wc -l <once)" -eq 1 &&
	same "$(jv r.json phases.0.steps.0.attempts)" 1
'

test_expect_success 'run steps retry too, and the rollback runs only after the last attempt' '
	write_runbook luaretry.lua <<-\EOF &&
	return runbook { name = "luaretry",
		phase "p" {
			step "s" { retries = 1, retry_delay = "50ms", run = function(ctx)
				sh("echo x >>lua-tries")
				error("not yet")
			end },
			rollback = { step "undo" { sh = "echo rb >>rollbacks" } },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes luaretry.lua --report r.json >out &&
	test "$(wc -l <lua-tries)" -eq 2 &&
	test "$(wc -l <rollbacks)" -eq 1 &&
	same "$(jv r.json phases.0.steps.0.attempts)" 2
'

test_expect_success 'show lists every attempt of a retried step' '
	run=$(sql h.db "select id from runs where runbook = ${Q}broken$Q") &&
	lb --db h.db show "$run" >show.out &&
	assert_contains show.out "3 attempts" &&
	assert_contains show.out "attempt 1" &&
	assert_contains show.out "attempt 3"
'

test_done
