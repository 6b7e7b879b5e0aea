#!/bin/sh
# Probes and RPO exposure (SPEC 10) in the team history (SPEC 11), beside t8336: a stale backup's
# probe run pushed to a real PostgreSQL shows its exposure in the lifeboat_runs view (what a
# dashboard reads); another runner's report --central of it has the same probes and exposure in
# JSON, and its Prometheus report the exposure and each probe's result. plan --central reads the
# newest runs and drills, however many probe runs the team recorded after them.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

test_expect_success 'setup: a private PostgreSQL; runners a and b, each with its history and config' '
	pg_start &&
	pg_runners a b &&
	write_runbook a/rb.lua <<-\EOF
	return runbook { name = "backups", rpo = "1h",
		probes = { step "store up" { sh = "true" }, step "api up" { run = function() end } },
		newest_recoverable = function() return fs.mtime("latest.db") end,
		recovery_point = function() return now() end,
		phase "break" { fault = true, step "f" { sh = "true" } },
		phase "restore" { step "r" { sh = "true" } },
	}
	EOF
'

test_expect_success 'a stale backup: the probe run exits 4 and PostgreSQL keeps its exposure and probes' '
	touch -d "2 hours ago" a/latest.db &&
	(cd a && expect_code 4 lb probe rb.lua --report p.json && lb push) >a.out 2>&1 &&
	id=$(json_get a/p.json "d[\"run_id\"]") &&
	wait_for "test \"\$(psql_q \"select rpo_exposure_status from runs where id = $Q$id$Q\")\" = missed" 10 &&
	same "$(psql_q "select mode, rpo_exposure_s between 7190 and 7300, newest_recoverable_at is not null from runs where id = $Q$id$Q")" \
		"probe|t|t" &&
	same "$(psql_q "select name, probe from phases where run_id = $Q$id$Q")" "probes before|before" &&
	same "$(psql_q "select rpo_exposure_status, rpo_exposure_s > 7000 from lifeboat_runs where run_id = $Q$id$Q")" "missed|t"
'

test_expect_success 'another runner reads the probe run with --central as the local history shows it' '
	id=$(json_get a/p.json "d[\"run_id\"]") &&
	(cd a && lb report "$id" --format json -o -) >local.json &&
	(cd b && lb report --central "$id" --format json -o -) >central.json &&
	python3 - local.json central.json <<-\PY &&
	import json, sys
	l, c = (json.load(open(f)) for f in sys.argv[1:])
	assert c["probes"] == l["probes"], (c["probes"], l["probes"])
	assert c["rpo_exposure"] == l["rpo_exposure"], (c["rpo_exposure"], l["rpo_exposure"])
	assert c["rpo_exposure"]["status"] == "missed" and len(c["probes"]["before"]) == 2, c
	assert c["phases"] == [] and c["mode"] == "probe", c["phases"]
	PY
	(cd b && lb show --central "$id") >show.txt &&
	assert_contains show.txt "newest recoverable backup" &&
	(cd b && lb report --central "$id" --format prom -o -) >central.prom &&
	assert_contains central.prom "lifeboat_rpo_exposure_seconds{runbook=\"backups\",env=\"\"} 7" &&
	assert_contains central.prom "lifeboat_probe_success{runbook=\"backups\",env=\"\",when=\"before\",probe=\"store up\"} 1"
'

test_expect_success 'plan --central: more probe runs than it reads do not push the last run out' '
	(cd a && lb run --yes rb.lua && lb push) >r.out 2>&1 &&
	wait_for "test \"\$(psql_q \"select count(*) from runs where mode = ${Q}run$Q and status = ${Q}succeeded$Q\")\" = 1" 10 &&
	psql_q "insert into runs (source_id, version, id, runbook, mode, status, started_at, ended_at)
		select ${Q}elsewhere$Q, 1, ${Q}probe-$Q || g, ${Q}backups$Q, ${Q}probe$Q, ${Q}succeeded$Q,
			now() + g * interval ${Q}1 second$Q, now() + g * interval ${Q}1 second$Q
		from generate_series(1, 1001) g" >/dev/null &&
	cp a/rb.lua b/rb.lua &&
	(cd b && lb plan --central rb.lua) >plan &&
	sed -n "/^3\. restore/,/^4\./p" plan >restore &&
	{ grep -q "history: median .* over 1 run" restore || { cat plan; false; }; }
'

test_done
