#!/bin/sh
# Issue 13 item 4 (SPEC 3): the last line of a run says every verdict that applies
# ("succeeded, RTO missed · exit 3"), never a bare "succeeded" beside a failing exit; show too.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'a missed RTO: succeeded, RTO missed · exit 3, in run and in show' '
	write_runbook slow.lua <<-\EOF &&
	return runbook { name = "slow", rto = "100ms", phase "p" { step "s" { sh = "sleep 0.3" } } }
	EOF
	expect_code 3 lb --db h.db run --yes slow.lua >out &&
	tail -1 out >last &&
	grep -q "^run [0-9a-f]* succeeded, RTO missed · exit 3 · lifeboat show" last &&
	id=$(sed -n "s/^run \([0-9a-f]*\) .*/\1/p" last) &&
	lb --db h.db show "$id" >show.out &&
	head -1 show.out | grep -q "succeeded, RTO missed · exit 3$"
'

test_expect_success 'an unmeasured RPO and a phase over budget are named too' '
	write_runbook rpo.lua <<-\EOF &&
	return runbook { name = "rpo", rpo = "1h",
		phase "p" { budget = "100ms", step "s" { sh = "sleep 0.3" } } }
	EOF
	expect_code 4 lb --db h.db run --yes rpo.lua >out &&
	tail -1 out | grep -q "succeeded, RPO unmeasured, a phase over budget · exit 4"
'

test_expect_success 'a run that met everything stays a plain succeeded · exit 0' '
	write_runbook fine.lua <<-\EOF &&
	return runbook { name = "fine", rto = "1h", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 0 lb --db h.db run --yes fine.lua >out &&
	tail -1 out | grep -q "^run [0-9a-f]* succeeded · exit 0"
'

test_done
