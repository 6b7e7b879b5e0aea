#!/bin/sh
# SPEC 11: a dead central server never delays a step. The server stopped during a run: the run
# succeeds, its duration is that of a run without central, what waits is sent by `push` once the
# server is back, and pushing twice adds no rows.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

test_expect_success 'setup: a private PostgreSQL, a runbook that stops it midway' '
	pg_start &&
	pg_config_file lifeboat.yaml </dev/null &&
	write_runbook steady.lua <<-\EOF &&
	local steps = {}
	for i = 1, 6 do steps[#steps + 1] = step("s" .. i) { sh = "sleep 0.25" } end
	return runbook { name = "steady", rto = "5m", phase "work" (steps) }
	EOF
	write_runbook outage.lua <<-EOF
	return runbook { name = "outage", rto = "5m",
		phase "before" { step "a" { sh = "echo before" } },
		phase "stop" { step "stop-the-server" { sh = "cd / && runuser -u postgres -- $PG_BIN/pg_ctl -D $PG_DIR/data stop -m fast >/dev/null" } },
		phase "after" { step "b" { sh = "echo after" }, step "c" { sh = "echo still" } },
	}
	EOF
'

test_expect_success 'the server stopped during a run: the run succeeds, the rest waits locally' '
	lb run --yes outage.lua >out 2>err &&
	cat err &&
	assert_contains err "not sent yet" &&
	assert_contains err "lifeboat push" &&
	test "$(sql .lifeboat/history.db "select status from runs")" = succeeded &&
	test "$(sql .lifeboat/history.db "select count(*) from central_queue")" -gt 0
'

# the duration of steady.lua's run (ms), recorded in history $1
run_ms () {
	sql "$1" "select cast(round((julianday(ended_at) - julianday(started_at)) * 86400000) as integer) from runs order by started_at desc limit 1"
}

test_expect_success 'with the server dead a run takes as long as without central' '
	lb --config /dev/null --db plain.db run --yes steady.lua >/dev/null &&
	elapsed_ms lb run --yes steady.lua >out 2>err &&
	test "$LAST_CODE" = 0 &&
	dead=$(run_ms .lifeboat/history.db) && plain=$(run_ms plain.db) &&
	echo "run: ${dead} ms with a dead server, ${plain} ms without central; process ${ELAPSED_MS} ms" &&
	test "$dead" -lt $((plain + 400)) &&
	test "$ELAPSED_MS" -lt $((plain + 2500))
'

test_expect_success 'push after the server is back sends the backlog; again, it adds no rows' '
	pg_restart &&
	lb push >out &&
	cat out &&
	assert_contains out "nothing left to push" &&
	test "$(sql .lifeboat/history.db "select count(*) from central_queue")" = 0 &&
	for t in runs phases steps attempts audit
	do
		test "$(psql_q "select count(*) from $t")" = "$(sql .lifeboat/history.db "select count(*) from $t")" || return 1
	done &&
	test "$(psql_q "select string_agg(status, '\'','\'' order by started_at) from runs")" = "succeeded,succeeded" &&
	rows=$(psql_q "select (select count(*) from runs) + (select count(*) from steps) + (select count(*) from attempts) + (select count(*) from audit)") &&
	lb push >out2 &&
	assert_contains out2 "pushed 0 rows" &&
	test "$(psql_q "select (select count(*) from runs) + (select count(*) from steps) + (select count(*) from attempts) + (select count(*) from audit)")" = "$rows"
'

test_expect_success 'push while the server is down says so, names it, and exits 1' '
	pg_stop &&
	lb note "$(sql .lifeboat/history.db "select id from runs limit 1")" "after the outage" &&
	expect_code 1 lb push >out 2>err &&
	cat err &&
	assert_contains err "127.0.0.1:$PG_PORT/lifeboat" &&
	assert_contains err "still waiting"
'
test_done
