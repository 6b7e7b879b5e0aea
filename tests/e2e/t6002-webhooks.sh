#!/bin/sh
# Webhooks (SPEC 4): the configured events arrive in order as JSON with the SPEC's fields (and a
# Slack-style text), at the global webhook and at the notify URL of the role whose phase or step
# it is; notify() from Lua; run_finished carries the audit head. Deliveries go through the
# history's outbox off the engine's path: a receiver that refuses connections, one that never
# answers and a slow one delay no step and change no exit code.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"

# receiver NAME [MODE...]: starts webhook-receiver.py writing NAME.jsonl and NAME.port
receiver () {
	python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" "$1.jsonl" "$1.port" "$2" ${3:+"$3"} \
		>/dev/null 2>&1 &
	at_exit "kill $!"
}
receiver hook ok
receiver role ok
receiver hang hang
receiver slow slow 3

# events FILE: the event names in FILE, one line
events () {
	python3 -c '
import json, sys
print(" ".join(json.loads(l)["event"] for l in open(sys.argv[1]) if l.strip()))' "$1"
}

write_runbook hooks.lua <<-\EOF
return runbook { name = "hooks", rto = "400ms", roles = { "sre", "commander" },
	params = { direct = "" },
	phase "restore" { role = "sre", budget = "200ms",
		step "work" { sh = "sleep 0.5" },
		step "flaky" { sh = "exit 3", continue_on_error = true },
		step "tell" { run = function(ctx)
			assert(notify("commander", "restore done"))
			assert(notify(ctx.params.direct, "straight to a URL"))
			local ok, why = notify("nobody", "x")
			assert(ok == nil and why:find("no role", 1, true), why)
		end },
	},
	phase "sign" { role = "commander", budget = "1m",
		step "sign off" { manual = "Look at the dashboard", role = "commander" },
	},
}
EOF

write_runbook quick.lua <<-\EOF
return runbook { name = "quick", rto = "10m",
	phase "a" { step "one" { sh = "sleep 0.2" }, step "two" { sh = "sleep 0.2" } },
	phase "b" { step "three" { sh = "sleep 0.2" } },
}
EOF

test_expect_success 'setup: receivers and config' '
	for r in hook role hang slow; do wait_for "test -s $r.port" 20 || exit 1; done &&
	closed=$(python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	for name in hook hang slow closed
	do
		if test $name = closed; then port=$closed; else port=$(cat $name.port); fi &&
		cat >$name.yaml <<-EOF || exit 1
		roles:
		  sre: { members: [tester] }
		  commander: { members: [tester], notify: "http://127.0.0.1:$(cat role.port)/commander" }
		notify:
		  webhook: "http://127.0.0.1:$port/hook"
		EOF
	done &&
	echo "http://127.0.0.1:$(cat hook.port)/direct" >direct.url
'

test_expect_success 'events arrive in order with the SPEC fields, at the webhook and at the role'\''s URL' '
	( code=0; timeout -s KILL 60 "$LIFEBOAT" --db h.db --config hook.yaml run hooks.lua \
		-p "direct=$(cat direct.url)" >run.out 2>&1 || code=$?; echo $code >run.rc ) &
	wait_for "grep -q manual_waiting hook.jsonl" 30 &&
	run=$(sql h.db "select id from runs where status = ${Q}running$Q") &&
	expect_code 0 lb --db h.db --config hook.yaml confirm "$run" >out &&
	wait_for "test -s run.rc" 30 &&
	test "$(cat run.rc)" = 3 &&
	wait_for "grep -q run_finished hook.jsonl" 10 &&
	test "$(events hook.jsonl)" = "run_started phase_started rto_at_risk phase_over_budget step_failed notify phase_started manual_waiting run_finished" &&
	test "$(events role.jsonl)" = "notify phase_started manual_waiting" &&
	python3 - "$run" <<-\EOF
	import json, sys
	run = sys.argv[1]
	ev = [json.loads(l) for l in open("hook.jsonl")]
	fields = ["event", "run_id", "runbook", "env", "mode", "phase", "step", "role", "message", "at",
	          "status", "rto", "rpo", "text"]
	for e in ev:
	    missing = [f for f in fields if f not in e]
	    assert not missing, (e["event"], missing)
	    assert e["run_id"] == run and e["runbook"] == "hooks" and e["mode"] == "run", e
	    assert e["text"].startswith("[lifeboat] hooks run") and e["message"] in e["text"], e
	    assert e["at"].endswith("Z"), e
	by = {}
	for e in ev:
	    by.setdefault(e["event"], e)
	assert by["phase_started"]["phase"] == "restore" and by["phase_started"]["role"] == "sre"
	assert by["phase_over_budget"]["phase"] == "restore" and "200ms" in by["phase_over_budget"]["message"]
	assert by["step_failed"]["step"] == "flaky" and "exited with code 3" in by["step_failed"]["message"]
	assert by["manual_waiting"]["step"] == "sign off" and by["manual_waiting"]["role"] == "commander"
	assert "Look at the dashboard" in by["manual_waiting"]["message"]
	assert "lifeboat confirm " + run in by["manual_waiting"]["message"]
	assert by["notify"]["message"] == "straight to a URL"
	assert by["rto_at_risk"]["rto"]["target_s"] == 0.4
	fin = by["run_finished"]
	assert fin["status"] == "failed" or fin["status"] == "succeeded", fin
	assert fin["exit_code"] == 3 and fin["rto"]["met"] is False, fin
	assert ":" in fin["audit_head"], fin
	open("head", "w").write(fin["audit_head"])
	role = [json.loads(l) for l in open("role.jsonl")]
	assert role[0]["message"] == "restore done" and role[0]["role"] == "commander"
	EOF
	expect_code 0 lb --db h.db audit verify --expect-head "$(cat head)" >out &&
	test "$(sql h.db "select count(*) from outbox where status = ${Q}sent$Q")" = 12 &&
	test "$(sql h.db "select count(*) from outbox where status != ${Q}sent$Q")" = 0
'

test_expect_success 'events: limits what is sent' '
	cat hook.yaml >some.yaml &&
	echo "  events: [run_started, run_finished]" >>some.yaml &&
	: >hook.jsonl && : >role.jsonl &&
	expect_code 0 lb --db h.db --config some.yaml run --yes quick.lua >out &&
	wait_for "grep -q run_finished hook.jsonl" 10 &&
	test "$(events hook.jsonl)" = "run_started run_finished" &&
	test ! -s role.jsonl
'

# A receiver that refuses connections: the run takes as long as without webhooks.
test_expect_success 'a dead receiver delays nothing and changes no exit code' '
	elapsed_ms expect_code 3 lb --db h.db --config closed.yaml run --yes hooks.lua \
		-p "direct=$(cat direct.url)" --report dead.json >out 2>err &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 4000 &&
	assert_contains err "webhooks:" &&
	test "$(json_get dead.json "d[\"phases\"][0][\"steps\"][0][\"duration_s\"] < 1.5")" = true &&
	run=$(json_get dead.json "d[\"run_id\"]") &&
	test "$(sql h.db "select count(*) from outbox where run_id = $Q$run$Q and status = ${Q}sent$Q and url like ${Q}%/hook$Q")" = 0 &&
	test "$(sql h.db "select count(*) from outbox where run_id = $Q$run$Q and last_error like ${Q}%onnect%$Q")" -ge 1
'

# One that accepts and never answers: the sender waits, the steps do not.
test_expect_success 'a receiver that never answers delays no step; the exit is bounded' '
	elapsed_ms expect_code 0 lb --db h.db --config hang.yaml run --yes quick.lua --report hang.json >out 2>err &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 15000 &&
	test "$(json_get hang.json "d[\"rto\"][\"achieved_s\"] < 2")" = true &&
	test "$(json_get hang.json "max(s[\"duration_s\"] for p in d[\"phases\"] for s in p[\"steps\"]) < 1")" = true &&
	assert_contains err "webhooks:" &&
	grep -q run_started hang.jsonl
'

test_expect_success 'a slow receiver (3 s an answer) delays no step' '
	expect_code 0 lb --db h.db --config slow.yaml run --yes quick.lua --report slow.json >out 2>err &&
	test "$(json_get slow.json "d[\"rto\"][\"achieved_s\"] < 2")" = true &&
	test "$(json_get slow.json "max(s[\"duration_s\"] for p in d[\"phases\"] for s in p[\"steps\"]) < 1")" = true &&
	wait_for "grep -q run_started slow.jsonl" 10 &&
	python3 -c "
import json
e = json.loads(open(\"slow.jsonl\").readline())
assert e[\"event\"] == \"run_started\" and e[\"text\"].startswith(\"[lifeboat] quick run\"), e"
'

test_expect_success 'no config, no webhook: notify() says so and the run goes on' '
	write_runbook lonely.lua <<-\EOF &&
	return runbook { name = "lonely", phase "p" { step "s" { run = function()
		local ok, why = notify("sre", "hello")
		assert(ok == nil and why:find("no webhook", 1, true), why)
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes lonely.lua >out 2>err &&
	assert_not_contains err "webhooks:"
'

test_done
