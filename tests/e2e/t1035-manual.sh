#!/bin/sh
# manual steps (SPEC 1, 4): --yes confirms them as the operator, recorded as automatic
# (confirmed_by the operator, auto_confirmed true); without
# --yes and without a terminal the step fails saying how to confirm (--yes, the console).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook signoff.lua <<-\EOF
return runbook { name = "signoff", params = { dash = "grafana" },
	phase "verify" { role = "sre",
		step "commander signs off" { manual = "Check the ${dash} dashboard", role = "commander" },
		step "after" { sh = "touch after-ran" },
	},
}
EOF

Q="'"	# a single quote, for SQL strings in the test bodies

test_expect_success '--yes confirms a manual step as the operator, marked --yes' '
	expect_code 0 lb --db h.db run --yes signoff.lua --report r.json >out &&
	test -e after-ran &&
	s=$(jv r.json phases.0.steps.0.status) &&
	test "$s" = succeeded &&
	same "$(jv r.json phases.0.steps.0.confirmed_by phases.0.steps.0.auto_confirmed)" "tester true" &&
	same "$(jv r.json phases.0.steps.0.kind phases.0.steps.0.role)" \
		"manual commander"
'

test_expect_success '--as names the operator who confirms' '
	expect_code 0 lb --db h.db --as alice run --yes signoff.lua --report r.json >out &&
	same "$(jv r.json operator)" alice &&
	same "$(jv r.json phases.0.steps.0.confirmed_by phases.0.steps.0.auto_confirmed)" "alice true"
'

test_expect_success 'the manual text expands ${name} from params, and -p overrides it' '
	run=$(jv r.json run_id) &&
	test "$(sql h.db "select count(*) from steps where run_id = $Q$run$Q and output like ${Q}%Check the grafana dashboard%$Q")" = 1 &&
	expect_code 0 lb --db h.db run --yes -p dash=kibana signoff.lua --report r2.json >out &&
	run=$(jv r2.json run_id) &&
	test "$(sql h.db "select count(*) from steps where run_id = $Q$run$Q and output like ${Q}%Check the kibana dashboard%$Q")" = 1
'

# Bounded by timeout(1): a run that waits for a person forever would hang the suite.
test_expect_success 'without --yes and without a terminal the step waits, printing how to confirm it' '
	rm -f after-ran
	"$LIFEBOAT" --db h.db run signoff.lua --report r.json >out 2>err &
	pid=$! &&
	wait_for "grep -q \"confirm \" out" 10 &&
	assert_contains out "lifeboat --db" &&
	test ! -e after-ran &&
	id=$(lb --db h.db history --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	grep -q "confirm $id" out &&
	LIFEBOAT_USER=alice lb --db h.db confirm "$id" >c &&
	wait $pid &&
	test -e after-ran &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.0.confirmed_by)" "succeeded alice"
'

test_expect_success 'a waiting manual step with a timeout fails when nobody answers' '
	write_runbook t.lua <<-\EOF &&
	return runbook { name = "t",
		phase "p" { step "ok?" { manual = "go?", timeout = "1s" } },
	}
	EOF
	expect_code 1 timeout -k 3 10 "$LIFEBOAT" --db h.db run t.lua --report r.json >out 2>err &&
	same "$(jv r.json phases.0.steps.0.status)" "timed_out"
'

test_expect_success 'a function-valued manual text is called when the step starts' '
	write_runbook fn.lua <<-\EOF &&
	return runbook { name = "fn",
		phase "p" {
			step "compute" { run = function(ctx) ctx.state.who = "the on-call" end },
			step "ask" { manual = function(ctx) return "Page " .. ctx.state.who .. " in " .. ctx.mode end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes fn.lua --report r.json >out &&
	run=$(jv r.json run_id) &&
	test "$(sql h.db "select count(*) from steps where run_id = $Q$run$Q and output like ${Q}%Page the on-call in run%$Q")" = 1
'

test_done
