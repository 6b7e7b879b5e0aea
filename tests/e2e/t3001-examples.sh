#!/bin/sh
# The shipped runbooks: every one passes `lifeboat check`; the two small examples run from any
# working directory — restore-db restores its backup and proves it sound, redeploy-rollback
# deploys, and with -p break_deploy=1 rolls back to the previous release and exits 1.
# shellcheck disable=SC2016,SC3043 # test bodies are single-quoted on purpose (they are eval'd
# later); local, as lib.sh has it
. "$(dirname "$0")/lib.sh"

# A private copy of runbooks/ (their state goes under runbooks/demo/state/), a working directory
# that is neither the repo nor the runbooks' folder, and a free port for the pricing service.
mkdir -p "$TEST_DIR/repo" "$TEST_DIR/elsewhere"
if ! tar -C "$LIFEBOAT_SRC" --exclude=runbooks/demo/state --exclude=__pycache__ -cf - runbooks |
	tar -C "$TEST_DIR/repo" -xf -; then
	_lb_bail "cannot copy $LIFEBOAT_SRC/runbooks"
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
	_lb_bail "cannot find a free port"
RB=$TEST_DIR/repo/runbooks
STATE=$RB/demo/state
export PORT RB STATE

# in_dir DIR CMD...: runs CMD in DIR
in_dir () {
	(cd "$1" && shift && "$@")
}

# example MODE NAME [ARGS...]: lifeboat MODE --yes on runbooks/NAME.lua, from another folder, with
# this test's history (and a time limit, so that a hang fails instead of blocking)
example () {
	local mode="$1" name="$2"
	shift 2
	in_dir "$TEST_DIR/elsewhere" timeout 60 "$LIFEBOAT" --db "$TEST_DIR/h.db" "$mode" --yes \
		"$RB/$name.lua" "$@"
}

test_expect_success 'check passes on every shipped runbook' '
	ls "$LIFEBOAT_SRC"/runbooks/*.lua >books &&
	test "$(wc -l <books)" -ge 3 &&
	expect_code 0 lb check "$LIFEBOAT_SRC"/runbooks/*.lua >out &&
	for f in $(cat books)
	do
		assert_contains out "$f: ok" || exit 1
	done
'

test_expect_success 'restore-db restores its backup and proves it sound' '
	expect_code 0 example run restore-db --report "$TEST_DIR/rd.json" >out &&
	test "$(json_get rd.json "d[\"status\"]")" = succeeded &&
	test "$(json_get rd.json "d[\"rto\"][\"met\"]")" = true &&
	test "$(json_get rd.json "d[\"rpo\"][\"status\"]")" = met &&
	test "$(json_get rd.json "0 < d[\"rpo\"][\"achieved_s\"] < 3600")" = true &&
	assert_contains out "matches its manifest" &&
	assert_contains out "integrity_check: ok" &&
	assert_contains out "restored 120 orders" &&
	test -f "$STATE/orders/orders.db.before-restore" &&
	cmp "$STATE/orders/orders.db" "$STATE/orders/backup/orders.db" &&
	test "$(sqlite3 "$STATE/orders/orders.db" "pragma integrity_check")" = ok
'

test_expect_success 'restore-db runs again, and as a drill' '
	expect_code 0 example run restore-db >out &&
	assert_contains out "restored 240 orders" &&
	expect_code 0 example drill restore-db >out &&
	assert_contains out "restored 360 orders"
'

test_expect_success 'redeploy-rollback deploys the new release' '
	expect_code 0 example run redeploy-rollback -p port="$PORT" --report "$TEST_DIR/ok.json" >out &&
	test "$(json_get ok.json "d[\"status\"]")" = succeeded &&
	test "$(json_get ok.json "d[\"rto\"][\"met\"]")" = true &&
	test "$(json_get ok.json "[s[\"status\"] for s in d[\"phases\"][1][\"steps\"]]")" = \
		"[\"succeeded\", \"succeeded\", \"skipped\", \"skipped\"]" &&
	assert_contains out "live release: v1 -> v2" &&
	assert_contains out "ok v2" &&
	test "$(readlink "$STATE/pricing/current")" = v2
'

test_expect_success 'with -p break_deploy=1 the rollback brings the previous release back, exit 1' '
	expect_code 1 example run redeploy-rollback -p port="$PORT" -p break_deploy=1 \
		--report "$TEST_DIR/broken.json" >out &&
	test "$(json_get broken.json "d[\"status\"]")" = failed &&
	test "$(json_get broken.json "d[\"phases\"][1][\"status\"]")" = rolled_back &&
	test "$(json_get broken.json "[(s[\"name\"], s[\"status\"]) for s in d[\"phases\"][1][\"steps\"]]")" = \
		"[[\"switch to the new release\", \"succeeded\"], [\"new release healthy\", \"failed\"], [\"switch back to the previous release\", \"succeeded\"], [\"previous release healthy\", \"succeeded\"]]" &&
	test "$(json_get broken.json "d[\"phases\"][1][\"steps\"][1][\"attempts\"]")" = 4 &&
	assert_contains out "unhealthy: v2 cannot load its price table" &&
	assert_contains out "live release: v2 -> v1 (rolled back)" &&
	assert_contains out "ok v1" &&
	test "$(readlink "$STATE/pricing/current")" = v1
'

test_expect_success 'the examples leave nothing running' '
	for pid in $(pgrep -f "demo/pricing\.py")
	do
		test "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$RB" || exit 1
	done &&
	! python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $PORT), 1)" 2>/dev/null
'

test_done
