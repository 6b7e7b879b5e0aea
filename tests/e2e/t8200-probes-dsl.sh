#!/bin/sh
# Probes and newest_recoverable in the DSL (SPEC 10): a probe is a run, http or sh step that
# changes nothing; a manual step, a service or a fault among the probes, and a newest_recoverable
# that is not a function, are check errors naming file:line (exit 2, nothing runs).
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

write_runbook good.lua <<-\EOF
return runbook { name = "good", rpo = "1h",
	probes = {
		step "shell" { sh = "true" },
		step "lua" { run = function() end, retries = 1 },
		step "web" { http = "http://127.0.0.1:1/health", expect = 200 },
	},
	newest_recoverable = function() return now() end,
	phase "restore" { step "s" { sh = "true" } },
}
EOF

test_expect_success 'run, http and sh probes and a newest_recoverable function pass check' '
	expect_code 0 lb check good.lua >out
'

test_expect_success 'a manual probe, a service probe and a fault probe are each named with file:line' '
	write_runbook bad.lua <<-\EOF &&
	return runbook { name = "bad",
		probes = {
			step "ask" { manual = "is it up?" },
			step "svc" { sh = "sleep 100 # t8200-svc", service = true },
			step "f" { sh = "touch injected", fault = true },
		},
		phase "restore" { step "s" { sh = "touch ran" } },
	}
	EOF
	expect_code 2 lb check bad.lua 2>err &&
	assert_contains err "bad.lua:3: probe '\''ask'\'': a probe cannot be a manual step" &&
	assert_contains err "bad.lua:4: probe '\''svc'\'': a probe cannot start a service" &&
	assert_contains err "bad.lua:5: probe '\''f'\'': a probe cannot be a fault" &&
	expect_code 2 lb --db h.db drill --yes bad.lua 2>err &&
	assert_contains err "bad.lua:3:" &&
	expect_code 2 lb --db h.db probe bad.lua 2>err &&
	assert_contains err "bad.lua:4:" &&
	test ! -e ran && test ! -e injected && test ! -e h.db
'

test_expect_success 'newest_recoverable that is not a function is an error at the runbook line' '
	write_runbook nr.lua <<-\EOF &&
	-- a comment first
	return runbook { name = "nr", rpo = "1h",
		newest_recoverable = "2026-01-01T00:00:00Z",
		phase "restore" { step "s" { sh = "touch ran" } },
	}
	EOF
	expect_code 2 lb check nr.lua 2>err &&
	assert_contains err "nr.lua:2: runbook: newest_recoverable must be a function(ctx)" &&
	expect_code 2 lb --db h.db probe nr.lua 2>err &&
	assert_contains err "nr.lua:2:" &&
	test ! -e ran
'

test_expect_success 'a phase in the probes, an empty probes list and a non-list are errors' '
	write_runbook shape.lua <<-\EOF &&
	return runbook { name = "shape",
		probes = { phase "p" { step "x" { sh = "true" } } },
		phase "restore" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 2 lb check shape.lua 2>err &&
	assert_contains err "shape.lua:2: runbook: probes take steps, not phases" &&
	write_runbook empty.lua <<-\EOF &&
	return runbook { name = "empty", probes = {},
		phase "restore" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 2 lb check empty.lua 2>err &&
	assert_contains err "empty.lua:1: runbook: probes is an empty list" &&
	write_runbook str.lua <<-\EOF &&
	return runbook { name = "str", probes = "curl x",
		phase "restore" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 2 lb check str.lua 2>err &&
	assert_contains err "str.lua:1: runbook: probes must be a list of steps"
'

test_expect_success 'a phase may not take the probes'\'' names' '
	write_runbook taken.lua <<-\EOF &&
	return runbook { name = "taken", probes = { step "x" { sh = "true" } },
		phase "probes after" { step "s" { sh = "true" } },
	}
	EOF
	expect_code 2 lb check taken.lua 2>err &&
	assert_contains err "taken.lua:2: phase '\''probes after'\'': the name is taken by the runbook'\''s probes"
'

test_expect_success 'probe on a runbook without probes or newest_recoverable says there is nothing to do' '
	write_runbook none.lua <<-\EOF &&
	return runbook { name = "none", phase "restore" { step "s" { sh = "touch ran" } } }
	EOF
	expect_code 2 lb --db h.db probe none.lua 2>err &&
	assert_contains err "declares neither probes nor newest_recoverable" &&
	test ! -e ran
'

test_done
