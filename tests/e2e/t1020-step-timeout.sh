#!/bin/sh
# A sh step's timeout stops its whole process group (SPEC 1): the step is timed_out, the run exits
# 1, and nothing the step started is left running, not even a child that ignores SIGTERM.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# jtrue FILE EXPR: the Python expression EXPR over the JSON document d is true
jtrue () {
	test "$(json_get "$1" "bool($2)")" = true
}

test_expect_success 'a timed-out step leaves no process of its group alive' '
	write_runbook timeout.lua <<-\EOF &&
	return runbook { name = "timeout",
		phase "p" { step "s" { sh = "sleep 31.337 & sleep 31.338; true", timeout = "500ms" } },
		phase "after" { step "mark" { sh = "touch after-ran" } },
	}
	EOF
	elapsed_ms expect_code 1 lb run --yes timeout.lua --report r.json >out &&
	test "$LAST_CODE" = 0 &&
	no_step_process "sleep 31.33[78]" &&
	same "$(jv r.json status phases.0.steps.0.status phases.0.status phases.1.status)" \
		"failed timed_out failed skipped" &&
	test ! -e after-ran &&
	jtrue r.json "0.5 <= d[\"phases\"][0][\"steps\"][0][\"duration_s\"] < 5" &&
	test "$ELAPSED_MS" -lt 5000
'

test_expect_success 'a child that ignores SIGTERM is killed after the grace period' '
	write_runbook stubborn.lua <<-\EOF &&
	return runbook { name = "stubborn",
		phase "p" { step "s" { timeout = "300ms",
			sh = "trap \"\" TERM; sleep 31.339 & sleep 31.340" } },
	}
	EOF
	expect_code 1 lb run --yes stubborn.lua --report r.json >out &&
	no_step_process "sleep 31.3(39|40)" &&
	same "$(jv r.json phases.0.steps.0.status)" timed_out
'

test_expect_success 'each retry of a timing-out step has its own timeout and is stopped' '
	write_runbook retrytimeout.lua <<-\EOF &&
	return runbook { name = "retrytimeout",
		phase "p" { step "s" { sh = "echo x >>tries; exec sleep 31.341", timeout = "200ms",
			retries = 1, retry_delay = "50ms" } },
	}
	EOF
	expect_code 1 lb run --yes retrytimeout.lua --report r.json >out &&
	no_step_process "sleep 31.341" &&
	test "$(wc -l <tries)" -eq 2 &&
	same "$(jv r.json phases.0.steps.0.attempts phases.0.steps.0.status)" \
		"2 timed_out"
'

test_expect_success 'the runbook step_timeout is the default timeout' '
	write_runbook steptimeout.lua <<-\EOF &&
	return runbook { name = "steptimeout", step_timeout = "300ms",
		phase "p" { step "s" { sh = "exec sleep 31.342" } },
	}
	EOF
	expect_code 1 lb run --yes steptimeout.lua --report r.json >out &&
	no_step_process "sleep 31.342" &&
	same "$(jv r.json phases.0.steps.0.status)" timed_out
'

test_done
