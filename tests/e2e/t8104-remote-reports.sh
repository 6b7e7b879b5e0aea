#!/bin/sh
# Per-host results everywhere (SPEC 8): the live output (counts and the hosts not ok), show, the
# JSON report (hosts: [{host, status, exit_code, duration_s, attempts}]), JUnit (a testcase per host,
# "step @ host"; a failure tolerated by max_failed_hosts is <skipped>), Markdown and HTML (a row
# per host), the step_failed webhook naming the hosts.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/sshd.sh"

test_expect_success 'setup: a private sshd, a webhook receiver' '
	sshd_start
	python3 "$LIFEBOAT_SRC/tests/e2e/webhook-receiver.py" hook.jsonl hook.port ok >/dev/null 2>&1 &
	echo $! >hook.pid &&
	at_exit "kill \$(cat $TEST_DIR/hook.pid)" &&
	wait_for "test -s hook.port" 10 &&
	cat >>lifeboat.yaml <<-EOF
	notify: { webhook: "http://127.0.0.1:$(cat hook.port)/hook", events: [step_failed] }
	EOF
'

test_expect_success 'a run with a tolerated failure and a failing step' '
	write_runbook fleet.lua <<-\EOF &&
	return runbook { name = "fleet", phase "roll" {
	    step "tolerant" { sh = "[ $LIFEBOAT_HOST != h2 ] || exit 7", on = "web", max_failed_hosts = 1 },
	    step "strict" { sh = "[ $LIFEBOAT_HOST != h3 ] || exit 9", on = { "web", "closed" }, retries = 1,
	                    retry_delay = "100ms" },
	  } }
	EOF
	expect_code 1 lb run --yes fleet.lua --report fleet.json --junit fleet.xml >out 2>&1 &&
	lb report "$(sql .lifeboat/history.db "select id from runs")" --format md -o fleet.md >/dev/null &&
	lb report "$(sql .lifeboat/history.db "select id from runs")" --format html -o fleet.html >/dev/null &&
	lb show "$(sql .lifeboat/history.db "select id from runs")" >show.out &&
	lb show "$(sql .lifeboat/history.db "select id from runs")" --json >show.json
'

test_expect_success 'live output: counts, and a row per host that is not ok' '
	assert_contains out "hosts: 2 ok · 1 failed" &&
	assert_contains out "✗ h2 failed: exited with code 7" &&
	assert_contains out "hosts: 2 ok · 1 failed · 1 unreachable" &&
	assert_contains out "✗ closed unreachable: cannot connect to '"'"'closed'"'"'"
'

test_expect_success 'show lists each host with its status, exit code and attempts' '
	grep -E "h2 .*exit 7" show.out &&
	grep -E "h3 .*exit 9, 2 attempts" show.out &&
	grep -E "unreachable +closed" show.out
'

test_expect_success 'the JSON report has hosts in remote steps only' '
	test "$(jv fleet.json phases.0.steps.0.hosts.1.host phases.0.steps.0.hosts.1.status phases.0.steps.0.hosts.1.exit_code phases.0.steps.0.hosts.1.attempts)" = "h2 failed 7 1" &&
	test "$(jv fleet.json phases.0.steps.0.status phases.0.steps.1.status)" = "succeeded failed" &&
	test "$(jv fleet.json phases.0.steps.1.hosts.2.host phases.0.steps.1.hosts.2.status phases.0.steps.1.hosts.2.attempts)" = "h3 failed 2" &&
	test "$(jv fleet.json phases.0.steps.1.hosts.0.attempts)" = 1 &&
	test "$(jv fleet.json phases.0.steps.1.hosts.3.status phases.0.steps.1.hosts.3.exit_code)" = "unreachable null" &&
	json_get fleet.json "d[\"phases\"][0][\"steps\"][0][\"hosts\"][0][\"duration_s\"] > 0" | grep -qx true &&
	test "$(json_get show.json "len(d[\"phases\"][0][\"steps\"][1][\"hosts\"])")" = 4
'

test_expect_success 'JUnit: a testcase per host; the tolerated failure is skipped, saying so' '
	xmllint --noout fleet.xml &&
	python3 - <<-\EOF
	import xml.etree.ElementTree as ET
	cases = {c.get("name"): c for c in ET.parse("fleet.xml").getroot().iter("testcase")}
	assert "tolerant @ h1" in cases and "strict @ closed" in cases, sorted(cases)
	assert cases["tolerant @ h1"].get("classname") == "roll"
	assert len(list(cases["tolerant @ h1"])) == 0
	sk = cases["tolerant @ h2"].find("skipped")
	assert sk is not None and "tolerated" in sk.get("message") and "exited with code 7" in sk.get("message"), sk
	assert cases["tolerant @ h2"].find("failure") is None
	f = cases["strict @ h3"].find("failure")
	assert f is not None and "exited with code 9" in f.get("message"), f
	assert cases["strict @ closed"].find("failure").get("type") == "unreachable"
	assert "tolerant" not in cases and "strict" not in cases
	EOF
'

test_expect_success 'Markdown and HTML have a row per host' '
	assert_contains fleet.md "↳ @ h2 | host |  | failed" &&
	assert_contains fleet.md "↳ @ closed | host |  | unreachable" &&
	assert_contains fleet.html "&#8627; @ h3" &&
	assert_contains fleet.html "cannot connect to"
'

test_expect_success 'the step_failed webhook names the hosts' '
	wait_for "grep -q strict hook.jsonl" 10 &&
	grep "strict" hook.jsonl | grep -q "h3 failed: exited with code 9" &&
	grep "strict" hook.jsonl | grep -q "closed unreachable" &&
	! grep -q "tolerant" hook.jsonl
'

test_done
