#!/bin/sh
# ctx.state (SPEC 1): a table steps share, saved with every finished step (steps.state_json).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

Q="'"	# a single quote, for SQL strings in the test bodies

write_runbook state.lua <<-\EOF
return runbook { name = "state",
	phase "first" {
		step "set" { run = function(ctx)
			ctx.state.x = 42
			ctx.state.snapshot = { name = "latest.db", size = 1024, ok = true }
		end },
		step "read" { run = function(ctx)
			if ctx.state.x ~= 42 then error("ctx.state.x is " .. tostring(ctx.state.x)) end
			if ctx.state.snapshot.name ~= "latest.db" then error("nested table lost") end
			ctx.state.y = "from read"
		end },
		step "shell" { sh = "true" },
	},
	phase "second" {
		step "across phases" { sh = function(ctx) return "echo " .. ctx.state.y:gsub(" ", "-") .. " >y.out" end },
	},
}
EOF

test_expect_success 'a run step sets ctx.state, the next one reads it, across phases too' '
	expect_code 0 lb --db h.db run --yes state.lua --report r.json >out &&
	test "$(cat y.out)" = from-read &&
	same "$(jv r.json status)" succeeded
'

test_expect_success 'state_json is saved with each finished step, as it was then' '
	run=$(jv r.json run_id) &&
	sql h.db "select state_json from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 0" >s0.json &&
	sql h.db "select state_json from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 1" >s1.json &&
	sql h.db "select state_json from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 2" >s2.json &&
	test "$(json_get s0.json "d[\"x\"]")" = 42 &&
	test "$(json_get s0.json "d[\"snapshot\"] == {\"name\": \"latest.db\", \"size\": 1024, \"ok\": True}")" = true &&
	test "$(json_get s0.json "\"y\" in d")" = false &&
	test "$(json_get s1.json "d[\"y\"]")" = "from read" &&
	test "$(json_get s2.json "d[\"y\"]")" = "from read" &&
	test "$(json_get s2.json "d[\"x\"]")" = 42
'

test_expect_success 'a failed step saves the state it left behind' '
	write_runbook failstate.lua <<-\EOF &&
	return runbook { name = "failstate",
		phase "p" {
			step "half" { run = function(ctx) ctx.state.progress = "half done"; error("disk full") end },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes failstate.lua --report r.json >out &&
	run=$(jv r.json run_id) &&
	sql h.db "select state_json from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 0" >f.json &&
	test "$(json_get f.json "d[\"progress\"]")" = "half done"
'

test_expect_success 'state does not leak from one run into the next' '
	write_runbook fresh.lua <<-\EOF &&
	return runbook { name = "fresh",
		phase "p" {
			step "check" { run = function(ctx)
				if ctx.state.x ~= nil then error("state leaked: x = " .. tostring(ctx.state.x)) end
				ctx.state.x = 1
			end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes fresh.lua >out &&
	expect_code 0 lb --db h.db run --yes fresh.lua >out
'

test_done
