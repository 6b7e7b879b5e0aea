#!/bin/sh
# Issue 13 item 1 (SPEC 3): a secret the config declares but the environment does not set stops
# run, drill, console and resume before anything runs (exit 2, naming it and where it belongs);
# check warns and passes. mask(value) makes a value obtained at run time a secret from then on.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'setup: a config declaring a token and a runbook using it' '
	cat >lifeboat.yaml <<-\EOF &&
	# the secrets this project needs
	secrets:
	  - LB_T1300_TOKEN
	EOF
	write_runbook deploy.lua <<-\EOF
	return runbook { name = "deploy",
		phase "p" {
			step "use the token" { sh = [[touch ran-t1300; test -n "$tok" || echo "empty token"]] },
		},
	}
	EOF
'

test_expect_success 'run stops with exit 2 naming the secret and the config line; nothing runs or is recorded' '
	expect_code 2 env -u LB_T1300_TOKEN "$LIFEBOAT" --db h.db run --yes deploy.lua >out 2>err &&
	assert_contains err "lifeboat.yaml:3: secret ${SQ}LB_T1300_TOKEN${SQ} is not set in the environment" &&
	assert_contains err "export LB_T1300_TOKEN=" &&
	test ! -e ran-t1300 &&
	test ! -e h.db
'

test_expect_success 'drill stops the same way' '
	expect_code 2 env -u LB_T1300_TOKEN "$LIFEBOAT" --db h.db drill --yes deploy.lua >out 2>err &&
	assert_contains err "LB_T1300_TOKEN" &&
	test ! -e ran-t1300
'

test_expect_success 'check warns about it and passes (CI lint jobs have no production secrets)' '
	env -u LB_T1300_TOKEN "$LIFEBOAT" check deploy.lua >out 2>err &&
	assert_contains err "warning: lifeboat.yaml:3: secret ${SQ}LB_T1300_TOKEN${SQ} is not set" &&
	assert_contains out "deploy.lua: ok"
'

test_expect_success 'with the secret set the run goes ahead' '
	LB_T1300_TOKEN=tok-123456 expect_code 0 lb --db h.db run --yes deploy.lua >out &&
	test -e ran-t1300
'

test_expect_success 'resume refuses too when the secret is gone' '
	write_runbook slow.lua <<-\EOF
	return runbook { name = "slow", phase "p" {
		step "a" { sh = "true" },
		step "b" { sh = "exec sleep 13.0013" },
	} }
	EOF
	(LB_T1300_TOKEN=tok-123456 "$LIFEBOAT" --db h.db run --yes slow.lua >slow.out 2>&1 &
	 echo $! >pid) &&
	wait_for "test \"\$(sql h.db \"select status from steps where name = ${SQ}b${SQ}\" 2>/dev/null)\" = running" 20 &&
	kill -9 "$(cat pid)" &&
	id=$(sql h.db "select id from runs where runbook = ${SQ}slow${SQ}") &&
	expect_code 2 env -u LB_T1300_TOKEN "$LIFEBOAT" --db h.db resume "$id" >out 2>err &&
	assert_contains err "LB_T1300_TOKEN" &&
	test "$(sql h.db "select status from runs where id = ${SQ}$id${SQ}")" != succeeded
'

test_expect_success 'mask(value) redacts a runtime token in later output, the history and reports' '
	write_runbook token.lua <<-\EOF &&
	return runbook { name = "token",
		phase "p" {
			step "get a token" { run = function(ctx)
				local tok = mask("tk-" .. "987654321")
				ctx.state.tok_len = #tok
				log("got %s", tok)
			end },
			step "use it" { sh = [[echo "using tk-987654321 now"]] },
			step "fail with it" { run = function() error("rejected tk-987654321") end,
				continue_on_error = true },
		},
	}
	EOF
	LB_T1300_TOKEN=tok-123456 expect_code 0 lb --db h.db run --yes token.lua --report r.json >out &&
	assert_contains out "got ***" &&
	assert_contains out "using *** now" &&
	assert_contains out "rejected ***" &&
	assert_not_contains out "987654321" &&
	assert_not_contains r.json "987654321" &&
	sqlite3 h.db .dump >dump.sql &&
	assert_not_contains dump.sql "987654321"
'

test_expect_success 'mask refuses a value too short to be a secret' '
	write_runbook short.lua <<-\EOF &&
	return runbook { name = "short", phase "p" { step "s" { run = function() mask("abc") end } } }
	EOF
	LB_T1300_TOKEN=tok-123456 expect_code 1 lb --db h.db run --yes short.lua >out &&
	assert_contains out "mask: a value of 3 bytes cannot be masked"
'

test_done
