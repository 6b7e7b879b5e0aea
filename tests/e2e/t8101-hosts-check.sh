#!/bin/sh
# `lifeboat hosts --check` against a real sshd on 127.0.0.1: reachability, connect time and
# round trip, host-key status; a closed port, a hung host and an unknown host key are unreachable
# (exit 1), each with what to do; no control socket or master connection is left behind.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/sshd.sh"

test_expect_success 'setup: a private sshd' '
	sshd_start
'

test_expect_success 'every host of a group is reachable: exit 0, times and a known key' '
	lb hosts --check web >out &&
	assert_contains out "3 of 3 hosts reachable" &&
	grep -E "^h1 +ok +[0-9]+ms +[0-9]+ms +known" out &&
	grep -E "^h3 +ok" out
'

test_expect_success 'closed port, hung host and unknown key: unreachable, exit 1, in parallel' '
	elapsed_ms lb hosts --check bad hung stranger >out 2>err || true &&
	test "$LAST_CODE" = 1 &&
	grep -E "^h1 +ok" out &&
	grep -E "^closed +unreachable" out &&
	assert_contains out "Connection refused" &&
	grep -E "^hung +unreachable" out &&
	assert_contains out "timed out" &&
	grep -E "^stranger +unreachable .* unknown" out &&
	assert_contains out "never accepts one silently" &&
	assert_contains out "StrictHostKeyChecking=accept-new stranger" &&
	assert_contains out "1 of 4 hosts reachable" &&
	test "$ELAPSED_MS" -lt 9000
'

test_expect_success 'the unknown host key was not added anywhere' '
	test ! -s "$SSH_DIR/empty_known_hosts" &&
	test ! -e .ssh/known_hosts || ! grep -q . .ssh/known_hosts
'

test_expect_success 'nothing is left: no control folder, no master connection' '
	TMPDIR=$TEST_DIR/tmp && export TMPDIR && mkdir -p "$TMPDIR" &&
	lb hosts --check web >out &&
	test -z "$(ls "$TMPDIR")" &&
	no_process_matching "ControlPath=$TMPDIR"
'

test_done
