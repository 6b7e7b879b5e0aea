#!/bin/sh
# Durations in the report are measured, not guessed (SPEC 2, 7): a sleep 0.5 step lasts 0.5 to
# 0.6 s, a phase lasts as long as its steps, the achieved RTO is restored_at - incident_at.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# jtrue FILE EXPR: the Python expression EXPR over the JSON document d is true
jtrue () {
	test "$(json_get "$1" "bool($2)")" = true
}

# ms ISO: the unix milliseconds of an ISO-8601 time
ms () {
	date -u -d "$1" +%s%3N
}

write_runbook half.lua <<-\EOF
return runbook { name = "half", rto = "1m",
	phase "p" { budget = "1s", step "s" { sh = "sleep 0.5" } },
}
EOF

test_expect_success 'a sleep 0.5 step lasts between 0.5 and 0.6 s' '
	expect_code 0 lb run --yes half.lua --report r.json >out &&
	jtrue r.json "0.5 <= d[\"phases\"][0][\"steps\"][0][\"duration_s\"] <= 0.6"
'

test_expect_success 'the phase lasts as long as its step, within its budget' '
	jtrue r.json "0.5 <= d[\"phases\"][0][\"duration_s\"] <= 0.65" &&
	same "$(jv r.json phases.0.over_budget)" false &&
	jtrue r.json "d[\"phases\"][0][\"budget_s\"] == 1"
'

test_expect_success 'started_at and ended_at of the step are its duration apart' '
	start=$(ms "$(jv r.json phases.0.steps.0.started_at)") &&
	end=$(ms "$(jv r.json phases.0.steps.0.ended_at)") &&
	test $((end - start)) -ge 490 &&
	test $((end - start)) -le 610
'

test_expect_success 'the achieved RTO is restored_at - incident_at' '
	t0=$(ms "$(jv r.json incident_at)") &&
	t1=$(ms "$(jv r.json restored_at)") &&
	jtrue r.json "abs(d[\"rto\"][\"achieved_s\"] * 1000 - ($t1 - $t0)) <= 2" &&
	jtrue r.json "0.5 <= d[\"rto\"][\"achieved_s\"] <= 0.7" &&
	jtrue r.json "d[\"rto\"][\"target_s\"] == 60"
'

test_expect_success 'timestamps are UTC ISO-8601 with milliseconds' '
	for f in started_at ended_at incident_at restored_at phases.0.started_at phases.0.steps.0.ended_at
	do
		jv r.json "$f" | grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$" ||
			{ echo "$f is not UTC ISO-8601 with ms: $(jv r.json "$f")"; exit 1; }
	done
'

test_done
