#!/bin/sh
# A NUL byte in a Lua error (review of issue 10 item 10): `error("first\0second")` kept only
# "first" in the terminal, the history, show and the reports, since the message handler and
# the host took the message as a C string. What follows the NUL is kept; the NUL reads ^@.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

test_expect_success 'an error message keeps what follows a NUL' '
	write_runbook nulerr.lua <<-\EOF &&
	return runbook { name = "nulerr",
		phase "p" {
			step "raw" { continue_on_error = true,
				run = function() error("first\0second-part") end },
			step "table" { continue_on_error = true,
				run = function() error(setmetatable({}, { __tostring = function()
					return "obj\0tail-part" end })) end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes nulerr.lua --report r.json --junit r.xml >out 2>err &&
	assert_contains out "first^@second-part" &&
	assert_contains out "obj^@tail-part" &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	sql h.db "select error from steps where run_id = $Q$run$Q order by idx" >stored &&
	assert_contains stored "first^@second-part" &&
	assert_contains stored "obj^@tail-part" &&
	lb --db h.db show "$run" >show &&
	assert_contains show "first^@second-part" &&
	assert_contains r.json "first^@second-part" &&
	assert_contains r.xml "first^@second-part"
'

test_done
