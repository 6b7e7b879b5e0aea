#!/bin/sh
# When several exit codes apply, the first in the order 2, 5, 143, 130, 1, 3, 4, 6, 0 wins (SPEC 3).
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# jv FILE a.b.0.c: the JSON value at that path, printed as json_get prints it
jv () {
	json_get "$1" "d$(printf '%s\n' "$2" | awk -F. '{ for (i = 1; i <= NF; i++) printf($i ~ /^[0-9]+$/ ? "[%s]" : "[\"%s\"]", $i) }')"
}

test_expect_success 'a failed step and a missed RTO exit 1' '
	write_runbook failslow.lua <<-\EOF &&
	return runbook { name = "failslow", rto = "100ms",
		phase "restore" { restores_service = true, step "s" { sh = "sleep 0.3" } },
		phase "verify" { step "v" { sh = "exit 3" } },
	}
	EOF
	expect_code 1 lb run --yes failslow.lua --report r.json >out &&
	test "$(jv r.json status)" = failed &&
	test "$(jv r.json rto.met)" = false &&
	test "$(jv r.json phases.1.steps.0.status)" = failed
'

test_expect_success 'a step failing in the restoring phase leaves no achieved RTO: still exit 1' '
	write_runbook noservice.lua <<-\EOF &&
	return runbook { name = "noservice", rto = "1m", rpo = "1h",
		phase "restore" { step "s" { sh = "false" } },
	}
	EOF
	expect_code 1 lb run --yes noservice.lua --report r.json >out &&
	test "$(jv r.json rto.achieved_s)" = null &&
	test "$(jv r.json restored_at)" = null &&
	test "$(jv r.json rto.met)" = false
'

test_expect_success 'a missed RTO and a missed RPO exit 3' '
	write_runbook both.lua <<-\EOF &&
	return runbook { name = "both", rto = "100ms", rpo = "1m",
		phase "restore" {
			step "s" { sh = "sleep 0.3" },
			step "rp" { run = function(ctx) recovery_point(now() - 3600) end },
		},
	}
	EOF
	expect_code 3 lb run --yes both.lua --report r.json >out &&
	test "$(jv r.json rto.met)" = false &&
	test "$(jv r.json rpo.status)" = missed
'

test_expect_success 'a missed RTO and an unmeasured RPO exit 3' '
	write_runbook blindslow.lua <<-\EOF &&
	return runbook { name = "blindslow", rto = "100ms", rpo = "1m",
		phase "restore" { step "s" { sh = "sleep 0.3" } },
	}
	EOF
	expect_code 3 lb run --yes blindslow.lua --report r.json >out &&
	test "$(jv r.json rto.met)" = false &&
	test "$(jv r.json rpo.status)" = unmeasured
'

test_expect_success 'over budget with --strict-budgets and a missed RPO exit 4' '
	write_runbook budgetrpo.lua <<-\EOF &&
	return runbook { name = "budgetrpo", rto = "1m", rpo = "1m",
		phase "restore" { budget = "100ms",
			step "s" { sh = "sleep 0.3" },
			step "rp" { run = function(ctx) recovery_point(now() - 3600) end },
		},
	}
	EOF
	expect_code 4 lb run --yes --strict-budgets budgetrpo.lua --report r.json >out &&
	test "$(jv r.json phases.0.over_budget)" = true &&
	test "$(jv r.json rpo.status)" = missed &&
	test "$(jv r.json rto.met)" = true
'

test_expect_success 'over budget with --strict-budgets and a missed RTO exit 3' '
	write_runbook budgetrto.lua <<-\EOF &&
	return runbook { name = "budgetrto", rto = "100ms",
		phase "restore" { budget = "100ms", step "s" { sh = "sleep 0.3" } },
	}
	EOF
	expect_code 3 lb run --yes --strict-budgets budgetrto.lua --report r.json >out &&
	test "$(jv r.json phases.0.over_budget)" = true &&
	test "$(jv r.json rto.met)" = false
'

test_done
