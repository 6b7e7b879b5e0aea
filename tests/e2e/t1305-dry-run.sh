#!/bin/sh
# Issue 13 item 12 (SPEC 3): `run --dry-run FILE` (also drill) loads the runbook with the merged
# params and environment, resolves what it can without side effects, prints each step as it
# would run (command, URL, role, who may confirm), exits 0 and records nothing.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'setup' '
	cat >lifeboat.yaml <<-\EOF &&
	roles:
	  commander: { members: [alice, bob] }
	  sre: {}
	environments:
	  staging: { params: { host: staging.internal } }
	  prod: { drills: false }
	secrets: [LB_T1305_TOKEN]
	EOF
	write_runbook pre.lua <<-\EOF
	return runbook { name = "pre", rto = "10m", roles = { "commander", "sre" },
		params = { host = "localhost", port = "8080", token = "none" },
		phase "break" { fault = true, role = "sre", step "kill it" { sh = "touch broke-t1305" } },
		phase "restore" { role = "sre", budget = "2m",
			step "copy" { sh = "cp backup.db live.db; touch ran-t1305", retries = 2 },
			step "computed" { sh = function(ctx) return "echo restoring " .. ctx.params.host end },
			step "acts" { sh = function(ctx) sh("touch acted-t1305"); return "true" end },
			step "health" { http = "http://${host}:${port}/health", expect = 204 },
			step "sign off" { manual = "check ${host} and confirm", role = "commander" },
		},
	}
	EOF
'

test_expect_success 'run --dry-run prints each step with params and env resolved, exit 0, nothing runs or is recorded' '
	LB_T1305_TOKEN=secret-t1305-value expect_code 0 lb --db h.db run --dry-run --env staging -p port=9090 -p token=secret-t1305-value pre.lua >out &&
	assert_contains out "lifeboat run --dry-run pre" &&
	assert_contains out "fault phases run only in drill mode" &&
	assert_contains out "sh: cp backup.db live.db; touch ran-t1305" &&
	assert_contains out "retries 2" &&
	assert_contains out "sh: echo restoring staging.internal" &&
	assert_contains out "http: GET http://staging.internal:9090/health -> expect 204" &&
	assert_contains out "manual: check staging.internal and confirm" &&
	assert_contains out "role commander, confirmed by alice or bob" &&
	assert_contains out "(decided at run time: " &&
	assert_contains out "token=***" &&
	assert_not_contains out "secret-t1305-value" &&
	test ! -e ran-t1305 && test ! -e acted-t1305 && test ! -e broke-t1305 &&
	test ! -e h.db
'

test_expect_success 'drill --dry-run shows the fault phase; with --yes manual steps are auto-confirmed' '
	LB_T1305_TOKEN=secret-t1305-value expect_code 0 lb --db h.db drill --dry-run --yes pre.lua >out &&
	assert_contains out "▶ break [role sre, fault]" &&
	assert_contains out "sh: touch broke-t1305" &&
	assert_contains out "auto-confirmed (--yes)" &&
	test ! -e broke-t1305 && test ! -e h.db
'

test_expect_success 'a missing secret only warns; a drill in a drills: false environment would be refused (exit 5)' '
	env -u LB_T1305_TOKEN "$LIFEBOAT" --db h.db run --dry-run pre.lua >out 2>err &&
	assert_contains err "warning: lifeboat.yaml:7: secret ${SQ}LB_T1305_TOKEN${SQ} is not set" &&
	LB_T1305_TOKEN=secret-t1305-value expect_code 5 lb --db h.db drill --dry-run --env prod pre.lua 2>err &&
	assert_contains err "a real drill would be refused (exit 5)" &&
	test ! -e h.db
'

test_done
