#!/bin/sh
# manual steps (SPEC 1, 4): --yes confirms them as the operator, recorded as automatic; without
# --yes and without a terminal the step fails saying how to confirm (--yes, the console).
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# jv FILE a.b.0.c: the JSON value at that path, printed as json_get prints it
jv () {
	json_get "$1" "d$(printf '%s\n' "$2" | awk -F. '{ for (i = 1; i <= NF; i++) printf($i ~ /^[0-9]+$/ ? "[%s]" : "[\"%s\"]", $i) }')"
}

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
	by=$(jv r.json phases.0.steps.0.confirmed_by) &&
	case $by in *tester*--yes*) ;; *) echo "confirmed_by: $by"; exit 1 ;; esac &&
	test "$(jv r.json phases.0.steps.0.kind)" = manual &&
	test "$(jv r.json phases.0.steps.0.role)" = commander
'

test_expect_success '--as names the operator who confirms' '
	expect_code 0 lb --db h.db --as alice run --yes signoff.lua --report r.json >out &&
	test "$(jv r.json operator)" = alice &&
	by=$(jv r.json phases.0.steps.0.confirmed_by) &&
	case $by in *alice*--yes*) ;; *) echo "confirmed_by: $by"; exit 1 ;; esac
'

test_expect_success 'the manual text expands ${name} from params, and -p overrides it' '
	run=$(jv r.json run_id) &&
	test "$(sql h.db "select count(*) from steps where run_id = $Q$run$Q and output like ${Q}%Check the grafana dashboard%$Q")" = 1 &&
	expect_code 0 lb --db h.db run --yes -p dash=kibana signoff.lua --report r2.json >out &&
	run=$(jv r2.json run_id) &&
	test "$(sql h.db "select count(*) from steps where run_id = $Q$run$Q and output like ${Q}%Check the kibana dashboard%$Q")" = 1
'

test_expect_success 'without --yes and without a terminal the step fails, naming --yes and the console' '
	rm -f after-ran &&
	expect_code 1 lb --db h.db run signoff.lua --report r.json >out 2>err &&
	test ! -e after-ran &&
	test "$(jv r.json phases.0.steps.0.status)" = failed &&
	test "$(jv r.json phases.0.steps.0.confirmed_by)" = null &&
	cat out err >all &&
	assert_contains all "--yes" &&
	assert_contains all "console" &&
	err=$(jv r.json phases.0.steps.0.error) &&
	case $err in *--yes*console*) ;; *) echo "error: $err"; exit 1 ;; esac
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
