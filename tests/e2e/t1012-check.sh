#!/bin/sh
# `check` and the structural rules (SPEC 1, 3): fault phases first, at most one restores_service
# phase, parallel >= 1; `check` exits 0 on a good file and 2 on a bad one; loading a runbook never
# changes anything (sh() at the top level raises "not available while loading").
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"
SQ="'"

# rejected FILE: `run` and `check` of FILE exit 2, its marker is not created, no run is recorded;
# leaves the stderr of the run in err and that of check in check.err
rejected () {
	expect_code 2 lb --db h.db run --yes "$1" >out 2>err &&
	expect_code 2 lb --db h.db check "$1" >check.out 2>check.err &&
	test ! -e marker &&
	{ test ! -e h.db || test "$(sql h.db "select count(*) from runs")" = 0; }
}

test_expect_success 'check of a good runbook exits 0 and runs nothing' '
	write_runbook good.lua <<-\EOF &&
	return runbook { name = "good", rto = "15m", rpo = "1h", params = { dir = "x" },
		phase "break" { fault = true, step "f" { sh = "touch marker" } },
		phase "restore" { budget = "5m", restores_service = true,
			step "s" { sh = "touch marker", timeout = "2m", retries = 2, retry_delay = "1s" },
			step "m" { manual = "look at ${dir}" },
			rollback = { step "undo" { sh = "touch marker" } },
		},
		phase "tidy" { cleanup = true, step "c" { sh = "touch marker" } },
	}
	EOF
	expect_code 0 lb --db h.db check good.lua >out &&
	test ! -e marker &&
	test ! -e h.db
'

test_expect_success 'a fault phase after a recovery phase is rejected at its line' '
	write_runbook faultlate.lua <<-\EOF &&
	-- line 1
	return runbook { name = "faultlate",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "break" { fault = true, step "f" { sh = "true" } },
	}
	EOF
	rejected faultlate.lua &&
	assert_contains err "faultlate.lua:4:" &&
	assert_contains err "fault" &&
	assert_contains err "first" &&
	assert_contains check.err "faultlate.lua:4:"
'

test_expect_success 'two restores_service phases are rejected at the second' '
	write_runbook tworestore.lua <<-\EOF &&
	-- line 1
	return runbook { name = "tworestore",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "db" { restores_service = true, step "s" { sh = "true" } },
		phase "app" { restores_service = true, step "s" { sh = "true" } },
	}
	EOF
	rejected tworestore.lua &&
	assert_contains err "tworestore.lua:5:" &&
	assert_contains err "restores_service" &&
	assert_contains err "db"
'

test_expect_success 'parallel = 0 is rejected at its phase' '
	write_runbook par0.lua <<-\EOF &&
	-- line 1
	return runbook { name = "par0",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "wide" { parallel = 0, step "s" { sh = "true" } },
	}
	EOF
	rejected par0.lua &&
	assert_contains err "par0.lua:4:" &&
	assert_contains err "parallel" &&
	assert_contains err "at least 1"
'

test_expect_success 'check takes several files and exits 2 when one is bad' '
	write_runbook ok1.lua <<-\EOF &&
	return runbook { name = "ok1", phase "p" { step "s" { sh = "true" } } }
	EOF
	write_runbook bad1.lua <<-\EOF &&
	return runbook { name = "bad1", phase "p" { step "s" { sh = "true", retires = 2 } } }
	EOF
	expect_code 0 lb check ok1.lua >out &&
	expect_code 2 lb check ok1.lua bad1.lua >out 2>err &&
	assert_contains err "bad1.lua:1:" &&
	assert_contains err "retries"
'

test_expect_success 'sh() while loading raises "not available while loading" and changes nothing' '
	write_runbook loadsh.lua <<-\EOF &&
	-- line 1
	local out = sh("touch loaded-marker")
	return runbook { name = "loadsh", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 2 lb --db h.db check loadsh.lua >out 2>err &&
	assert_contains err "not available while loading" &&
	assert_contains err "loadsh.lua:2:" &&
	test ! -e loaded-marker &&
	expect_code 2 lb --db h.db run --yes loadsh.lua >out 2>err &&
	assert_contains err "not available while loading" &&
	test ! -e loaded-marker &&
	{ test ! -e h.db || test "$(sql h.db "select count(*) from runs")" = 0; }
'

test_expect_success 'sleep() while loading raises too, also inside pcall nothing happens' '
	write_runbook loadsleep.lua <<-\EOF &&
	local ok, err = pcall(sh, "touch pcall-marker")
	if ok then error("sh ran while loading") end
	sleep(5)
	return runbook { name = "loadsleep", phase "p" { step "s" { sh = "true" } } }
	EOF
	elapsed_ms expect_code 2 lb check loadsleep.lua >out 2>err &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 4000 &&
	assert_contains err "not available while loading" &&
	assert_contains err "loadsleep.lua:3:" &&
	test ! -e pcall-marker
'

test_expect_success 'check counts in words that agree: 1 phase, 1 step, 1 role, 1 secret' '
	mkdir one && (
		cd one &&
		printf "roles:\n  ops: { members: [alice] }\nsecrets: [ONE_TOKEN]\n" >lifeboat.yaml &&
		write_runbook one.lua <<-\EOF &&
		return runbook { name = "one", phase "p" { step "s" { sh = "true" } } }
		EOF
		expect_code 0 lb check one.lua >out 2>err &&
		assert_contains out "one.lua: ok (runbook ${SQ}one${SQ}, 1 phase, 1 step)" &&
		assert_contains out "lifeboat.yaml: ok (1 role, 0 environments, 0 schedules, 1 secret)"
	)
'

test_done
