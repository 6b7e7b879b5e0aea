#!/bin/sh
# Issue 13 item 8 (SPEC 3): `lifeboat note RUN_ID TEXT` works on a finished run (post-incident
# review findings): audited, and shown as after the end in show and the reports.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'a note on a finished run is kept, audited and marked after the end' '
	write_runbook n.lua <<-\EOF &&
	return runbook { name = "n", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 0 lb --db h.db run --yes n.lua --report r.json >out &&
	id=$(json_get r.json "d[\"run_id\"]") &&
	expect_code 0 lb --db h.db note "$id" "review: the DNS TTL was 1h, not 5m" >note.out &&
	assert_contains note.out "note added after the end" &&
	test "$(sql h.db "select count(*) from notes where text like ${SQ}review:%${SQ}")" = 1 &&
	test "$(sql h.db "select count(*) from audit where event = ${SQ}note${SQ} and detail like ${SQ}%after_end%${SQ}")" = 1 &&
	lb --db h.db show "$id" >show.out &&
	assert_contains show.out "tester (after the end): review: the DNS TTL was 1h, not 5m" &&
	lb --db h.db show "$id" --json >show.json &&
	test "$(json_get show.json "d[\"notes\"][-1][\"after_end\"]")" = true &&
	lb --db h.db report "$id" --format md -o r.md &&
	assert_contains r.md "(after the end): review: the DNS TTL" &&
	lb --db h.db report "$id" --format junit -o r.xml &&
	assert_contains r.xml "note by tester (after the end): review" &&
	lb --db h.db report "$id" --format html -o r.html &&
	assert_contains r.html "(after the end)" &&
	expect_code 0 lb --db h.db audit verify >audit.out
'

test_expect_success 'a note still needs a run that exists, and other actions still need a running run' '
	expect_code 2 lb --db h.db note nosuchrun "x" 2>err &&
	id=$(sql h.db "select id from runs") &&
	expect_code 5 lb --db h.db confirm "$id" 2>err &&
	assert_contains err "not running"
'

test_expect_success 'a note that starts with - is refused with how to give it; after -- it is kept' '
	id=$(json_get r.json "d[\"run_id\"]") &&
	expect_code 2 lb --db h.db note "$id" "-5% traffic after failover" 2>err &&
	assert_contains err "text that starts with ${SQ}-${SQ} goes after --: lifeboat note ... -- ${SQ}-5% traffic after failover${SQ}" &&
	test "$(sql h.db "select count(*) from notes where text like ${SQ}-5%${SQ}")" = 0 &&
	expect_code 0 lb --db h.db note "$id" -- "-5% traffic after failover" >note.out &&
	test "$(sql h.db "select count(*) from notes where text like ${SQ}-5%${SQ}")" = 1
'

test_done
