#!/bin/sh
# Scheduled probes and the rpo_exposed webhook (SPEC 10): a schedule with probe: true runs
# `lifeboat probe` (trigger schedule, mode probe, nothing injected), also in an environment with
# drills: false; a stale backup sends rpo_exposed
# with the exposure in its message; yes: true with probe: true is a config error.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

receiver () {
	python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" "$1.jsonl" "$1.port" ok >/dev/null 2>&1 &
	at_exit "kill $!"
}
receiver hook

write_runbook rb.lua <<-\EOF
return runbook { name = "rb", rpo = "1h",
	probes = { step "up" { sh = "echo $LIFEBOAT_MODE >>probed" } },
	newest_recoverable = function() return fs.mtime("latest.db") end,
	phase "break" { fault = true, step "f" { sh = "touch injected" } },
	phase "restore" { step "r" { sh = "true" } },
}
EOF

test_expect_success 'setup: receiver and a config with a probe schedule in a drills: false environment' '
	wait_for "test -s hook.port" 20 &&
	cat >lifeboat.yaml <<-EOF &&
	db: h.db
	environments:
	  prod: { drills: false }
	notify:
	  webhook: "http://127.0.0.1:$(cat hook.port)/hook"
	  events: [rpo_exposed]
	schedules:
	  - { runbook: rb.lua, cron: "* * * * *", env: prod, probe: true }
	EOF
	expect_code 0 lb check rb.lua
'

test_expect_success 'a due probe schedule runs lifeboat probe: mode probe, trigger schedule, nothing injected' '
	touch latest.db &&
	expect_code 0 lb scheduler --once >out &&
	assert_contains out "starting the probe" &&
	test ! -e injected &&
	same "$(cat probed)" probe &&
	same "$(sql h.db "select mode, trigger, env, status, rpo_exposure_status from runs")" \
		"probe|schedule|prod|succeeded|met"
'

test_expect_success 'a stale backup: the scheduled probe exits 4 and sends rpo_exposed' '
	touch -d "3 hours ago" latest.db &&
	sql h.db "update schedules set last_run_at = last_run_at - 120" &&
	expect_code 4 lb scheduler --once >out &&
	wait_for "grep -q rpo_exposed hook.jsonl" 20 &&
	python3 - hook.jsonl <<-\PY
	import json, sys
	e = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
	assert [x["event"] for x in e] == ["rpo_exposed"], e
	x = e[0]
	assert x["mode"] == "probe" and x["runbook"] == "rb" and x["env"] == "prod", x
	assert "3h" in x["message"] and "1h" in x["message"], x["message"]
	PY
'

test_expect_success 'probe: true with yes: true is a config error naming the line' '
	cat >bad.yaml <<-\EOF &&
	schedules:
	  - { runbook: rb.lua, cron: "* * * * *", probe: true, yes: true }
	EOF
	expect_code 2 lb --config bad.yaml check rb.lua 2>err &&
	assert_contains err "bad.yaml:2" &&
	assert_contains err "a probe has no manual steps"
'

test_done
