#!/bin/sh
# The live console (SPEC 6), used the way a person uses it: under tmux, keys sent with
# send-keys, the screen read with capture-pane. Each console runs on a tmux server of its own
# (socket .tm-NAME in the test folder); its exit code and stderr land in NAME.code and NAME.err.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

need_tmux

last_run () {
	lb history --json | jv - runs.0.run_id
}

write_runbook manual.lua <<-\EOF
return runbook { name = "manual", rpo = "1h",
	phase "verify" { role = "sre",
		step "prep" { sh = "echo preparing the check" },
		step "commander signs off" { manual = "Check the ${dash} dashboard", role = "commander" },
		step "after" { sh = "touch after-ran" },
	},
	phase "tidy" { cleanup = true, step "tidy up" { sh = "touch cleaned" } },
	params = { dash = "grafana" },
}
EOF

test_expect_success 'y confirms the waiting manual step as the operator; q quits only once the run ended' '
	con c1 console manual.lua &&
	wait_screen c1 "WAITING FOR A PERSON" &&
	screen c1 >s1 &&
	assert_contains s1 "Check the grafana dashboard" &&
	assert_contains s1 "role commander" &&
	assert_contains s1 "operator tester" &&
	keys c1 q &&
	wait_screen c1 "q quits once it has ended" &&
	test ! -e c1.code &&
	keys c1 y &&
	wait_screen c1 "q quits and prints the summary" &&
	test -e after-ran &&
	keys c1 q &&
	code=$(done_code c1) &&
	test "$code" = 4 &&
	id=$(last_run) &&
	lb show "$id" --json >show.json &&
	test "$(jv show.json phases.0.steps.1.confirmed_by)" = tester &&
	test "$(jv show.json trigger)" = console &&
	test "$(jv show.json status)" = succeeded
'

test_expect_success 'after the console the terminal is restored and shows the summary, as run prints it' '
	screen c1 >after &&
	assert_contains after "RTO  achieved" &&
	assert_contains after "UNMEASURED" &&
	assert_contains after "exit 4 · lifeboat show" &&
	assert_not_contains after "WAITING FOR A PERSON" &&
	assert_not_contains after "a abort" &&
	expect_code 4 lb run --yes manual.lua >run.out &&
	assert_contains run.out "exit 4"
'

test_expect_success 'n declines: the step is declined, the run fails with exit 1 and cleanup runs' '
	rm -f after-ran cleaned &&
	con c2 console manual.lua &&
	wait_screen c2 "WAITING FOR A PERSON" &&
	keys c2 n &&
	wait_screen c2 "q quits and prints the summary" &&
	screen c2 >s2 &&
	assert_contains s2 "declined" &&
	keys c2 q &&
	test "$(done_code c2)" = 1 &&
	test ! -e after-ran &&
	test -e cleaned &&
	lb show "$(last_run)" --json >show.json &&
	test "$(jv show.json phases.0.steps.1.status)" = declined &&
	test "$(jv show.json status)" = failed
'

test_expect_success '`lifeboat confirm` from another terminal answers the console at once, like its y' '
	con c9 console manual.lua &&
	wait_screen c9 "WAITING FOR A PERSON" &&
	id=$(last_run) &&
	LIFEBOAT_USER=alice elapsed_ms lb confirm "$id" "commander signs off" >confirm.out &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 1500 &&
	assert_contains confirm.out "confirmed" &&
	wait_screen c9 "q quits and prints the summary" &&
	screen c9 >s9 &&
	assert_contains s9 "by alice" &&
	keys c9 q &&
	test "$(done_code c9)" = 4 &&
	lb show "$id" --json >show.json &&
	test "$(jv show.json phases.0.steps.1.confirmed_by)" = alice
'

write_runbook flaky.lua <<-\EOF
return runbook { name = "flaky",
	phase "restore" { role = "data-eng",
		step "copy snapshot" { sh = [[n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n >count; echo "attempt $n"; test $n -ge 2]] },
		step "broken" { sh = "echo cannot reach the replica; exit 3" },
		step "after" { sh = "touch after-ran" },
	},
}
EOF

test_expect_success 'r retries a failed step that then passes; s skips one and the run goes on' '
	rm -f count after-ran &&
	con c3 console flaky.lua &&
	wait_screen c3 "STEP FAILED: copy snapshot" &&
	screen c3 >s3 &&
	assert_contains s3 "attempt 1" &&
	keys c3 r &&
	wait_screen c3 "STEP FAILED: broken" &&
	test "$(cat count)" = 2 &&
	screen c3 >s3b &&
	assert_contains s3b "cannot reach the replica" &&
	keys c3 s &&
	wait_screen c3 "q quits and prints the summary" &&
	test -e after-ran &&
	keys c3 q &&
	test "$(done_code c3)" = 0 &&
	lb show "$(last_run)" --json >show.json &&
	test "$(jv show.json phases.0.steps.0.status)" = succeeded &&
	test "$(jv show.json phases.0.steps.0.attempts)" = 2 &&
	test "$(jv show.json phases.0.steps.1.status)" = skipped &&
	test "$(jv show.json phases.0.steps.2.status)" = succeeded
'

test_expect_success 'm adds a note to the timeline, with the operator' '
	con c4 console manual.lua &&
	wait_screen c4 "WAITING FOR A PERSON" &&
	keys c4 m &&
	wait_screen c4 "note (Enter adds it" &&
	keys c4 "restored from the 01:00 snapshot" &&
	tm c4 send-keys -t c4 Enter &&
	wait_screen c4 "noted" &&
	keys c4 y &&
	wait_screen c4 "q quits and prints the summary" &&
	keys c4 q &&
	test "$(done_code c4)" = 4 &&
	lb show "$(last_run)" --json >show.json &&
	test "$(jv show.json notes.0.text)" = "restored from the 01:00 snapshot" &&
	test "$(jv show.json notes.0.operator)" = tester
'

test_expect_success 'a asks again; y aborts: the run is aborted, cleanup runs, exit 130' '
	rm -f cleaned after-ran &&
	con c5 console manual.lua &&
	wait_screen c5 "WAITING FOR A PERSON" &&
	keys c5 a &&
	wait_screen c5 "abort the run? y/N" &&
	keys c5 n &&
	wait_screen c5 "abort cancelled" &&
	keys c5 a &&
	wait_screen c5 "abort the run? y/N" &&
	keys c5 y &&
	wait_screen c5 "q quits and prints the summary" &&
	keys c5 q &&
	test "$(done_code c5)" = 130 &&
	test -e cleaned &&
	test ! -e after-ran &&
	lb show "$(last_run)" --json >show.json &&
	test "$(jv show.json status)" = aborted
'

write_runbook busy.lua <<-\EOF
return runbook { name = "busy",
	phase "compute" {
		step "crunch" { run = function() local t = now() while now() - t < 3 do end end },
	},
}
EOF

test_expect_success 'keys are handled while a run step computes in Lua' '
	con c6 console busy.lua &&
	wait_screen c6 "crunch" &&
	keys c6 m &&
	wait_screen c6 "note (Enter adds it" 1 &&
	keys c6 "while it computes" &&
	wait_screen c6 "while it computes" 1 &&
	tm c6 send-keys -t c6 Enter &&
	wait_screen c6 "q quits and prints the summary" &&
	keys c6 q &&
	test "$(done_code c6)" = 0 &&
	lb show "$(last_run)" --json >show.json &&
	test "$(jv show.json notes.0.text)" = "while it computes"
'

test_expect_success 'a resize redraws the whole screen at the new size' '
	con c7 console manual.lua &&
	wait_screen c7 "WAITING FOR A PERSON" &&
	tm c7 resize-window -t c7 -x 100 -y 30 &&
	wait_for "screen c7 | sed -n 30p | grep -q \"a abort\" && screen c7 | head -1 | grep -q \"  \[RUNNING\]\$\"" 5 &&
	screen c7 >big &&
	test "$(grep -c "run manual · run " big)" = 1 &&
	test "$(grep -c "a abort" big)" = 1 &&
	test "$(wc -l <big)" = 30 &&
	head -1 big | grep -q "\[RUNNING\]$" &&
	test "$(head -1 big | wc -m)" -gt 95 &&
	tm c7 resize-window -t c7 -x 80 -y 24 &&
	wait_for "screen c7 | sed -n 24p | grep -q \"a abort\" && screen c7 | head -1 | grep -q \"\[RUNNING\]\$\"" 5 &&
	screen c7 >small &&
	test "$(grep -c "run manual · run " small)" = 1 &&
	test "$(grep -c "WAITING FOR A PERSON" small)" = 1 &&
	test "$(grep -c "a abort" small)" = 1 &&
	test "$(wc -l <small)" = 24 &&
	head -1 small | grep -q "\[RUNNING\]$" &&
	keys c7 y &&
	wait_screen c7 "q quits and prints the summary" &&
	keys c7 q &&
	test "$(done_code c7)" = 4
'

test_expect_success 'SIGTERM aborts the run, restores the terminal and exits 143' '
	rm -f cleaned &&
	con c8 console manual.lua &&
	wait_screen c8 "WAITING FOR A PERSON" &&
	kill -TERM "$(cat c8.pid)" &&
	test "$(done_code c8)" = 143 &&
	test -e cleaned &&
	screen c8 >after &&
	assert_contains after "aborted · exit 143" &&
	assert_not_contains after "WAITING FOR A PERSON"
'

test_expect_success '--watch follows a run another process executes; y there confirms it' '
	rm -f after-ran
	LIFEBOAT_USER=bob lb run manual.lua </dev/null >bg.out 2>&1 &
	bg=$! &&
	at_exit "kill $bg" &&
	wait_for "lb history --json | jv - runs.0.status | grep -qx running" 10 &&
	id=$(last_run) &&
	wait_for "lb show $id --json | jv - phases.0.steps.1.status | grep -qx running" 10 &&
	con w1 console --watch "$id" &&
	wait_screen w1 "WAITING FOR A PERSON" &&
	screen w1 >sw &&
	assert_contains sw "watching run manual · run " &&
	assert_contains sw "Check the grafana dashboard" &&
	assert_contains sw "operator bob" &&
	tail -1 sw | grep -q "q quit  *as tester$" &&
	assert_contains sw "output of prep" &&
	assert_contains sw "preparing the check" &&
	keys w1 y &&
	wait_for "! kill -0 $bg 2>/dev/null" 10 &&
	code=0 && wait "$bg" || code=$? &&
	test "$code" = 4 &&
	test -e after-ran &&
	wait_screen w1 "succeeded, RPO unmeasured · exit 4 · q quits" 3 &&
	keys w1 q &&
	test "$(done_code w1)" = 0 &&
	lb show "$id" --json >show.json &&
	test "$(jv show.json phases.0.steps.1.confirmed_by)" = tester
'

test_expect_success 'no sanitizer report from any console' '
	for f in *.err
	do
		if grep -l -e "Sanitizer" -e "runtime error" "$f"; then
			cat "$f"
			exit 1
		fi
	done
'

test_done
