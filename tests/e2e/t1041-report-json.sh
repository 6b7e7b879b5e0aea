#!/bin/sh
# The JSON report (SPEC 7): every documented field is present with its type, on succeeded, failed,
# drill and aborted runs; values agree with what happened.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# The SPEC 7 shape, checked by python: prints each problem, exits 1 if any.
cat >"$TEST_DIR/.check-report.py" <<'EOF'
import json, re, sys

RUN_STATUS = {"succeeded", "failed", "aborted", "running", "interrupted", "refused"}
STATUS = {"succeeded", "failed", "skipped", "rolled_back", "pending", "running", "interrupted",
          "timed_out", "declined"}
RPO_STATUS = {"met", "missed", "unmeasured", "none"}
KINDS = {"sh", "run", "http", "manual"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
problems = []

def num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
def ts(v): return isinstance(v, str) and ISO.match(v) is not None
def s(v): return isinstance(v, str)
def b(v): return isinstance(v, bool)
def i(v): return isinstance(v, int) and not isinstance(v, bool)
def null_or(f): return lambda v: v is None or f(v)
def one_of(values): return lambda v: v in values

def check(obj, where, fields):
    if not isinstance(obj, dict):
        problems.append("%s: not an object" % where)
        return
    for key, ok in fields.items():
        if key not in obj:
            problems.append("%s: no field %r" % (where, key))
        elif not ok(obj[key]):
            problems.append("%s.%s: bad value %r" % (where, key, obj[key]))

d = json.load(open(sys.argv[1]))
check(d, "report", {
    "schema_version": i, "run_id": s, "runbook": s, "mode": one_of({"run", "drill"}),
    "trigger": one_of({"cli", "console", "schedule", "resume"}), "env": null_or(s),
    "operator": s, "status": one_of(RUN_STATUS), "started_at": ts, "ended_at": null_or(ts),
    "runbook_sha256": lambda v: s(v) and re.match(r"^[0-9a-f]{64}$", v) is not None,
    "incident_at": null_or(ts), "restored_at": null_or(ts), "human_wait_s": num,
    "rto": lambda v: isinstance(v, dict), "rpo": lambda v: isinstance(v, dict),
    "phases": lambda v: isinstance(v, list), "notes": lambda v: isinstance(v, list),
})
check(d.get("rto"), "rto", {"target_s": null_or(num), "achieved_s": null_or(num), "met": null_or(b)})
check(d.get("rpo"), "rpo", {"target_s": null_or(num), "achieved_s": null_or(num), "met": null_or(b),
                            "status": one_of(RPO_STATUS)})
for pi, p in enumerate(d.get("phases") or []):
    check(p, "phases[%d]" % pi, {
        "name": s, "role": null_or(s), "budget_s": null_or(num), "duration_s": null_or(num),
        "human_wait_s": null_or(num), "over_budget": b, "status": one_of(STATUS),
        "steps": lambda v: isinstance(v, list)})
    for si, st in enumerate(p.get("steps") or []):
        check(st, "phases[%d].steps[%d]" % (pi, si), {
            "name": s, "kind": one_of(KINDS), "role": null_or(s), "status": one_of(STATUS),
            "attempts": i, "duration_s": null_or(num), "exit_code": null_or(i),
            "confirmed_by": null_or(s)})
for ni, n in enumerate(d.get("notes") or []):
    check(n, "notes[%d]" % ni, {"at": ts, "operator": s, "text": s})
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF

write_runbook full.lua <<-\EOF
return runbook { name = "full", rto = "1m", rpo = "1h", params = { p = "v" },
	recovery_point = function(ctx) return now() - 30 end,
	phase "break" { fault = true, role = "sre", step "f" { sh = "true" } },
	phase "restore" { role = "data-eng", budget = "10s",
		step "copy" { sh = "echo copy" },
		step "verify" { run = function(ctx) log("verified") end },
		step "confirm" { manual = "looks fine?", role = "commander" },
		rollback = { step "undo" { sh = "true" } },
	},
	phase "tidy" { cleanup = true, step "c" { sh = "true" } },
}
EOF

test_expect_success 'a succeeded run has every SPEC 7 field with its type' '
	expect_code 0 lb run --yes full.lua --report ok.json >out &&
	python3 .check-report.py ok.json
'

test_expect_success 'the values agree with the run' '
	test "$(json_get ok.json "[d[k] for k in (\"runbook\", \"mode\", \"trigger\", \"env\", \"operator\", \"status\", \"notes\")]")" = \
		"[\"full\", \"run\", \"cli\", null, \"tester\", \"succeeded\", []]" &&
	test "$(jv ok.json runbook_sha256)" = "$(sha256sum full.lua | cut -d" " -f1)" &&
	test "$(json_get ok.json "[p[\"name\"] for p in d[\"phases\"]]")" = "[\"break\", \"restore\", \"tidy\"]" &&
	test "$(json_get ok.json "[(s[\"name\"], s[\"kind\"], s[\"role\"], s[\"exit_code\"], s[\"attempts\"], s[\"confirmed_by\"] is None) for s in d[\"phases\"][1][\"steps\"]]")" = \
		"[[\"copy\", \"sh\", \"data-eng\", 0, 1, true], [\"verify\", \"run\", \"data-eng\", null, 1, true], [\"confirm\", \"manual\", \"commander\", null, 1, false], [\"undo\", \"sh\", \"data-eng\", null, 0, true]]" &&
	test "$(json_get ok.json "[d[\"phases\"][1][\"role\"], d[\"phases\"][1][\"budget_s\"] == 10, d[\"rto\"][\"target_s\"] == 60, d[\"rpo\"][\"target_s\"] == 3600, 29 <= d[\"rpo\"][\"achieved_s\"] <= 32, d[\"rpo\"][\"status\"], d[\"human_wait_s\"] == 0]")" = \
		"[\"data-eng\", true, true, true, true, \"met\", true]"
'

test_expect_success 'a failed drill without objectives has the fields too, absent values null' '
	write_runbook bare.lua <<-\EOF &&
	return runbook { name = "bare",
		phase "break" { fault = true, step "f" { sh = "true" } },
		phase "restore" { step "s" { sh = "exit 2" } },
		phase "never" { step "n" { sh = "true" } },
	}
	EOF
	expect_code 1 lb drill --yes bare.lua --report bare.json >out &&
	python3 .check-report.py bare.json &&
	test "$(json_get bare.json "[d[\"mode\"], d[\"status\"], d[\"rto\"], d[\"rpo\"], d[\"restored_at\"]]")" = \
		"[\"drill\", \"failed\", {\"target_s\": null, \"achieved_s\": null, \"met\": null}, {\"target_s\": null, \"achieved_s\": null, \"met\": null, \"status\": \"none\"}, null]" &&
	test "$(json_get bare.json "[d[\"phases\"][1][\"budget_s\"], d[\"phases\"][1][\"role\"], d[\"phases\"][2][\"duration_s\"], d[\"phases\"][2][\"steps\"][0][\"duration_s\"], d[\"phases\"][2][\"steps\"][0][\"exit_code\"]]")" = \
		"[null, null, null, null, null]"
'

test_expect_success 'an aborted run and a missed RTO still get a complete report' '
	write_runbook slow.lua <<-\EOF
	return runbook { name = "slow", rto = "100ms",
		phase "p" { step "s" { sh = "touch started; exec sleep 30.4101" } },
	}
	EOF
	"$LIFEBOAT" run --yes slow.lua --report aborted.json >out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e started" 10 &&
	kill -INT "$pid" &&
	{ wait "$pid" || :; } &&
	python3 .check-report.py aborted.json &&
	same "$(jv aborted.json status phases.0.steps.0.status)" \
		"aborted interrupted"
'

test_expect_success 'the report is written where --report says, and nothing else there' '
	mkdir -p rdir &&
	expect_code 0 lb run --yes full.lua --report rdir/x.json >out &&
	python3 .check-report.py rdir/x.json &&
	test "$(ls rdir)" = x.json
'

test_done
