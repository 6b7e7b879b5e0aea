#!/bin/sh
# A tripped deadline fails the step whatever the call returned (issue 10 item 7): the timeout
# raised inside a coroutine, a pcall around coroutine.wrap or a __close can be caught by the
# runbook, and the step used to end "succeeded" after its whole timeout.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'a loop in a coroutine, a wrapped coroutine or a __close times the step out' '
	write_runbook swallow.lua <<-\EOF &&
	local function loop() while true do end end
	return runbook { name = "swallow",
		phase "p" {
			step "resume" { timeout = "1s", continue_on_error = true, run = function()
				coroutine.resume(coroutine.create(loop))
			end },
			step "wrap" { timeout = "1s", continue_on_error = true, run = function()
				pcall(coroutine.wrap(loop))
			end },
			step "close" { timeout = "1s", continue_on_error = true, run = function()
				coroutine.resume(coroutine.create(function()
					local x <close> = setmetatable({}, { __close = loop })
					loop()
				end))
			end },
			step "nested" { timeout = "1s", continue_on_error = true, run = function()
				local co = coroutine.wrap(function()
					pcall(coroutine.wrap(loop))
					return "inner done"
				end)
				pcall(co)
			end },
			step "after" { run = function() log("after ran") end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes swallow.lua --report r.json >out 2>err &&
	assert_contains out "after ran" &&
	test "$(json_get r.json "[s[\"status\"] for s in d[\"phases\"][0][\"steps\"]]")" = \
		"[\"timed_out\", \"timed_out\", \"timed_out\", \"timed_out\", \"succeeded\"]" &&
	test "$(json_get r.json "d[\"phases\"][0][\"steps\"][0][\"error\"]")" = "timed out after 1s"
'

test_expect_success 'a memory cap tripped inside a coroutine fails the step too' '
	write_runbook mem.lua <<-\EOF &&
	return runbook { name = "mem",
		phase "p" {
			step "grow" { run = function()
				coroutine.resume(coroutine.create(function()
					local t = {}
					for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
				end))
			end },
		},
	}
	EOF
	LIFEBOAT_LUA_MEMORY=16MiB expect_code 1 lb --db h.db run --yes mem.lua --report r.json >out 2>err &&
	assert_contains out "memory limit (16 MiB) was reached"
'

test_done
