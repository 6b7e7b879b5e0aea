#!/bin/sh
# Issue 10 items 12 and 13: audit details are built with jansson (lib/json.c), so hostile names
# and text that is not UTF-8 still make valid JSON; `audit verify` hashes the bytes as stored, so
# text hidden after a NUL is caught, and an audit log emptied while runs exist is not "ok".
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

tamper () { # DB SQL: drops the triggers, then changes the log
	sqlite3 "$1" "drop trigger audit_no_update; drop trigger audit_no_delete; $2"
}

test_expect_success 'a runbook named out1 <&"'"'"'>]]> and names that are not UTF-8 give valid JSON details' '
	printf "return runbook { name = \"out1 <&\\\\\"'"'"'>]]>\", description = \"d\\\\255\\\\\"x\",\n" >odd.lua &&
	printf "  phase \"p\\\\255\" { step \"s\\\\\"q\" { sh = \"true\" }, step \"m\" { manual = \"ok?\" } } }\n" >>odd.lua &&
	cat odd.lua &&
	expect_code 0 lb run --yes odd.lua >out 2>err &&
	audit_bad_details .lifeboat/history.db >bad &&
	same "$(cat bad)" "" &&
	sql .lifeboat/history.db "select json_extract(detail, '"'"'$.runbook'"'"') from audit where event = '"'"'run_started'"'"'" >name &&
	printf "%s\n" "out1 <&\"'"'"'>]]>" >want &&
	cmp name want &&
	sql .lifeboat/history.db "select json_extract(detail, '"'"'$.phase'"'"') from audit where event = '"'"'step_result'"'"' limit 1" >phase &&
	printf "p\357\277\275\n" >want &&
	cmp phase want &&
	expect_code 0 lb audit verify >v &&
	assert_contains v "audit log ok"
'

test_expect_success 'text hidden after a NUL in a detail breaks the chain' '
	cp .lifeboat/history.db nul.db &&
	tamper nul.db "update audit set detail = detail || char(0) || '"'"'HIDDEN'"'"' where seq = 2" &&
	expect_code 1 lb --db nul.db audit verify >v &&
	assert_contains v "audit log BROKEN: entry 2" &&
	assert_contains v "do not match its hash"
'

test_expect_success 'a NUL and more after a stored hash breaks the chain too' '
	cp .lifeboat/history.db hash.db &&
	tamper hash.db "update audit set hash = hash || char(0) || '"'"'x'"'"' where seq = 3" &&
	expect_code 1 lb --db hash.db audit verify >v &&
	assert_contains v "audit log BROKEN"
'

test_expect_success 'an audit log emptied while runs exist is broken, not "ok: empty"' '
	cp .lifeboat/history.db empty.db &&
	tamper empty.db "delete from audit" &&
	expect_code 1 lb --db empty.db audit verify >v &&
	assert_contains v "audit log BROKEN: the log is empty but the history holds 1 run" &&
	assert_not_contains v "ok: empty"
'

test_done
