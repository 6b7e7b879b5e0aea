#!/bin/sh
# SPEC 11: an HA scheduler decides overlap and catch-up from the team history, not from its own
# file. A drill of the runbook still running on another runner holds the slot back (skipped, the
# claim says so); a slot missed while every scheduler was down runs once, on one scheduler, and a
# scheduler that never saw the schedule does not run it again.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

# host DIR CRON: DIR/lifeboat.yaml with central, ha and one schedule of DIR/drill.lua at CRON
host () {
	mkdir -p "$1" &&
	pg_config_file "$1/lifeboat.yaml" <<-EOF &&
	scheduler: { ha: true }
	schedules:
	  - { runbook: drill.lua, cron: "$2", id: team-restore }
	EOF
	write_runbook "$1/drill.lua" <<-EOF
	return runbook { name = "team-restore", rto = "5m",
		phase "inject" { fault = true, step "break" { sh = "echo \$\$ >>$PWD/side-effect" } },
		phase "restore" { restores_service = true, step "fix" { sh = "while test -e $PWD/hold; do sleep 0.1; done" } },
	}
	EOF
}

test_expect_success 'setup: a private PostgreSQL; a laptop and two scheduler hosts' '
	pg_start &&
	host laptop "0 0 1 1 *" &&
	host s1 "* * * * *" &&
	: >side-effect
'

test_expect_success 'a drill of the runbook running on another runner: the HA scheduler skips its slot' '
	touch hold || return 1
	(cd laptop && lb drill --yes drill.lua >../laptop.out 2>&1) &
	wait_for "test \"\$(psql_q \"select count(*) from runs where status = ${Q}running$Q\")\" = 1" 20 &&
	(cd s1 && lb scheduler --once) >s1.out 2>&1 &&
	cat s1.out &&
	running=$(psql_q "select id from runs where status = ${Q}running$Q") &&
	assert_contains s1.out "skipped, run $running of it is still running on $(hostname)" &&
	same "$(psql_q "select outcome, run_id is null from lifeboat_claims")" "skipped|t" &&
	test "$(wc -l <side-effect)" = 1 &&
	rm hold &&
	wait &&
	test "$(psql_q "select count(*) from runs")" = 1
'

test_expect_success 'a slot missed while every scheduler was down runs once; a newcomer does not run it again' '
	psql_q "delete from lifeboat_claims" &&
	slot=$(date -u -d "-3 min" +%s) && slot=$((slot - slot % 60)) &&
	cron="$(date -u -d @$slot +"%-M %-H") * * *" &&
	host s2 "$cron" &&
	host s3 "$cron" &&
	psql_q "insert into lifeboat_claims (schedule_id, slot_at, host, source_id, pid, finished_at, outcome, exit_code)
		values (${Q}team-restore$Q, to_timestamp($slot) - interval ${Q}1 day$Q, ${Q}old-host$Q, ${Q}old$Q, 1,
			now() - interval ${Q}1 day$Q, ${Q}finished$Q, 0)" &&
	(cd s2 && lb scheduler --once) >s2.out 2>&1 &&
	cat s2.out &&
	assert_contains s2.out "starting the drill" &&
	test "$(wc -l <side-effect)" = 2 &&
	same "$(psql_q "select extract(epoch from slot_at)::bigint, outcome, exit_code from lifeboat_claims where host <> ${Q}old-host$Q")" \
		"$slot|finished|0" &&
	(cd s2 && lb scheduler --once) >again.out 2>&1 &&
	assert_contains again.out "nothing is due" &&
	(cd s3 && lb scheduler --once) >s3.out 2>&1 &&
	cat s3.out &&
	assert_contains s3.out "nothing is due" &&
	test "$(wc -l <side-effect)" = 2
'

test_expect_success 'a drill killed on another runner stays running on the server, but once its heartbeat is older than a minute it holds no slot back' '
	psql_q "delete from lifeboat_claims" &&
	host s4 "* * * * *" &&
	host s5 "* * * * *" &&
	before=$(wc -l <side-effect) &&
	touch hold || return 1
	(cd laptop && lb drill --yes drill.lua >../killed.out 2>&1) &
	wait_for "test \"\$(psql_q \"select count(*) from runs r join lifeboat_alive a on a.source_id = r.source_id and a.run_id = r.id where r.status = ${Q}running$Q\")\" = 1" 20 &&
	killed=$(psql_q "select id from runs where status = ${Q}running$Q") &&
	kill -9 "$(sql laptop/.lifeboat/history.db "select pid from runs where id = $Q$killed$Q")" &&
	wait &&
	rm hold &&
	(cd s4 && lb scheduler --once) >fresh.out 2>&1 &&
	cat fresh.out &&
	assert_contains fresh.out "skipped, run $killed of it is still running" &&
	# two minutes on: every run started before this slot; the last beat and the lease of the killed run long gone
	psql_q "delete from lifeboat_claims" &&
	psql_q "update lifeboat_alive set alive_at = alive_at - interval ${Q}2 minutes$Q;
		update runs set started_at = started_at - interval ${Q}2 minutes$Q;
		update lifeboat_leases set expires_at = expires_at - interval ${Q}2 minutes$Q" &&
	(cd s5 && lb scheduler --once) >stale.out 2>&1 &&
	cat stale.out &&
	assert_contains stale.out "starting the drill" &&
	test "$(wc -l <side-effect)" = $((before + 2)) &&
	same "$(psql_q "select status from runs where id = $Q$killed$Q")" running
'

test_done
