#!/bin/sh
# SPEC 11: runs pushed to a real PostgreSQL; the rows there match the local history.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

test_expect_success 'setup: a private PostgreSQL, a config with central' '
	pg_start &&
	pg_config_file lifeboat.yaml </dev/null &&
	write_runbook rb.lua <<-\EOF
	return runbook {
		name = "restore-db", rto = "5m",
		phase "prepare" { step "one" { sh = "echo one" }, step "two" { sh = "echo two" } },
		phase "restore" { restores_service = true, step "three" { sh = "echo three" } },
	}
	EOF
'

test_expect_success 'a run is pushed as it happens: rows in PostgreSQL match the local history' '
	lb run --yes rb.lua >out 2>err &&
	cat err &&
	id=$(sql .lifeboat/history.db "select id from runs") &&
	wait_for "test \"\$(psql_q \"select status from runs where id = '\''$id'\''\")\" = succeeded" 10 &&
	test "$(psql_q "select count(*) from steps")" = "$(sql .lifeboat/history.db "select count(*) from steps")" &&
	test "$(psql_q "select count(*) from attempts")" = "$(sql .lifeboat/history.db "select count(*) from attempts")" &&
	test "$(psql_q "select count(*) from audit")" = "$(sql .lifeboat/history.db "select count(*) from audit")" &&
	test "$(psql_q "select count(*) from phases")" = 2 &&
	psql_q "select run_id, runbook, status, source_host from lifeboat_runs" >view &&
	cat view && assert_contains view "restore-db|succeeded"
'

test_expect_success 'push with nothing left sends nothing and exits 0; pushing twice adds no rows' '
	before=$(psql_q "select (select count(*) from runs) + (select count(*) from steps) + (select count(*) from audit)") &&
	lb push >out &&
	cat out && assert_contains out "nothing left to push" &&
	lb push >out2 &&
	test "$(psql_q "select (select count(*) from runs) + (select count(*) from steps) + (select count(*) from audit)")" = "$before" &&
	test "$(psql_q "select count(*) from conflicts")" = 0 &&
	test "$(psql_q "select count(*) from sources")" = 1
'

test_expect_success 'an old history (never pushed) is pushed whole by push, counts printed' '
	lb --db old.db run --yes rb.lua >/dev/null 2>&1 &&
	lb --config /dev/null --db old2.db run --yes rb.lua >/dev/null 2>&1 &&
	lb --config /dev/null --db old2.db run --yes rb.lua >/dev/null 2>&1 &&
	test "$(sql old2.db "select count(*) from central_queue")" = 0 &&
	lb --db old2.db push >out &&
	cat out &&
	assert_contains out "new source id" &&
	assert_contains out "runs 2" &&
	src=$(sql old2.db "select id from central_source") &&
	test "$(psql_q "select count(*) from runs where source_id = '\''$src'\''")" = 2 &&
	test "$(psql_q "select count(*) from steps where source_id = '\''$src'\''")" = 6 &&
	test "$(psql_q "select count(*) from texts where source_id = '\''$src'\''")" = 1 &&
	test "$(psql_q "select count(*) from run_sources where source_id = '\''$src'\''")" = 2
'

test_expect_success 'a history file copied elsewhere gets a new source id and is sent whole under it' '
	old=$(sql old2.db "select id from central_source") &&
	cp old2.db copy.db &&
	lb --db copy.db push >out &&
	cat out && assert_contains out "new source id" &&
	new=$(sql copy.db "select id from central_source") &&
	test "$old" != "$new" &&
	test "$(psql_q "select count(*) from runs where source_id = '\''$new'\''")" = 2 &&
	lb --db old2.db push >out2 &&
	assert_not_contains out2 "new source id" &&
	test "$(sql old2.db "select id from central_source")" = "$old"
'

test_expect_success 'a later state replaces an earlier one; an older state sent again changes nothing' '
	src=$(sql .lifeboat/history.db "select id from central_source") &&
	id=$(sql .lifeboat/history.db "select id from runs") &&
	where="id = '\''$id'\'' and source_id = '\''$src'\''" &&
	v1=$(psql_q "select version from runs where $where") &&
	lb note "$id" "looked fine" >/dev/null &&
	sql .lifeboat/history.db "update runs set error = '\''later'\'' where id = '\''$id'\''" &&
	lb push >/dev/null &&
	test "$(psql_q "select error from runs where $where")" = later &&
	test "$(psql_q "select text from notes where run_id = '\''$id'\''")" = "looked fine" &&
	v2=$(psql_q "select version from runs where $where") &&
	test "$v2" -gt "$v1" &&
	psql_q "update runs set version = version + 1000, error = '\''newer elsewhere'\'' where $where" &&
	sql .lifeboat/history.db "update runs set error = '\''stale'\'' where id = '\''$id'\''" &&
	lb push >out 2>err &&
	test "$(psql_q "select error from runs where $where")" = "newer elsewhere" &&
	test "$(psql_q "select count(*) from conflicts")" = 0
'

test_expect_success 'a key whose content differs is reported and kept in conflicts, never dropped' '
	src=$(sql .lifeboat/history.db "select id from central_source") &&
	psql_q "update audit set detail = '\''tampered'\'' where source_id = '\''$src'\'' and seq = 1" &&
	sql .lifeboat/history.db "insert into central_queue (tbl, run_id, a) select 6, run_id, seq from audit where seq = 1" &&
	lb push >out 2>err &&
	cat err &&
	assert_contains err "differed" &&
	test "$(psql_q "select count(*) from conflicts where tbl = '\''audit'\'' and source_id = '\''$src'\''")" = 1 &&
	test "$(psql_q "select detail from audit where source_id = '\''$src'\'' and seq = 1")" = tampered
'

test_expect_success 'a note on a finished run reaches the team history at once' '
	id=$(sql .lifeboat/history.db "select id from runs") &&
	lb note "$id" "reviewed by the team" &&
	test "$(psql_q "select count(*) from notes where text = '\''reviewed by the team'\''")" = 1
'

test_expect_success 'a history that last sent to another database sends it everything' '
	"$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE other OWNER lifeboat" &&
	printf "central:\n  url: \"postgresql://lifeboat@127.0.0.1:%s/other\"\n" "$PG_PORT" >other.yaml &&
	lb --config other.yaml push >out &&
	cat out &&
	assert_contains out "every row queued again (it last sent to another database)" &&
	other() { psql -X -A -t "postgresql://lifeboat@127.0.0.1:$PG_PORT/other" -c "$1"; } &&
	test "$(other "select count(*) from steps")" = "$(sql .lifeboat/history.db "select count(*) from steps")" &&
	test "$(other "select count(*) from audit")" = "$(sql .lifeboat/history.db "select count(*) from audit")" &&
	lb --config other.yaml push >out2 &&
	assert_not_contains out2 "queued again"
'

test_expect_success 'push --all sends every row again, which changes nothing' '
	rows=$(psql_q "select (select count(*) from runs) + (select count(*) from steps) + (select count(*) from audit) + (select count(*) from notes)") &&
	lb push --all >out 2>&1 &&
	cat out &&
	assert_contains out "every row queued again (--all)" &&
	assert_contains out "(0 new or changed)" &&
	assert_contains out "1 row differed" &&
	assert_contains out "nothing left to push" &&
	test "$(psql_q "select (select count(*) from runs) + (select count(*) from steps) + (select count(*) from audit) + (select count(*) from notes)")" = "$rows"
'
test_done
