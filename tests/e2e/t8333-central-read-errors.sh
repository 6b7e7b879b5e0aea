#!/bin/sh
# SPEC 11: bad input around the team history exits 2 with a clear message before anything runs;
# several runners starting at once against an empty database migrate it once, without errors.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

# six readers against the database of fresh.yaml at the same moment, each into h<i>.out/.err
six_at_once () {
	for i in 1 2 3 4 5 6
	do
		lb --config fresh.yaml history --central --json >h$i.out 2>h$i.err &
	done
	wait
}

test_expect_success 'setup: a runbook; a private PostgreSQL' '
	write_runbook rb.lua <<-\EOF &&
	return runbook { name = "rb", phase "p" { step "s" { sh = "true" } } }
	EOF
	pg_start
'

test_expect_success 'scheduler.ha without central: file:line, exit 2' '
	cat >ha.yaml <<-\EOF &&
	schedules:
	  - { runbook: rb.lua, cron: "0 3 * * 1" }
	scheduler:
	  ha: true
	EOF
	expect_code 2 lb --config ha.yaml scheduler --once 2>err &&
	assert_contains err "ha.yaml:4:7: scheduler.ha:" &&
	assert_contains err "add central:" &&
	expect_code 2 lb --config ha.yaml check rb.lua 2>err2 &&
	assert_contains err2 "ha.yaml:4:7"
'

test_expect_success 'a schedule id: unique, without spaces; scheduler takes only ha' '
	cat >ids.yaml <<-\EOF &&
	scheduler: { ha: false, hot: true }
	schedules:
	  - { runbook: rb.lua, cron: "0 3 * * 1", id: weekly }
	  - { runbook: rb.lua, cron: "0 4 * * 1", id: weekly }
	  - { runbook: rb.lua, cron: "0 5 * * 1", id: "two words" }
	EOF
	expect_code 2 lb --config ids.yaml scheduler --once 2>err &&
	assert_contains err "ids.yaml:1:25: scheduler.hot: unknown key" &&
	assert_contains err "ids.yaml:4:47: schedules[1]: id ${Q}weekly${Q} is already the id of the schedule at line 3" &&
	assert_contains err "ids.yaml:5:47: schedules[2].id: ${Q}two words${Q} is not a schedule id"
'

test_expect_success '--central without central in the config, or with no config: exit 2' '
	printf "db: h.db\n" >plain.yaml &&
	expect_code 2 lb --config plain.yaml history --central 2>err &&
	assert_contains err "plain.yaml has no central:" &&
	expect_code 2 lb show --central abc 2>err2 &&
	assert_contains err2 "there is no config file" &&
	for c in "report --central abc --format json" "plan --central rb.lua" "evidence --central abc -o d" "audit verify --central"
	do
		expect_code 2 lb --config plain.yaml $c 2>err3 || return 1
		assert_contains err3 "has no central:" || return 1
	done
'

test_expect_success '--central where it means nothing: exit 2 naming the commands that take it' '
	pg_config_file c.yaml </dev/null &&
	expect_code 2 lb --config c.yaml run --central rb.lua 2>err &&
	assert_contains err "--central works with history, show, report, plan, evidence and audit verify, not run" &&
	test ! -e .lifeboat &&
	expect_code 2 lb --config c.yaml audit verify --central --expect-head 1:x 2>err2 &&
	assert_contains err2 "with --central each source history${Q}s head is printed"
'

test_expect_success 'a server that refuses: a clear error naming it, exit 1' '
	printf "central: { url: \"postgresql://nobody@127.0.0.1:%s/none?connect_timeout=2\" }\n" "$(free_port)" >dead.yaml &&
	expect_code 1 lb --config dead.yaml history --central 2>err &&
	assert_contains err "cannot connect to the central server ${Q}nobody@127.0.0.1:"
'

test_expect_success 'several runners at once against an empty database: migrated once, no errors' '
	_pg_as "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
		-c "create database fresh owner lifeboat" &&
	sed "s|/lifeboat\"|/fresh\"|" c.yaml >fresh.yaml &&
	assert_contains fresh.yaml "/fresh" &&
	six_at_once &&
	for i in 1 2 3 4 5 6
	do
		test ! -s h$i.err || { cat h$i.err; return 1; }
		assert_contains h$i.out "\"runs\": []" || return 1
	done &&
	"$PG_BIN/psql" -X -q -A -t "postgresql://lifeboat@127.0.0.1:$PG_PORT/fresh" \
		-c "select count(*), count(distinct version), max(version) from lifeboat_schema" >versions &&
	awk -F"|" "{ exit !(\$1 == \$2 && \$1 == \$3 && \$1 >= 2) }" versions
'

test_done
