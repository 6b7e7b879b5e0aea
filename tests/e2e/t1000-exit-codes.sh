#!/bin/sh
# Exit codes of `run` (SPEC 3): 0, 1, 2, 3, 4 (missed and unmeasured RPO) and 6, each with the
# verdict the JSON report gives for it. 5 is in t1002, 130 and 143 in t1003, the precedence in t1001.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# jtrue FILE EXPR: the Python expression EXPR over the JSON document d is true
jtrue () {
	test "$(json_get "$1" "bool($2)")" = true
}

# no_runs DB: no run reached that history (the file may not even exist)
no_runs () {
	test ! -e "$1" || test "$(sql "$1" "select count(*) from runs")" = 0
}

test_expect_success 'a run that succeeds and meets its objectives exits 0' '
	write_runbook ok.lua <<-\EOF &&
	return runbook { name = "ok", rto = "1m", rpo = "1h",
		recovery_point = function(ctx) return now() - 60 end,
		phase "p" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 0 lb run --yes ok.lua --report r.json >out &&
	same "$(jv r.json status exit_code rto.met rpo.met rpo.status)" \
		"succeeded 0 true true met"
'

test_expect_success 'a failing step exits 1 and the phases after it do not run' '
	write_runbook fail.lua <<-\EOF &&
	return runbook { name = "fail",
		phase "p" { step "s" { sh = "exit 7" } },
		phase "later" { step "mark" { sh = "touch later-ran" } },
	}
	EOF
	expect_code 1 lb run --yes fail.lua --report r.json >out &&
	same "$(jv r.json status exit_code phases.0.status phases.0.steps.0.status phases.0.steps.0.exit_code phases.1.status)" \
		"failed 1 failed failed 7 skipped" &&
	test ! -e later-ran
'

test_expect_success 'an unknown global option or command exits 2 and says so' '
	expect_code 2 lb --db u/h.db --no-such-option history 2>err &&
	assert_contains err "--no-such-option" &&
	expect_code 2 lb --db u/h.db frobnicate 2>err &&
	assert_contains err "frobnicate" &&
	no_runs u/h.db
'

test_expect_success 'bad run options exit 2 and nothing runs' '
	write_runbook marker.lua <<-\EOF &&
	return runbook { name = "marker", params = { who = "me" },
		phase "p" { step "s" { sh = "touch marker" } },
	}
	EOF
	expect_code 2 lb --db b/h.db run --yes --no-such-option marker.lua 2>err &&
	assert_contains err "--no-such-option" &&
	expect_code 2 lb --db b/h.db run --yes -p whom=you marker.lua 2>err &&
	assert_contains err "whom" &&
	expect_code 2 lb --db b/h.db run --yes --incident-start "yesterday at noon" marker.lua 2>err &&
	assert_contains err "yesterday at noon" &&
	expect_code 2 lb --db b/h.db run --yes no-such-file.lua 2>err &&
	assert_contains err "no-such-file.lua" &&
	test ! -e marker &&
	no_runs b/h.db
'

test_expect_success 'a missed RTO exits 3' '
	write_runbook slow.lua <<-\EOF &&
	return runbook { name = "slow", rto = "100ms",
		phase "p" { step "s" { sh = "sleep 0.3" } },
	}
	EOF
	expect_code 3 lb run --yes slow.lua --report r.json >out &&
	same "$(jv r.json status rto.met)" \
		"succeeded false" &&
	jtrue r.json "d[\"rto\"][\"target_s\"] == 0.1" &&
	jtrue r.json "d[\"rto\"][\"achieved_s\"] >= 0.3"
'

test_expect_success 'an incident that started an hour ago misses the RTO: exit 3' '
	write_runbook quick.lua <<-\EOF &&
	return runbook { name = "quick", rto = "15m",
		phase "p" { step "s" { sh = "true" } },
	}
	EOF
	hour_ago=$(($(date +%s) - 3600)) &&
	expect_code 3 lb run --yes --incident-start "$hour_ago" quick.lua --report r.json >out &&
	same "$(jv r.json rto.met)" false &&
	jtrue r.json "3600 <= d[\"rto\"][\"achieved_s\"] < 3660"
'

test_expect_success 'a recovery point older than the RPO exits 4' '
	write_runbook stale.lua <<-\EOF &&
	return runbook { name = "stale", rto = "1m", rpo = "1m",
		phase "restore" {
			step "restore" { run = function(ctx) recovery_point(now() - 3600) end },
		},
	}
	EOF
	expect_code 4 lb run --yes stale.lua --report r.json >out &&
	same "$(jv r.json status rto.met rpo.met rpo.status)" \
		"succeeded true false missed" &&
	jtrue r.json "d[\"rpo\"][\"target_s\"] == 60" &&
	jtrue r.json "3599 <= d[\"rpo\"][\"achieved_s\"] < 3620"
'

test_expect_success 'a declared RPO with no recovery point is unmeasured: exit 4' '
	write_runbook blind.lua <<-\EOF &&
	return runbook { name = "blind", rpo = "1h",
		phase "p" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 4 lb run --yes blind.lua --report r.json >out &&
	same "$(jv r.json rpo.status rpo.met rpo.achieved_s)" \
		"unmeasured false null"
'

test_expect_success 'a raising recovery_point function leaves the RPO unmeasured: exit 4' '
	write_runbook raising.lua <<-\EOF &&
	return runbook { name = "raising", rpo = "1h",
		recovery_point = function(ctx) error("no store to look at") end,
		phase "p" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 4 lb run --yes raising.lua --report r.json >out 2>err &&
	same "$(jv r.json rpo.status)" unmeasured
'

test_expect_success 'a phase over its budget exits 6 with --strict-budgets, 0 without' '
	write_runbook budget.lua <<-\EOF &&
	return runbook { name = "budget",
		phase "p" { budget = "100ms", step "s" { sh = "sleep 0.3" } },
	}
	EOF
	expect_code 6 lb run --yes --strict-budgets budget.lua --report strict.json >out &&
	same "$(jv strict.json phases.0.over_budget exit_code)" \
		"true 6" &&
	expect_code 0 lb run --yes budget.lua --report lax.json >out &&
	same "$(jv lax.json phases.0.over_budget status)" \
		"true succeeded"
'

test_done
