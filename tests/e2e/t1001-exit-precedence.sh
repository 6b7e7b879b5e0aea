#!/bin/sh
# When several exit codes apply, the first in the order 2, 5, 143, 130, 1, 3, 4, 6, 0 wins (SPEC 3).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'a failed step and a missed RTO exit 1' '
	write_runbook failslow.lua <<-\EOF &&
	return runbook { name = "failslow", rto = "100ms",
		phase "restore" { restores_service = true, step "s" { sh = "sleep 0.3" } },
		phase "verify" { step "v" { sh = "exit 3" } },
	}
	EOF
	expect_code 1 lb run --yes failslow.lua --report r.json >out &&
	same "$(jv r.json status rto.met phases.1.steps.0.status)" \
		"failed false failed"
'

test_expect_success 'a step failing in the restoring phase leaves no achieved RTO: still exit 1' '
	write_runbook noservice.lua <<-\EOF &&
	return runbook { name = "noservice", rto = "1m", rpo = "1h",
		phase "restore" { step "s" { sh = "false" } },
	}
	EOF
	expect_code 1 lb run --yes noservice.lua --report r.json >out &&
	same "$(jv r.json rto.achieved_s restored_at rto.met)" \
		"null null false"
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
	same "$(jv r.json rto.met rpo.status)" \
		"false missed"
'

test_expect_success 'a missed RTO and an unmeasured RPO exit 3' '
	write_runbook blindslow.lua <<-\EOF &&
	return runbook { name = "blindslow", rto = "100ms", rpo = "1m",
		phase "restore" { step "s" { sh = "sleep 0.3" } },
	}
	EOF
	expect_code 3 lb run --yes blindslow.lua --report r.json >out &&
	same "$(jv r.json rto.met rpo.status)" \
		"false unmeasured"
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
	same "$(jv r.json phases.0.over_budget rpo.status rto.met)" \
		"true missed true"
'

test_expect_success 'over budget with --strict-budgets and a missed RTO exit 3' '
	write_runbook budgetrto.lua <<-\EOF &&
	return runbook { name = "budgetrto", rto = "100ms",
		phase "restore" { budget = "100ms", step "s" { sh = "sleep 0.3" } },
	}
	EOF
	expect_code 3 lb run --yes --strict-budgets budgetrto.lua --report r.json >out &&
	same "$(jv r.json phases.0.over_budget rto.met)" \
		"true false"
'

test_done
