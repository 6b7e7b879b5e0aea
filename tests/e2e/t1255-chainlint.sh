#!/bin/sh
# Issue 10 item 19: tests/chainlint.py finds test bodies that cannot fail where they should — a
# command not chained with &&, a loop whose body does not end with || return 1, `a && b &` — and
# every test in tests/e2e passes it (scripts/test.sh runs it too).
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

LINT=$LIFEBOAT_SRC/tests/chainlint.py

# sample NAME: a test script with one body, read from stdin, into NAME
sample () {
	{ printf "test_expect_success \047x\047 \047\n" && cat && printf "\047\n"; } >"$1"
}

test_expect_success 'a command that is not chained is found, with its line' '
	sample broken.sh <<-\EOF &&
	lb run --yes a.lua >out
	assert_contains out ok
	EOF
	expect_code 1 python3 "$LINT" broken.sh >out &&
	assert_contains out "broken.sh:2: broken && chain"
'

test_expect_success 'loops need || return 1 at the end of their body, on one line or several' '
	sample loop.sh <<-\EOF &&
	for i in 1 2; do lb run --yes a.lua; done &&
	while read -r x
	do
		lb show "$x" >out &&
		assert_contains out ok
	done <ids
	EOF
	expect_code 1 python3 "$LINT" loop.sh >out &&
	assert_contains out "loop.sh:2: the one-line loop" &&
	assert_contains out "loop.sh:7: the loop body does not end with || return 1"
'

test_expect_success 'a && b & is found: it puts the whole chain in the background' '
	sample bg.sh <<-\EOF &&
	rm -f started &&
	"$LIFEBOAT" run --yes a.lua &
	pid=$! &&
	wait $pid
	EOF
	expect_code 1 python3 "$LINT" bg.sh >out &&
	assert_contains out "bg.sh:3: \`a && b &\` puts the whole chain in the background"
'

test_expect_success 'well-formed bodies pass: heredocs, multi-line strings, case, if, exits' '
	sample good.sh <<-\EOF &&
	write_runbook a.lua <<-\EOR
	return runbook { name = "a" }
	EOR
	"$LIFEBOAT" run --yes a.lua >out 2>&1 &
	pid=$! &&
	test "$(sql h.db "select
		count(*) from runs")" = 1 &&
	for i in 1 2; do lb run --yes a.lua || return 1; done &&
	case $x in a) echo a ;; *) echo b ;; esac &&
	if test -e x
	then
		echo "x is there"
		exit 1
	fi &&
	wait $pid
	EOF
	expect_code 0 python3 "$LINT" good.sh
'

test_expect_success 'every test in tests/e2e passes chainlint' '
	expect_code 0 python3 "$LINT" "$LIFEBOAT_SRC"/tests/e2e/t[0-9]*.sh
'

test_done
