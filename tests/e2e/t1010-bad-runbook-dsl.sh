#!/bin/sh
# A bad runbook exits 2 before anything runs, with "file:LINE:" (the right line) and a hint on
# stderr: Lua syntax errors and DSL mistakes in steps and fields (SPEC 1, 3).
# Each runbook would touch a marker in its first phase: it must not exist afterwards, and no run
# may reach the history.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# rejected FILE: `run` and `check` of FILE exit 2, its marker is not created, no run is recorded;
# leaves the stderr of the run in err
rejected () {
	expect_code 2 lb --db h.db run --yes "$1" >out 2>err &&
	expect_code 2 lb --db h.db check "$1" >check.out 2>check.err &&
	test ! -e marker &&
	{ test ! -e h.db || test "$(sql h.db "select count(*) from runs")" = 0; }
}

test_expect_success 'a Lua syntax error names the file and line' '
	write_runbook syntax.lua <<-\EOF &&
	-- line 1
	return runbook { name = "syntax",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "second" { step "s" { sh = "true" } }
		phase "third" { step "s" { sh = "true" } },
	}
	EOF
	rejected syntax.lua &&
	assert_contains err "syntax.lua:5:" &&
	assert_contains err "expected" &&
	assert_contains check.err "syntax.lua:5:"
'

test_expect_success 'an unknown key names the line of its step and suggests the right one' '
	write_runbook unknown.lua <<-\EOF &&
	-- line 1
	return runbook { name = "unknown",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "second" {
			step "s" { sh = "true", timout = "1s" },
		},
	}
	EOF
	rejected unknown.lua &&
	assert_contains err "unknown.lua:5:" &&
	assert_contains err "timout" &&
	assert_contains err "did you mean" &&
	assert_contains err "timeout"
'

test_expect_success 'a step with no kind is rejected at its line, listing the kinds' '
	write_runbook nokind.lua <<-\EOF &&
	-- line 1
	return runbook { name = "nokind",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "second" {
			step "ok" { sh = "true" },
			step "empty" { timeout = "1s" },
		},
	}
	EOF
	rejected nokind.lua &&
	assert_contains err "nokind.lua:6:" &&
	assert_contains err "empty" &&
	assert_contains err "sh =" &&
	assert_contains err "manual ="
'

test_expect_success 'a step with two kinds is rejected at its line' '
	write_runbook twokinds.lua <<-\EOF &&
	-- line 1
	return runbook { name = "twokinds",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "second" {
			step "both" { sh = "true", manual = "and confirm" },
		},
	}
	EOF
	rejected twokinds.lua &&
	assert_contains err "twokinds.lua:5:" &&
	assert_contains err "both" &&
	assert_contains err "sh" &&
	assert_contains err "manual"
'

test_expect_success 'a bad step duration names the file, line, field and value' '
	write_runbook steptimeout.lua <<-\EOF &&
	-- line 1
	return runbook { name = "steptimeout",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "second" {
			step "s" { sh = "true", timeout = "15 minutes" },
		},
	}
	EOF
	rejected steptimeout.lua &&
	assert_contains err "steptimeout.lua:5:" &&
	assert_contains err "timeout" &&
	assert_contains err "15 minutes" &&
	assert_contains err "15m"
'

test_expect_success 'a bad runbook duration names the file, line, field and value' '
	write_runbook rto.lua <<-\EOF &&
	-- line 1
	return runbook { name = "rto", rto = "15 minutes",
		phase "first" { step "mark" { sh = "touch marker" } },
	}
	EOF
	rejected rto.lua &&
	assert_contains err "rto.lua:2:" &&
	assert_contains err "rto" &&
	assert_contains err "15 minutes" &&
	assert_contains err "15m"
'

test_expect_success 'a runbook without a name is rejected, naming the file and line' '
	write_runbook noname.lua <<-\EOF &&
	-- line 1
	return runbook { description = "no name",
		phase "first" { step "mark" { sh = "touch marker" } },
	}
	EOF
	rejected noname.lua &&
	assert_contains err "noname.lua:2:" &&
	assert_contains err "name" &&
	assert_contains err "name = "
'

test_done
