#!/bin/sh
# The JSON Schemas of docs/schemas (for yaml-language-server and for readers of the JSON report)
# hold for real files: the shipped example config, configs lifeboat accepts and rejects, and the
# reports of real runs of several kinds (success, failure, a declined manual step, a drill with
# a fault phase and a rollback, an aborted run, notes). The schema of lifeboat.yaml names
# exactly the keys lib/config*.c read. Checked with Debian's python3-jsonschema.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

CFG_SCHEMA=$LIFEBOAT_SRC/docs/schemas/lifeboat.yaml.schema.json
REPORT_SCHEMA=$LIFEBOAT_SRC/docs/schemas/report.schema.json
# Debian's python3 (where python3-jsonschema and python3-yaml live), whatever else is in PATH
check_schema () {
	/usr/bin/python3 "$LIFEBOAT_SRC/tests/e2e/schema-check.py" "$@"
}

test_expect_success 'the shipped example config is valid for the schema and for lifeboat' '
	example=$LIFEBOAT_SRC/runbooks/lifeboat.example.yaml &&
	check_schema "$CFG_SCHEMA" "$example" &&
	expect_code 0 lb --config "$example" check "$LIFEBOAT_SRC"/runbooks/*.lua >out &&
	assert_contains out "lifeboat.example.yaml: ok"
'

test_expect_success 'the config lifeboat init writes is valid for the schema' '
	lb init starter >out &&
	check_schema "$CFG_SCHEMA" starter/lifeboat.yaml
'

test_expect_success 'a config using every key is valid for both' '
	write_runbook rb/drill.lua <<-\EOF &&
	return runbook { name = "drill", roles = { "sre" }, phase "p" { role = "sre", step "s" { sh = "true" } } }
	EOF
	cat >full.yaml <<-\EOF &&
	db: state/history.db
	reports_dir: out
	lua_memory: 64MiB
	sync: full
	roles:
	  sre: { members: [alice, bob], notify: "http://127.0.0.1:9/hook" }
	  commander:
	    members: [carol]
	environments:
	  staging: { rto: 1h30m, rpo: 90s, params: { x: 1, y: "two", z: true }, require_signed: false }
	  prod: { rto: 900, rpo: 2d }
	  dev:
	permissions:
	  prod: { run: [sre] }
	notify:
	  webhook: "https://127.0.0.1:9/hook"
	  events: [run_started, phase_started, phase_over_budget, manual_waiting, step_failed, rto_at_risk, run_finished]
	schedules:
	  - { runbook: rb/drill.lua, cron: "*/5 1-3 * jan-mar mon,fri", env: staging, yes: true, evidence: true }
	  - runbook: rb/drill.lua
	    cron: "0 3 * * 1"
	timezone: Europe/Berlin
	secrets: [DB_PASSWORD, API_TOKEN]
	trust:
	  keys: [keys/ci.pub]
	EOF
	check_schema "$CFG_SCHEMA" full.yaml &&
	mkdir keys && lb keygen keys/ci >out &&
	DB_PASSWORD=secret-value API_TOKEN=token-value expect_code 0 lb --config full.yaml check rb/drill.lua
'

# bad_config NAME TEXT EXPECTED: the schema and lifeboat both reject TEXT, the schema saying EXPECTED
bad_config () {
	printf "%s\n" "$2" >"$1.yaml" &&
	expect_code 1 check_schema "$CFG_SCHEMA" "$1.yaml" >"$1.schema" &&
	assert_contains "$1.schema" "$3" &&
	expect_code 2 lb --config "$1.yaml" check >"$1.lifeboat" 2>&1
}

test_expect_success 'mistakes lifeboat refuses, the schema refuses too' '
	bad_config typo "roles: { sre: { membres: [a] } }" "membres" &&
	bad_config topkey "reports_directory: out" "reports_directory" &&
	bad_config duration "environments: { prod: { rto: 15 minutes } }" "environments.prod.rto" &&
	bad_config sync "sync: fast" "fast" &&
	bad_config event "notify: { webhook: \"http://127.0.0.1:9/\", events: [run_begun] }" "run_begun" &&
	bad_config memory "lua_memory: 256MB" "lua_memory" &&
	bad_config schedule "schedules: [ { runbook: x.lua } ]" "cron" &&
	bad_config secret "secrets: [\"not a name\"]" "secrets.0" &&
	bad_config webhook "notify: { webhook: \"ftp://127.0.0.1/\" }" "notify.webhook"
'

test_expect_success 'the schema names exactly the keys lib/config*.c read' '
	cat "$LIFEBOAT_SRC"/lib/config*.c "$LIFEBOAT_SRC"/lib/config-int.h >config-src &&
	/usr/bin/python3 - config-src "$CFG_SCHEMA" <<-\PY
	import json, re, sys
	src = open(sys.argv[1]).read()
	schema = json.load(open(sys.argv[2]))
	def words(name):
	    m = re.search(r"\b" + name + r"\[[^\]]*\]\s*=\s*\{(.*?)\};", src, re.S)
	    assert m, name + " not found in lib/config*.c"
	    return set(re.findall(r"\"([a-z_]+)\"", m.group(1)))
	p = schema["properties"]
	pairs = [
	    ("top_keys", set(p)),
	    ("role_keys", set(p["roles"]["additionalProperties"]["properties"])),
	    ("env_keys", set(p["environments"]["additionalProperties"]["properties"])),
	    ("trust_keys", set(p["trust"]["properties"])),
	    ("permission_keys", set(p["permissions"]["additionalProperties"]["properties"])),
	    ("notify_keys", set(p["notify"]["properties"])),
	    ("schedule_keys", set(p["schedules"]["items"]["properties"])),
	    ("sync_values", set(p["sync"]["enum"])),
	    ("event_names", set(p["notify"]["properties"]["events"]["items"]["enum"])),
	]
	bad = 0
	for name, in_schema in pairs:
	    in_code = words(name)
	    if in_code != in_schema:
	        bad += 1
	        print("%s: lib/config*.c has %s, the schema %s: update docs/schemas/lifeboat.yaml.schema.json"
	              " (and docs/config.md)" % (name, sorted(in_code - in_schema), sorted(in_schema - in_code)))
	sys.exit(1 if bad else 0)
	PY
'

# Runbooks for reports of several kinds.
write_runbook ok.lua <<-\EOF
return runbook { name = "ok", rto = "1m", rpo = "1h", params = { n = 3 },
	recovery_point = function() return now() - 60 end,
	phase "restore" { budget = "30s", step "copy" { sh = "echo copied" },
		step "check" { run = function(ctx) log("n=%s", ctx.params.n) end } },
}
EOF
write_runbook fails.lua <<-\EOF
return runbook { name = "fails", rto = "1m",
	phase "restore" {
		step "tolerated" { sh = "exit 3", continue_on_error = true },
		step "broken" { sh = "echo no space >&2; exit 7", retries = 1, retry_delay = "10ms" },
		rollback = { step "undo" { sh = "echo undone" } },
	},
	phase "tidy" { cleanup = true, step "clean" { sh = "true" } },
}
EOF
write_runbook drill.lua <<-\EOF
return runbook { name = "drill", rto = "1m", rpo = "1s", roles = { "sre", "commander" },
	phase "break it" { fault = true, role = "sre", step "break" { sh = "echo broken" } },
	phase "restore" { role = "sre", restores_service = true,
		step "probe" { http = "http://127.0.0.1:9/none", retries = 0, timeout = "2s", continue_on_error = true },
		step "sign off" { manual = "Is it back?", role = "commander" } },
	phase "verify" { parallel = 2, step "a" { sh = "true" }, step "b" { sh = "true" } },
}
EOF
write_runbook slow.lua <<-\EOF
return runbook { name = "slow", phase "wait" { step "long" { sh = "sleep 30.7051" } } }
EOF

test_expect_success 'reports of real runs match the report schema' '
	expect_code 0 lb --db h.db run --yes ok.lua --report ok.json >out &&
	expect_code 1 lb --db h.db run --yes fails.lua --report fails.json >out &&
	expect_code 4 lb --db h.db drill --yes drill.lua --report drill.json >out &&
	expect_code 3 lb --db h.db run --yes --incident-start "$(date -u -d "-5 minutes" +%Y-%m-%dT%H:%M:%SZ)" \
		--strict-budgets ok.lua --report incident.json >out &&
	id=$(jv fails.json run_id) &&
	lb --db h.db report "$id" --format json -o from-history.json >out &&
	check_schema "$REPORT_SCHEMA" ok.json fails.json drill.json incident.json from-history.json &&
	same "$(jv fails.json status phases.0.status phases.0.steps.2.section)" "failed rolled_back rollback" &&
	same "$(jv drill.json mode phases.0.fault rpo.status)" "drill true unmeasured" &&
	same "$(jv from-history.json status)" "failed" &&
	same "$(jv incident.json rto.met)" "false"
'

write_runbook ask.lua <<-\EOF
return runbook { name = "ask", phase "p" { step "confirm" { manual = "go?" } } }
EOF

test_expect_success 'a declined manual step matches it too' '
	"$LIFEBOAT" --db h.db run ask.lua --report declined.json >ask.out 2>&1 &
	pid=$! &&
	wait_for "grep -q \"confirm \" ask.out" 10 &&
	id=$(lb --db h.db history ask --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	lb --db h.db decline "$id" >out &&
	{ wait $pid; test $? = 1; } &&
	check_schema "$REPORT_SCHEMA" declined.json &&
	same "$(jv declined.json phases.0.steps.0.status)" "declined"
'

test_expect_success 'an aborted run with a note matches it too' '
	"$LIFEBOAT" --db h.db run --yes slow.lua --report aborted.json >slow.out 2>&1 &
	pid=$! &&
	wait_for "lb --db h.db history slow --json | grep -q running" 10 &&
	id=$(lb --db h.db history slow --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	lb --db h.db note "$id" "stuck: aborting" >out &&
	sleep 1.5 &&
	lb --db h.db abort "$id" >out &&
	{ wait $pid; test $? = 130; } &&
	no_process_matching "sleep 30.7051" &&
	check_schema "$REPORT_SCHEMA" aborted.json &&
	same "$(jv aborted.json status notes.0.text)" "aborted stuck: aborting"
'

test_expect_success 'the report schema rejects what a reader could not trust' '
	/usr/bin/python3 - ok.json <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["status"] = "wonderful"; json.dump(d, open("bad1.json", "w"))
	d = json.load(open(sys.argv[1]))
	del d["rto"]["achieved_s"]; json.dump(d, open("bad2.json", "w"))
	d = json.load(open(sys.argv[1]))
	d["phases"][0]["steps"][0]["kind"] = "ssh"; json.dump(d, open("bad3.json", "w"))
	d = json.load(open(sys.argv[1]))
	d["started_at"] = "yesterday"; json.dump(d, open("bad4.json", "w"))
	PY
	for i in 1 2 3 4; do
		expect_code 1 check_schema "$REPORT_SCHEMA" bad$i.json >bad$i.out || return 1
	done &&
	assert_contains bad1.out "wonderful" &&
	assert_contains bad2.out "achieved_s" &&
	assert_contains bad3.out "ssh" &&
	assert_contains bad4.out "yesterday"
'

test_done
