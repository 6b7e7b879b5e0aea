#!/bin/sh
# The edges of SPEC 10's RPO exposure and its Prometheus report: newest_recoverable raising is
# `unmeasured` (exit 4, rpo_exposed sent) even when no RPO is declared — no backup found is a
# finding, RPO or not —, while a time measured without an RPO is `none` (exit 0); ISO-8601 with
# an offset or a fraction counts as the instant it names. Every Prometheus report carries
# lifeboat_last_success_timestamp_seconds for its own mode, 0 while that mode never succeeded,
# and each probe that ran as lifeboat_probe_success{when, probe} (1 passed, 0 failed). A probe
# run without probes prints no empty phase table.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" hook.jsonl hook.port ok >/dev/null 2>&1 &
at_exit "kill $!"

write_runbook norpo.lua <<-\EOF
return runbook { name = "norpo",
	newest_recoverable = function(ctx)
		if fs.exists("raise") then error("no snapshot in backups/") end
		return fs.read("stamp")
	end,
	phase "restore" { step "r" { sh = "true" } },
}
EOF

test_expect_success 'setup: a receiver for rpo_exposed' '
	wait_for "test -s hook.port" 20 &&
	cat >lifeboat.yaml <<-EOF
	notify:
	  webhook: "http://127.0.0.1:$(cat hook.port)/hook"
	  events: [rpo_exposed]
	EOF
'

test_expect_success 'newest_recoverable raising without an RPO: unmeasured, exit 4, rpo_exposed sent' '
	touch raise &&
	expect_code 4 lb --db h.db probe norpo.lua --report u.json >out 2>err &&
	assert_contains err "no snapshot in backups/; the RPO exposure is unmeasured" &&
	assert_contains out "UNMEASURED" &&
	same "$(jv u.json rpo_exposure.status rpo_exposure.target_s exit_code)" "unmeasured null 4" &&
	same "$(sql h.db "select rpo_exposure_status, exit_code from runs")" "unmeasured|4" &&
	wait_for "grep -q rpo_exposed hook.jsonl" 20 &&
	python3 - hook.jsonl <<-\PY
	import json, sys
	e = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
	assert [x["event"] for x in e] == ["rpo_exposed"], e
	assert "RPO none" in e[0]["message"] and "no snapshot in backups/" in e[0]["message"], e[0]
	PY
'

test_expect_success 'a time measured without an RPO is none and exits 0' '
	rm raise && date -u -d "3 hours ago" +%s >stamp &&
	expect_code 0 lb --db h.db probe norpo.lua --report n.json >out &&
	same "$(jv n.json rpo_exposure.status exit_code)" "none 0" &&
	assert_contains out "RPO exposure" &&
	! grep -q "^phase  *role" out &&
	test "$(json_get n.json "10790 < d[\"rpo_exposure\"][\"exposure_s\"] < 10900")" = true
'

test_expect_success 'ISO-8601 with an offset and a fraction is the instant it names' '
	t=$(date -u -d "2 hours ago" +%s) &&
	printf %s "$(TZ=Asia/Kolkata date -d "@$t" +%Y-%m-%dT%H:%M:%S.250+05:30)" >stamp &&
	expect_code 0 lb --db h.db probe norpo.lua --report o.json >out &&
	same "$(jv o.json rpo_exposure.newest_recoverable_at)" "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%S.250Z)" &&
	printf %s "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%S)" >stamp &&
	expect_code 0 lb --db h.db probe norpo.lua --report z.json >out &&
	same "$(jv z.json rpo_exposure.newest_recoverable_at)" "$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%S.000Z)"
'

write_runbook svc.lua <<-\EOF
return runbook { name = "svc", rto = "1m",
	probes = {
		step "store up" { sh = "test ! -e down" },
		step "api \"v2\"" { run = function() end },
	},
	phase "break" { fault = true, step "f" { sh = "true" } },
	phase "restore" { step "r" { sh = "test ! -e fail" } },
}
EOF

# metric FILE NAME LABELS: the value of the sample NAME{runbook="svc",env=""LABELS}
metric () {
	sed -n "s/^$2{runbook=\"svc\",env=\"\"$3} //p" "$1"
}

test_expect_success 'a first run that fails: its own mode has last success 0, the other modes none' '
	touch fail &&
	expect_code 1 lb --db h.db run --yes svc.lua --report r1.prom >out &&
	same "$(metric r1.prom lifeboat_last_success_timestamp_seconds ",mode=\"run\"")" 0 &&
	test "$(grep -c "^lifeboat_last_success_timestamp_seconds{" r1.prom)" = 1 &&
	assert_contains r1.prom "# TYPE lifeboat_last_success_timestamp_seconds gauge" &&
	rm fail
'

test_expect_success 'once it succeeds, the timestamp is that run'\''s end, in its own report and later ones' '
	expect_code 0 lb --db h.db run --yes svc.lua --report r2.json >out &&
	id=$(jv r2.json run_id) &&
	want=$(sql h.db "select (julianday(ended_at) - 2440587.5) * 86400 from runs where id = '\''$id'\''") &&
	expect_code 0 lb --db h.db report "$id" --format prom -o r2.prom >/dev/null &&
	got=$(metric r2.prom lifeboat_last_success_timestamp_seconds ",mode=\"run\"") &&
	awk -v a="$got" -v b="$want" "BEGIN { d = a - b; exit !(d < 0.01 && d > -0.01) }" &&
	touch down &&
	expect_code 1 lb --db h.db drill --yes svc.lua --report d1.prom >out &&
	same "$(metric d1.prom lifeboat_last_success_timestamp_seconds ",mode=\"drill\"")" 0 &&
	same "$(metric d1.prom lifeboat_last_success_timestamp_seconds ",mode=\"run\"")" "$got"
'

test_expect_success 'each probe that ran is a lifeboat_probe_success sample; skipped ones are not' '
	same "$(metric d1.prom lifeboat_probe_success ",when=\"before\",probe=\"store up\"")" 0 &&
	test "$(grep -c "^lifeboat_probe_success{" d1.prom)" = 1 &&
	rm down &&
	expect_code 0 lb --db h.db drill --yes svc.lua --report d2.prom >out &&
	test "$(grep -c "^lifeboat_probe_success{" d2.prom)" = 4 &&
	same "$(metric d2.prom lifeboat_probe_success ",when=\"before\",probe=\"api \\\\\"v2\\\\\"\"")" 1 &&
	same "$(metric d2.prom lifeboat_probe_success ",when=\"after\",probe=\"store up\"")" 1 &&
	test "$(grep -c "^# TYPE lifeboat_probe_success gauge" d2.prom)" = 1
'

test_expect_success 'every metric the Prometheus report writes is in docs/commands.md' '
	grep -o "\"lifeboat_[a-z_]*\"" "$LIFEBOAT_SRC/lib/report-prom.c" | tr -d "\"" | sort -u >metrics &&
	test "$(wc -l <metrics)" -ge 12 &&
	while read -r m; do
		grep -q "\`$m[\`{]" "$LIFEBOAT_SRC/docs/commands.md" || { echo "undocumented: $m"; return 1; }
	done <metrics
'

test_done
