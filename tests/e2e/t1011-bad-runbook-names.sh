#!/bin/sh
# Names and params (SPEC 1): duplicate phase and step names, bad and reserved param names and an
# undeclared -p all exit 2 before anything runs, naming the file (and line) and saying what to do.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# rejected FILE [RUN OPTIONS]: `run` of FILE exits 2, its marker is not created, no run is
# recorded; leaves the stderr of the run in err
rejected () {
	local f="$1"
	shift
	expect_code 2 lb --db h.db run --yes "$f" "$@" >out 2>err &&
	test ! -e marker &&
	{ test ! -e h.db || test "$(sql h.db "select count(*) from runs")" = 0; }
}

test_expect_success 'a phase name used twice is rejected at its second use' '
	write_runbook dupphase.lua <<-\EOF &&
	-- line 1
	return runbook { name = "dupphase",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "restore" { step "s" { sh = "true" } },
		phase "restore" { step "t" { sh = "true" } },
	}
	EOF
	rejected dupphase.lua &&
	assert_contains err "dupphase.lua:5:" &&
	assert_contains err "restore" &&
	assert_contains err "line 4" &&
	expect_code 2 lb check dupphase.lua 2>err &&
	assert_contains err "dupphase.lua:5:"
'

test_expect_success 'a step name used twice in a phase is rejected at its second use' '
	write_runbook dupstep.lua <<-\EOF &&
	-- line 1
	return runbook { name = "dupstep",
		phase "first" { step "mark" { sh = "touch marker" } },
		phase "second" {
			step "copy" { sh = "true" },
			step "copy" { sh = "true" },
		},
	}
	EOF
	rejected dupstep.lua &&
	assert_contains err "dupstep.lua:6:" &&
	assert_contains err "copy" &&
	assert_contains err "line 5"
'

test_expect_success 'the same step name in two phases is fine' '
	write_runbook samestep.lua <<-\EOF &&
	return runbook { name = "samestep",
		phase "one" { step "copy" { sh = "true" } },
		phase "two" { step "copy" { sh = "true" } },
	}
	EOF
	expect_code 0 lb check samestep.lua >out
'

test_expect_success 'a param name that is not an identifier is rejected' '
	write_runbook badparam.lua <<-\EOF &&
	-- line 1
	return runbook { name = "badparam", params = { ["data-dir"] = "/srv" },
		phase "first" { step "mark" { sh = "touch marker" } },
	}
	EOF
	rejected badparam.lua &&
	assert_contains err "badparam.lua:2:" &&
	assert_contains err "data-dir" &&
	assert_contains err "letters, digits"
'

test_expect_success 'a reserved param name (PATH, LD_*, LIFEBOAT_*) is rejected' '
	write_runbook path.lua <<-\EOF &&
	-- line 1
	return runbook { name = "path", params = { PATH = "/tmp" },
		phase "first" { step "mark" { sh = "touch marker" } },
	}
	EOF
	rejected path.lua &&
	assert_contains err "path.lua:2:" &&
	assert_contains err "PATH" &&
	assert_contains err "reserved" &&
	sed "s/PATH =/LD_PRELOAD =/" path.lua >ld.lua &&
	rejected ld.lua &&
	assert_contains err "LD_PRELOAD" &&
	sed "s/PATH =/LIFEBOAT_MODE =/" path.lua >lbm.lua &&
	rejected lbm.lua &&
	assert_contains err "LIFEBOAT_MODE"
'

test_expect_success 'a -p naming no declared param exits 2, listing the declared ones' '
	write_runbook declared.lua <<-\EOF &&
	-- line 1
	return runbook { name = "declared", params = { store = "a.db", port = "8080" },
		phase "first" { step "mark" { sh = "touch marker" } },
	}
	EOF
	rejected declared.lua -p stor=b.db &&
	assert_contains err "declared.lua" &&
	assert_contains err "stor" &&
	assert_contains err "store" &&
	assert_contains err "port" &&
	rejected declared.lua -p port=9090 -p PATH=/tmp &&
	assert_contains err "PATH"
'

test_done
