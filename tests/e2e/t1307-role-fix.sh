#!/bin/sh
# Issue 13 item 5 (SPEC 4): a role refusal gives the fix (--as a member, or LIFEBOAT_USER); the
# command printed while a step waits includes --as when the operator is not a member; a manual
# step confirmed by --yes shows as "auto-confirmed (--yes by NAME)" in show and every report,
# and the JSON keeps confirmed_by the operator's name with auto_confirmed: true.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'setup' '
	cat >lifeboat.yaml <<-\EOF &&
	roles:
	  commander: { members: [alice, carol] }
	environments:
	  prod: {}
	permissions:
	  prod: { run: [commander] }
	EOF
	write_runbook m.lua <<-\EOF
	return runbook { name = "m", roles = { "commander" },
		phase "p" { step "sign off" { manual = "confirm the recovery", role = "commander" } } }
	EOF
'

test_expect_success 'the waiting step prints the command with --as a member; a refusal names the fix' '
	{ (code=0; "$LIFEBOAT" --db h.db run m.lua >run.out 2>&1 || code=$?; echo $code >run.rc) & } &&
	wait_for "grep -q \"from any terminal\" run.out" 20 &&
	assert_contains run.out "only members of role commander may confirm (tester is not)" &&
	assert_contains run.out " --as alice confirm " &&
	id=$(sql h.db "select id from runs") &&
	expect_code 5 lb --db h.db confirm "$id" 2>err &&
	assert_contains err "${SQ}tester${SQ} may not confirm a step of role ${SQ}commander${SQ}: its members are alice, carol: run as one of them with --as alice (or LIFEBOAT_USER)" &&
	expect_code 0 lb --db h.db --as alice confirm "$id" >ok.out &&
	wait_for "test -s run.rc" 20 &&
	test "$(cat run.rc)" = 0
'

test_expect_success 'a permission refusal names the fix too' '
	expect_code 5 lb --db h.db run --env prod --yes m.lua 2>err &&
	assert_contains err "run as one of them with --as alice (or LIFEBOAT_USER)"
'

test_expect_success '--yes shows as auto-confirmed in show and every report; JSON keeps the name' '
	expect_code 0 lb --db h.db run --yes m.lua --report r.json --junit r.xml >out &&
	assert_contains out "auto-confirmed (--yes by tester)" &&
	id=$(json_get r.json "d[\"run_id\"]") &&
	test "$(json_get r.json "d[\"phases\"][0][\"steps\"][0][\"confirmed_by\"]")" = tester &&
	test "$(json_get r.json "d[\"phases\"][0][\"steps\"][0][\"auto_confirmed\"]")" = true &&
	lb --db h.db show "$id" >show.out &&
	assert_contains show.out "auto-confirmed (--yes by tester)" &&
	lb --db h.db show "$id" --json >show.json &&
	test "$(json_get show.json "d[\"phases\"][0][\"steps\"][0][\"auto_confirmed\"]")" = true &&
	assert_contains r.xml "auto-confirmed (--yes by tester)" &&
	lb --db h.db report "$id" --format md -o r.md &&
	assert_contains r.md "auto-confirmed (--yes by tester)" &&
	lb --db h.db report "$id" --format html -o r.html &&
	assert_contains r.html "auto-confirmed (--yes by tester)" &&
	lb --db h.db show "$(sql h.db "select id from runs order by started_at limit 1")" --json >first.json &&
	test "$(json_get first.json "d[\"phases\"][0][\"steps\"][0][\"confirmed_by\"]")" = alice &&
	test "$(json_get first.json "d[\"phases\"][0][\"steps\"][0][\"auto_confirmed\"]")" = false
'

test_done
