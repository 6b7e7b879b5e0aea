#!/bin/sh
# Lua in steps (SPEC 1, 5): a raising run function fails its step with the runbook's file:line in
# the error; sh may be a function(ctx) returning the command; a looping function is stopped at its
# timeout, even inside pcall.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'a Lua error fails the step with file:line of the runbook' '
	write_runbook raise.lua <<-\EOF &&
	return runbook { name = "raise",
		phase "p" {
			step "check" { run = function(ctx)
				local snapshot = nil
				error("no snapshot newer than 1h")
			end },
			step "after" { sh = "touch after-ran" },
		},
	}
	EOF
	expect_code 1 lb run --yes raise.lua --report r.json >out 2>err &&
	test ! -e after-ran &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.0.kind)" \
		"failed run" &&
	e=$(jv r.json phases.0.steps.0.error) &&
	case $e in *raise.lua:5:*"no snapshot newer than 1h"*) ;; *) echo "error: $e"; exit 1 ;; esac &&
	cat out err | assert_contains - "raise.lua:5:"
'

test_expect_success 'a runtime error (indexing nil) names the line too' '
	write_runbook nilidx.lua <<-\EOF &&
	return runbook { name = "nilidx",
		phase "p" {
			step "oops" { run = function(ctx)
				return ctx.state.missing.field
			end },
		},
	}
	EOF
	expect_code 1 lb run --yes nilidx.lua --report r.json >out 2>err &&
	e=$(jv r.json phases.0.steps.0.error) &&
	case $e in *nilidx.lua:4:*) ;; *) echo "error: $e"; exit 1 ;; esac
'

test_expect_success 'a function-valued sh field is called when the step starts' '
	write_runbook fnsh.lua <<-\EOF &&
	return runbook { name = "fnsh", params = { n = "3" },
		phase "p" {
			step "count" { sh = function(ctx)
				return "seq " .. ctx.params.n .. " >seq.out; echo $LIFEBOAT_STEP >step.out"
			end },
		},
	}
	EOF
	expect_code 0 lb run --yes -p n=4 fnsh.lua --report r.json >out &&
	test "$(cat seq.out | wc -l)" -eq 4 &&
	test "$(cat step.out)" = count &&
	same "$(jv r.json phases.0.steps.0.kind phases.0.steps.0.exit_code)" \
		"sh 0"
'

test_expect_success 'a function-valued sh that raises fails the step, naming the line' '
	write_runbook fnraise.lua <<-\EOF &&
	return runbook { name = "fnraise",
		phase "p" {
			step "build cmd" { sh = function(ctx)
				error("cannot build the command")
			end },
		},
	}
	EOF
	expect_code 1 lb run --yes fnraise.lua --report r.json >out 2>err &&
	same "$(jv r.json phases.0.steps.0.status)" failed &&
	e=$(jv r.json phases.0.steps.0.error) &&
	case $e in *fnraise.lua:4:*"cannot build the command"*) ;; *) echo "error: $e"; exit 1 ;; esac
'

# The runs below are bounded with timeout(1): a bug here would otherwise hang the suite.
test_expect_success 'a looping run function is stopped at its timeout' '
	write_runbook spin.lua <<-\EOF &&
	return runbook { name = "spin",
		phase "p" {
			step "spin" { timeout = "300ms", run = function(ctx) while true do end end },
		},
	}
	EOF
	elapsed_ms expect_code 1 timeout -k 3 8 "$LIFEBOAT" run --yes spin.lua --report r.json >out 2>err &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 5000 &&
	same "$(jv r.json phases.0.steps.0.status)" timed_out
'

test_expect_success 'a looping run function is stopped at its timeout even inside pcall' '
	write_runbook loop.lua <<-\EOF &&
	return runbook { name = "loop",
		phase "p" {
			step "spin" { timeout = "300ms", run = function(ctx)
				while true do pcall(function() while true do end end) end
			end },
		},
	}
	EOF
	elapsed_ms expect_code 1 timeout -k 3 8 "$LIFEBOAT" run --yes loop.lua --report r.json >out 2>err &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 5000 &&
	same "$(jv r.json phases.0.steps.0.status)" timed_out
'

test_expect_success 'sh() in a run function returns code and output; a non-zero code raises' '
	write_runbook luash.lua <<-\EOF &&
	return runbook { name = "luash",
		phase "p" {
			step "ok" { run = function(ctx)
				local r = sh("echo hello; echo oops >&2; exit 3", { check = false })
				if r.code ~= 3 then error("code " .. tostring(r.code)) end
				if r.stdout ~= "hello\n" then error("stdout " .. r.stdout) end
				if r.stderr ~= "oops\n" then error("stderr " .. r.stderr) end
			end },
			step "raises" { run = function(ctx) sh("exit 4") end },
		},
	}
	EOF
	expect_code 1 lb run --yes luash.lua --report r.json >out 2>err &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.1.status)" \
		"succeeded failed"
'

test_done
