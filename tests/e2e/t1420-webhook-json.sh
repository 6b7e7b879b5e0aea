#!/bin/sh
# Webhook bodies are built like the JSON report (lib/json.c): their rto and rpo objects are the
# report's own (seconds to the millisecond, rpo.status "none" without an RPO), and text that is
# not UTF-8 (a phase name, a notify() message) arrives with U+FFFD for each bad byte instead of
# the key going missing.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" hook.jsonl hook.port ok >/dev/null 2>&1 &
at_exit "kill $!"

write_runbook odd.lua <<-\EOF
return runbook { name = "odd", rto = "1m", params = { direct = "" },
	phase "caf\233" {
		step "wait" { sh = "sleep 0.123" },
		step "tell" { run = function(ctx) assert(notify(ctx.params.direct, "bad \255 byte")) end },
	},
}
EOF

test_expect_success 'setup: the receiver and the config' '
	wait_for "test -s hook.port" 20 &&
	cat >hook.yaml <<-EOF
	notify:
	  webhook: "http://127.0.0.1:$(cat hook.port)/hook"
	  events: [phase_started, run_finished]
	EOF
'

test_expect_success 'a run posts its events' '
	expect_code 0 lb --db h.db --config hook.yaml run --yes odd.lua \
		-p "direct=http://127.0.0.1:$(cat hook.port)/direct" >out &&
	wait_for "grep -q run_finished hook.jsonl" 20 &&
	run=$(sql h.db "select id from runs") &&
	expect_code 0 lb --db h.db report "$run" --format json -o report.json >out
'

test_expect_success 'rto and rpo are the JSON report'\''s, to the byte' '
	python3 - <<-\PY
	import json
	report = json.load(open("report.json"))
	lines = open("hook.jsonl", encoding="utf-8").read().splitlines()
	fin = [l for l in lines if json.loads(l)["event"] == "run_finished"]
	assert len(fin) == 1, lines
	body = json.loads(fin[0])
	for key in ("rto", "rpo"):
	    assert body[key] == report[key], (key, body[key], report[key])
	    text = json.dumps(report[key], separators=(",", ":"))
	    assert ("\"%s\":%s" % (key, text)) in fin[0], (key, text, fin[0])
	assert report["rpo"]["status"] == "none", report["rpo"]
	assert report["rto"]["achieved_s"] == round(report["rto"]["achieved_s"], 3)
	assert report["rto"]["achieved_s"] >= 0.123, report["rto"]
	PY
'

test_expect_success 'text that is not UTF-8 arrives with U+FFFD, no key missing' '
	python3 - <<-\PY
	import json
	ev = [json.loads(l) for l in open("hook.jsonl", encoding="utf-8")]
	fields = ["event", "run_id", "runbook", "env", "mode", "phase", "step", "role", "message",
	          "at", "status", "rto", "rpo", "text"]
	for e in ev:
	    missing = [f for f in fields if f not in e]
	    assert not missing, (e, missing)
	by = {e["event"]: e for e in ev}
	assert by["phase_started"]["phase"] == "caf\ufffd", by["phase_started"]
	assert by["notify"]["message"] == "bad \ufffd byte", by["notify"]
	assert by["notify"]["text"].endswith(": bad \ufffd byte"), by["notify"]
	PY
'

test_done
