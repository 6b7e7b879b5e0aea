#!/bin/sh
# sh() frees what it captured when it raises (issue 10 item 18): copying a 12 MB output into Lua
# past the memory cap raises, and the captured buffer used to be lost: 12 MB per call, for as
# long as the process lives. Ten attempts of such a step would leak 120 MB; the run's resident
# size (read from /proc by a later step: the shell's parent is lifeboat) must stay far below.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'sh() that raises on a 12 MB output leaks nothing, attempt after attempt' '
	write_runbook leak.lua <<-\EOF &&
	return runbook { name = "leak",
		phase "p" {
			step "before" { sh = [[grep VmRSS /proc/$PPID/status | tr -dc 0-9 >before.kb]] },
			step "big" { retries = 9, retry_delay = "0s", continue_on_error = true, run = function()
				local ok, err = pcall(sh, "head -c 12000000 /dev/zero")
				error("sh raised: " .. tostring(err))
			end },
			step "after" { sh = [[grep VmRSS /proc/$PPID/status | tr -dc 0-9 >after.kb]] },
		},
	}
	EOF
	# (under AddressSanitizer freed memory waits in a quarantine: none, so it is given back)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
	LIFEBOAT_LUA_MEMORY=8MiB expect_code 0 lb --db h.db run --yes leak.lua >out 2>err &&
	assert_contains out "memory limit (8 MiB) was reached" &&
	test "$(sql h.db "select attempts from steps where idx = 1")" = 10 &&
	before=$(cat before.kb) after=$(cat after.kb) &&
	echo "resident before $before kB, after $after kB" &&
	test $((after - before)) -lt 60000
'

test_done
