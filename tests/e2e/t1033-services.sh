#!/bin/sh
# service = true (SPEC 1): the step succeeds once its command is still alive after ready_after,
# keeps running while later steps run, and its whole group is stopped when the run ends, however it
# ends; a service that exits before ready_after fails its step.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'a service runs during later steps and is stopped at the end' '
	write_runbook svc.lua <<-\EOF &&
	return runbook { name = "svc",
		phase "start" { step "server" { sh = "sleep 33.443 & exec sleep 33.444", service = true } },
		phase "use" {
			step "check" { sh = "pgrep -f \"slee[p] 33.444\" >seen1; pgrep -f \"slee[p] 33.443\" >seen2" },
		},
	}
	EOF
	expect_code 0 lb run --yes svc.lua --report r.json >out &&
	test -s seen1 &&
	test -s seen2 &&
	same "$(jv r.json phases.0.steps.0.status phases.1.steps.0.status)" \
		"succeeded succeeded" &&
	no_step_process "sleep 33.44[34]"
'

test_expect_success 'a python http.server service answers a later http step' '
	port=$(python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	write_runbook web.lua <<-\EOF &&
	return runbook { name = "web", params = { port = "0" },
		phase "serve" {
			step "server" { sh = "exec python3 -m http.server --bind 127.0.0.1 \"$port\"", service = true },
		},
		phase "probe" {
			step "healthy" { http = "http://127.0.0.1:${port}/web.lua", expect = 200, contains = "name = \"web\"",
				retries = 30, retry_delay = "100ms" },
			step "curl" { sh = "curl -fsS \"http://127.0.0.1:$port/web.lua\" >fetched" },
		},
	}
	EOF
	expect_code 0 lb run --yes -p "port=$port" web.lua --report r.json >out &&
	assert_contains fetched "name = \"web\"" &&
	same "$(jv r.json phases.1.steps.0.status)" succeeded &&
	no_step_process "http.server --bind 127.0.0.1 $port" &&
	! curl -fsS -m 2 "http://127.0.0.1:$port/web.lua" >/dev/null 2>&1
'

test_expect_success 'a service that exits before ready_after fails its step' '
	write_runbook early.lua <<-\EOF &&
	return runbook { name = "early",
		phase "start" { step "server" { sh = "sleep 0.1; exit 0", service = true, ready_after = "600ms" } },
		phase "use" { step "u" { sh = "touch used" } },
	}
	EOF
	expect_code 1 lb run --yes early.lua --report r.json >out &&
	test ! -e used &&
	same "$(jv r.json phases.0.steps.0.status)" failed &&
	write_runbook crash.lua <<-\EOF &&
	return runbook { name = "crash",
		phase "start" { step "server" { sh = "exit 3", service = true } },
	}
	EOF
	expect_code 1 lb run --yes crash.lua --report r.json >out &&
	same "$(jv r.json phases.0.steps.0.status phases.0.steps.0.exit_code)" \
		"failed 3"
'

test_expect_success 'services are stopped when the run fails' '
	write_runbook svcfail.lua <<-\EOF &&
	return runbook { name = "svcfail",
		phase "start" { step "server" { sh = "exec sleep 33.446", service = true } },
		phase "use" { step "u" { sh = "exit 1" } },
	}
	EOF
	expect_code 1 lb run --yes svcfail.lua >out &&
	no_step_process "sleep 33.446"
'

test_expect_success 'services are stopped when the run is aborted' '
	write_runbook svcabort.lua <<-\EOF
	return runbook { name = "svcabort",
		phase "start" { step "server" { sh = "exec sleep 33.447", service = true } },
		phase "use" { step "u" { sh = "touch waiting; exec sleep 33.448" } },
	}
	EOF
	"$LIFEBOAT" run --yes svcabort.lua >out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e waiting" 10 &&
	kill -TERM "$pid" &&
	code=0 && { wait "$pid" || code=$?; } &&
	test "$code" = 143 &&
	no_step_process "sleep 33.44[78]"
'

test_done
