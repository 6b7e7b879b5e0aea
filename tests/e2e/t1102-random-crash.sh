#!/bin/sh
# Random crashes (issue 5): a runbook of 20 steps, each appending to its own ledger file, is killed
# with SIGKILL at more than 50 random moments (during runs and during resumes, over as many runs as
# it takes) and resumed each time. In the end every run succeeded, every step is recorded as
# finished exactly once, each ledger holds its step's line (a step runs again only when a kill hit
# it in flight: never more reruns than kills), ctx.state is intact and the history passes PRAGMA
# integrity_check.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

{
	echo 'return runbook { name = "ledger", rto = "10m",'
	echo '	phase "first" {'
	echo '		step "remember" { run = function(ctx) ctx.state.token = "t-" .. ctx.run_id end },'
	i=1
	while [ $i -le 10 ]; do
		printf '\t\tstep "s%02d" { sh = "echo $LIFEBOAT_RUN_ID >> ledger.%02d; sleep 0.02" },\n' $i $i
		i=$((i + 1))
	done
	echo '	},'
	echo '	phase "second" {'
	while [ $i -le 20 ]; do
		printf '\t\tstep "s%02d" { sh = "echo $LIFEBOAT_RUN_ID >> ledger.%02d; sleep 0.02" },\n' $i $i
		i=$((i + 1))
	done
	echo '		step "check state" { run = function(ctx)'
	echo '			assert(ctx.state.token == "t-" .. ctx.run_id, "ctx.state was lost")'
	echo '		end },'
	echo '	},'
	echo '}'
} >ledger.lua

# pause SEED: a random pause of 10 to 260 ms
pause () {
	sleep "$(awk -v s="$1" 'BEGIN { srand(s); printf "%.3f", 0.01 + rand() * 0.25 }')"
}

test_expect_success 'runs survive more than fifty random SIGKILLs and finish by resuming' '
	kills=0 seed=$$ run=1 &&
	prev=none &&
	while [ $kills -lt 55 ] && [ $run -le 40 ]; do
		"$LIFEBOAT" --db h.db run --yes ledger.lua >/dev/null 2>&1 &
		pid=$! &&
		id= &&
		tries=0 &&
		while :; do
			seed=$((seed + 7)) &&
			pause $seed &&
			if kill -9 $pid 2>/dev/null; then
				kills=$((kills + 1))
			fi &&
			{ wait $pid 2>/dev/null || :; } &&
			if [ -z "$id" ]; then
				id=$(lb --db h.db history ledger --limit 1 --json | json_get - "d[\"runs\"][0][\"run_id\"]" 2>/dev/null || :) &&
				if [ -z "$id" ] || [ "$id" = "$prev" ]; then
					# killed before the run was recorded: nothing to resume, start it again
					id=
					"$LIFEBOAT" --db h.db run --yes ledger.lua >/dev/null 2>&1 &
					pid=$! &&
					continue
				fi
			fi &&
			status=$(lb --db h.db show "$id" --json | json_get - "d[\"status\"]") &&
			if [ "$status" = succeeded ]; then
				break
			fi &&
			{ test "$status" = interrupted || { echo "run $id is $status, not interrupted"; return 1; }; } &&
			tries=$((tries + 1)) &&
			if [ $tries -ge 6 ]; then
				expect_code 0 lb --db h.db resume "$id" --yes >/dev/null 2>&1 || return 1
				break
			fi
			"$LIFEBOAT" --db h.db resume "$id" --yes >/dev/null 2>&1 &
			pid=$! || return 1
		done &&
		echo "$id" >>ids &&
		prev=$id &&
		run=$((run + 1)) || return 1
	done &&
	echo "kills: $kills" &&
	test $kills -ge 50 &&
	echo $kills >kills
'

test_expect_success 'every run succeeded with each step recorded as finished exactly once' '
	test "$(sort -u ids | wc -l)" = "$(wc -l <ids)" &&
	for id in $(cat ids); do
		test "$(lb --db h.db show "$id" --json | json_get - "d[\"status\"]")" = succeeded &&
		test "$(sql h.db "select count(*) from steps where run_id = '"'"'$id'"'"' and status = '"'"'succeeded'"'"'")" = 22 &&
		test "$(sql h.db "select count(*) from attempts where run_id = '"'"'$id'"'"' and status = '"'"'succeeded'"'"'")" = 22 || return 1
	done
'

test_expect_success 'each ledger holds every run; steps ran again only where a kill hit them in flight' '
	i=1 &&
	while [ $i -le 20 ]; do
		f=$(printf "ledger.%02d" $i) &&
		for id in $(cat ids); do
			grep -q "^$id$" "$f" || { echo "$f lacks run $id"; return 1; }
		done &&
		i=$((i + 1)) || return 1
	done &&
	reruns=$(( $(cat ledger.[0-9]* | wc -l) - 20 * $(wc -l <ids) )) &&
	echo "steps run again after a kill: $reruns, kills: $(cat kills)" &&
	test "$reruns" -le "$(cat kills)"
'

test_expect_success 'the history is intact and nothing of the runs is left running' '
	test "$(sql h.db "pragma integrity_check")" = ok &&
	expect_code 0 lb --db h.db audit verify >v &&
	no_step_process "ledger"
'

test_done
