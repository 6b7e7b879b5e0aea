#!/bin/sh
# Several lifeboat processes share one history (SPEC 5): 8 runs of 8 runbooks at once into a new
# history file all succeed, all are recorded, and none sees "database is locked".
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success '8 concurrent runs of 8 runbooks into one new history all exit 0' '
	for i in 1 2 3 4 5 6 7 8
	do
		write_runbook "rb$i.lua" <<-EOF || exit 1
		return runbook { name = "rb$i", rto = "1m",
			phase "one" { parallel = 2,
				step "a" { sh = "echo a$i" },
				step "b" { sh = "echo b$i; sleep 0.1" },
				step "flaky" { retries = 2, retry_delay = "10ms",
					sh = "test -e try$i || { touch try$i; exit 1; }" },
			},
			phase "two" {
				step "c" { run = function(ctx) log("c$i") ctx.state.n = $i end },
				step "d" { manual = "confirm $i" },
			},
			phase "tidy" { cleanup = true, step "e" { sh = "echo e$i" } },
		}
		EOF
	done &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8
	do
		"$LIFEBOAT" --db hist/new.db run --yes "rb$i.lua" --report "r$i.json" >"out$i" 2>&1 &
		pids="$pids $!" &&
		at_exit "kill -9 $!" || return 1
	done &&
	codes= &&
	for pid in $pids
	do
		code=0 &&
		{ wait "$pid" || code=$?; } &&
		codes="$codes $code" || return 1
	done &&
	echo "exit codes:$codes" &&
	test "$codes" = " 0 0 0 0 0 0 0 0"
'

test_expect_success 'no run saw "database is locked" or a history error' '
	for i in 1 2 3 4 5 6 7 8
	do
		assert_not_contains "out$i" "database is locked" || exit 1
		assert_not_contains "out$i" "cannot write the history" || exit 1
	done
'

test_expect_success 'history --json lists all 8 runs, each succeeded and complete' '
	lb --db hist/new.db history --json >h.json &&
	test "$(json_get h.json "len(d[\"runs\"])")" = 8 &&
	test "$(json_get h.json "sorted(r[\"runbook\"] for r in d[\"runs\"])")" = "[\"rb1\", \"rb2\", \"rb3\", \"rb4\", \"rb5\", \"rb6\", \"rb7\", \"rb8\"]" &&
	test "$(json_get h.json "sorted(set(r[\"status\"] for r in d[\"runs\"]))")" = "[\"succeeded\"]" &&
	test "$(sql hist/new.db "select count(*) from steps where status = '\''succeeded'\''")" = 48 &&
	test "$(sql hist/new.db "select count(*) from attempts")" = 56
'

test_expect_success 'each report matches its row in the history' '
	for i in 1 2 3 4 5 6 7 8
	do
		id=$(jv "r$i.json" run_id) &&
		lb --db hist/new.db show "$id" --json >"s$i.json" &&
		same "$(jv "s$i.json" runbook status phases.0.steps.2.attempts)" \
			"rb$i succeeded 2" || exit 1
	done
'

test_done
