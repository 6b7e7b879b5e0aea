#!/bin/sh
# `lifeboat report` (SPEC 7): any past run reported again from the history alone, in every format,
# each parsed the way its readers parse it: JSON against SPEC 7's fields, JUnit with an XML parser
# and the junit-10 schema, the HTML page as well-formed XML whose SVG holds a bar per phase,
# Prometheus lines one by one. Then the trends of `history` and `plan`, and the at-risk warning.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

write_runbook fs.lua <<-\EOF
return runbook { name = "feature-store", rto = "1m", rpo = "1h",
	recovery_point = function(ctx) return now() - 600 end,
	phase "break the store" { fault = true, role = "sre",
		step "delete the online store" { sh = "true" } },
	phase "restore" { role = "data-eng", budget = "30s",
		step "verify newest snapshot" { sh = "sleep 0.1" },
		step "copy snapshot" { sh = "echo copied" } },
	phase "redeploy" { role = "sre", budget = "30s",
		step "start model server" { sh = "true" },
		step "commander signs off" { manual = "Check the dashboard", role = "commander" } },
}
EOF
write_runbook broken.lua <<-\EOF
return runbook { name = "broken & <odd>", rto = "1m",
	phase "restore" { role = "data-eng",
		step "copy snapshot" { sh = "echo 'cp: <no space> & \"left\"'; exit 7" } },
	phase "redeploy" { step "never" { sh = "true" } },
}
EOF

# id N: the run id of the Nth newest run (0 = newest)
id () {
	lb history --json --limit 100 | json_get - "d[\"runs\"][$1][\"run_id\"]"
}

test_expect_success 'setup: three drills and a failed run' '
	for i in 1 2 3; do expect_code 0 lb drill --yes fs.lua >/dev/null || return 1; done &&
	expect_code 1 lb run --yes broken.lua >/dev/null &&
	id 1 >ok.id && id 0 >bad.id &&
	test -s ok.id && test -s bad.id
'

test_expect_success 'json: default file under reports/, named by runbook and run id' '
	ok=$(cat ok.id) &&
	expect_code 0 lb report "$ok" --format json >out &&
	assert_contains out "report written to reports/feature-store-$ok.json" &&
	test -s "reports/feature-store-$ok.json"
'

test_expect_success 'json: SPEC 7 fields, the same document as show --json' '
	ok=$(cat ok.id) && f=reports/feature-store-$ok.json &&
	lb show "$ok" --json >show.json &&
	python3 - "$f" show.json <<-\PY
	import json, re, sys
	d = json.load(open(sys.argv[1]))
	assert d == json.load(open(sys.argv[2])), "report and show --json differ"
	for k in ("schema_version", "run_id", "runbook", "mode", "trigger", "env", "operator",
	          "status", "started_at", "ended_at", "runbook_sha256", "incident_at",
	          "restored_at", "human_wait_s", "rto", "rpo", "phases", "notes"):
	    assert k in d, k
	assert set(d["rto"]) >= {"target_s", "achieved_s", "met"}
	assert set(d["rpo"]) >= {"target_s", "achieved_s", "met", "status"}
	assert d["status"] == "succeeded" and d["mode"] == "drill" and d["env"] is None
	assert d["rto"]["met"] is True and d["rto"]["target_s"] == 60
	assert d["rpo"]["status"] == "met"
	assert [p["name"] for p in d["phases"]] == ["break the store", "restore", "redeploy"]
	for p in d["phases"]:
	    for k in ("name", "role", "budget_s", "duration_s", "human_wait_s", "over_budget",
	              "status", "steps"):
	        assert k in p, k
	    for s in p["steps"]:
	        for k in ("name", "kind", "role", "status", "attempts", "duration_s", "exit_code",
	                  "confirmed_by"):
	            assert k in s, k
	iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
	assert iso.match(d["started_at"]) and iso.match(d["restored_at"])
	PY
'

test_expect_success 'junit: an XML parser reads it; it validates against junit-10.xsd' '
	ok=$(cat ok.id) && f=reports/feature-store-$ok.xml &&
	expect_code 0 lb report "$ok" --format junit >out &&
	assert_contains out "$f" &&
	python3 - "$f" <<-\PY &&
	import sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	suites = root.findall("testsuite")
	assert root.tag == "testsuites" and len(suites) == 1
	s = suites[0]
	assert s.get("timestamp") and s.get("time") is not None
	cases = s.findall("testcase")
	assert len(cases) == 5 + 2, len(cases)
	assert {c.get("classname") for c in cases[:5]} == {"break the store", "restore", "redeploy"}
	assert [c.get("name") for c in cases[-2:]] == ["RTO", "RPO"]
	assert s.get("failures") == "0"
	PY
	xmllint --noout --schema "$LIFEBOAT_SRC/tests/schemas/junit-10.xsd" "$f"
'

test_expect_success 'junit: the failed step is a failure with its output' '
	bad=$(cat bad.id) &&
	expect_code 0 lb report "$bad" --format junit -o bad.xml >/dev/null &&
	xmllint --noout --schema "$LIFEBOAT_SRC/tests/schemas/junit-10.xsd" bad.xml &&
	python3 - bad.xml <<-\PY
	import sys, xml.etree.ElementTree as ET
	s = ET.parse(sys.argv[1]).getroot().find("testsuite")
	f = [c for c in s.findall("testcase") if c.find("failure") is not None]
	names = [c.get("name") for c in f]
	assert "copy snapshot" in names and "RTO" in names, names
	assert "cp: <no space> & \"left\"" in f[0].find("failure").text
	PY
'

test_expect_success 'html: well-formed XML, one SVG bar per phase, verdicts as text' '
	ok=$(cat ok.id) && f=reports/feature-store-$ok.html &&
	expect_code 0 lb report "$ok" --format html >out &&
	assert_contains out "$f" &&
	python3 - "$f" <<-\PY
	import sys, xml.etree.ElementTree as ET
	H, S = "{http://www.w3.org/1999/xhtml}", "{http://www.w3.org/2000/svg}"
	root = ET.parse(sys.argv[1]).getroot()
	assert root.tag == H + "html"
	gantt = [g for g in root.iter(S + "svg") if g.get("class") == "gantt"]
	assert len(gantt) == 1
	bars = [r for r in gantt[0].iter(S + "rect") if r.get("class") == "phase"]
	assert [b.get("data-phase") for b in bars] == ["break the store", "restore", "redeploy"]
	assert all(float(b.get("width")) > 0 for b in bars)
	assert not list(root.iter(H + "script"))
	text = "".join(root.itertext())
	assert "RTO met: achieved" in text and "RPO met: achieved" in text, text[:400]
	assert "t0 incident" in text and "t1 restored" in text
	trend = [g for g in root.iter(S + "svg") if g.get("class") == "trend"]
	assert len(trend) == 1
	assert len([r for r in trend[0].iter(S + "rect") if r.get("class") == "trend-bar"]) == 3
	PY
'

test_expect_success 'html: nothing loaded from elsewhere' '
	ok=$(cat ok.id) && f=reports/feature-store-$ok.html &&
	assert_not_contains "$f" "<script" &&
	assert_not_contains "$f" "<link" &&
	assert_not_contains "$f" "src=" &&
	test "$(grep -o "https\{0,1\}://[^\"]*" "$f" | grep -cv "^http://www.w3.org/")" = 0
'

test_expect_success 'html: the failed step, its output escaped' '
	bad=$(cat bad.id) &&
	expect_code 0 lb report "$bad" --format html -o bad.html >/dev/null &&
	python3 - bad.html <<-\PY
	import sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	text = "".join(root.itertext())
	assert "cp: <no space> & \"left\"" in text
	assert "RTO MISSED" in text or "RTO NOT RESTORED" in text or "RTO not met" in text, text[:600]
	assert "broken & <odd>" in text
	PY
'

test_expect_success 'md: verdicts, timeline and tables' '
	ok=$(cat ok.id) && f=reports/feature-store-$ok.md &&
	expect_code 0 lb report "$ok" --format md >out &&
	assert_contains out "$f" &&
	assert_contains "$f" "# feature-store" &&
	assert_contains "$f" "| RTO (recovery time) |" &&
	assert_contains "$f" "## Timeline" &&
	assert_contains "$f" "| redeploy | commander signs off | manual | commander |" &&
	assert_contains "$f" "## RTO trend" &&
	bad=$(cat bad.id) &&
	expect_code 0 lb report "$bad" --format md -o bad.md >/dev/null &&
	assert_contains bad.md "## Failed steps" &&
	assert_contains bad.md "# broken &amp; &lt;odd&gt;"
'

test_expect_success 'prom: every line parses; the SPEC 7 metrics are there' '
	ok=$(cat ok.id) && f=reports/feature-store-$ok.prom &&
	expect_code 0 lb report "$ok" --format prom >out &&
	assert_contains out "$f" &&
	python3 - "$f" <<-\PY
	import re, sys
	sample = re.compile(r"^([a-z_]+)\{((?:[a-z_]+=\"(?:[^\"\\\\]|\\\\.)*\",?)*)\} (-?[0-9.e+]+)$")
	names, phases = set(), set()
	for line in open(sys.argv[1]).read().splitlines():
	    if line.startswith("# HELP ") or line.startswith("# TYPE "):
	        continue
	    m = sample.match(line)
	    assert m, "bad line: %r" % line
	    names.add(m.group(1))
	    labels = dict(re.findall(r"([a-z_]+)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(2)))
	    assert labels["runbook"] == "feature-store" and labels["env"] == "", labels
	    if "phase" in labels:
	        phases.add(labels["phase"])
	want = {"lifeboat_rto_seconds", "lifeboat_rto_target_seconds", "lifeboat_rpo_seconds",
	        "lifeboat_rpo_target_seconds", "lifeboat_run_success", "lifeboat_phase_duration_seconds"}
	assert want <= names, want - names
	assert phases == {"break the store", "restore", "redeploy"}, phases
	PY
'

test_expect_success 'prom: a failed run is not a success and has no achieved RTO' '
	bad=$(cat bad.id) &&
	expect_code 0 lb report "$bad" --format prom -o - >bad.prom &&
	grep -q "^lifeboat_run_success{runbook=\"broken & <odd>\",env=\"\"} 0$" bad.prom &&
	assert_not_contains bad.prom "lifeboat_rto_seconds{"
'

test_expect_success '-o - writes to stdout and no file' '
	ok=$(cat ok.id) && rm -rf reports &&
	expect_code 0 lb report "$ok" --format html -o - >page.html &&
	test ! -e reports &&
	assert_contains page.html "<!DOCTYPE html>" &&
	assert_not_contains page.html "report written"
'

test_expect_success '-o FILE picks the format from its extension; a prefix of the id will do' '
	ok=$(cat ok.id) && short=$(printf %.6s "$ok") &&
	expect_code 0 lb report "$short" -o o/deep/r.prom >out &&
	assert_contains out "report written to o/deep/r.prom" &&
	assert_contains o/deep/r.prom "# TYPE lifeboat_rto_seconds gauge"
'

test_expect_success 'an unknown run id exits 2' '
	expect_code 2 lb report nosuchrun --format json 2>err &&
	assert_contains err "no run" &&
	test ! -e reports/feature-store-nosuchrun.json
'

test_expect_success 'an unknown format exits 2, and so does none' '
	ok=$(cat ok.id) &&
	expect_code 2 lb report "$ok" --format pdf 2>err &&
	assert_contains err "unknown format" &&
	expect_code 2 lb report "$ok" 2>err &&
	assert_contains err "format" &&
	expect_code 2 lb report --format json 2>err &&
	assert_contains err "no run id"
'

test_expect_success 'history: p50/p95 of RTO and RPO, a sparkline, how close to at risk' '
	expect_code 0 lb history >out &&
	assert_contains out "feature-store: RTO p50 " &&
	assert_contains out "over 3 runs, target 1m00s" &&
	assert_contains out "  RPO p50 " &&
	grep -q "[▁▂▃▄▅▆▇█]" out &&
	assert_contains out "not at risk: p95 of the last 3 achieved RTOs is"
'

test_expect_success 'plan: per phase median and p95 from history, and whether they fit' '
	expect_code 0 lb plan fs.lua >out &&
	test "$(grep -c "history: median" out)" = 3 &&
	assert_contains out "sum of the recovery phases" &&
	assert_contains out "fits" &&
	assert_contains out "achieved RTO: not at risk"
'

write_runbook slow.lua <<-\EOF
return runbook { name = "slow", rto = "1s",
	phase "p" { step "s" { sh = "sleep 0.85" } },
}
EOF

test_expect_success 'at risk: p95 over 80% of the target, in history, plan and the reports' '
	for i in 1 2; do lb run --yes slow.lua >/dev/null || true; done &&
	lb history slow >out &&
	assert_contains out "at risk: p95 of the last 2 achieved RTOs is" &&
	lb plan slow.lua >out &&
	assert_contains out "achieved RTO: at risk" &&
	slow=$(lb history slow --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	lb report "$slow" --format html -o slow.html >/dev/null &&
	assert_contains slow.html "RTO at risk:" &&
	lb report "$slow" --format md -o slow.md >/dev/null &&
	assert_contains slow.md "**RTO at risk:**"
'

test_expect_success 'the default folder is reports_dir from the config, when it names one' '
	ok=$(cat ok.id) && mkdir cfg &&
	printf "reports_dir: archive/reports\n" >cfg/lifeboat.yaml &&
	expect_code 0 lb --config cfg/lifeboat.yaml report "$ok" --format md >out &&
	assert_contains out "cfg/archive/reports/feature-store-$ok.md" &&
	test -s "cfg/archive/reports/feature-store-$ok.md"
'

test_done
