#!/bin/sh
# Issue 13 item 2 (SPEC 3): `resume` continues a failed or aborted run as well as an interrupted
# one: from the step that failed or was stopped (the failed step runs again, its earlier attempts
# kept; a failed continue_on_error step is not re-run), t0 kept, the pause a note, cleanup again
# at the end; a phase whose rollback ran restarts from its first step. The run keeps its id.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

write_runbook fix.lua <<-\EOF
return runbook { name = "fix", rto = "1h",
	phase "prepare" {
		step "a" { sh = "echo a >>steps.log" },
		step "optional" { sh = "echo optional >>steps.log; exit 1", continue_on_error = true },
	},
	phase "restore" {
		step "b" { sh = "echo b >>steps.log" },
		step "needs the fix" { sh = "echo fix >>steps.log; test -e fixed", retries = 1, retry_delay = "10ms" },
		step "c" { sh = "echo c >>steps.log" },
	},
	phase "after" { step "d" { sh = "echo d >>steps.log" } },
	phase "tidy" { cleanup = true, step "e" { sh = "echo e >>steps.log" } },
}
EOF

test_expect_success 'a failed run resumes from the failed step once the cause is fixed' '
	expect_code 1 lb --db h.db run --yes fix.lua >run.out &&
	id=$(sed -n "s/^run \([0-9a-f]*\) failed.*/\1/p" run.out) &&
	test -n "$id" &&
	printf "a\noptional\nb\nfix\nfix\ne\n" >want && diff want steps.log &&
	t0=$(lb --db h.db show "$id" --json | json_get - "d[\"incident_at\"]") &&
	touch fixed &&
	expect_code 0 lb --db h.db resume "$id" >resume.out &&
	printf "a\noptional\nb\nfix\nfix\ne\nfix\nc\nd\ne\n" >want && diff want steps.log &&
	tail -1 resume.out | grep -q "^run $id succeeded · exit 0" &&
	lb --db h.db show "$id" --json >r.json &&
	test "$(json_get r.json "d[\"status\"]")" = succeeded &&
	test "$(json_get r.json "d[\"incident_at\"]")" = "$t0" &&
	test "$(json_get r.json "d[\"phases\"][1][\"steps\"][1][\"attempts\"]")" = 3 &&
	test "$(json_get r.json "d[\"phases\"][0][\"steps\"][1][\"status\"]")" = failed &&
	test "$(sql h.db "select count(*) from attempts where step_idx = 1 and phase_idx = 1")" = 3 &&
	test "$(sql h.db "select count(*) from runs")" = 1 &&
	json_get r.json "[n[\"text\"] for n in d[\"notes\"]]" >notes &&
	assert_contains notes "resumed by tester after the run had failed (exit 1)" &&
	sql h.db "select event || \":\" || detail from audit where run_id = ${SQ}$id${SQ} and event in (${SQ}run_finished${SQ}, ${SQ}resume${SQ}) order by seq" >events &&
	test "$(grep -c "^run_finished:.*failed" events)" = 1 &&
	test "$(grep -c "^resume:" events)" = 1 &&
	test "$(grep -c "^run_finished:.*succeeded" events)" = 1 &&
	lb --db h.db show "$id" >show.out &&
	sed -n "/status history:/,/params/p" show.out >stops &&
	grep -q "started by tester$" stops &&
	grep -q "failed, exit 1$" stops &&
	grep -q "resumed by tester$" stops &&
	grep -q "succeeded, exit 0$" stops &&
	test "$(grep -n "failed, exit 1" stops | cut -d: -f1)" -lt "$(grep -n "resumed by" stops | cut -d: -f1)"
'

test_expect_success 'an aborted run resumes from the step that was stopped, t0 kept' '
	rm -f steps.log &&
	write_runbook slow.lua <<-\EOF &&
	return runbook { name = "slow", rto = "1h",
		phase "p" {
			step "a" { sh = "echo a >>steps.log" },
			step "wait" { sh = "test -e go && echo wait >>steps.log || exec sleep 17.1303" },
			step "b" { sh = "echo b >>steps.log" },
		},
		phase "tidy" { cleanup = true, step "e" { sh = "echo e >>steps.log" } },
	}
	EOF
	{ (code=0; "$LIFEBOAT" --db h2.db run --yes slow.lua >slow.out 2>&1 || code=$?; echo $code >slow.rc) & } &&
	wait_for "test \"\$(sql h2.db \"select status from steps where name = ${SQ}wait${SQ}\" 2>/dev/null)\" = running" 20 &&
	id=$(sql h2.db "select id from runs") &&
	expect_code 0 lb --db h2.db abort "$id" >abort.out &&
	wait_for "test -s slow.rc" 20 &&
	test "$(cat slow.rc)" = 130 &&
	no_process_matching "sleep 17.1303" &&
	test "$(sql h2.db "select status from runs")" = aborted &&
	touch go &&
	expect_code 0 lb --db h2.db resume "$id" >resume.out &&
	printf "a\ne\nwait\nb\ne\n" >want && diff want steps.log &&
	test "$(sql h2.db "select status from runs")" = succeeded &&
	test "$(sql h2.db "select status from steps where name = ${SQ}wait${SQ}")" = succeeded &&
	test "$(sql h2.db "select count(*) from attempts where step_idx = 1")" = 2 &&
	test "$(sql h2.db "select status from attempts where step_idx = 1 and attempt = 1")" = interrupted
'

test_expect_success 'a phase whose rollback ran restarts from its first step; the rollback is kept, not re-run' '
	rm -f steps.log fixed &&
	write_runbook rb.lua <<-\EOF &&
	return runbook { name = "rb",
		phase "deploy" {
			step "stage" { sh = "echo stage >>steps.log" },
			step "switch" { sh = "echo switch >>steps.log; test -e fixed" },
			rollback = { step "undo" { sh = "echo undo >>steps.log" } },
		},
	}
	EOF
	expect_code 1 lb --db h3.db run --yes rb.lua >run.out &&
	id=$(sql h3.db "select id from runs") &&
	test "$(sql h3.db "select status from phases")" = rolled_back &&
	touch fixed &&
	expect_code 0 lb --db h3.db resume "$id" >resume.out &&
	printf "stage\nswitch\nundo\nstage\nswitch\n" >want && diff want steps.log &&
	test "$(sql h3.db "select status from phases")" = succeeded &&
	test "$(sql h3.db "select status from steps where name = ${SQ}undo${SQ}")" = succeeded &&
	test "$(sql h3.db "select attempts from steps where name = ${SQ}stage${SQ}")" = 2
'

test_expect_success 'a succeeded run is not resumed; --yes is not carried over and resume says so' '
	expect_code 5 lb --db h3.db resume "$(sql h3.db "select id from runs")" 2>err &&
	assert_contains err "succeeded" &&
	write_runbook man.lua <<-\EOF &&
	return runbook { name = "man",
		phase "p" {
			step "flaky" { sh = "test -e fixed-man" },
			step "sign off" { manual = "confirm it" },
		},
	}
	EOF
	expect_code 1 lb --db h4.db run --yes man.lua >run.out &&
	id=$(sql h4.db "select id from runs") &&
	touch fixed-man &&
	{ (code=0; "$LIFEBOAT" --db h4.db resume "$id" >resume.out 2>&1 || code=$?; echo $code >resume.rc) & } &&
	wait_for "grep -q \"not carried over\" resume.out" 20 &&
	assert_contains resume.out "resume --yes" &&
	expect_code 0 lb --db h4.db confirm "$id" >c.out &&
	wait_for "test -s resume.rc" 20 &&
	test "$(cat resume.rc)" = 0
'

test_expect_success 'resume --help says --yes also reruns a failed step and is not carried over' '
	lb resume --help >help.out &&
	assert_contains help.out "in flight or failed" &&
	assert_contains help.out "the original run${SQ}s --yes is not"
'

test_done
