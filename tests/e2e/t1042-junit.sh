#!/bin/sh
# The JUnit report (SPEC 7): valid against the JUnit schema, one testcase per step (classname =
# phase), failed steps as failures with their output tail, and RTO and RPO testcases that fail
# when missed, with achieved vs target in the message.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

XSD=$LIFEBOAT_SRC/tests/schemas/junit-10.xsd

# junit_cases FILE: one line per testcase, "classname|name|failed" (failed is 0 or 1)
junit_cases () {
	python3 -c '
import sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    print("%s|%s|%d" % (tc.get("classname"), tc.get("name"), tc.find("failure") is not None))
' "$1"
}

# junit_failure FILE NAME: the message and text of testcase NAME's failure
junit_failure () {
	python3 -c '
import sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    f = tc.find("failure")
    if tc.get("name") == sys.argv[2] and f is not None:
        print(f.get("message") or "")
        print(f.text or "")
' "$1" "$2"
}

test_expect_success 'the JUnit schema is there' '
	test -f "$XSD"
'

test_expect_success 'a succeeded run: valid JUnit, a testcase per step, RTO and RPO passing' '
	write_runbook ok.lua <<-\EOF &&
	return runbook { name = "ok", rto = "1m", rpo = "1h",
		recovery_point = function(ctx) return now() - 10 end,
		phase "restore" { step "copy" { sh = "echo copying" }, step "check" { run = function() end } },
		phase "verify" { step "ask" { manual = "fine?" } },
	}
	EOF
	expect_code 0 lb run --yes ok.lua --junit ok.xml >out &&
	xmllint --noout --schema "$XSD" ok.xml &&
	junit_cases ok.xml >cases &&
	assert_contains cases "restore|copy|0" &&
	assert_contains cases "restore|check|0" &&
	assert_contains cases "verify|ask|0" &&
	grep -q "|RTO|0$" cases &&
	grep -q "|RPO|0$" cases &&
	test "$(grep -c "|1$" cases)" = 0
'

test_expect_success 'a failed step is a failure with its output tail' '
	write_runbook bad.lua <<-\EOF &&
	return runbook { name = "bad", rto = "1m",
		phase "restore" { step "copy" { sh = "echo first-line; echo the-reason-it-failed >&2; exit 3" } },
		phase "later" { step "never" { sh = "true" } },
	}
	EOF
	expect_code 1 lb run --yes bad.lua --junit bad.xml >out &&
	xmllint --noout --schema "$XSD" bad.xml &&
	junit_cases bad.xml >cases &&
	assert_contains cases "restore|copy|1" &&
	assert_not_contains cases "later|never|1" &&
	junit_failure bad.xml copy >failure &&
	assert_contains failure "the-reason-it-failed"
'

test_expect_success 'a missed RTO and a missed RPO are failing testcases, achieved vs target' '
	write_runbook missed.lua <<-\EOF &&
	return runbook { name = "missed", rto = "100ms", rpo = "1m",
		phase "restore" {
			step "slow" { sh = "sleep 0.3" },
			step "rp" { run = function(ctx) recovery_point(now() - 7200) end },
		},
	}
	EOF
	expect_code 3 lb run --yes missed.lua --junit missed.xml >out &&
	xmllint --noout --schema "$XSD" missed.xml &&
	junit_cases missed.xml >cases &&
	grep -q "|RTO|1$" cases &&
	grep -q "|RPO|1$" cases &&
	junit_failure missed.xml RTO >rto &&
	assert_contains rto "100ms" &&
	junit_failure missed.xml RPO >rpo &&
	assert_contains rpo "1m" &&
	assert_contains rpo "2h"
'

test_expect_success 'an unmeasured RPO fails the RPO testcase' '
	write_runbook blind.lua <<-\EOF &&
	return runbook { name = "blind", rpo = "1h", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 4 lb run --yes blind.lua --junit blind.xml >out &&
	xmllint --noout --schema "$XSD" blind.xml &&
	junit_cases blind.xml >cases &&
	grep -q "|RPO|1$" cases &&
	junit_failure blind.xml RPO >rpo &&
	assert_contains rpo "unmeasured"
'

test_expect_success 'awkward output (control bytes, markup, invalid UTF-8) still validates' '
	write_runbook awkward.lua <<-\EOF &&
	return runbook { name = "awk<ward>&\"", rto = "1m",
		phase "p&<q>" { step "s]]>" { sh = "printf \"\\033[31mred\\033[0m <b>&amp; ]]> \\001\\002 \\377\\376 end\\n\"; exit 1" } },
	}
	EOF
	expect_code 1 lb run --yes awkward.lua --junit awkward.xml >out &&
	xmllint --noout --schema "$XSD" awkward.xml &&
	junit_cases awkward.xml >cases &&
	assert_contains cases "p&<q>|s]]>|1"
'

test_done
