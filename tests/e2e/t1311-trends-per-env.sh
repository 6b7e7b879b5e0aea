#!/bin/sh
# Issue 13 item 9 (SPEC 7): history's p50/p95 and the at-risk verdict are per runbook and
# environment, over the fixed window of the last 10 runs (not whatever --limit shows), and
# leave out runs whose target differed from the current one.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: runs in two environments and with two targets' '
	printf "environments:\n  fast: { rto: 1h }\n  slow: { rto: 2h }\n" >lifeboat.yaml &&
	write_runbook t.lua <<-\EOF &&
	return runbook { name = "t", rto = "30m", phase "p" { step "s" { sh = "true" } } }
	EOF
	for i in 1 2 3; do expect_code 0 lb --db h.db run --yes --env fast t.lua >out || exit 1; done &&
	expect_code 0 lb --db h.db run --yes --env slow t.lua >out &&
	expect_code 0 lb --db h.db run --yes t.lua >out &&
	printf "environments:\n  fast: { rto: 45m }\n  slow: { rto: 2h }\n" >lifeboat.yaml &&
	expect_code 0 lb --db h.db run --yes --env fast t.lua >out
'

test_expect_success 'a trend per runbook and environment, over the runs with the current target' '
	lb --db h.db history >h.out &&
	assert_contains h.out "t (env fast): RTO p50" &&
	grep "t (env fast): RTO" h.out | grep -q "over 1 run, target 45m" &&
	grep "t (env slow): RTO" h.out | grep -q "over 1 run, target 2h" &&
	grep "^t: RTO" h.out | grep -q "over 1 run, target 30m"
'

test_expect_success '--limit changes the listing, not the figures' '
	printf "environments:\n  fast: { rto: 1h }\n  slow: { rto: 2h }\n" >lifeboat.yaml &&
	expect_code 0 lb --db h.db run --yes --env fast t.lua >out &&
	lb --db h.db history --limit 1 >h1.out &&
	grep "t (env fast): RTO" h1.out | grep -q "over 4 runs, target 1h" &&
	lb --db h.db history --limit 50 >h50.out &&
	grep "t (env fast): RTO" h50.out | grep -q "over 4 runs, target 1h"
'

test_expect_success 'the window is the last 10 runs' '
	for i in 1 2 3 4 5 6 7 8; do expect_code 0 lb --db h.db run --yes --env fast t.lua >out || exit 1; done &&
	lb --db h.db history --limit 2 >h.out &&
	grep "t (env fast): RTO" h.out | grep -q "over 10 runs, target 1h"
'

test_done
