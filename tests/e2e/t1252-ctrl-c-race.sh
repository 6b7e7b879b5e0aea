#!/bin/sh
# Issue 10 item 4: Ctrl-C at any moment — mid-step, between steps, while the run is being torn
# down — ends the run cleanly (130, or 0 when it came after the end) and never crashes: the abort
# flags are C11 atomics and the handler wakes the engine through a pipe that lives as long as the
# process. scripts/test.sh also runs this test under ThreadSanitizer.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook many.lua <<\EOF
local steps = {}
steps[1] = step "s0" { sh = "touch started" }
for i = 1, 40 do steps[#steps + 1] = step("s" .. i) { sh = "true" } end
return runbook { name = "many", phase "p" (steps), phase "q" { step "lua" { run = function() end } } }
EOF

test_expect_success 'SIGINT at 25 moments after the start, across a run and its end: exit 130 or 0, never a crash' '
	i=0 &&
	while [ $i -lt 25 ]; do
		rm -f started
		"$LIFEBOAT" run --yes many.lua >out.$i 2>&1 &
		pid=$! &&
		wait_for "test -e started" 20 &&
		sleep "0.$((i * 4 % 100))" &&
		{ kill -INT $pid; kill -INT $pid; } 2>/dev/null || :
		code=0 && { wait $pid || code=$?; } &&
		case $code in 0 | 130) ;; *) echo "run $i exited $code" && cat out.$i && exit 1 ;; esac &&
		i=$((i + 1)) || exit 1
	done &&
	lb history --json --limit 100 >h.json &&
	json_get h.json "sorted(set(r[\"status\"] for r in d[\"runs\"]) - {\"succeeded\", \"aborted\"})" >left &&
	same "$(cat left)" "[]" &&
	same "$(json_get h.json "len(d[\"runs\"])")" 25
'

test_expect_success 'SIGTERM racing SIGINT and SIGUSR1 wakes: 143 or 130 or 0, never a crash' '
	i=0 &&
	while [ $i -lt 15 ]; do
		rm -f started
		"$LIFEBOAT" run --yes many.lua >out.t$i 2>&1 &
		pid=$! &&
		wait_for "test -e started" 20 &&
		{ kill -USR1 $pid 2>/dev/null || :; } && sleep "0.$((i * 7 % 100))" &&
		{ kill -USR1 $pid; kill -TERM $pid; kill -INT $pid; } 2>/dev/null || :
		code=0 && { wait $pid || code=$?; } &&
		case $code in 0 | 130 | 143) ;; *) echo "run $i exited $code" && cat out.t$i && exit 1 ;; esac &&
		i=$((i + 1)) || exit 1
	done
'

test_done
