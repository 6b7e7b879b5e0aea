#!/bin/sh
# A tampered ctx (issue 10 item 2): runbook code can set metatables on ctx and ctx.state, and
# replace ctx.params with a table of its own. The host reads and writes them from C between
# steps (${name} expansion, ctx.phase/ctx.step, saving ctx.state): raw and protected, so no
# metamethod of the runbook's runs outside a step's deadline and a raise fails the step instead
# of aborting the process (exit 134, the run left "interrupted").
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

test_expect_success 'an __index that raises on ctx.params does not abort the run' '
	write_runbook raise.lua <<-\EOF &&
	return runbook { name = "raise", params = { zz = "zval" },
		phase "p" {
			step "before" { sh = "echo output before the tampering" },
			step "tamper" { run = function(ctx)
				-- ctx.params own metatable is protected: a stand-in gets a hostile one
				ctx.params = setmetatable({ zz = ctx.params.zz },
							  { __index = function() error("x") end })
			end },
			step "call" { http = function(ctx) return "http://127.0.0.1:1/${zz}/${undeclared}" end,
				      timeout = "5s" },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes raise.lua --report r.json >out 2>err &&
	assert_contains out "output before the tampering" &&
	assert_contains out "http://127.0.0.1:1/zval/\${undeclared}" &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql h.db "select status from runs where id = $Q$run$Q")" = failed &&
	test "$(sql h.db "select status from steps where run_id = $Q$run$Q and idx = 2")" = failed
'

test_expect_success 'an __index that loops forever neither hangs the run nor escapes the timeout' '
	write_runbook loop.lua <<-\EOF &&
	return runbook { name = "loop", params = { zz = "zval" },
		phase "p" {
			step "tamper" { run = function(ctx)
				ctx.params = setmetatable({ zz = ctx.params.zz },
							  { __index = function() while true do end end })
			end },
			step "url" { http = function(ctx) return "http://127.0.0.1:1/${nothere}" end,
				     timeout = "1s", continue_on_error = true },
			step "headers" { http = "http://127.0.0.1:1/", timeout = "1s", continue_on_error = true,
					 headers = function(ctx) return { ["X-A"] = "${nothere}" } end },
			step "manual" { manual = function(ctx) return "confirm ${nothere} and ${zz}" end },
		},
	}
	EOF
	elapsed_ms timeout 60 "$LIFEBOAT" --db h.db run --yes loop.lua >out 2>&1 &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 20000 &&
	run=$(sql h.db "select id from runs where runbook = ${Q}loop$Q") &&
	lb --db h.db show "$run" >show &&
	assert_contains show "confirm \${nothere} and zval"
'

test_expect_success 'a field function runs under its step timeout, not a fixed 30 s' '
	write_runbook fieldfn.lua <<-\EOF &&
	local function loop() while true do end end
	return runbook { name = "fieldfn",
		phase "p" {
			step "url" { http = function() loop() end, timeout = "1s", continue_on_error = true },
			step "headers" { http = "http://127.0.0.1:1/", timeout = "1s", continue_on_error = true,
					 headers = function() loop() end },
			step "manual" { manual = function() loop() end, timeout = "1s",
					continue_on_error = true },
		},
	}
	EOF
	elapsed_ms "$LIFEBOAT" --db h.db run --yes fieldfn.lua --report fieldfn.json >fieldfn.out 2>&1 &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 15000 &&
	test "$(json_get fieldfn.json "[s[\"error\"].split(\": \")[0] + \" \" + s[\"error\"].split(\": \")[-1] for s in d[\"phases\"][0][\"steps\"]]")" = \
		"[\"http timed out after 1s\", \"http timed out after 1s\", \"manual timed out after 1s\"]"
'

test_expect_success 'ctx.params or ctx.state replaced by a number fails the steps that need them' '
	write_runbook replaced.lua <<-\EOF &&
	return runbook { name = "replaced", params = { zz = "zval" },
		phase "p" {
			step "params" { run = function(ctx) ctx.params = 42 end },
			step "call" { http = "http://127.0.0.1:1/${zz}", timeout = "2s", continue_on_error = true },
			step "state" { run = function(ctx) ctx.state = "text" end, continue_on_error = true },
			step "still runs" { sh = "echo still runs >ran.out" },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes replaced.lua --report r.json >out 2>err &&
	assert_contains out "ctx.params is number, not a table" &&
	assert_contains out "ctx.state is string, not a table" &&
	test -s ran.out &&
	test "$(json_get r.json "[s[\"status\"] for s in d[\"phases\"][0][\"steps\"]]")" = \
		"[\"succeeded\", \"failed\", \"failed\", \"succeeded\"]"
'

test_expect_success 'metamethods on ctx itself: ctx.phase and ctx.step stay right' '
	write_runbook ctxmeta.lua <<-\EOF &&
	return runbook { name = "ctxmeta",
		phase "first" {
			step "tamper" { run = function(ctx)
				local mt = { __index = function() error("no") end,
					     __newindex = function() error("no") end }
				rawset(ctx, "phase", nil)
				rawset(ctx, "step", nil)
				setmetatable(ctx, mt)
			end },
		},
		phase "second" {
			step "where" { run = function(ctx) log("at %s / %s", ctx.phase, ctx.step) end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes ctxmeta.lua >out 2>err &&
	assert_contains out "at second / where"
'

test_done
