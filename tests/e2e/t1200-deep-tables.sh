#!/bin/sh
# Deep tables (issue 10 item 1): json.encode and ctx.state walk nested tables from C. Each level
# takes Lua stack slots; without lua_checkstack 60 levels wrote past the stack (SIGSEGV, or a
# corrupted heap that took the history down later). Now a deep table encodes, and one deeper
# than 64 levels is a clean "nested too deeply" error of the step that made it.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

test_expect_success 'json.encode of 60 nested levels encodes (five runs, none crashes)' '
	write_runbook enc.lua <<-\EOF &&
	return runbook { name = "enc",
		phase "p" {
			step "encode" { run = function(ctx)
				local t = {}
				for i = 1, 60 do t = { k = t } end
				local s = json.encode(t)
				assert(select(2, s:gsub("{", "")) == 61, s)
				log("encoded %d bytes", #s)
			end },
		},
	}
	EOF
	for i in 1 2 3 4 5
	do
		expect_code 0 lb --db h.db run --yes enc.lua >out.$i || return 1
	done &&
	assert_contains out.5 "encoded 362 bytes"
'

test_expect_success 'json.encode deeper than 64 levels, or of a cycle, raises "nested too deeply"' '
	write_runbook deeper.lua <<-\EOF &&
	return runbook { name = "deeper",
		phase "p" {
			step "encode" { run = function(ctx)
				local t = {}
				for i = 1, 500 do t = { k = t } end
				local ok, err = pcall(json.encode, t)
				assert(not ok and err:find("nested too deeply", 1, true), tostring(err))
				log("deep: %s", err:sub(1, 40))
				local c = {}
				c.self = c
				ok, err = pcall(json.encode, { list = { c } })
				assert(not ok and err:find("nested too deeply", 1, true), tostring(err))
				log("cycle: %s", err)
			end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes deeper.lua >out &&
	assert_contains out "deep: json.encode: value.k.k.k" &&
	assert_contains out "cycle: json.encode: value.list[1].self.self"
'

test_expect_success 'a 40-level ctx.state is saved, and the next steps and the history have it' '
	write_runbook state40.lua <<-\EOF &&
	return runbook { name = "state40",
		phase "p" {
			step "store" { run = function(ctx)
				local t = { leaf = "bottom" }
				for i = 1, 40 do t = { k = t } end
				ctx.state.deep = t
			end },
			step "read" { run = function(ctx)
				local t = ctx.state.deep
				for i = 1, 40 do t = t.k end
				assert(t.leaf == "bottom")
			end },
			step "shell" { sh = "echo still here" },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes state40.lua --report r.json >out &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql h.db "select status from runs where id = $Q$run$Q")" = succeeded &&
	sql h.db "select state_json from steps where run_id = $Q$run$Q and idx = 2" >s.json &&
	test "$(json_get s.json "eval(\"d[\x27deep\x27]\" + \"[\x27k\x27]\" * 40)[\"leaf\"]")" = bottom
'

test_expect_success 'a ctx.state deeper than 64 levels fails the step that stored it, cleanly' '
	write_runbook state100.lua <<-\EOF &&
	return runbook { name = "state100",
		phase "p" {
			step "store" { run = function(ctx)
				local t = {}
				for i = 1, 100 do t = { k = t } end
				ctx.state.deep = t
			end },
			step "never" { sh = "echo never >never.out" },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes state100.lua --report r.json >out 2>err &&
	assert_contains out "nested too deeply" &&
	assert_contains out "ctx.state.deep.k.k" &&
	test ! -e never.out &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql h.db "select status from runs where id = $Q$run$Q")" = failed &&
	test "$(sql h.db "select status from steps where run_id = $Q$run$Q and idx = 0")" = failed &&
	expect_code 0 lb --db h.db show "$run" >show &&
	assert_contains show "nested too deeply"
'

test_done
