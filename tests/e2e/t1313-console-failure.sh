#!/bin/sh
# Issue 13 item 6 (SPEC 6): when a step fails, the console's output pane shows that step's error
# (a Lua error whole, wrapped, not cut) and the tail of its output, not the previous step's.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

need_tmux

test_expect_success 'a failed Lua step shows its own error, whole, in the output pane' '
	write_runbook fail.lua <<-\EOF &&
	return runbook { name = "fail",
		phase "p" {
			step "first" { sh = "echo output-of-the-first-step-t1313" },
			step "second" { run = function()
				error("the registry at reg.example refused the push with 401 Unauthorized: check the scope and expiry of the deploy token, then retry t1313-end", 0)
			end },
		},
	}
	EOF
	con c1 --db h.db console --yes fail.lua &&
	wait_screen c1 "output of second" 20 &&
	wait_screen c1 "t1313-end" 5 &&
	screen c1 >s1 &&
	assert_contains s1 "output of second (failed, waiting for a decision)" &&
	assert_contains s1 "error: the registry at reg.example refused the push with 401" &&
	assert_contains s1 "then retry t1313-end" &&
	assert_not_contains s1 "output-of-the-first-step-t1313" &&
	tm c1 send-keys -t c1 -l f &&
	wait_screen c1 "q quits" 20 &&
	tm c1 send-keys -t c1 -l q &&
	wait_for "test -s c1.code" 20 &&
	test "$(cat c1.code)" = 1
'

test_done
