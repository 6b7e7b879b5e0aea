#!/bin/sh
# runbooks/rolling-redeploy.lua against a real sshd: aliases h1..h4 are four "hosts" (each its own
# MODEL_ROOT, sent by ssh's SetEnv). A release present everywhere rolls out canary first, then
# the fleet, each host healthy; a release missing on one fleet host stops the rollout there and
# the fleet batch is put back on its previous release, while the canary keeps the new one.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/sshd.sh"

RB=$LIFEBOAT_SRC/runbooks/rolling-redeploy.lua

# release NAME HOST...: a release with its model server on those hosts
release () {
	local name="$1" h
	shift
	for h in "$@"
	do
		mkdir -p "hosts/$h/releases/$name" &&
		cat >"hosts/$h/releases/$name/serve.py" <<-\EOF || return 1
		import os, signal, sys, time
		root = sys.argv[1]
		release = os.path.basename(os.path.realpath(os.path.join(root, "current")))
		signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
		time.sleep(0.3)
		open(os.path.join(root, "health"), "w").write("ok " + release)
		while True:
		    time.sleep(60)
		EOF
	done
}

stop_servers () {
	for f in hosts/*/server.pid
	do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
	done
	return 0
}

test_expect_success 'setup: a private sshd, four hosts with two releases' '
	sshd_start &&
	at_exit "cd $TEST_DIR && for f in hosts/*/server.pid; do kill \$(cat \$f) 2>/dev/null; done" &&
	sed -i "s/^hosts:\$/hosts:\n  canary: [h1]\n  serving: [h2, h3, h4]/" lifeboat.yaml &&
	release 2026.12.1 h1 h2 h3 h4 &&
	release 2026.12.2 h1 h2 h3 h4 &&
	release 2026.12.3 h1 h2 h4 &&
	lb check "$RB" >out &&
	assert_contains out "rolling-redeploy.lua: ok"
'

test_expect_success 'a release present everywhere: canary, then the fleet, every host healthy' '
	lb run --yes "$RB" -p release=2026.12.1 >first.out &&
	lb run --yes "$RB" -p release=2026.12.2 --report two.json >out &&
	for h in h1 h2 h3 h4
	do
		test "$(readlink hosts/$h/current)" = releases/2026.12.2 &&
		test "$(cat hosts/$h/health)" = "ok 2026.12.2" || exit 1
	done &&
	assert_contains out "h1: release 2026.12.2 started (was releases/2026.12.1)" &&
	assert_contains out "h3: healthy: ok 2026.12.2" &&
	test "$(jv two.json phases.1.name phases.1.steps.0.hosts.0.host phases.2.steps.1.hosts.2.host phases.2.steps.1.hosts.2.status)" = "canary h1 h4 succeeded"
'

test_expect_success 'a release missing on one fleet host stops there; the fleet goes back' '
	expect_code 1 lb run --yes "$RB" -p release=2026.12.3 --report three.json >out &&
	assert_contains out "release 2026.12.3 missing" &&
	test "$(jv three.json phases.0.status phases.0.steps.0.hosts.2.host phases.0.steps.0.hosts.2.status)" = "failed h3 failed" &&
	test "$(readlink hosts/h1/current)" = releases/2026.12.2 &&
	stop_servers
'

test_expect_success 'without the preflight: the canary moves on, the fleet fails on h3 and is rolled back' '
	sed "/phase \"preflight\"/,/^  },/d" "$RB" >nopre.lua &&
	expect_code 1 lb run --yes nopre.lua -p release=2026.12.3 --report nopre.json >out &&
	test "$(readlink hosts/h1/current)" = releases/2026.12.3 &&
	test "$(jv nopre.json phases.0.status phases.1.status)" = "succeeded rolled_back" &&
	assert_contains out "h3: release 2026.12.3 is not on h3" &&
	assert_contains out "back on releases/2026.12.2" &&
	test "$(readlink hosts/h2/current)" = releases/2026.12.2 &&
	test "$(readlink hosts/h4/current)" = releases/2026.12.2 &&
	test "$(readlink hosts/h3/current)" = releases/2026.12.2 &&
	assert_contains out "h3: unchanged by this run" &&
	stop_servers
'

test_done
