#!/bin/sh
# SPEC 11: with central, an exclusive runbook's lock is also a lease in PostgreSQL: two runs from
# two histories cannot overlap; without the server the local lock alone applies, with a warning.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

test_expect_success 'setup: a private PostgreSQL; two laptops with their own histories' '
	pg_start &&
	for d in alice bob
	do
		mkdir $d && pg_config_file $d/lifeboat.yaml </dev/null &&
		write_runbook $d/restore.lua <<-\EOF || return 1
		return runbook { name = "restore-prod", rto = "5m", exclusive = true,
			phase "restore" { step "copy" { sh = "touch started; sleep 3" } },
		}
		EOF
	done
'

test_expect_success 'the second run of one exclusive runbook, from another history, exits 5' '
	(cd alice && lb run --yes restore.lua >../alice.out 2>&1; echo $? >../alice.rc) &
	wait_for "test -e alice/started" 20 &&
	holder=$(psql_q "select holder from lifeboat_leases where runbook = ${Q}restore-prod$Q") &&
	same "$holder" "$(sql alice/.lifeboat/history.db "select id from runs")" &&
	(cd bob && expect_code 5 lb run --yes restore.lua) >bob.out 2>&1 &&
	cat bob.out &&
	assert_contains bob.out "already running as run $holder" &&
	assert_contains bob.out "team-wide lease" &&
	test ! -e bob/started &&
	same "$(sql bob/.lifeboat/history.db "select status from runs")" refused &&
	wait_for "test -s alice.rc" 20 &&
	same "$(cat alice.rc)" 0 &&
	same "$(psql_q "select count(*) from lifeboat_leases")" 0
'

test_expect_success 'once the first run ended the other history runs it' '
	(cd bob && lb run --yes restore.lua) >bob2.out 2>&1 &&
	test -e bob/started &&
	same "$(psql_q "select count(*) from lifeboat_leases")" 0
'

test_expect_success 'a lease whose holder died expires; a live holder keeps renewing it' '
	psql_q "insert into lifeboat_leases values (${Q}restore-prod$Q, $Q$Q, ${Q}deadbeef$Q, ${Q}gone$Q, 1,
		now() - interval ${Q}5 minutes$Q, now() - interval ${Q}1 second$Q)" &&
	(cd bob && lb run --yes restore.lua) >bob3.out 2>&1 &&
	assert_not_contains bob3.out "deadbeef"
'

test_expect_success 'a lease taken by another run while this one held it (it lapsed): a warning at the end, the row left to its holder' '
	rm -f alice/started || return 1
	(cd alice && lb run --yes restore.lua >../alice3.out 2>&1; echo $? >../alice3.rc) &
	wait_for "test -e alice/started" 20 &&
	psql_q "update lifeboat_leases set holder = ${Q}cafe1234$Q, host = ${Q}elsewhere$Q" &&
	wait_for "test -s alice3.rc" 20 &&
	cat alice3.out &&
	same "$(cat alice3.rc)" 0 &&
	assert_contains alice3.out "the team-wide lease of ${Q}restore-prod$Q was taken by run cafe1234 on elsewhere while this run held it" &&
	same "$(psql_q "select holder from lifeboat_leases")" cafe1234 &&
	psql_q "delete from lifeboat_leases"
'

test_expect_success 'the server out of reach: the local lock alone applies, with a warning' '
	pg_stop &&
	(cd alice && lb run --yes restore.lua) >alice2.out 2>&1 &&
	cat alice2.out &&
	assert_contains alice2.out "team lease cannot be taken" &&
	assert_contains alice2.out "only this machine${Q}s lock keeps it exclusive" &&
	same "$(sql alice/.lifeboat/history.db "select status from runs order by started_at desc limit 1")" succeeded &&
	pg_restart
'

test_done
