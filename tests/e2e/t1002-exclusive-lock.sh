#!/bin/sh
# A runbook runs at most once at a time (exclusive, the default): a second start exits 5 naming the
# run that holds it; `exclusive = false` lets two run at once (SPEC 1, 3).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'a second start of a running runbook exits 5 and names the running run' '
	write_runbook long.lua <<-\EOF
	return runbook { name = "long",
		phase "p" { step "s" { sh = "touch started; exec sleep 30.2201" } },
		phase "after" { step "mark" { sh = "touch after-ran" } },
	}
	EOF
	"$LIFEBOAT" run --yes long.lua >first.out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e started" 10 &&
	lb history --json >h.json &&
	first=$(jv h.json runs.0.run_id) &&
	same "$(jv h.json runs.0.status)" running &&
	rm started &&
	expect_code 5 lb run --yes long.lua >second.out 2>second.err &&
	assert_contains second.err "$first" &&
	test ! -e started &&
	test ! -e after-ran &&
	kill -TERM "$pid" &&
	code=0 && { wait "$pid" || code=$?; } &&
	test "$code" = 143 &&
	no_step_process "sleep 30.2201"
'

test_expect_success 'the lock is released when the run ends: the next start runs' '
	write_runbook quick.lua <<-\EOF &&
	return runbook { name = "quick",
		phase "p" { step "s" { sh = "echo ran >>count" } },
	}
	EOF
	expect_code 0 lb run --yes quick.lua >out &&
	expect_code 0 lb run --yes quick.lua >out &&
	test "$(wc -l <count)" -eq 2
'

test_expect_success 'the lock is released when lifeboat is killed' '
	write_runbook killed.lua <<-\EOF
	return runbook { name = "killed",
		phase "p" { step "s" { sh = "touch started-k; test -e again || exec sleep 30.2202" } },
	}
	EOF
	"$LIFEBOAT" run --yes killed.lua >first.out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e started-k" 10 &&
	kill -KILL "$pid" &&
	{ wait "$pid" || :; } &&
	pkill -f "sleep 30.2202" || : &&
	touch again &&
	expect_code 0 lb run --yes killed.lua >second.out
'

test_expect_success 'exclusive = false lets two runs of one runbook go at once' '
	write_runbook shared.lua <<-\EOF
	return runbook { name = "shared", exclusive = false, params = { who = "a" },
		phase "p" {
			step "s" { timeout = "10s", sh = [[
				touch "started.$who"
				if [ "$who" = a ]; then
					while [ ! -e started.b ]; do sleep 0.05; done
				fi
			]] },
		},
	}
	EOF
	"$LIFEBOAT" run --yes shared.lua -p who=a --report a.json >a.out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e started.a" 10 &&
	expect_code 0 lb run --yes shared.lua -p who=b --report b.json >b.out &&
	code=0 && { wait "$pid" || code=$?; } &&
	test "$code" = 0 &&
	same "$(jv a.json status)" succeeded &&
	same "$(jv b.json status)" succeeded
'

test_done
