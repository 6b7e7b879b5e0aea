#!/bin/sh
# Cleanup phases (SPEC 1) always run at the end, after success, failure or abort, outside the RTO;
# their failures are reported but do not change the run's verdict.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook tidy.lua <<-\EOF
return runbook { name = "tidy", params = { outcome = "0" },
	phase "tidy up" { cleanup = true, step "c" { sh = "echo cleanup >>order" } },
	phase "work" { step "w" { sh = "echo work >>order; touch work-started; exit $outcome" } },
	phase "more" { step "m" { sh = "echo more >>order" } },
}
EOF

test_expect_success 'cleanup runs at the end after a success, wherever it is declared' '
	expect_code 0 lb run --yes tidy.lua --report r.json >out &&
	test "$(cat order)" = "$(printf "work\nmore\ncleanup")" &&
	same "$(jv r.json phases.0.status status)" \
		"succeeded succeeded"
'

test_expect_success 'cleanup runs after a failure, and the run stays failed' '
	rm -f order &&
	expect_code 1 lb run --yes tidy.lua -p outcome=3 --report r.json >out &&
	test "$(cat order)" = "$(printf "work\ncleanup")" &&
	same "$(jv r.json phases.0.status status)" \
		"succeeded failed"
'

test_expect_success 'cleanup runs after a SIGINT abort' '
	rm -f order work-started &&
	write_runbook tidyabort.lua <<-\EOF
	return runbook { name = "tidyabort",
		phase "work" { step "w" { sh = "touch work-started; exec sleep 30.3201" } },
		phase "tidy up" { cleanup = true, step "c" { sh = "touch cleaned" } },
	}
	EOF
	"$LIFEBOAT" run --yes tidyabort.lua --report r.json >out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e work-started" 10 &&
	kill -INT "$pid" &&
	code=0 && { wait "$pid" || code=$?; } &&
	test "$code" = 130 &&
	test -e cleaned &&
	same "$(jv r.json status phases.1.status)" \
		"aborted succeeded" &&
	no_step_process "sleep 30.3201"
'

test_expect_success 'a failing cleanup does not change the verdict: exit 0, and later cleanups run' '
	write_runbook badtidy.lua <<-\EOF &&
	return runbook { name = "badtidy", rto = "1m",
		phase "work" { step "w" { sh = "true" } },
		phase "tidy one" { cleanup = true,
			step "c1" { sh = "exit 1" },
			step "c2" { sh = "touch c2-ran" },
		},
		phase "tidy two" { cleanup = true, step "c3" { sh = "touch c3-ran" } },
	}
	EOF
	expect_code 0 lb run --yes badtidy.lua --report r.json >out 2>err &&
	test -e c2-ran &&
	test -e c3-ran &&
	same "$(jv r.json status exit_code phases.1.status phases.1.steps.0.status rto.met)" \
		"succeeded 0 failed failed true"
'

test_expect_success 'cleanup time is outside the RTO' '
	write_runbook slowtidy.lua <<-\EOF &&
	return runbook { name = "slowtidy", rto = "300ms",
		phase "work" { step "w" { sh = "true" } },
		phase "tidy" { cleanup = true, step "c" { sh = "sleep 0.5" } },
	}
	EOF
	expect_code 0 lb run --yes slowtidy.lua --report r.json >out &&
	same "$(jv r.json rto.met)" true &&
	test "$(json_get r.json "d[\"rto\"][\"achieved_s\"] < 0.3")" = true
'

test_done
