#!/bin/sh
# Fault phases and the incident time t0 (SPEC 1, 2): `run` skips fault phases and t0 is the run's
# start; `drill` runs them and t0 is the end of the last one; --incident-start wins in both modes.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# ms ISO: the unix milliseconds of an ISO-8601 time
ms () {
	date -u -d "$1" +%s%3N
}

# near A B TOLERANCE: |A - B| <= TOLERANCE
near () {
	test "$1" -ge $(($2 - $3)) && test "$1" -le $(($2 + $3))
}

write_runbook chaos.lua <<-\EOF
return runbook { name = "chaos",
	phase "break it" { fault = true, step "f" { sh = "sleep 0.3; touch fault-ran" } },
	phase "break more" { fault = true, step "g" { sh = "touch fault2-ran" } },
	phase "restore" { step "r" { sh = "echo $LIFEBOAT_MODE >mode" } },
}
EOF

test_expect_success 'run skips fault phases, and t0 is the start of the run' '
	expect_code 0 lb run --yes chaos.lua --report r.json >out &&
	test ! -e fault-ran &&
	test ! -e fault2-ran &&
	test "$(cat mode)" = run &&
	same "$(jv r.json mode phases.0.status phases.0.steps.0.status phases.1.status phases.2.status incident_at)" \
		"run skipped skipped skipped succeeded $(jv r.json started_at)"
'

test_expect_success 'drill runs fault phases, and t0 is the end of the last one' '
	expect_code 0 lb drill --yes chaos.lua --report r.json >out &&
	test -e fault-ran &&
	test -e fault2-ran &&
	test "$(cat mode)" = drill &&
	same "$(jv r.json mode phases.0.status phases.1.status)" \
		"drill succeeded succeeded" &&
	t0=$(ms "$(jv r.json incident_at)") &&
	fault_end=$(ms "$(jv r.json phases.1.ended_at)") &&
	start=$(ms "$(jv r.json started_at)") &&
	near "$t0" "$fault_end" 50 &&
	test $((t0 - start)) -ge 300
'

test_expect_success 'the time of the fault phases is not part of the achieved RTO' '
	test "$(json_get r.json "d[\"rto\"][\"achieved_s\"] < 0.25")" = true
'

test_expect_success 'a failing fault phase stops the drill before the recovery' '
	write_runbook badfault.lua <<-\EOF &&
	return runbook { name = "badfault",
		phase "break it" { fault = true, step "f" { sh = "exit 1" } },
		phase "restore" { step "r" { sh = "touch restore-ran" } },
	}
	EOF
	expect_code 1 lb drill --yes badfault.lua --report r.json >out &&
	test ! -e restore-ran &&
	same "$(jv r.json phases.0.status)" failed
'

test_expect_success '--incident-start (unix seconds) sets t0 in a run' '
	t=$(($(date +%s) - 5)) &&
	expect_code 0 lb run --yes --incident-start "$t" chaos.lua --report r.json >out &&
	test "$(ms "$(jv r.json incident_at)")" = "${t}000" &&
	test "$(json_get r.json "5 <= d[\"rto\"][\"achieved_s\"] < 10")" = true
'

test_expect_success '--incident-start (ISO-8601 with a zone) sets t0 in a drill' '
	iso=$(date -u -d "@$(($(date +%s) - 7))" +%Y-%m-%dT%H:%M:%S+00:00) &&
	expect_code 0 lb drill --yes --incident-start "$iso" chaos.lua --report r.json >out &&
	test -e fault-ran &&
	test "$(ms "$(jv r.json incident_at)")" = "$(ms "$iso")" &&
	local_iso=$(TZ=Asia/Kolkata date -d "$iso" +%Y-%m-%dT%H:%M:%S%:z) &&
	expect_code 0 lb run --yes --incident-start "$local_iso" chaos.lua --report r2.json >out &&
	test "$(ms "$(jv r2.json incident_at)")" = "$(ms "$iso")"
'

test_expect_success '--incident-start without a zone is refused: exit 2' '
	expect_code 2 lb run --yes --incident-start "2026-01-01T00:00:00" chaos.lua >out 2>err &&
	assert_contains err "incident-start"
'

test_done
