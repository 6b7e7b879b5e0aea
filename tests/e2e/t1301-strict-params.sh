#!/bin/sh
# Issue 13 item 7 (SPEC 1): reading an undeclared ctx.params.x raises with did-you-mean, as -p
# does; io, os.execute and the like say they are not available in runbooks, and why.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'a misspelt ctx.params fails the step with did-you-mean, at the runbook line' '
	write_runbook typo.lua <<-\EOF &&
	return runbook { name = "typo", params = { registry = "reg.example", tag = "v1" },
		phase "p" {
			step "push" { run = function(ctx)
				local r = ctx.params.regsitry
				fs.write("pushed-t1301", tostring(r))
			end },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes typo.lua >out &&
	assert_contains out "typo.lua:4: no param ${SQ}regsitry${SQ} (did you mean ${SQ}registry${SQ}?)" &&
	test ! -e pushed-t1301
'

test_expect_success 'a name far from every param lists the declared ones; declared ones read as before' '
	write_runbook far.lua <<-\EOF &&
	return runbook { name = "far", params = { registry = "reg.example", tag = "v1" },
		phase "p" {
			step "ok" { run = function(ctx) log("%s:%s", ctx.params.registry, ctx.params.tag) end },
			step "far" { run = function(ctx) return ctx.params.completely_else end },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes -p tag=v2 far.lua >out &&
	assert_contains out "reg.example:v2" &&
	assert_contains out "no param ${SQ}completely_else${SQ} (the runbook declares" &&
	assert_contains out "registry" &&
	assert_contains out "add it to params"
'

test_expect_success 'the metatable of ctx.params cannot be swapped to hide the check' '
	write_runbook swap.lua <<-\EOF &&
	return runbook { name = "swap", params = { a = "1" },
		phase "p" { step "s" { run = function(ctx) setmetatable(ctx.params, {}) end } },
	}
	EOF
	expect_code 1 lb --db h.db run --yes swap.lua >out &&
	assert_contains out "cannot change a protected metatable"
'

test_expect_success 'io, os.execute, os.getenv and debug say why they are not available' '
	write_runbook io.lua <<-\EOF &&
	return runbook { name = "io",
		phase "p" {
			step "io" { run = function() io.open("x") end, continue_on_error = true },
			step "execute" { run = function() os.execute("touch x") end, continue_on_error = true },
			step "getenv" { run = function() return os.getenv("HOME") end, continue_on_error = true },
			step "debug" { run = function() return debug.traceback() end, continue_on_error = true },
			step "os.time still works" { run = function() assert(os.time() > 0) end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes io.lua >out &&
	assert_contains out "io.lua:3: global ${SQ}io${SQ} is not available in runbooks: runbooks run in a sandbox" &&
	assert_contains out "use fs.read, fs.write" &&
	assert_contains out "io.lua:4: os.execute is not available in runbooks" &&
	assert_contains out "use sh(cmd)" &&
	assert_contains out "io.lua:5: os.getenv is not available in runbooks" &&
	assert_contains out "io.lua:6: global ${SQ}debug${SQ} is not available in runbooks" &&
	test ! -e x
'

test_done
