#!/bin/sh
# Crash safety (issue 5): a test build kills lifeboat at named points; `resume` continues the run
# from its first unfinished step: finished steps are not run again and are recorded exactly once,
# ctx.state is restored, the history stays intact, and the run succeeds.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

CRASHTEST=${LIFEBOAT_CRASHTEST:-$(dirname "$LIFEBOAT")/lifeboat-crashtest}
[ -x "$CRASHTEST" ] || _lb_bail "no crash-test build at $CRASHTEST (LIFEBOAT_CRASHTEST)"
export CRASHTEST

write_runbook crash.lua <<-\EOF
return runbook { name = "crash", rto = "5m",
	phase "one" {
		step "a" { sh = 'echo a >> steps.log' },
		step "set state" { run = function(ctx) ctx.state.token = "t-42"; ctx.state.n = 7 end },
		step "b" { sh = 'echo b >> steps.log' },
	},
	phase "two" {
		step "c" { sh = 'echo c >> steps.log' },
		step "check state" { run = function(ctx)
			assert(ctx.state.token == "t-42" and ctx.state.n == 7, "ctx.state was lost")
		end },
		step "d" { sh = 'echo d >> steps.log' },
	},
	phase "tidy" { cleanup = true, step "e" { sh = 'echo e >> steps.log' } },
}
EOF

# crash_and_resume POINT: runs crash.lua in its own folder under the crash build, expects the
# kill, resumes with the real binary, and checks what the issue demands.
crash_and_resume () {
	rm -rf "$1.d" && mkdir "$1.d" && cp crash.lua "$1.d/" && cd "$1.d" &&
	LIFEBOAT_CRASH_AT=$1 expect_code 137 "$CRASHTEST" --db h.db run --yes crash.lua >out 2>&1 &&
	id=$(lb --db h.db history --json | json_get - 'd["runs"][0]["run_id"]') &&
	test "$(lb --db h.db history --json | json_get - 'd["runs"][0]["status"]')" = interrupted &&
	expect_code 0 lb --db h.db resume "$id" --yes >resume.out 2>&1 &&
	lb --db h.db show "$id" --json >r.json &&
	test "$(json_get r.json 'd["status"]')" = succeeded &&
	test "$(json_get r.json '[s["status"] for p in d["phases"] for s in p["steps"]]')" = \
		'["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded"]' &&
	test "$(sql h.db "select count(*) from attempts where status = 'succeeded'")" = 7 &&
	test "$(sql h.db "select max(n) from (select count(*) n from attempts where status = 'succeeded' group by phase_idx, step_idx)")" = 1 &&
	test "$(sql h.db 'pragma integrity_check')" = ok &&
	test "$(json_get r.json 'int(max(s["duration_s"] for p in d["phases"] for s in p["steps"]) < 60)')" = 1 &&
	test "$(json_get r.json 'len(d["notes"])')" = 1 &&
	json_get r.json 'd["notes"][0]["text"]' | grep -q "resumed" &&
	cd ..
}

test_expect_success 'resume after a kill before a step starts' '
	crash_and_resume before_step:3 &&
	test "$(sort before_step:3.d/steps.log | uniq -d)" = "" &&
	test "$(wc -l <before_step:3.d/steps.log)" -eq 5
'

test_expect_success 'resume after a kill once the step process was spawned' '
	crash_and_resume after_spawn:2 &&
	test "$(grep -c . after_spawn:2.d/steps.log)" -ge 5 &&
	test "$(grep -c "^a$" after_spawn:2.d/steps.log)" = 1
'

test_expect_success 'resume after the process exited but before its result was committed' '
	crash_and_resume after_exit:3 &&
	test "$(grep -c "^a$" after_exit:3.d/steps.log)" = 1 &&
	test "$(grep -c "^b$" after_exit:3.d/steps.log)" = 1
'

test_expect_success 'resume after a kill between phases' '
	crash_and_resume between_phases:1 &&
	test "$(sort between_phases:1.d/steps.log | uniq -d)" = ""
'

test_expect_success 'resume after a kill during a rollback finishes the rollback and fails the run' '
	write_runbook rb.lua <<-\EOF &&
	return runbook { name = "rb",
		phase "deploy" {
			step "ship" { sh = "echo ship >> steps.log; exit 1" },
			rollback = {
				step "undo one" { sh = "echo undo1 >> steps.log" },
				step "undo two" { sh = "echo undo2 >> steps.log" },
			},
		},
	}
	EOF
	LIFEBOAT_CRASH_AT=during_rollback:2 expect_code 137 "$CRASHTEST" --db h.db run --yes rb.lua >out 2>&1 &&
	id=$(lb --db h.db history rb --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 1 lb --db h.db resume "$id" --yes >resume.out 2>&1 &&
	lb --db h.db show "$id" --json >r.json &&
	test "$(json_get r.json "d[\"status\"]")" = failed &&
	test "$(json_get r.json "d[\"phases\"][0][\"status\"]")" = rolled_back &&
	test "$(grep -c undo1 steps.log)" = 1 &&
	test "$(grep -c undo2 steps.log)" = 1 &&
	test "$(grep -c ship steps.log)" = 1 &&
	test "$(sql h.db "pragma integrity_check")" = ok
'

test_expect_success 'a step left running by a killed lifeboat is stopped, then run again' '
	write_runbook long.lua <<-\EOF
	return runbook { name = "long",
		phase "p" {
			step "first" { sh = "echo first >> steps.log" },
			step "long" { sh = "if [ -e resumed ]; then exit 0; fi; sleep 39.123" },
		},
	}
	EOF
	"$LIFEBOAT" --db h.db run --yes long.lua >out 2>&1 &
	pid=$! &&
	wait_for "pgrep -f \"sleep 39.123\"" 10 &&
	# an idempotent step'"'"'s start is committed once it has run 20 ms (or with its result)
	wait_for "test \"\$(sql h.db \"select status from steps where name = '"'"'long'"'"'\")\" = running" 10 &&
	kill -9 $pid &&
	sleep 0.2 &&
	pgrep -f "sleep 39.123" >/dev/null &&
	touch resumed &&
	id=$(lb --db h.db history long --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 0 lb --db h.db resume "$id" >resume.out 2>&1 &&
	assert_contains resume.out "left behind" &&
	no_process_matching "sleep 39.123" &&
	test "$(grep -c first steps.log)" = 1 &&
	test "$(sql h.db "select group_concat(status) from (select status from attempts where run_id = '"'"'$id'"'"' and step_idx = 1 order by attempt)")" = "interrupted,succeeded"
'

test_expect_success 'resume refuses a changed runbook (exit 5) unless --force, which is audited' '
	mkdir chg && cd chg &&
	cp ../crash.lua . &&
	LIFEBOAT_CRASH_AT=between_phases:1 expect_code 137 "$CRASHTEST" --db h.db run --yes crash.lua >out 2>&1 &&
	id=$(lb --db h.db history --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	echo "-- a comment changes the text" >> crash.lua &&
	expect_code 5 lb --db h.db resume "$id" --yes >o 2>e &&
	assert_contains e "changed" && assert_contains e "--force" &&
	test "$(lb --db h.db history --json | json_get - "d[\"runs\"][0][\"status\"]")" = interrupted &&
	expect_code 0 lb --db h.db resume "$id" --yes --force >o 2>e &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'force'"'"'")" = 1 &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'refused'"'"'")" -ge 1
'

test_expect_success 'a non-idempotent step in flight needs --yes' '
	write_runbook ni.lua <<-\EOF
	return runbook { name = "ni",
		phase "p" {
			step "charge the card" { sh = "echo charge >> steps.log; sleep 30.222", idempotent = false },
		},
	}
	EOF
	"$LIFEBOAT" --db h.db run --yes ni.lua >out 2>&1 &
	pid=$! &&
	wait_for "pgrep -f \"sleep 30.222\"" 10 &&
	kill -9 $pid && sleep 0.2 &&
	pkill -f "sleep 30.222";
	id=$(lb --db h.db history ni --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 5 lb --db h.db resume "$id" >o 2>e &&
	assert_contains e "idempotent" &&
	test "$(lb --db h.db history ni --json | json_get - "d[\"runs\"][0][\"status\"]")" = interrupted
'

test_expect_success 'a kill just after a quick step started loses only that start; a non-idempotent start is recorded at once' '
	# One commit per quick step: its start goes in with its result (or after 20 ms of running).
	# The step in flight then reads as not started, and resume runs it like any step in flight.
	mkdir quick && cd quick &&
	write_runbook q.lua <<-\EOF &&
	return runbook { name = "q",
		phase "p" {
			step "one" { sh = "echo one >> q.log" },
			step "two" { sh = "echo two >> q.log" },
		},
	}
	EOF
	LIFEBOAT_CRASH_AT=after_spawn:2 expect_code 137 "$CRASHTEST" --db h.db run --yes q.lua >out 2>&1 &&
	test "$(sql h.db "select group_concat(status) from (select status from steps order by idx)")" = succeeded,pending &&
	test "$(sql h.db "select group_concat(event) from audit where event like '"'"'step_%'"'"' order by seq")" = step_started,step_result &&
	test "$(sql h.db "select count(*) from audit a join steps s on a.at = s.started_at where a.event = '"'"'step_started'"'"'")" = 1 &&
	id=$(lb --db h.db history q --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 0 lb --db h.db resume "$id" --yes >resume.out 2>&1 &&
	test "$(sql h.db "select group_concat(status) from (select status from steps order by idx)")" = succeeded,succeeded &&
	test "$(grep -c "^one$" q.log)" = 1 &&
	write_runbook ni.lua <<-\EOF &&
	return runbook { name = "q",
		phase "p" {
			step "one" { sh = "echo one >> q.log" },
			step "two" { sh = "echo two >> q.log", idempotent = false },
		},
	}
	EOF
	LIFEBOAT_CRASH_AT=after_spawn:2 expect_code 137 "$CRASHTEST" --db ni.db run --yes ni.lua >out 2>&1 &&
	test "$(sql ni.db "select group_concat(status) from (select status from steps order by idx)")" = succeeded,running &&
	id=$(lb --db ni.db history q --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 5 lb --db ni.db resume "$id" >o 2>e &&
	assert_contains e "idempotent" &&
	cd ..
'

test_expect_success 'a finished run cannot be resumed' '
	write_runbook ok.lua <<-\EOF &&
	return runbook { name = "ok", phase "p" { step "s" { sh = "true" } } }
	EOF
	lb --db h.db run --yes ok.lua >out &&
	id=$(lb --db h.db history ok --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 5 lb --db h.db resume "$id" 2>e &&
	assert_contains e "only an interrupted run"
'

test_done
