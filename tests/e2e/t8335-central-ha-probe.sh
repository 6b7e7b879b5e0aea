#!/bin/sh
# SPEC 11 with SPEC 10: an HA scheduler claims a probe schedule's slot like a drill's (under its
# own id, kind probe), so two schedulers run it once (a drill runs the probes too, before and
# after); without the server it runs no drill
# (scheduler_degraded) but still runs the probe, which changes nothing, unclaimed and recorded.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

# ha_host DIR: DIR/lifeboat.yaml with central, ha, a drill and a probe schedule of DIR/rb.lua
ha_host () {
	mkdir -p "$1" &&
	pg_config_file "$1/lifeboat.yaml" <<-EOF &&
	scheduler: { ha: true }
	schedules:
	  - { runbook: rb.lua, cron: "* * * * *" }
	  - { runbook: rb.lua, cron: "* * * * *", probe: true }
	EOF
	write_runbook "$1/rb.lua" <<-EOF
	return runbook { name = "guarded",
		probes = { step "up" { sh = "echo \$LIFEBOAT_MODE >>$PWD/probed" } },
		phase "inject" { fault = true, step "break" { sh = "echo \$\$ >>$PWD/injected" } },
		phase "restore" { restores_service = true, step "fix" { sh = "true" } },
	}
	EOF
}

test_expect_success 'setup: a private PostgreSQL; two HA scheduler hosts' '
	pg_start &&
	ha_host h1 &&
	ha_host h2/other/folder
'

test_expect_success 'two HA schedulers at once: the drill and the probe each run once, each under its own claim' '
	early_in_minute || return 1
	(cd h1 && lb scheduler --once >../s1.out 2>&1; echo $? >../s1.rc) &
	(cd h2/other/folder && lb scheduler --once >../../../s2.out 2>&1; echo $? >../../../s2.rc) &
	wait &&
	cat s1.out s2.out &&
	same "$(cat s1.rc) $(cat s2.rc)" "0 0" &&
	test "$(wc -l <injected)" = 1 &&
	same "$(sort probed | uniq -c | tr -s " ")" "$(printf " 2 drill\n 1 probe")" &&
	same "$(psql_q "select schedule_id, outcome, exit_code from lifeboat_claims order by schedule_id")" \
		"$(printf "guarded|* * * * *||drill|finished|0\nguarded|* * * * *||probe|finished|0")" &&
	same "$(psql_q "select mode, trigger from runs order by mode")" "$(printf "drill|schedule\nprobe|schedule")"
'

test_expect_success 'without the server: no drill (scheduler_degraded sent, recorded), the probe runs unclaimed' '
	python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" hook.jsonl hook.port ok >/dev/null 2>&1 &
	at_exit "kill $!" &&
	wait_for "test -s hook.port" &&
	ha_host h3 &&
	printf "notify: { webhook: \"http://127.0.0.1:%s/hook\", events: [scheduler_degraded] }\\n" "$(cat hook.port)" >>h3/lifeboat.yaml &&
	pg_stop &&
	(cd h3 && expect_code 1 lb scheduler --once) >s3.out 2>&1 &&
	cat s3.out &&
	assert_contains s3.out "guarded (* * * * *): not started: the team database cannot be reached" &&
	assert_contains s3.out "the probe runs here, unclaimed" &&
	assert_contains s3.out "starting the probe" &&
	test "$(wc -l <injected)" = 1 &&
	same "$(grep -c probe probed)" 2 &&
	same "$(sql h3/.lifeboat/history.db "select mode, trigger, status from runs")" "probe|schedule|succeeded" &&
	same "$(sql h3/.lifeboat/history.db "select event from schedule_events where event in ($Q""degraded$Q, $Q""unclaimed$Q) order by event")" \
		"$(printf "degraded\nunclaimed")" &&
	wait_for "grep -q scheduler_degraded hook.jsonl" &&
	same "$(json_get hook.jsonl "[d[\"event\"], d[\"runbook\"], d[\"run_id\"]]")" "[\"scheduler_degraded\", \"guarded\", null]" &&
	pg_restart &&
	(cd h3 && lb push) >p3.out &&
	same "$(psql_q "select count(*) from runs where mode = ${Q}probe$Q")" 2
'

test_done
