#!/bin/sh
# Issue 10 item 5 (SPEC 3): after kill -9 and resume, a secret param and a secret in ctx.state
# come back as their values, not "***": the history keeps a named placeholder (never the value),
# and resume takes the value from the environment again, refusing (exit 2) when it is not set.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"
CANARY='pa"ss\word-t1304'
export CANARY

test_expect_success 'setup' '
	printf "secrets: [LB_T1304_PW]\n" >lifeboat.yaml &&
	write_runbook sec.lua <<-\EOF
	return runbook { name = "sec", params = { pw = "none" },
		phase "p" {
			step "keep" { run = function(ctx) ctx.state.pw = secret("LB_T1304_PW"); ctx.state.n = 1 end },
			step "wait" { sh = "test -e go || exec sleep 19.1304" },
			step "check" { run = function(ctx)
				assert(ctx.params.pw == secret("LB_T1304_PW"), "param pw came back as " .. ctx.params.pw)
				assert(ctx.state.pw == secret("LB_T1304_PW"), "state pw came back as " .. tostring(ctx.state.pw))
			end },
			step "env" { sh = [[test "$pw" = "$LB_T1304_PW"]] },
		},
	}
	EOF
'

test_expect_success 'kill -9 mid-run, resume: the secret param and state come back from the environment' '
	(LB_T1304_PW=$CANARY "$LIFEBOAT" --db h.db run --yes -p "pw=$CANARY" sec.lua >run.out 2>&1 &
	 echo $! >pid) &&
	wait_for "test \"\$(sql h.db \"select status from steps where name = ${SQ}wait${SQ}\" 2>/dev/null)\" = running" 20 &&
	kill -9 "$(cat pid)" &&
	id=$(sql h.db "select id from runs") &&
	sqlite3 h.db .dump >dump.sql &&
	assert_not_contains dump.sql "word-t1304" &&
	assert_contains dump.sql "<secret:LB_T1304_PW>" &&
	touch go &&
	LB_T1304_PW=$CANARY expect_code 0 lb --db h.db resume "$id" >resume.out &&
	test "$(sql h.db "select status from runs")" = succeeded &&
	sqlite3 h.db .dump >dump2.sql &&
	assert_not_contains dump2.sql "word-t1304"
'

test_expect_success 'resume refuses with exit 2 when the secret a run kept is no longer set' '
	rm -f go &&
	(LB_T1304_PW=$CANARY "$LIFEBOAT" --db h2.db run --yes -p "pw=$CANARY" sec.lua >run.out 2>&1 &
	 echo $! >pid) &&
	wait_for "test \"\$(sql h2.db \"select status from steps where name = ${SQ}wait${SQ}\" 2>/dev/null)\" = running" 20 &&
	kill -9 "$(cat pid)" &&
	id=$(sql h2.db "select id from runs") &&
	printf "secrets: []\n" >other.yaml &&
	LB_T1304_PW=$CANARY expect_code 2 lb --db h2.db --config other.yaml resume "$id" 2>err &&
	assert_contains err "LB_T1304_PW" &&
	test "$(sql h2.db "select status from steps where name = ${SQ}check${SQ}")" = pending
'

test_done
