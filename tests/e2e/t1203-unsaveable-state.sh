#!/bin/sh
# An unsaveable ctx.state (issue 10 item 11): a function, invalid UTF-8 or a key that is neither a
# string nor a number cannot be saved as JSON. It used to stop the saving of ctx.state silently
# for every later step (so resume lost all of it); now the step that stored it fails, naming the
# key, and the history keeps the last state that could be saved.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

test_expect_success 'a function in ctx.state fails the step that stored it, naming the key' '
	write_runbook fn.lua <<-\EOF &&
	return runbook { name = "fn",
		phase "p" {
			step "good" { run = function(ctx) ctx.state.count = 1 end },
			step "bad" { run = function(ctx) ctx.state.hooks = { on_done = function() end } end },
			step "never" { sh = "echo never >never.out" },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes fn.lua --report r.json >out 2>err &&
	test ! -e never.out &&
	assert_contains out "ctx.state.hooks.on_done: a function cannot be encoded" &&
	test "$(json_get r.json "[s[\"status\"] for s in d[\"phases\"][0][\"steps\"]]")" = \
		"[\"succeeded\", \"failed\", \"skipped\"]" &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql h.db "select state_json from steps where run_id = $Q$run$Q and idx = 0")" = "{\"count\":1}"
'

test_expect_success 'invalid UTF-8 and a table key fail the step too; a later fix saves again' '
	write_runbook utf8.lua <<-\EOF &&
	return runbook { name = "utf8",
		phase "p" {
			step "bytes" { continue_on_error = true, run = function(ctx)
				ctx.state.list = { "fine", "\255\254" }
			end },
			step "key" { continue_on_error = true, run = function(ctx)
				ctx.state.list = nil
				ctx.state.map = { [{}] = 1 }
			end },
			step "fixed" { run = function(ctx)
				ctx.state.map = nil
				ctx.state.ok = "yes"
			end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes utf8.lua --report r.json >out 2>err &&
	assert_contains out "ctx.state.list[2]: a string is not valid UTF-8" &&
	assert_contains out "ctx.state.map: table keys must be strings or numbers, not table" &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql h.db "select state_json from steps where run_id = $Q$run$Q and idx = 2")" = "{\"ok\":\"yes\"}"
'

test_done
