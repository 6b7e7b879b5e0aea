#!/bin/sh
# `lifeboat probe` and the RPO exposure (SPEC 10): it runs only the probes (no phase, no lock),
# is recorded as a run of mode probe with its results under probes.before, and measures now -
# newest_recoverable() against the RPO: a backup older than the RPO exits 4 and shows in the
# Prometheus report, a fresh one exits 0, a raising function is `unmeasured` (exit 4); history
# trends it; every Prometheus report carries the last success of each mode.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

write_runbook backup.lua <<-\EOF
return runbook { name = "backup", rpo = "1h",
	probes = {
		step "store readable" { sh = "echo probing >>probed; test -r store.db" },
		step "lua check" { run = function(ctx) log("mode %s", ctx.mode) end },
	},
	newest_recoverable = function(ctx)
		if fs.exists("raise") then error("no snapshot found in backups/") end
		if fs.exists("stamp") then return fs.read("stamp") end
		return fs.mtime("backups/latest.db")
	end,
	recovery_point = function() return now() end,
	phase "break" { fault = true, step "f" { sh = "touch injected" } },
	phase "restore" { step "r" { sh = "touch restored; sleep ${hold}" } },
	params = { hold = "0" },
}
EOF
mkdir -p backups
touch store.db

test_expect_success 'a fresh backup: probe runs only the probes and exits 0' '
	touch backups/latest.db &&
	expect_code 0 lb --db h.db probe backup.lua --report p.json >out &&
	test ! -e injected && test ! -e restored &&
	test "$(wc -l <probed)" = 1 &&
	same "$(jv p.json mode status exit_code rpo_exposure.status rpo_exposure.target_s)" "probe succeeded 0 met 3600.0" &&
	same "$(jv p.json probes.before.0.name probes.before.0.status probes.before.1.status phases)" \
		"store readable succeeded succeeded []" &&
	test "$(json_get p.json "d[\"rpo_exposure\"][\"exposure_s\"] < 60")" = true &&
	test "$(json_get p.json "len(d[\"probes\"][\"after\"])")" = 0 &&
	assert_contains out "RPO exposure" &&
	assert_contains out "mode probe" &&
	python3 "$LIFEBOAT_SRC/tests/e2e/schema-check.py" "$LIFEBOAT_SRC/docs/schemas/report.schema.json" p.json
'

test_expect_success 'the probe run is recorded: history, show and every report format' '
	id=$(jv p.json run_id) &&
	same "$(sql h.db "select mode, status, rpo_exposure_status from runs where id = '\''$id'\''")" "probe|succeeded|met" &&
	same "$(sql h.db "select name, probe from phases where run_id = '\''$id'\''")" "probes before|before" &&
	expect_code 0 lb --db h.db history >hist &&
	grep "$id" hist | grep -q "probe" &&
	grep "$id" hist | grep -q " met" &&
	expect_code 0 lb --db h.db show "$id" >show &&
	assert_contains show "newest recoverable backup" &&
	assert_contains show "store readable" &&
	expect_code 0 lb --db h.db report "$id" --format json -o again.json >/dev/null &&
	same "$(jv again.json probes.before.0.name rpo_exposure.status)" "store readable met" &&
	expect_code 0 lb --db h.db report "$id" --format junit -o p.xml >/dev/null &&
	assert_contains p.xml "name=\"RPO exposure\"" &&
	assert_not_contains p.xml "<failure" &&
	expect_code 0 lb --db h.db report "$id" --format md -o p.md >/dev/null &&
	assert_contains p.md "## Probes" &&
	assert_contains p.md "within the RPO"
'

test_expect_success 'a backup older than the RPO: exit 4, EXPOSED, and the Prometheus metric shows it' '
	touch -d "2 hours ago" backups/latest.db &&
	expect_code 4 lb --db h.db probe backup.lua --report old.prom --junit old.xml >out &&
	assert_contains out "EXPOSED" &&
	assert_contains out "RPO exposed · exit 4" &&
	v=$(sed -n "s/^lifeboat_rpo_exposure_seconds{runbook=\"backup\",env=\"\"} //p" old.prom) &&
	test -n "$v" &&
	awk -v v="$v" "BEGIN { exit !(v >= 7199 && v < 7300) }" &&
	assert_contains old.xml "RPO exposed: the newest recoverable backup is 2h" &&
	id=$(sql h.db "select id from runs order by started_at desc, rowid desc limit 1") &&
	same "$(sql h.db "select rpo_exposure_status, exit_code from runs where id = '\''$id'\''")" "missed|4"
'

test_expect_success 'an ISO-8601 time works as well as unix seconds' '
	printf %s "$(date -u -d "10 minutes ago" +%Y-%m-%dT%H:%M:%SZ)" >stamp &&
	expect_code 0 lb --db h.db probe backup.lua --report iso.json >out &&
	test "$(json_get iso.json "590 <= d[\"rpo_exposure\"][\"exposure_s\"] < 700")" = true &&
	same "$(jv iso.json rpo_exposure.newest_recoverable_at)" "$(date -u -d "$(cat stamp)" +%Y-%m-%dT%H:%M:%S.000Z)" &&
	rm stamp
'

test_expect_success 'newest_recoverable raising: unmeasured, exit 4, the error shown' '
	touch raise &&
	expect_code 4 lb --db h.db probe backup.lua --report u.json >out 2>err &&
	assert_contains err "no snapshot found in backups/" &&
	same "$(jv u.json rpo_exposure.status rpo_exposure.exposure_s exit_code)" "unmeasured null 4" &&
	rm raise
'

test_expect_success 'a failing probe exits 1 even when the backup is fresh' '
	touch backups/latest.db && mv store.db store.away &&
	expect_code 1 lb --db h.db probe backup.lua --report f.json >out &&
	same "$(jv f.json status probes.before.0.status rpo_exposure.status)" "failed failed met" &&
	mv store.away store.db
'

test_expect_success 'a failed probe run is not resumed: it is run again' '
	id=$(jv f.json run_id) &&
	expect_code 5 lb --db h.db resume "$id" 2>err &&
	assert_contains err "is a probe: probes are not resumed" &&
	same "$(sql h.db "select count(*) from runs where id = '\''$id'\'' and status = '\''failed'\''")" 1
'

test_expect_success 'the environment'\''s RPO is the target with --env' '
	cat >lifeboat.yaml <<-\EOF &&
	environments:
	  tight: { rpo: 5m }
	EOF
	touch -d "10 minutes ago" backups/latest.db &&
	expect_code 4 lb --db h.db probe --env tight backup.lua --report e.json >out &&
	same "$(jv e.json env rpo_exposure.target_s rpo_exposure.status)" "tight 300.0 missed" &&
	rm lifeboat.yaml
'

test_expect_success 'probe takes no exclusive lock: it runs while a run holds it' '
	touch backups/latest.db &&
	{ lb --db h.db run --yes -p hold=3 backup.lua >held.out 2>&1 & } &&
	wait_for "test -e restored" 20 &&
	expect_code 5 lb --db h.db run --yes backup.lua >busy.out 2>&1 &&
	expect_code 0 lb --db h.db probe backup.lua >probe.out &&
	wait_for "grep -q \"exit 0\" held.out" 20
'

test_expect_success 'history trends the exposure of the probe runs' '
	expect_code 0 lb --db h.db history backup >hist &&
	assert_contains hist "RPO exposure (probes): latest" &&
	grep -q "exposed" hist &&
	grep -q "unmeasured" hist
'

test_expect_success 'every Prometheus report has the last success of each mode' '
	expect_code 0 lb --db h.db drill --yes backup.lua >/dev/null &&
	drill=$(sql h.db "select id from runs where mode = '\''drill'\'' order by started_at desc limit 1") &&
	expect_code 0 lb --db h.db report "$drill" --format prom -o d.prom >/dev/null &&
	assert_contains d.prom "lifeboat_last_success_timestamp_seconds{runbook=\"backup\",env=\"\",mode=\"drill\"}" &&
	assert_contains d.prom "lifeboat_last_success_timestamp_seconds{runbook=\"backup\",env=\"\",mode=\"probe\"}" &&
	assert_contains d.prom "lifeboat_last_success_timestamp_seconds{runbook=\"backup\",env=\"\",mode=\"run\"}" &&
	want=$(sql h.db "select (julianday(max(ended_at)) - 2440587.5) * 86400 from runs where mode = '\''drill'\'' and exit_code = 0") &&
	got=$(sed -n "s/^lifeboat_last_success_timestamp_seconds{runbook=\"backup\",env=\"\",mode=\"drill\"} //p" d.prom) &&
	awk -v a="$got" -v b="$want" "BEGIN { d = a - b; exit !(d < 0.01 && d > -0.01) }" &&
	touch -d "2 hours ago" backups/latest.db &&
	expect_code 4 lb --db h.db probe backup.lua --report bad.prom >/dev/null &&
	assert_contains bad.prom "mode=\"drill\"}" &&
	assert_contains bad.prom "lifeboat_run_success{runbook=\"backup\",env=\"\"} 1"
'

test_done
