#!/bin/sh
# Issue 11: who or what a running step waits for is in the history, written by the engine
# (steps.waiting): a manual step waiting for a person, a failed step paused in the console for a
# decision. Another terminal sees it with `show` and `console --watch` (which no longer guesses a
# pause from the trigger and the attempt count), and sees it end when the wait ends.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

need_tmux

# NAME ARGS...: lifeboat ARGS in a terminal of its own (tmux), its exit code into NAME.code
term () {
	local _name="$1"
	shift
	at_exit "tmux -S '$TEST_DIR/.tm-$_name' kill-server"
	tm "$_name" new-session -d -s "$_name" -x 100 -y 30 \
		"cd '$TEST_DIR' && env LIFEBOAT_USER=tester NO_COLOR=1 LANG=C.UTF-8 TZ=UTC HOME='$TEST_DIR' '$LIFEBOAT' $* 2>$_name.err; echo \$? >$_name.code; exec sleep 600"
}

waiting () { # the waiting column of step NAME
	sql h.db "select coalesce(waiting, '-') from steps where name = '$1'"
}

write_runbook m.lua <<-\EOF
return runbook { name = "m",
	phase "p" {
		step "ask t1401" { manual = "Is the DNS switched?", role = "dba" },
		step "boom t1401" { sh = "echo broken; exit 3" },
	},
}
EOF

test_expect_success 'a manual step waiting for a person: the history and show say so' '
	term r1 --db h.db run m.lua &&
	wait_for "test \"\$(waiting \"ask t1401\")\" = person" 20 &&
	id=$(sql h.db "select id from runs") &&
	lb --db h.db show "$id" >show.out &&
	assert_contains show.out "waiting for a member of role dba to confirm: lifeboat confirm $id '"'"'ask t1401'"'"'" &&
	test "$(waiting "boom t1401")" = - &&
	lb --db h.db confirm "$id" "ask t1401" >confirm.out &&
	wait_for "test -s r1.code" 20 &&
	test "$(cat r1.code)" = 1 &&
	test "$(waiting "ask t1401")" = - &&
	lb --db h.db show "$id" >after.out &&
	assert_not_contains after.out "waiting for"
'

test_expect_success 'a failed step paused in the console: the history and show say so' '
	rm -f h.db* &&
	term c1 --db h.db console --yes m.lua &&
	wait_for "test \"\$(waiting \"boom t1401\")\" = decision" 20 &&
	id=$(sql h.db "select id from runs") &&
	lb --db h.db show "$id" >show.out &&
	assert_contains show.out "paused after a failure: waiting for a person to retry, skip or fail it" &&
	assert_not_contains show.out "waiting for a member" &&
	test "$(waiting "ask t1401")" = - &&
	tm c1 send-keys -t c1 -l f &&
	wait_for "test \"\$(waiting \"boom t1401\")\" = -" 20 &&
	wait_for "screen c1 | grep -q \"q quits\"" 20 &&
	tm c1 send-keys -t c1 -l q &&
	wait_for "test -s c1.code" 20 &&
	test "$(cat c1.code)" = 1 &&
	lb --db h.db show "$id" >after.out &&
	assert_not_contains after.out "paused after a failure"
'

test_expect_success '--watch shows the paused step from the history, and s there skips it' '
	rm -f h.db* &&
	term c2 --db h.db console --yes m.lua &&
	wait_for "test \"\$(waiting \"boom t1401\")\" = decision" 20 &&
	id=$(sql h.db "select id from runs") &&
	term w2 --db h.db console --watch "$id" &&
	wait_for "screen w2 | grep -qF \"STEP FAILED: boom t1401 (attempt 1): exited with code 3\"" 20 &&
	tm w2 send-keys -t w2 -l s &&
	wait_for "test \"\$(waiting \"boom t1401\")\" = -" 20 &&
	test "$(sql h.db "select status from steps where name = '"'"'boom t1401'"'"'")" = skipped &&
	wait_for "screen c2 | grep -q \"q quits\"" 20 &&
	tm c2 send-keys -t c2 -l q &&
	wait_for "test -s c2.code" 20 &&
	test "$(cat c2.code)" = 0 &&
	wait_for "screen w2 | grep -q \"q quits\"" 20 &&
	screen w2 >w2.screen &&
	assert_not_contains w2.screen "STEP FAILED" &&
	tm w2 send-keys -t w2 -l q &&
	wait_for "test -s w2.code" 20 &&
	test "$(cat w2.code)" = 0
'

test_done
