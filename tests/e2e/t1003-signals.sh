#!/bin/sh
# Signals to a running lifeboat: SIGINT aborts (exit 130), SIGTERM and SIGHUP exit 143; the run is
# recorded "aborted", the running step is stopped with its whole group, cleanup phases still run
# (SPEC 1, 3).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# signal_run SIG MARKER FILE [OPTIONS]: starts `lifeboat run --yes FILE --report r.json OPTIONS`,
# waits for MARKER to exist, sends SIG, and sets $code to the exit code
signal_run () {
	local sig="$1" marker="$2" pid
	shift 2
	"$LIFEBOAT" run --yes --report r.json "$@" >run.out 2>&1 &
	pid=$!
	at_exit "kill -9 $pid"
	wait_for "test -e $marker" 10 || return 1
	kill -s "$sig" "$pid" || return 1
	code=0
	wait "$pid" || code=$?
}

write_runbook aborted.lua <<-\EOF
return runbook { name = "aborted", rto = "1m",
	phase "work" {
		step "long" { sh = "touch started; sleep 30.3301 & sleep 30.3302; touch not-stopped" },
	},
	phase "after" { step "mark" { sh = "touch after-ran" } },
	phase "tidy" { cleanup = true, step "c" { sh = "touch cleanup-ran" } },
}
EOF

test_expect_success 'SIGINT aborts the run: exit 130, recorded aborted, cleanup ran' '
	signal_run INT started aborted.lua &&
	test "$code" = 130 &&
	same "$(jv r.json status exit_code phases.0.steps.0.status phases.1.status phases.2.status)" \
		"aborted 130 interrupted skipped succeeded" &&
	test -e cleanup-ran &&
	test ! -e after-ran &&
	test ! -e not-stopped &&
	no_step_process "sleep 30.330[12]" &&
	lb history --json >h.json &&
	same "$(jv h.json runs.0.status runs.0.run_id)" \
		"aborted $(jv r.json run_id)"
'

test_expect_success 'SIGTERM exits 143, recorded aborted, cleanup ran' '
	rm -f started cleanup-ran &&
	signal_run TERM started aborted.lua &&
	test "$code" = 143 &&
	same "$(jv r.json status exit_code)" \
		"aborted 143" &&
	test -e cleanup-ran &&
	test ! -e after-ran &&
	no_step_process "sleep 30.330[12]"
'

test_expect_success 'SIGHUP exits 143, recorded aborted, cleanup ran' '
	rm -f started cleanup-ran &&
	signal_run HUP started aborted.lua &&
	test "$code" = 143 &&
	same "$(jv r.json status)" aborted &&
	test -e cleanup-ran &&
	no_step_process "sleep 30.330[12]"
'

test_expect_success 'an abort wins over the missed RTO of the unfinished recovery' '
	write_runbook abortslow.lua <<-\EOF &&
	return runbook { name = "abortslow", rto = "100ms", rpo = "1m",
		phase "restore" { step "s" { sh = "sleep 0.3; touch slow-started; exec sleep 30.3303" } },
	}
	EOF
	signal_run INT slow-started abortslow.lua &&
	test "$code" = 130 &&
	same "$(jv r.json rto.met restored_at)" \
		"false null"
'

test_expect_success 'an aborted phase runs its rollback only with rollback_on_abort' '
	write_runbook rb-abort.lua <<-\EOF &&
	return runbook { name = "rb-abort",
		phase "plain" {
			step "s" { sh = "touch plain-started; exec sleep 30.3304" },
			rollback = { step "undo" { sh = "touch plain-rolled-back" } },
		},
	}
	EOF
	write_runbook rb-abort2.lua <<-\EOF &&
	return runbook { name = "rb-abort2",
		phase "careful" { rollback_on_abort = true,
			step "s" { sh = "touch careful-started; exec sleep 30.3305" },
			rollback = { step "undo" { sh = "touch careful-rolled-back" } },
		},
	}
	EOF
	signal_run INT plain-started rb-abort.lua &&
	test "$code" = 130 &&
	test ! -e plain-rolled-back &&
	signal_run INT careful-started rb-abort2.lua &&
	test "$code" = 130 &&
	test -e careful-rolled-back &&
	same "$(jv r.json phases.0.status)" rolled_back &&
	no_step_process "sleep 30.330[45]"
'

test_done
