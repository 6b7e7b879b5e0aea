#!/bin/sh
# json.encode and json.decode free what they hold in C when copying into Lua raises (review of
# issue 10 item 18, which fixed sh()): past the memory cap, the encoded text (here 7.5 MB) or
# the decoded document was lost on every call, so a step retried ten times grew the process by
# about 100 MB, outside lua_memory. The resident size (read from /proc by a later step: the
# shell's parent is lifeboat) must stay far below that.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'json.encode and json.decode that raise at the cap leak nothing, attempt after attempt' '
	write_runbook jleak.lua <<-\EOF &&
	return runbook { name = "jleak",
		phase "p" {
			step "before" { sh = [[grep VmRSS /proc/$PPID/status | tr -dc 0-9 >before.kb]] },
			step "encode" { retries = 9, retry_delay = "0s", continue_on_error = true, run = function()
				local s = string.rep("x", 2500000)
				json.encode({ s, s, s })
			end },
			step "middle" { sh = [[grep VmRSS /proc/$PPID/status | tr -dc 0-9 >middle.kb]] },
			step "decode" { retries = 9, retry_delay = "0s", continue_on_error = true, run = function()
				local d = "[" .. string.rep("\"" .. string.rep("y", 100) .. "\",", 40000) .. "\"z\"]"
				json.decode(d)
			end },
			step "after" { sh = [[grep VmRSS /proc/$PPID/status | tr -dc 0-9 >after.kb]] },
			step "still works" { run = function()
				assert(json.encode(json.decode("[1,\"a\",{\"b\":true}]")) == "[1,\"a\",{\"b\":true}]")
				assert(json.decode("[") == nil)
			end },
		},
	}
	EOF
	# (under AddressSanitizer freed memory waits in a quarantine: none, so it is given back)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
	LIFEBOAT_LUA_MEMORY=8MiB expect_code 0 lb --db h.db run --yes jleak.lua >out 2>err &&
	assert_contains out "memory limit (8 MiB) was reached" &&
	test "$(sql h.db "select attempts from steps where idx = 1")" = 10 &&
	test "$(sql h.db "select attempts from steps where idx = 3")" = 10 &&
	test "$(sql h.db "select status from steps where idx = 5")" = succeeded &&
	before=$(cat before.kb) middle=$(cat middle.kb) after=$(cat after.kb) &&
	echo "resident before $before kB, after encode $middle kB, after decode $after kB" &&
	test $((middle - before)) -lt 40000 &&
	test $((after - middle)) -lt 40000
'

test_done
