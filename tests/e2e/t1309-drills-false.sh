#!/bin/sh
# Issue 13 item 13 (SPEC 4): an environment with `drills: false` refuses `drill` and drill
# schedules (exit 5, recorded as refused): faults are never injected there by mistake.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'setup' '
	cat >lifeboat.yaml <<-\EOF &&
	environments:
	  staging: {}
	  prod: { drills: false }
	schedules:
	  - { runbook: f.lua, cron: "* * * * *", env: prod, yes: true }
	EOF
	write_runbook f.lua <<-\EOF
	return runbook { name = "f",
		phase "break" { fault = true, step "inject" { sh = "touch injected-t1309" } },
		phase "fix" { step "s" { sh = "touch fixed-t1309" } },
	}
	EOF
'

test_expect_success 'drill --env prod is refused with exit 5, recorded as refused; nothing runs' '
	expect_code 5 lb --db h.db drill --yes --env prod f.lua 2>err &&
	assert_contains err "environment ${SQ}prod${SQ} sets drills: false" &&
	test ! -e injected-t1309 && test ! -e fixed-t1309 &&
	test "$(sql h.db "select status || ${SQ}|${SQ} || mode || ${SQ}|${SQ} || env from runs")" = "refused|drill|prod"
'

test_expect_success 'run in prod and drill in staging still work' '
	expect_code 0 lb --db h.db run --yes --env prod f.lua >out &&
	test -e fixed-t1309 && test ! -e injected-t1309 &&
	expect_code 0 lb --db h.db drill --yes --env staging f.lua >out &&
	test -e injected-t1309
'

test_expect_success 'a drill schedule for prod is refused and recorded as refused' '
	rm -f injected-t1309 &&
	expect_code 5 lb --db s.db scheduler --once >out 2>err &&
	test ! -e injected-t1309 &&
	test "$(sql s.db "select status || ${SQ}|${SQ} || trigger from runs")" = "refused|schedule"
'

test_expect_success 'drills: must be true or false' '
	printf "environments:\n  prod: { drills: maybe }\n" >bad.yaml &&
	expect_code 2 lb --config bad.yaml check f.lua 2>err &&
	assert_contains err "bad.yaml:2:19: environments.prod.drills: ${SQ}maybe${SQ} is not true or false"
'

test_done
