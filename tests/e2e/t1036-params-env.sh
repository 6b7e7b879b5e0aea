#!/bin/sh
# Params and the step environment (SPEC 1): params reach sh steps as environment variables, -p
# overrides them, LIFEBOAT_RUN_ID/RUNBOOK/MODE/PHASE/STEP are set; http and manual strings expand
# ${name}, sh strings do not (a param never becomes shell code).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'params and LIFEBOAT_* variables are in a sh step environment' '
	write_runbook env.lua <<-\EOF &&
	return runbook { name = "env-book", params = { store = "demo/features.db", port = "8080" },
		phase "restore data" {
			step "dump env" { sh = [[
				printf "%s\n" "$store" "$port" "$LIFEBOAT_RUN_ID" "$LIFEBOAT_RUNBOOK" "$LIFEBOAT_MODE" \
					"$LIFEBOAT_PHASE" "$LIFEBOAT_STEP" >env.out
			]] },
		},
	}
	EOF
	LIFEBOAT_PHASE=leaked LIFEBOAT_RUN_ID=leaked expect_code 0 lb run --yes env.lua --report r.json >out &&
	printf "%s\n" demo/features.db 8080 "$(jv r.json run_id)" env-book run "restore data" "dump env" >want &&
	diff want env.out
'

test_expect_success '-p overrides a param, and drill mode shows in LIFEBOAT_MODE' '
	expect_code 0 lb drill --yes -p "store=/srv/a b.db" -p port=9090 env.lua --report r.json >out &&
	printf "%s\n" "/srv/a b.db" 9090 "$(jv r.json run_id)" env-book drill "restore data" "dump env" >want &&
	diff want env.out &&
	test "$(json_get r.json "d[\"params\"] == {\"store\": \"/srv/a b.db\", \"port\": \"9090\"}")" = true
'

test_expect_success 'run functions see the params in ctx.params, with -p applied' '
	write_runbook ctx.lua <<-\EOF &&
	return runbook { name = "ctx", params = { store = "a.db", port = "8080" },
		phase "p" {
			step "lua sees" { run = function(ctx)
				local line = ctx.params.store .. "|" .. ctx.params.port .. "|" .. ctx.run_id .. "|" .. ctx.mode
				log("%s", line)
				if ctx.params.port ~= "7070" then error("ctx.params.port is " .. ctx.params.port) end
				if ctx.phase ~= "p" or ctx.step ~= "lua sees" then error("ctx.phase/step wrong") end
			end },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes -p port=7070 ctx.lua --report r.json >out &&
	assert_contains out "a.db|7070|$(jv r.json run_id)|run"
'

test_expect_success 'sh strings do not expand ${name}: the literal stays for the shell' '
	write_runbook literal.lua <<-\EOF &&
	return runbook { name = "literal", params = { greeting = "$(touch pwned)", word = "hello" },
		phase "p" {
			step "quoted" { sh = [[echo '\''${word}'\'' >literal.out]] },
			step "env" { sh = [[printf "%s" "${greeting}" >greeting.out]] },
		},
	}
	EOF
	expect_code 0 lb run --yes literal.lua >out &&
	test "$(cat literal.out)" = "\${word}" &&
	test "$(cat greeting.out)" = "\$(touch pwned)" &&
	test ! -e pwned
'

test_expect_success 'http urls expand ${name} from params' '
	port=$(python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	echo "payload-36" >page.txt &&
	write_runbook http.lua <<-\EOF &&
	return runbook { name = "http", params = { port = "0", page = "nope.txt" },
		phase "serve" {
			step "server" { sh = "exec python3 -m http.server --bind 127.0.0.1 \"$port\"", service = true },
			step "get" { http = "http://127.0.0.1:${port}/${page}", contains = "payload-36",
				retries = 30, retry_delay = "100ms" },
		},
	}
	EOF
	expect_code 0 lb run --yes -p "port=$port" -p page=page.txt http.lua --report r.json >out &&
	same "$(jv r.json phases.0.steps.1.status)" succeeded &&
	no_step_process "http.server --bind 127.0.0.1 $port"
'

test_done
