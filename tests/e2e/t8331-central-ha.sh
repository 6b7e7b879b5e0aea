#!/bin/sh
# SPEC 11: HA scheduling. Schedulers with their configs in different folders share one schedule
# through PostgreSQL claims: a due slot runs once; without the server no drill runs.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

# schedulers_config DIR [EXTRA]: DIR/lifeboat.yaml with central, ha and one schedule of DIR/drill.lua
schedulers_config () {
	mkdir -p "$1" &&
	pg_config_file "$1/lifeboat.yaml" <<-EOF &&
	scheduler: { ha: true }
	schedules:
	  - { runbook: drill.lua, cron: "* * * * *"$2 }
	EOF
	write_runbook "$1/drill.lua" <<-EOF
	return runbook { name = "nightly-restore", rto = "5m",
		phase "inject" { fault = true, step "break" { sh = "echo \$\$ >>$PWD/side-effect" } },
		phase "restore" { restores_service = true, step "fix" { sh = "sleep 1" } },
	}
	EOF
}

test_expect_success 'setup: a private PostgreSQL; two scheduler hosts, configs in different folders' '
	pg_start &&
	schedulers_config host1 &&
	schedulers_config host2/deeper/folder
'

test_expect_success 'two scheduler --once started at the same moment: the drill runs exactly once, not again in its slot' '
	early_in_minute || return 1
	(cd host1 && lb scheduler --once >../s1.out 2>&1; echo $? >../s1.rc) &
	(cd host2/deeper/folder && lb scheduler --once >../../../s2.out 2>&1; echo $? >../../../s2.rc) &
	wait &&
	cat s1.out s2.out &&
	same "$(cat s1.rc) $(cat s2.rc)" "0 0" &&
	test "$(wc -l <side-effect)" = 1 &&
	test "$(cat s1.out s2.out | grep -c "starting the drill")" = 1 &&
	same "$(psql_q "select schedule_id, outcome, exit_code, run_id is not null from lifeboat_claims")" \
		"nightly-restore|* * * * *||drill|finished|0|t" &&
	same "$(psql_q "select count(*), min(mode) from runs where runbook = ${Q}nightly-restore$Q")" "1|drill" &&
	same "$(psql_q "select r.id from runs r join lifeboat_claims c on c.run_id = r.id")" \
		"$(psql_q "select run_id from lifeboat_claims")" &&
	(cd host1 && lb scheduler --once) >again.out &&
	assert_contains again.out "nothing is due" &&
	test "$(wc -l <side-effect)" = 1
'

test_expect_success 'a claim whose drill never finished is reported as orphaned' '
	psql_q "insert into lifeboat_claims (schedule_id, slot_at, alive_at, host, source_id, pid)
		values (${Q}nightly-restore|* * * * *||drill$Q, now() - interval ${Q}2 days$Q,
			now() - interval ${Q}2 days$Q, ${Q}gone-host$Q, ${Q}gone$Q, 4242)" &&
	(cd host1 && lb history --central) >h.txt &&
	cat h.txt &&
	assert_contains h.txt "orphaned claims" &&
	assert_contains h.txt "gone-host (pid 4242)" &&
	(cd host1 && lb history --central --json) >h.json &&
	same "$(json_get h.json "[(o[\"host\"], o[\"pid\"]) for o in d[\"orphaned_claims\"]]")" "[[\"gone-host\", 4242]]" &&
	(cd host2/deeper/folder && lb scheduler --once) >s.out 2>&1 &&
	cat s.out &&
	assert_contains s.out "is orphaned: its drill never finished" &&
	test "$(sql host2/deeper/folder/.lifeboat/history.db "select count(*) from schedule_events where event = ${Q}orphaned$Q")" = 1
'

test_expect_success 'without the server an HA scheduler runs no drill, records why and sends scheduler_degraded' '
	python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" hook.jsonl hook.port ok >/dev/null 2>&1 &
	at_exit "kill $!" &&
	wait_for "test -s hook.port" &&
	schedulers_config host3 &&
	printf "notify: { webhook: \"http://127.0.0.1:%s/hook\" }\\n" "$(cat hook.port)" >>host3/lifeboat.yaml &&
	before=$(wc -l <side-effect) &&
	pg_stop &&
	(cd host3 && expect_code 1 lb scheduler --once) >s3.out 2>&1 &&
	cat s3.out &&
	assert_contains s3.out "not started" &&
	assert_contains s3.out "cannot be reached" &&
	test "$(wc -l <side-effect)" = "$before" &&
	same "$(sql host3/.lifeboat/history.db "select event from schedule_events")" degraded &&
	test "$(sql host3/.lifeboat/history.db "select count(*) from runs")" = 0 &&
	wait_for "grep -q scheduler_degraded hook.jsonl" &&
	same "$(json_get hook.jsonl "[d[\"event\"], d[\"runbook\"], d[\"run_id\"]]")" "[\"scheduler_degraded\", \"nightly-restore\", null]" &&
	pg_restart
'

test_expect_success 'an explicit id: two schedules of different runbook files share their claims' '
	psql_q "delete from lifeboat_claims" &&
	schedulers_config host4 ", id: restore-weekly" &&
	schedulers_config host5 ", id: restore-weekly" &&
	sed -i "s/nightly-restore/nightly-restore-copy/" host5/drill.lua &&
	before=$(wc -l <side-effect) &&
	early_in_minute || return 1
	(cd host4 && lb scheduler --once >/dev/null 2>&1) &
	(cd host5 && lb scheduler --once >/dev/null 2>&1) &
	wait &&
	test "$(wc -l <side-effect)" = $((before + 1)) &&
	same "$(psql_q "select schedule_id, outcome from lifeboat_claims")" "restore-weekly|finished"
'

test_done
