#!/bin/sh
# SPEC 11, bad input and bad servers: a malformed central.url is exit 2 with file:line; a wrong
# password is a clear error naming the server, at once; password_env unset sends nothing and every
# local command still works; the password is redacted like a secret; runners starting at once
# against an empty database migrate it once.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

test_expect_success 'setup: a private PostgreSQL and a runbook' '
	pg_start &&
	write_runbook rb.lua <<-\EOF
	return runbook { name = "rb", phase "p" { step "s" { sh = "echo token=$PGPW_TEST" } } }
	EOF
'

test_expect_success 'a malformed central.url: exit 2, file:line, nothing runs' '
	cat >bad.yaml <<-\EOF &&
	db: bad.db
	central:
	  url: "postgresql://lifeboat@127.0.0.1:5432/lb?connect_timeout=5&nosuchoption=1"
	EOF
	expect_code 2 lb --config bad.yaml run --yes rb.lua >out 2>err &&
	cat err &&
	assert_contains err "bad.yaml:3:" &&
	assert_contains err "central.url" &&
	assert_contains err "nosuchoption" &&
	test ! -e bad.db &&
	printf "central:\n  url: \"host=127.0.0.1 port='\''5432\"\n" >bad2.yaml &&
	expect_code 2 lb --config bad2.yaml check rb.lua 2>err2 &&
	assert_contains err2 "bad2.yaml:2:" &&
	printf "central: { password_env: X }\n" >bad3.yaml &&
	expect_code 2 lb --config bad3.yaml check rb.lua 2>err3 &&
	assert_contains err3 "central.url" &&
	printf "central: { url: \"postgresql://h/db\", password_env: \"not a name\" }\n" >bad4.yaml &&
	expect_code 2 lb --config bad4.yaml check rb.lua 2>err4 &&
	assert_contains err4 "central.password_env" &&
	printf "db: bad5.db\ncentral: { url: \"postgresql://lifeboat:hunter2@127.0.0.1/lb\" }\n" >bad5.yaml &&
	expect_code 2 lb --config bad5.yaml run --yes rb.lua 2>err5 &&
	assert_contains err5 "bad5.yaml:2:" &&
	assert_contains err5 "central.url: holds a password" &&
	assert_not_contains err5 "hunter2" &&
	test ! -e bad5.db &&
	printf "central: { url: \"host=127.0.0.1 password=hunter2\" }\n" >bad6.yaml &&
	expect_code 2 lb --config bad6.yaml check rb.lua 2>err6 &&
	assert_contains err6 "holds a password"
'

test_expect_success 'a wrong password: push names the server and fails at once; a run still succeeds' '
	cat >pw.yaml <<-EOF &&
	db: pw.db
	central:
	  url: "postgresql://pwuser@127.0.0.1:$PG_PORT/pwdb"
	  password_env: PGPW_TEST
	EOF
	PGPW_TEST=wrong-password lb --config pw.yaml run --yes rb.lua >out 2>err &&
	cat err &&
	assert_contains err "pwuser@127.0.0.1:$PG_PORT/pwdb" &&
	assert_contains err "password authentication failed" &&
	PGPW_TEST=wrong-password elapsed_ms lb --config pw.yaml push >out 2>err &&
	test "$LAST_CODE" = 1 &&
	cat err &&
	assert_contains err "cannot connect to the central server '\''pwuser@127.0.0.1:$PG_PORT/pwdb'\''" &&
	assert_contains err "password authentication failed" &&
	test "$ELAPSED_MS" -lt 3000
'

test_expect_success 'the right password from password_env: sent, and redacted in the output' '
	PGPW_TEST=right-password lb --config pw.yaml run --yes rb.lua >out 2>err &&
	assert_contains out "token=***" &&
	assert_not_contains out "right-password" &&
	PGPW_TEST=right-password lb --config pw.yaml push >out &&
	assert_contains out "nothing left" &&
	test "$(PGPASSWORD=right-password psql -X -A -t "postgresql://pwuser@127.0.0.1:$PG_PORT/pwdb" -c "select count(*) from runs")" = 2 &&
	! grep -r right-password pw.db
'

test_expect_success 'password_env unset (and no PGPASSFILE): a warning, nothing sent, the run works' '
	lb --config pw.yaml run --yes rb.lua >out 2>err &&
	assert_contains err "PGPW_TEST is not set" &&
	assert_contains err "pw.yaml:4" &&
	lb --config pw.yaml history >hist &&
	test "$(grep -c "rb " hist)" -ge 1 &&
	expect_code 1 lb --config pw.yaml push 2>err2 &&
	assert_contains err2 "PGPW_TEST is not set"
'

test_expect_success 'PGPASSFILE stands in for password_env' '
	echo "127.0.0.1:$PG_PORT:pwdb:pwuser:right-password" >pgpass &&
	chmod 600 pgpass &&
	PGPASSFILE=$TEST_DIR/pgpass lb --config pw.yaml push >out &&
	assert_contains out "nothing left" &&
	test "$(PGPASSWORD=right-password psql -X -A -t "postgresql://pwuser@127.0.0.1:$PG_PORT/pwdb" -c "select count(*) from runs")" = 3
'

test_expect_success 'a server that accepts and never answers: an error within the timeout, no hang' '
	python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", 0)); s.listen(8)
open(\"hung.port\", \"w\").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)
" &
	echo $! >hung.pid &&
	wait_for "test -s hung.port" 5 &&
	printf "db: hung.db\ncentral: { url: \"postgresql://lifeboat@127.0.0.1:%s/x?connect_timeout=2\" }\n" "$(cat hung.port)" >hung.yaml &&
	elapsed_ms lb --config hung.yaml run --yes rb.lua >out 2>err &&
	kill "$(cat hung.pid)" &&
	test "$LAST_CODE" = 0 &&
	cat err &&
	assert_contains err "no answer within" &&
	test "$ELAPSED_MS" -lt 8000
'

test_expect_success 'runners starting at once against an empty database migrate it once' '
	"$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE fresh OWNER lifeboat" &&
	for i in 1 2 3 4 5 6
	do
		printf "db: h%s.db\ncentral: { url: \"postgresql://lifeboat@127.0.0.1:%s/fresh\" }\n" $i "$PG_PORT" >c$i.yaml &&
		lb --config /dev/null --db h$i.db run --yes rb.lua >/dev/null 2>&1 || return 1
	done &&
	pids= &&
	for i in 1 2 3 4 5 6
	do
		"$LIFEBOAT" --config c$i.yaml push >push$i.out 2>push$i.err &
		pids="$pids $!" || return 1
	done &&
	for pid in $pids
	do
		wait "$pid" || return 1
	done &&
	cat push*.err &&
	for i in 1 2 3 4 5 6
	do
		assert_contains push$i.out "nothing left" || return 1
	done &&
	test "$(psql -X -A -t "postgresql://lifeboat@127.0.0.1:$PG_PORT/fresh" -c "select count(*) = count(distinct version) and count(*) = max(version) from lifeboat_schema")" = t &&
	test "$(psql -X -A -t "postgresql://lifeboat@127.0.0.1:$PG_PORT/fresh" -c "select count(*) from runs")" = 6 &&
	test "$(psql -X -A -t "postgresql://lifeboat@127.0.0.1:$PG_PORT/fresh" -c "select count(*) from sources")" = 6
'
test_done
