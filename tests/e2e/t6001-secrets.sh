#!/bin/sh
# Secrets (SPEC 5): the values of the config's `secrets:` never reach the terminal, the history
# (the database and its WAL), reports or webhooks, also when a step writes one a byte at a time
# or split across writes; runbook Lua code still gets the raw value (secret(), sh()); values
# shorter than 6 characters are refused.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
# Two canaries: grep looks for their distinctive middles, so even part of one is a leak.
LB_CANARY=canary-7f3a9c-TOKEN
LB_QUOTED='q"uo\te-9d2e5b'	# JSON and XML escape it: redaction must come before escaping
export LB_CANARY LB_QUOTED

python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" events.jsonl port ok >/dev/null 2>&1 &
at_exit "kill $!"

# leaks FILE...: fails naming each file that holds a canary or part of one
leaks () {
	local f found=0
	for f
	do
		if grep -a -l -e 7f3a9c -e 9d2e5b "$f" >/dev/null 2>&1; then
			echo "a secret leaked into $f:"
			grep -a -n -e 7f3a9c -e 9d2e5b "$f" | head -n 5
			found=1
		fi
	done
	return $found
}

test_expect_success 'setup: config, receiver, runbook' '
	wait_for "test -s port" 20 &&
	cat >secrets.yaml <<-EOF &&
	roles:
	  sre: {}
	  commander: {}
	notify:
	  webhook: "http://127.0.0.1:$(cat port)/hook"
	secrets: [LB_CANARY, LB_QUOTED]
	EOF
	write_runbook secrets.lua <<-\EOF
	return runbook { name = "secrets", roles = { "sre", "commander" },
		params = { token = "none", port = "0" },
		phase "leak" { role = "sre",
			step "byte by byte" { sh = [[
				printf "%s\n" "$LB_CANARY" | fold -w1 | while IFS= read -r c; do printf "%s" "$c"; sleep 0.02; done
				echo
				printf "%s\n" "$LB_QUOTED" | fold -w1 | while IFS= read -r c; do printf "%s" "$c" >&2; sleep 0.02; done
				echo >&2
			]] },
			step "split write" { sh = [[
				printf "%s" "${LB_CANARY%??????}"; sleep 0.3; printf "%s\n" "${LB_CANARY#"${LB_CANARY%??????}"}"
			]] },
			step "param" { sh = [[echo "token=$token"]] },
			step "lua" { run = function(ctx)
				local v = assert(secret("LB_CANARY"))
				log("log line %s", v)
				local r = sh([[printf "%s" "$LB_CANARY"]])
				assert(r.stdout == v, "sh() gives Lua the raw value")
				sh([[printf "%s\n" "$LB_QUOTED" >&2]])
				assert(notify("sre", "webhook " .. v .. " " .. secret("LB_QUOTED")))
				local none, why = secret("HOME")
				assert(none == nil and why:find("not a secret", 1, true), why)
			end },
			step "http" { http = "http://127.0.0.1:${port}/get/${token}", expect = 501 },
			step "sh fails" { sh = [[echo "failing with $LB_CANARY" >&2; exit 3]], continue_on_error = true },
			step "lua fails" { run = function() error("boom " .. secret("LB_QUOTED")) end,
					   continue_on_error = true },
			step "sign off" { manual = "confirm with token ${token}", role = "commander" },
			step "snapshot the WAL" { sh = [[cp h.db-wal wal-snapshot]] },
		},
	}
	EOF
'

test_expect_success 'a run that shows, stores, reports and sends secrets masks every one' '
	rc=0 &&
	( code=0; timeout -s KILL 90 "$LIFEBOAT" --db h.db --config secrets.yaml run secrets.lua \
		-p "token=$LB_CANARY" -p "port=$(cat port)" --report r.json --junit r.xml \
		>run.out 2>run.err || code=$?; echo $code >run.rc ) &
	wait_for "test \"\$(sql h.db \"select count(*) from steps where name = ${Q}sign off$Q and status = ${Q}running$Q\")\" = 1" 30 &&
	run=$(sql h.db "select id from runs where status = ${Q}running$Q") &&
	expect_code 0 lb --db h.db --config secrets.yaml note "$run" "the token is $LB_CANARY" >note.out &&
	expect_code 0 lb --db h.db --config secrets.yaml confirm "$run" >confirm.out &&
	wait_for "test -s run.rc" 30 &&
	test "$(cat run.rc)" = 0 &&
	test -s wal-snapshot &&
	assert_contains run.out "token=***" &&
	assert_contains run.out "log line ***" &&
	assert_contains run.out "http | GET http://127.0.0.1:$(cat port)/get/*** -> 501" &&
	assert_contains run.out "byte by byte | ***" &&
	assert_contains run.out "lua fails" &&
	assert_contains run.out "boom ***" &&
	test "$(sql h.db "select status from steps where name = ${Q}lua$Q")" = succeeded &&
	test "$(sql h.db "select status from steps where name = ${Q}byte by byte$Q")" = succeeded &&
	test "$(sql h.db "select count(*) from notes where text = ${Q}the token is ***$Q")" = 1 &&
	lb --db h.db --config secrets.yaml show "$run" >show.out &&
	lb --db h.db --config secrets.yaml show "$run" --json >show.json &&
	lb --db h.db --config secrets.yaml history >history.out &&
	for f in md html prom junit json
	do
		lb --db h.db --config secrets.yaml report "$run" --format $f -o "report.$f" >/dev/null || exit 1
	done &&
	lb --db h.db --config secrets.yaml run --yes secrets.lua -p "token=$LB_CANARY" \
		-p "port=$(cat port)" --report r2.md >run2.out 2>run2.err &&
	wait_for "grep -q run_finished events.jsonl" 10 &&
	test "$(grep -c "\"event\":\"run_finished\"" events.jsonl)" = 2 &&
	assert_contains events.jsonl "webhook *** ***" &&
	ls h.db* wal-snapshot >files &&
	leaks run.out run.err note.out confirm.out show.out show.json history.out r.json r.xml r2.md \
		run2.out run2.err report.md report.html report.prom report.junit report.json \
		events.jsonl $(cat files)
'

test_expect_success 'the history holds no secret: every text column of every table' '
	sql h.db .dump >dump.sql &&
	test -s dump.sql &&
	leaks dump.sql
'

test_expect_success 'a secret shorter than 6 characters is refused at load, its value unshown' '
	cat >short.yaml <<-\EOF &&
	secrets: [LB_SHORT]
	EOF
	LB_SHORT=abc12 expect_code 2 lb --db h.db --config short.yaml run --yes secrets.lua >out 2>err &&
	assert_contains err "short.yaml:1:11: secrets[0]" &&
	assert_not_contains err abc12
'

test_done
