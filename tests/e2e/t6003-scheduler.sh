#!/bin/sh
# Scheduled drills (SPEC 3, 4): `lifeboat scheduler --once` runs the schedules due now as drills
# (trigger schedule, the schedule's env and yes) and exits with the first exit code in SPEC 3's
# order; a schedule never run before is not back-filled; after downtime a missed drill runs once;
# a drill still running when its runbook is due again is skipped and recorded; yes: false leaves
# manual steps to `lifeboat confirm`; SIGTERM stops the scheduler and its drills cleanly.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

write_runbook ok.lua <<-\EOF
return runbook { name = "ok", roles = { "sre" },
	phase "break" { fault = true, step "f" { sh = "echo fault >>fault-ran" } },
	phase "fix" { role = "sre", step "s" { sh = "echo fixed" } },
}
EOF
write_runbook fail.lua <<-\EOF
return runbook { name = "fail", phase "p" { step "s" { sh = "exit 7" } } }
EOF
write_runbook late.lua <<-\EOF
return runbook { name = "late", rto = "100ms", phase "p" { step "s" { sh = "sleep 0.3" } } }
EOF
write_runbook manual.lua <<-\EOF
return runbook { name = "manual", phase "p" {
	step "sign off" { manual = "Check it" },
	step "after" { sh = "touch after-ran" },
} }
EOF
write_runbook slow.lua <<-\EOF
return runbook { name = "slow", phase "p" { step "s" { sh = "sleep 31.4159" } },
	phase "tidy" { cleanup = true, step "c" { sh = "touch cleaned-up" } } }
EOF

test_expect_success 'a schedule due now runs as a drill with trigger schedule, its env and --yes' '
	early_in_minute &&
	cat >now.yaml <<-\EOF &&
	roles: { sre: { members: [tester] } }
	environments: { staging: { rto: 30m } }
	schedules:
	  - { runbook: ok.lua, cron: "* * * * *", env: staging, yes: true }
	EOF
	expect_code 0 lb --db now.db --config now.yaml scheduler --once >out 2>err &&
	assert_contains out "[ok.lua] lifeboat drill ok" &&
	test "$(sql now.db "select mode, \"trigger\", env, status, rto_target_s from runs")" = "drill|schedule|staging|succeeded|1800.0" &&
	test "$(cat fault-ran)" = fault &&
	test "$(sql now.db "select event from schedule_events order by seq")" = "started
finished" &&
	expect_code 0 lb --db now.db --config now.yaml scheduler --once >out 2>err &&
	assert_contains out "nothing is due" &&
	test "$(sql now.db "select count(*) from runs")" = 1
'

test_expect_success 'a schedule seen for the first time does not back-fill past slots' '
	h=$(( ($(date -u +%H | sed "s/^0//") + 12) % 24 )) &&
	cat >never.yaml <<-EOF &&
	roles: { sre: {} }
	schedules:
	  - { runbook: ok.lua, cron: "0 $h * * *" }
	EOF
	expect_code 0 lb --db never.db --config never.yaml scheduler --once >out 2>err &&
	assert_contains out "nothing is due" &&
	test "$(sql never.db "select count(*) from runs")" = 0 &&
	test "$(sql never.db "select count(*) from schedules where last_run_at is null")" = 1
'

test_expect_success 'after downtime a missed hourly drill runs once, not once per missed slot' '
	early_in_minute &&
	m=$(( ($(date -u +%M | sed "s/^0//") + 30) % 60 )) &&
	cat >hourly.yaml <<-EOF &&
	roles: { sre: {} }
	schedules:
	  - { runbook: ok.lua, cron: "$m * * * *", yes: true }
	EOF
	expect_code 0 lb --db hourly.db --config hourly.yaml scheduler --once >out &&
	assert_contains out "nothing is due" &&
	sql hourly.db "update schedules set last_run_at = strftime(${Q}%s$Q, ${Q}now$Q) - 3 * 3600" &&
	expect_code 0 lb --db hourly.db --config hourly.yaml scheduler --once >out &&
	assert_contains out "starting the drill" &&
	test "$(sql hourly.db "select count(*) from runs")" = 1 &&
	expect_code 0 lb --db hourly.db --config hourly.yaml scheduler --once >out &&
	assert_contains out "nothing is due" &&
	test "$(sql hourly.db "select count(*) from runs")" = 1 &&
	test "$(sql hourly.db "select count(*) from schedule_events where event = ${Q}started$Q")" = 1
'

test_expect_success '--once runs every due drill and exits with the first code in SPEC 3 order' '
	cat >many.yaml <<-\EOF &&
	roles: { sre: {} }
	schedules:
	  - { runbook: late.lua, cron: "* * * * *" }
	  - { runbook: fail.lua, cron: "* * * * *" }
	  - { runbook: ok.lua, cron: "* * * * *", yes: true }
	EOF
	expect_code 1 lb --db many.db --config many.yaml scheduler --once >out 2>err &&
	test "$(sql many.db "select runbook || \":\" || exit_code from runs order by runbook")" = "fail:1
late:3
ok:0"
'

test_expect_success 'yes: false leaves a manual step waiting for lifeboat confirm' '
	cat >manual.yaml <<-\EOF &&
	schedules:
	  - { runbook: manual.lua, cron: "* * * * *", yes: false }
	EOF
	( code=0; timeout -s KILL 60 "$LIFEBOAT" --db manual.db --config manual.yaml scheduler --once \
		>sched.out 2>&1 || code=$?; echo $code >sched.rc ) &
	wait_for "test \"\$(sql manual.db \"select count(*) from steps where name = ${Q}sign off$Q and status = ${Q}running$Q\")\" = 1" 30 &&
	test ! -e after-ran &&
	run=$(sql manual.db "select id from runs") &&
	expect_code 0 lb --db manual.db confirm "$run" >out &&
	wait_for "test -s sched.rc" 30 &&
	test "$(cat sched.rc)" = 0 &&
	test -e after-ran &&
	test "$(sql manual.db "select confirmed_by from steps where name = ${Q}sign off$Q")" = tester
'

test_expect_success 'a runbook whose drill is still running is skipped, and that is recorded' '
	cat >busy.yaml <<-\EOF
	schedules:
	  - { runbook: slow.lua, cron: "* * * * *" }
	EOF
	( timeout -s KILL 60 "$LIFEBOAT" --db busy.db drill slow.lua >slow.out 2>&1 || true ) &
	wait_for "test \"\$(sql busy.db \"select count(*) from runs where status = ${Q}running$Q\")\" = 1" 30 &&
	run=$(sql busy.db "select id from runs") &&
	expect_code 0 lb --db busy.db --config busy.yaml scheduler --once >out 2>err &&
	assert_contains out "skipped, run $run of it is still running" &&
	test "$(sql busy.db "select count(*) from runs")" = 1 &&
	test "$(sql busy.db "select event from schedule_events")" = skipped &&
	test "$(sql busy.db "select count(*) from audit where event = ${Q}schedule_skipped$Q")" = 1 &&
	expect_code 0 lb --db busy.db abort "$run" >out &&
	wait_for "test -e cleaned-up" 30 &&
	wait_for "test \"\$(sql busy.db \"select status from runs\")\" = aborted" 30
'

test_expect_success 'SIGTERM stops the scheduler and its drills cleanly' '
	rm -f cleaned-up &&
	cat >loop.yaml <<-\EOF
	schedules:
	  - { runbook: slow.lua, cron: "* * * * *" }
	EOF
	"$LIFEBOAT" --db loop.db --config loop.yaml scheduler >loop.out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test \"\$(sql loop.db \"select count(*) from steps where name = ${Q}s$Q and status = ${Q}running$Q\")\" = 1" 70 &&
	kill -TERM $pid &&
	rc=0 && wait $pid || rc=$? &&
	test "$rc" = 0 &&
	test -e cleaned-up &&
	test "$(sql loop.db "select status, exit_code, \"trigger\" from runs")" = "aborted|143|schedule" &&
	test "$(sql loop.db "select exit_code from schedule_events where event = ${Q}finished$Q")" = 143 &&
	no_process_matching "sleep 31.4159"
'

test_expect_success 'a schedule in an environment the operator may not run in is refused (exit 5)' '
	cat >perm.yaml <<-\EOF &&
	roles: { sre: { members: [alice] } }
	environments: { prod: {} }
	permissions: { prod: { run: [sre] } }
	schedules:
	  - { runbook: ok.lua, cron: "* * * * *", env: prod, yes: true }
	EOF
	expect_code 5 lb --db perm.db --config perm.yaml scheduler --once >out 2>err &&
	test "$(sql perm.db "select status, operator, \"trigger\" from runs")" = "refused|tester|schedule"
'

test_expect_success 'without a config, or without schedules, the scheduler says what to do (exit 2)' '
	expect_code 2 lb --db x.db scheduler --once >out 2>err &&
	assert_contains err "no config file" &&
	printf "roles: { sre: {} }\n" >empty.yaml &&
	expect_code 2 lb --db x.db --config empty.yaml scheduler --once >out 2>err &&
	assert_contains err "has no schedules"
'

test_done
