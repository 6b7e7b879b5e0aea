#!/bin/sh
# NUL bytes in output (issue 10 item 10): `printf 'first\0second'` kept only "first" in the
# history, show and the reports, and log() likewise, because the output was handled as a C
# string. The bytes after a NUL are kept now and the NUL reads "^@" (as cat -v and less show
# it), on the terminal too; sh() still gives Lua the raw bytes.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

test_expect_success 'output after a NUL is kept in the history, show, reports and on the terminal' '
	write_runbook nul.lua <<-\EOF &&
	return runbook { name = "nul",
		phase "p" {
			step "shell" { sh = [[printf "first\0second\n"; printf "err\0after\n" >&2]] },
			step "lua" { run = function()
				log("log\0tail")
				local r = sh([[printf "x\0y"]])
				assert(r.stdout == "x\0y", "sh() gives Lua the raw bytes")
			end },
			step "failing" { sh = [[printf "why\0it failed\n"; exit 3]], continue_on_error = true },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes nul.lua --report r.json --junit r.xml >out 2>err &&
	assert_contains out "shell | first^@second" &&
	assert_contains out "shell | err^@after" &&
	assert_contains out "lua | log^@tail" &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	sql h.db "select output from steps where run_id = $Q$run$Q order by idx" >stored &&
	assert_contains stored "first^@second" &&
	assert_contains stored "err^@after" &&
	assert_contains stored "log^@tail" &&
	assert_contains stored "x^@y" &&
	lb --db h.db show "$run" >show &&
	assert_contains show "why^@it failed" &&
	assert_contains r.xml "why^@it failed" &&
	lb --db h.db report "$run" --format md -o r.md &&
	assert_contains r.md "why^@it failed"
'

test_done
