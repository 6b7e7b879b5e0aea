#!/bin/sh
# The e2e harness itself, with plain shell commands only: the lifeboat binary is never run, so
# these pass whatever state it is in. Other tests rely on what is checked here.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# Runs a nested test script ($1, in the test folder) under the harness, with its own TMPDIR so
# that a folder it keeps is removed with ours.
run_nested () {
	mkdir -p nested-tmp &&
	TMPDIR=$PWD/nested-tmp sh "$1"
}

test_expect_success 'the test folder is the working directory and HOME' '
	test -d "$TEST_DIR" &&
	test "$PWD" = "$TEST_DIR" &&
	test "$HOME" = "$TEST_DIR" &&
	test "$LIFEBOAT_USER" = tester &&
	test "$NO_COLOR" = 1 &&
	test -f "$LIFEBOAT_SRC/tests/e2e/lib.sh" &&
	test -x "$LIFEBOAT"
'

test_expect_success 'expect_code passes on the wanted code and fails on another' '
	expect_code 3 sh -c "exit 3" &&
	expect_code 0 true &&
	expect_code 1 expect_code 0 sh -c "exit 4" &&
	expect_code 1 expect_code 4 true
'

test_expect_success 'expect_code passes the command output through' '
	expect_code 2 sh -c "echo to-out; echo to-err >&2; exit 2" >out 2>err &&
	test "$(cat out)" = to-out &&
	test "$(cat err)" = to-err
'

test_expect_success 'assert_contains and assert_not_contains, on a file and on stdin' '
	printf "first line\nthe RTO was met\n" >f &&
	assert_contains f "RTO was met" &&
	assert_not_contains f "RPO" &&
	echo "from a pipe [x]" | assert_contains - "pipe [x]" &&
	echo "from a pipe" | assert_not_contains - "missing" &&
	expect_code 1 assert_contains f "RPO" &&
	expect_code 1 assert_not_contains f "first" &&
	expect_code 1 assert_contains no-such-file "x"
'

test_expect_success 'json_get prints strings raw and other values as JSON' '
	cat >r.json <<-\EOF &&
	{"status": "succeeded", "rto": {"target_s": 900, "achieved_s": 12.5, "met": true},
	 "rpo": {"achieved_s": null}, "phases": [{"name": "restore"}, {"name": "redeploy"}]}
	EOF
	test "$(json_get r.json "d[\"status\"]")" = succeeded &&
	test "$(json_get r.json "d[\"rto\"][\"target_s\"]")" = 900 &&
	test "$(json_get r.json "d[\"rto\"][\"met\"]")" = true &&
	test "$(json_get r.json "d[\"rpo\"][\"achieved_s\"]")" = null &&
	test "$(json_get r.json "len(d[\"phases\"])")" = 2 &&
	test "$(json_get r.json "[p[\"name\"] for p in d[\"phases\"]]")" = "[\"restore\", \"redeploy\"]" &&
	test "$(json_get - "d[\"a\"]" <r.json 2>/dev/null || echo failed)" = failed &&
	test "$(echo "{\"a\": \"b\"}" | json_get - "d[\"a\"]")" = b &&
	expect_code 1 json_get r.json "d[\"nope\"]" 2>err &&
	assert_contains err "KeyError"
'

test_expect_success 'sql queries a database with the sqlite3 CLI' '
	sqlite3 h.db "create table runs(id integer, status text);
		insert into runs values (1, \"succeeded\"), (2, \"failed\");" &&
	test "$(sql h.db "select count(*) from runs")" = 2 &&
	test "$(sql h.db "select id, status from runs where id = 2")" = "2|failed" &&
	expect_code 1 sql h.db "select nope from runs" 2>/dev/null
'

test_expect_success 'write_runbook writes a here-document, creating folders' '
	write_runbook books/bench.lua <<-\EOF &&
	return runbook { name = "bench", phase "p" { step "s1" { sh = "true" } } }
	EOF
	assert_contains books/bench.lua "step \"s1\" { sh = \"true\" }"
'

test_expect_success 'wait_for polls until the command succeeds, or times out' '
	(sleep 0.3 && touch ready) &
	wait_for "test -f ready" 5 &&
	elapsed_ms expect_code 1 wait_for "echo last try; false" 0.3 >/dev/null &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -ge 300 &&
	test "$ELAPSED_MS" -lt 3000
'

test_expect_success 'no_process_matching sees a process until it is gone' '
	sleep 30.00042 &
	pid=$! &&
	expect_code 1 no_process_matching "sleep 30.00042" &&
	kill "$pid" &&
	wait_for "! kill -0 $pid 2>/dev/null" 5 &&
	no_process_matching "sleep 30.00042"
'

test_expect_success 'elapsed_ms prints wall milliseconds and keeps the exit code' '
	elapsed_ms sleep 0.2 >ms &&
	test "$LAST_CODE" = 0 &&
	test "$(cat ms)" = "$ELAPSED_MS" &&
	test "$ELAPSED_MS" -ge 200 &&
	test "$ELAPSED_MS" -lt 2000 &&
	elapsed_ms sh -c "exit 7" >/dev/null &&
	test "$LAST_CODE" = 7
'

test_expect_success 'a failing test is reported with its output, and its folder kept' '
	cat >fake-lifeboat <<-\EOF &&
	#!/bin/sh
	echo "fake lifeboat: $*"
	EOF
	chmod +x fake-lifeboat &&
	cat >t-nested.sh <<-EOF &&
	. "$LIFEBOAT_SRC/tests/e2e/lib.sh"
	at_exit "touch \"$PWD/at-exit-ran\""
	test_expect_success "lb runs LIFEBOAT" "lb run x.lua >out && assert_contains out \"fake lifeboat: run x.lua\""
	test_expect_success "set -e stops at the first failure" "echo before; false; touch \"$PWD/after\""
	test_done
	EOF
	LIFEBOAT=$PWD/fake-lifeboat &&
	expect_code 1 run_nested t-nested.sh >out 2>&1 &&
	assert_contains out "ok 1 - lb runs LIFEBOAT" &&
	assert_contains out "not ok 2 - set -e stops at the first failure" &&
	assert_contains out "# before" &&
	assert_contains out "# passed 1, failed 1" &&
	test "$(tail -n 1 out)" = "# passed 1, failed 1" &&
	test ! -e after &&
	test -e at-exit-ran &&
	kept=$(sed -n "s/^# test folder kept: //p" out) &&
	test -d "$kept"
'

test_expect_success 'a passing script exits 0 and removes its folder' '
	cat >t-pass.sh <<-EOF &&
	. "$LIFEBOAT_SRC/tests/e2e/lib.sh"
	test_expect_success "one" "echo \\\$TEST_DIR >\"$PWD/dir\""
	test_done
	EOF
	run_nested t-pass.sh >out &&
	assert_contains out "# passed 1, failed 0" &&
	test -n "$(cat dir)" &&
	test ! -e "$(cat dir)"
'

test_expect_success 'without LIFEBOAT a test script bails out saying so' '
	printf ". \"%s/tests/e2e/lib.sh\"\ntest_done\n" "$LIFEBOAT_SRC" >t-bail.sh &&
	expect_code 1 env -u LIFEBOAT sh t-bail.sh 2>err &&
	assert_contains err "LIFEBOAT is not set"
'

test_done
