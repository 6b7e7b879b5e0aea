#!/bin/sh
# Rollback (SPEC 1): when a step of a phase finally fails, the phase's rollback steps run, the phase
# is rolled_back and the run fails (exit 1); a failing rollback step is recorded and the rest still
# run; continue_on_error steps never trigger the rollback.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

Q="'"	# a single quote, for SQL strings in the test bodies

test_expect_success 'a failing step runs the rollback: phase rolled_back, run failed, exit 1' '
	write_runbook undo.lua <<-\EOF &&
	return runbook { name = "undo",
		phase "restore" {
			step "copy" { sh = "touch copied" },
			step "verify" { sh = "exit 1" },
			step "never" { sh = "touch never-ran" },
			rollback = { step "put aside" { sh = "mv copied copied.bad" } },
		},
		phase "after" { step "mark" { sh = "touch after-ran" } },
	}
	EOF
	expect_code 1 lb run --yes undo.lua --report r.json >out &&
	test -e copied.bad &&
	test ! -e copied &&
	test ! -e never-ran &&
	test ! -e after-ran &&
	same "$(jv r.json status phases.0.status phases.0.steps.1.status phases.0.steps.2.status)" \
		"failed rolled_back failed skipped" &&
	test "$(json_get r.json "[s[\"name\"] for s in d[\"phases\"][0][\"steps\"] if s[\"status\"] == \"succeeded\"]")" = "[\"copy\", \"put aside\"]"
'

test_expect_success 'a failing rollback step is recorded and the next rollback step still runs' '
	write_runbook badundo.lua <<-\EOF &&
	return runbook { name = "badundo",
		phase "restore" {
			step "s" { sh = "exit 1" },
			rollback = {
				step "undo one" { sh = "echo one >>undone; exit 9" },
				step "undo two" { sh = "echo two >>undone" },
			},
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes badundo.lua --report r.json >out &&
	test "$(cat undone)" = "$(printf "one\ntwo")" &&
	same "$(jv r.json phases.0.status)" rolled_back &&
	test "$(json_get r.json "[(s[\"name\"], s[\"status\"], s[\"exit_code\"]) for s in d[\"phases\"][0][\"steps\"]]")" = "[[\"s\", \"failed\", 1], [\"undo one\", \"failed\", 9], [\"undo two\", \"succeeded\", 0]]" &&
	run=$(jv r.json run_id) &&
	test "$(sql h.db "select count(*) from steps where run_id = $Q$run$Q and name = ${Q}undo one$Q and status = ${Q}failed$Q")" = 1
'

test_expect_success 'a continue_on_error step that fails does not trigger the rollback' '
	write_runbook tolerant.lua <<-\EOF &&
	return runbook { name = "tolerant",
		phase "restore" {
			step "optional" { sh = "exit 1", continue_on_error = true },
			step "next" { sh = "touch next-ran" },
			rollback = { step "undo" { sh = "touch tolerant-rolled-back" } },
		},
	}
	EOF
	expect_code 0 lb run --yes tolerant.lua --report r.json >out &&
	test -e next-ran &&
	test ! -e tolerant-rolled-back &&
	same "$(jv r.json status phases.0.status phases.0.steps.0.status)" \
		"succeeded succeeded failed" &&
	test "$(jv r.json phases.0.steps.2.status)" != succeeded
'

test_expect_success 'a step that passes on a retry does not trigger the rollback' '
	write_runbook retried.lua <<-\EOF &&
	return runbook { name = "retried",
		phase "restore" {
			step "flaky" { retries = 1, retry_delay = "50ms", sh = "test -e once || { touch once; exit 1; }" },
			rollback = { step "undo" { sh = "touch retried-rolled-back" } },
		},
	}
	EOF
	expect_code 0 lb run --yes retried.lua --report r.json >out &&
	test ! -e retried-rolled-back &&
	same "$(jv r.json phases.0.status)" succeeded
'

test_expect_success 'a phase without a failure never runs its rollback' '
	write_runbook fine.lua <<-\EOF &&
	return runbook { name = "fine",
		phase "restore" {
			step "s" { sh = "true" },
			rollback = { step "undo" { sh = "touch fine-rolled-back" } },
		},
		phase "later" { step "t" { sh = "exit 1" } },
	}
	EOF
	expect_code 1 lb run --yes fine.lua --report r.json >out &&
	test ! -e fine-rolled-back &&
	same "$(jv r.json phases.0.status phases.1.status)" \
		"succeeded failed"
'

test_done
