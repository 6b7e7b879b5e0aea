#!/bin/sh
# SPEC 11: --central readers. Two runners (two local histories, as on two machines) push to one
# real PostgreSQL; history, show, report, plan and evidence read the team's runs from it.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

test_expect_success 'setup: a private PostgreSQL; runners a and b, each with its history and config' '
	pg_start &&
	pg_runners a b &&
	for d in a b
	do
		write_runbook $d/restore.lua <<-\EOF || return 1
		return runbook { name = "restore-db", rto = "5m",
			phase "prepare" { step "one" { sh = "echo prepared" } },
			phase "restore" { restores_service = true, step "two" { sh = "echo restored from $PWD" } },
		}
		EOF
	done &&
	write_runbook b/other.lua <<-\EOF
	return runbook { name = "failover", rto = "1m",
		phase "switch" { step "flip" { sh = "echo flipped" } },
	}
	EOF
'

test_expect_success 'both runners run drills and push' '
	(cd a && lb run --yes restore.lua && lb run --yes restore.lua && lb drill --yes restore.lua &&
		lb push) >a.out 2>&1 &&
	(cd b && lb run --yes restore.lua && lb run --yes other.lua && lb push) >b.out 2>&1 &&
	test "$(psql_q "select count(*) from runs")" = 5
'

test_expect_success 'history --central --json lists both runners runs, newest first, with their hosts' '
	(cd a && lb history --central --json) >h.json &&
	same "$(json_get h.json "len(d[\"runs\"])")" 5 &&
	src_a=$(sql a/.lifeboat/history.db "select id from central_source") &&
	src_b=$(sql b/.lifeboat/history.db "select id from central_source") &&
	test "$src_a" != "$src_b" &&
	same "$(json_get h.json "sum(1 for r in d[\"runs\"] if r[\"source\"][\"id\"] == \"$src_a\")")" \
		"$(sql a/.lifeboat/history.db "select count(*) from runs")" &&
	same "$(json_get h.json "sum(1 for r in d[\"runs\"] if r[\"source\"][\"id\"] == \"$src_b\")")" \
		"$(sql b/.lifeboat/history.db "select count(*) from runs")" &&
	same "$(json_get h.json "all(r[\"host\"] and r[\"source\"][\"host\"] for r in d[\"runs\"])")" true &&
	same "$(json_get h.json "[r[\"started_at\"] for r in d[\"runs\"]] == sorted([r[\"started_at\"] for r in d[\"runs\"]], reverse=True)")" true &&
	same "$(json_get h.json "d[\"runs\"][0][\"runbook\"]")" failover &&
	same "$(json_get h.json "sorted(set(r[\"source\"][\"history\"] for r in d[\"runs\"]))")" \
		"[\"$PWD/a/.lifeboat/history.db\", \"$PWD/b/.lifeboat/history.db\"]"
'

test_expect_success 'history --central in text: both runners, the host column, the team trend' '
	(cd b && lb history --central) >h.txt &&
	cat h.txt &&
	assert_contains h.txt "host" &&
	assert_contains h.txt "restore-db: RTO p50" &&
	assert_contains h.txt "p95 of the last 4 achieved RTOs" &&
	test "$(grep -c "restore-db  " h.txt)" = 4 &&
	(cd a && lb history --central --limit 1 restore-db --json) >one.json &&
	same "$(json_get one.json "len(d[\"runs\"])")" 1
'

test_expect_success 'show --central works on a run of the other runner, exactly as its own history shows it' '
	id=$(sql b/.lifeboat/history.db "select id from runs where runbook = '\''failover'\''") &&
	(cd a && expect_code 2 lb show "$id") 2>err &&
	assert_contains err "no run" &&
	(cd a && lb show --central --json "$id") >central.json &&
	(cd b && lb show --json "$id") >local.json &&
	cmp local.json central.json &&
	(cd a && lb show --central "$(echo "$id" | cut -c1-6)") >show.txt &&
	assert_contains show.txt "flipped" &&
	assert_contains show.txt "run $id" &&
	(cd a && expect_code 2 lb show --central 0000dead) 2>err2 &&
	assert_contains err2 "no run ${Q}0000dead${Q} in lifeboat@127.0.0.1:$PG_PORT/lifeboat (see \`lifeboat history --central\`)"
'

test_expect_success 'report --central --format html (and the other formats) on the other runner run; prom has the team last drill' '
	id=$(sql b/.lifeboat/history.db "select id from runs where runbook = '\''restore-db'\''") &&
	(cd a && lb report --central "$id" --format html -o ../r.html) &&
	assert_contains r.html "$id" &&
	assert_contains r.html "restore-db" &&
	(cd a && lb report --central "$id" --format md -o ../r.md) &&
	assert_contains r.md "the last 4 achieved RTOs" &&
	for f in json junit prom
	do
		(cd a && lb report --central "$id" --format $f -o - >../r.$f) || return 1
		(cd b && lb report "$id" --format $f -o - >../l.$f) || return 1
	done &&
	cmp l.json r.json &&
	cmp l.junit r.junit &&
	drill_ok="lifeboat_last_success_timestamp_seconds{runbook=\"restore-db\",env=\"\",mode=\"drill\"}" &&
	! grep -F "$drill_ok" l.prom &&
	grep -F "$drill_ok" r.prom >team-drill &&
	grep -vF "$drill_ok" r.prom | cmp l.prom - &&
	ended=$(sql a/.lifeboat/history.db "select ended_at from runs where mode = $Q""drill$Q") &&
	same "$(python3 -c "print(\"%.3f\" % float(\"$(cut -d" " -f2 team-drill)\"))")" \
		"$(python3 -c "import datetime,sys; print(\"%.3f\" % datetime.datetime.fromisoformat(sys.argv[1].replace(\"Z\", \"+00:00\")).timestamp())" "$ended")"
'

test_expect_success 'plan --central judges against the team runs; evidence --central writes a bundle' '
	(cd a && lb plan --central restore.lua) >plan.txt &&
	cat plan.txt &&
	assert_contains plan.txt "over 4 runs" &&
	id=$(sql b/.lifeboat/history.db "select id from runs where runbook = '\''failover'\''") &&
	(cd a && lb evidence --central "$id" -o ../ev) &&
	(cd ev && sha256sum -c MANIFEST >/dev/null) &&
	assert_contains ev/audit.jsonl "$id"
'

test_expect_success 'timestamps read back as the local history wrote them, whatever the server prints of their fraction' '
	id=$(sql b/.lifeboat/history.db "select id from runs where runbook = '\''failover'\''") &&
	sql b/.lifeboat/history.db "update runs set started_at = ${Q}2026-01-02T03:04:05.000Z$Q,
		ended_at = ${Q}2026-01-02T03:04:06.500Z$Q where id = $Q$id$Q;
		update steps set started_at = ${Q}2026-01-02T03:04:05.010Z$Q,
		ended_at = ${Q}2026-01-02T03:04:06.123Z$Q where run_id = $Q$id$Q" &&
	(cd b && lb push) >p.out 2>&1 &&
	test "$(psql_q "select started_at at time zone ${Q}UTC$Q from runs where id = $Q$id$Q")" = "2026-01-02 03:04:05" &&
	(cd b && lb show --json "$id") >local2.json &&
	(cd a && lb show --central --json "$id") >central2.json &&
	cmp local2.json central2.json &&
	assert_contains central2.json "2026-01-02T03:04:06.500Z" &&
	assert_contains central2.json "2026-01-02T03:04:05.010Z"
'

test_expect_success 'the temporary copy a reader makes is gone when it ends' '
	mkdir tmp &&
	(cd a && TMPDIR=$PWD/../tmp lb history --central >/dev/null) &&
	test -z "$(ls -A tmp)"
'

test_done
