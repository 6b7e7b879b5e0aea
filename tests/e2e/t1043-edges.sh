#!/bin/sh
# Edges found in review: a service that exits before it is ready fails its attempt and retries;
# processes a step moved out of its process group do not outlive the run; sh() says when it cut
# its capture; an incident start in the future is refused; an RPO is never negative; --version
# after the command; history takes a runbook's file.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'a service exiting before ready_after fails each attempt and is retried' '
	write_runbook svc.lua <<-\EOF &&
	return runbook { name = "svc",
		phase "p" { step "svc" { sh = "exit 0", service = true, retries = 2, retry_delay = "50ms" } },
	}
	EOF
	expect_code 1 lb --db h.db run --yes svc.lua --report r.json >out 2>&1 &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.0.attempts)" "failed 3" &&
	test "$(sql h.db "select count(*) from attempts where status = '"'"'failed'"'"'")" = 3 &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'step_result'"'"' and detail like '"'"'%failed%'"'"'")" = 1 &&
	assert_contains out "exited before it was ready"
'

test_expect_success 'a process that left its process group is stopped when the run ends' '
	write_runbook esc.lua <<-\EOF &&
	return runbook { name = "esc",
		phase "p" { step "s" { sh = "setsid sh -c \"exec sleep 31.992\" & sleep 0.3" } },
	}
	EOF
	expect_code 0 lb --db h.db run --yes esc.lua >out 2>&1 &&
	assert_contains out "outside its process group" &&
	no_step_process "sleep 31.992"
'

test_expect_success 'sh() flags a capture cut at its limit' '
	write_runbook big.lua <<-\EOF &&
	return runbook { name = "big",
		phase "p" { step "s" { run = function()
			local r = sh("head -c 17000000 /dev/zero")
			assert(r.truncated == true, "not flagged")
			assert(sh("echo small").truncated == nil, "small output flagged")
		end } },
	}
	EOF
	expect_code 0 lb --db h.db -q run --yes big.lua >out 2>&1
'

test_expect_success 'an incident start in the future is refused before anything runs' '
	write_runbook ok.lua <<-\EOF &&
	return runbook { name = "ok", phase "p" { step "s" { sh = "touch ran" } } }
	EOF
	expect_code 2 lb --db h.db run --yes ok.lua --incident-start 1795318956123 2>err &&
	assert_contains err "future" &&
	test ! -e ran
'

test_expect_success 'data newer than the incident means an RPO of zero, not a negative one' '
	write_runbook rp.lua <<-\EOF &&
	return runbook { name = "rp", rpo = "1m",
		phase "p" { step "s" { run = function() recovery_point(now()) end } },
	}
	EOF
	expect_code 0 lb --db h.db run --yes rp.lua --report r.json >out &&
	same "$(jv r.json rpo.achieved_s rpo.status)" "0.0 met"
'

test_expect_success '--version works after the command, history takes the runbook file' '
	lb run --version >v && assert_contains v "lifeboat " &&
	lb --db h.db run --yes ok.lua >out &&
	lb --db h.db history ok.lua --json >h.json &&
	test "$(json_get h.json "d[\"runs\"][0][\"runbook\"]")" = ok
'

test_done
