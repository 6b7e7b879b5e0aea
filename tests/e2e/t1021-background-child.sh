#!/bin/sh
# When a sh step's shell exits, what it left in its group is stopped and its pipes are drained for
# at most 1 s: a step never hangs on a background child (SPEC 1).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'a step that backgrounds a child and exits finishes at once' '
	write_runbook bg.lua <<-\EOF &&
	return runbook { name = "bg",
		phase "p" { step "s" { sh = "sleep 30.111 & echo done" } },
		phase "q" { step "t" { sh = "echo next" } },
	}
	EOF
	elapsed_ms expect_code 0 lb run --yes bg.lua --report r.json >out &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 1500 &&
	no_step_process "sleep 30.111" &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.0.exit_code phases.1.steps.0.status)" \
		"succeeded 0 succeeded" &&
	assert_contains out "done"
'

test_expect_success 'a background child that holds stdout and stderr open does not hang the step' '
	write_runbook holder.lua <<-\EOF &&
	return runbook { name = "holder",
		phase "p" { step "s" { sh = "(exec sleep 30.112) & (exec sleep 30.113 >&2) & echo out" } },
	}
	EOF
	elapsed_ms expect_code 0 lb run --yes holder.lua >out &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 1500 &&
	no_step_process "sleep 30.11[23]"
'

test_expect_success 'a failing step with a background child fails at once with its exit code' '
	write_runbook bgfail.lua <<-\EOF &&
	return runbook { name = "bgfail",
		phase "p" { step "s" { sh = "sleep 30.114 & exit 4" } },
	}
	EOF
	elapsed_ms expect_code 1 lb run --yes bgfail.lua --report r.json >out &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 1500 &&
	no_step_process "sleep 30.114" &&
	same "$(jv r.json phases.0.steps.0.exit_code)" 4
'

test_expect_success 'a step runs with the CPU affinity lifeboat was given (lifeboat pins itself only around vfork)' '
	write_runbook aff.lua <<-\EOF &&
	return runbook { name = "aff",
		phase "p" { step "mask" { sh = "grep Cpus_allowed_list: /proc/self/status" } },
	}
	EOF
	expect_code 0 lb --db aff.db -q run --yes aff.lua >out 2>err &&
	same "$(sql aff.db "select output from steps")" "$(grep Cpus_allowed_list: /proc/self/status)" &&
	expect_code 0 taskset -c 0 "$LIFEBOAT" --db aff0.db -q run --yes aff.lua >out 2>err &&
	same "$(sql aff0.db "select output from steps" | cut -f2)" 0
'

test_done
