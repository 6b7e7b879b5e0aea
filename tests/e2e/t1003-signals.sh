#!/bin/sh
# Signals to a running lifeboat: SIGINT aborts (exit 130), SIGTERM and SIGHUP exit 143; the run is
# recorded "aborted", the running step is stopped with its whole group, cleanup phases still run
# (SPEC 1, 3).
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# jv FILE a.b.0.c: the JSON value at that path, printed as json_get prints it
jv () {
	json_get "$1" "d$(printf '%s\n' "$2" | awk -F. '{ for (i = 1; i <= NF; i++) printf($i ~ /^[0-9]+$/ ? "[%s]" : "[\"%s\"]", $i) }')"
}

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
	test "$(jv r.json status)" = aborted &&
	test "$(jv r.json exit_code)" = 130 &&
	test "$(jv r.json phases.0.steps.0.status)" = interrupted &&
	test "$(jv r.json phases.1.status)" = skipped &&
	test "$(jv r.json phases.2.status)" = succeeded &&
	test -e cleanup-ran &&
	test ! -e after-ran &&
	test ! -e not-stopped &&
	no_process_matching "sleep 30.330[12]" &&
	lb history --json >h.json &&
	test "$(jv h.json runs.0.status)" = aborted &&
	test "$(jv h.json runs.0.run_id)" = "$(jv r.json run_id)"
'

test_expect_success 'SIGTERM exits 143, recorded aborted, cleanup ran' '
	rm -f started cleanup-ran &&
	signal_run TERM started aborted.lua &&
	test "$code" = 143 &&
	test "$(jv r.json status)" = aborted &&
	test "$(jv r.json exit_code)" = 143 &&
	test -e cleanup-ran &&
	test ! -e after-ran &&
	no_process_matching "sleep 30.330[12]"
'

test_expect_success 'SIGHUP exits 143, recorded aborted, cleanup ran' '
	rm -f started cleanup-ran &&
	signal_run HUP started aborted.lua &&
	test "$code" = 143 &&
	test "$(jv r.json status)" = aborted &&
	test -e cleanup-ran &&
	no_process_matching "sleep 30.330[12]"
'

test_expect_success 'an abort wins over the missed RTO of the unfinished recovery' '
	write_runbook abortslow.lua <<-\EOF &&
	return runbook { name = "abortslow", rto = "100ms", rpo = "1m",
		phase "restore" { step "s" { sh = "sleep 0.3; touch slow-started; exec sleep 30.3303" } },
	}
	EOF
	signal_run INT slow-started abortslow.lua &&
	test "$code" = 130 &&
	test "$(jv r.json rto.met)" = false &&
	test "$(jv r.json restored_at)" = null
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
	test "$(jv r.json phases.0.status)" = rolled_back &&
	no_process_matching "sleep 30.330[45]"
'

test_done
