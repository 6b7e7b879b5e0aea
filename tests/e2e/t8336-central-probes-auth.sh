#!/bin/sh
# SPEC 11 with SPEC 10: probe results and RPO exposure reach the team history (a probes phase's
# place, a probe run's exposure, who a step waits for), so show --central and report --central of
# a probe run or a drill with probes are those of the runner's own file. A wrong password for the
# readers and for an HA scheduler is a clear error naming the server, at once, never a hang.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

test_expect_success 'setup: a private PostgreSQL; a runner with a runbook that has probes' '
	pg_start &&
	pg_runners a b &&
	touch a/latest.db &&
	write_runbook a/rb.lua <<-\EOF
	return runbook { name = "guarded", rpo = "1h",
		probes = { step "up" { sh = "true" }, step "ingest" { sh = "echo running" } },
		newest_recoverable = function() return fs.mtime("latest.db") end,
		recovery_point = function() return fs.mtime("latest.db") end,
		phase "break" { fault = true, step "f" { sh = "true" } },
		phase "restore" { restores_service = true, step "r" { sh = "true" } },
	}
	EOF
'

test_expect_success 'a probe run and a drill with probes are pushed with their probe columns' '
	(cd a && lb probe rb.lua && lb drill --yes rb.lua && lb push) >a.out 2>&1 &&
	same "$(psql_q "select mode, rpo_exposure_status, rpo_exposure_s is not null, newest_recoverable_at is not null from runs order by started_at")" \
		"$(printf "probe|met|t|t\ndrill||f|f")" &&
	same "$(psql_q "select distinct probe from phases where probe is not null order by probe")" "$(printf "after\nbefore")" &&
	same "$(psql_q "select count(*) from runs where newest_recoverable_at is not null")" \
		"$(sql a/.lifeboat/history.db "select count(*) from runs where newest_recoverable_at is not null")"
'

test_expect_success 'show --central and report --central of them from another runner: as the runner own file shows them' '
	for id in $(sql a/.lifeboat/history.db "select id from runs")
	do
		(cd a && lb show --json "$id") >l.json &&
		(cd b && lb show --central --json "$id") >c.json &&
		cmp l.json c.json &&
		same "$(json_get c.json "[d[\"mode\"], d[\"rpo_exposure\"][\"status\"], len(d[\"probes\"][\"before\"])]")" \
			"$(json_get l.json "[d[\"mode\"], \"met\" if d[\"mode\"] == \"probe\" else \"none\", 2]")" &&
		(cd a && lb show "$id") >l.txt &&
		(cd b && lb show --central "$id") >c.txt &&
		cmp l.txt c.txt || return 1
	done &&
	drill=$(sql a/.lifeboat/history.db "select id from runs where mode = ${Q}drill$Q") &&
	(cd a && lb report "$drill" --format md -o -) >l.md &&
	(cd b && lb report --central "$drill" --format md -o -) >c.md &&
	cmp l.md c.md &&
	assert_contains c.md "Probes"
'

test_expect_success 'a wrong password: history --central and show --central name the server and fail at once' '
	cat >pw.yaml <<-EOF &&
	central:
	  url: "postgresql://pwuser@127.0.0.1:$PG_PORT/pwdb"
	  password_env: PGPW_TEST
	EOF
	PGPW_TEST=wrong-password elapsed_ms lb --config pw.yaml history --central >out 2>err &&
	test "$LAST_CODE" = 1 &&
	cat err &&
	assert_contains err "history --central: cannot connect to the central server ${Q}pwuser@127.0.0.1:$PG_PORT/pwdb$Q" &&
	assert_contains err "password authentication failed" &&
	test "$ELAPSED_MS" -lt 3000 &&
	PGPW_TEST=wrong-password expect_code 1 lb --config pw.yaml show --central abc 2>err2 &&
	assert_contains err2 "pwuser@127.0.0.1:$PG_PORT/pwdb"
'

test_expect_success 'a wrong password: an HA scheduler runs no drill, says why naming the server, at once' '
	cp pw.yaml ha.yaml &&
	cat >>ha.yaml <<-\EOF &&
	db: ha.db
	scheduler: { ha: true }
	schedules:
	  - { runbook: a/rb.lua, cron: "* * * * *" }
	EOF
	PGPW_TEST=wrong-password elapsed_ms lb --config ha.yaml scheduler --once >out 2>&1 &&
	test "$LAST_CODE" = 1 &&
	cat out &&
	assert_contains out "not started: the team database cannot be reached" &&
	assert_contains out "pwuser@127.0.0.1:$PG_PORT/pwdb" &&
	assert_contains out "password authentication failed" &&
	test "$ELAPSED_MS" -lt 3000 &&
	test "$(sql ha.db "select count(*) from runs")" = 0
'

test_done
