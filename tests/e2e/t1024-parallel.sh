#!/bin/sh
# parallel = N runs up to N steps of a phase at once; once one fails, no new one starts (SPEC 1).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'four 1 s steps in a parallel = 4 phase take well under 2 s' '
	write_runbook wide.lua <<-\EOF &&
	return runbook { name = "wide",
		phase "p" { parallel = 4,
			step "a" { sh = "sleep 1" },
			step "b" { sh = "sleep 1" },
			step "c" { sh = "sleep 1" },
			step "d" { sh = "sleep 1" },
		},
	}
	EOF
	elapsed_ms expect_code 0 lb run --yes wide.lua --report r.json >out &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 1800 &&
	same "$(jv r.json phases.0.status)" succeeded &&
	test "$(json_get r.json "[s[\"status\"] for s in d[\"phases\"][0][\"steps\"]]")" = "[\"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\"]"
'

test_expect_success 'parallel = 2 never runs more than 2 steps at once' '
	write_runbook two.lua <<-\EOF &&
	return runbook { name = "two",
		phase "p" { parallel = 2,
			step "a" { sh = "sh ./probe.sh" },
			step "b" { sh = "sh ./probe.sh" },
			step "c" { sh = "sh ./probe.sh" },
			step "d" { sh = "sh ./probe.sh" },
			step "e" { sh = "sh ./probe.sh" },
		},
	}
	EOF
	cat >probe.sh <<-\EOF &&
	mkdir "running.$LIFEBOAT_STEP"
	ls -d running.* | wc -l >>concurrency
	sleep 0.3
	rmdir "running.$LIFEBOAT_STEP"
	EOF
	expect_code 0 lb run --yes two.lua >out &&
	test "$(wc -l <concurrency)" -eq 5 &&
	test "$(sort -n concurrency | tail -n 1)" -eq 2
'

test_expect_success 'a failing step in a parallel phase stops new ones from starting' '
	write_runbook failwide.lua <<-\EOF &&
	return runbook { name = "failwide",
		phase "p" { parallel = 2,
			step "fails" { sh = "exit 1" },
			step "slow" { sh = "sleep 0.5; touch slow-done" },
			step "third" { sh = "touch third-ran" },
			step "fourth" { sh = "touch fourth-ran" },
		},
		phase "after" { step "mark" { sh = "touch after-ran" } },
	}
	EOF
	expect_code 1 lb run --yes failwide.lua --report r.json >out &&
	test ! -e third-ran &&
	test ! -e fourth-ran &&
	test ! -e after-ran &&
	same "$(jv r.json phases.0.status phases.0.steps.0.status phases.0.steps.2.status phases.0.steps.3.status phases.0.steps.2.attempts)" \
		"failed failed skipped skipped 0"
'

test_expect_success 'a continue_on_error failure in a parallel phase lets the others go on' '
	write_runbook tolerant.lua <<-\EOF &&
	return runbook { name = "tolerant",
		phase "p" { parallel = 2,
			step "fails" { sh = "exit 1", continue_on_error = true },
			step "b" { sh = "touch b-ran" },
			step "c" { sh = "touch c-ran" },
		},
	}
	EOF
	expect_code 0 lb run --yes tolerant.lua --report r.json >out &&
	test -e b-ran &&
	test -e c-ran &&
	same "$(jv r.json phases.0.steps.0.status status)" \
		"failed succeeded"
'

test_done
