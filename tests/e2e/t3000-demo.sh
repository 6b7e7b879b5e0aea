#!/bin/sh
# The demo the README starts with: runbooks/feature-store-setup.lua brings the environment up (a
# feature store and its reference profile, ingest and the model server in the background, a
# snapshot kept 3-2-1 with the offsite copy on a read-only mount), `lifeboat probe` finds it
# healthy and measures the RPO exposure, and `lifeboat drill --yes runbooks/feature-store.lua`
# checks the probes, takes a snapshot and plants a poisoned one (labels flipped before it was
# checksummed) and a torn one, corrupts the store, restores the newest snapshot that verifies and
# matches the reference profile, resumes ingest, retrains, redeploys the model server and checks
# the probes again. It must succeed and meet its RTO and RPO, skip the torn snapshot, reject the
# poisoned one, leave nothing running, and succeed again when run twice in a row; without the
# environment it stops at the probes before injecting anything.
# shellcheck disable=SC2016,SC3043 # test bodies are single-quoted on purpose (they are eval'd
# later); local, as lib.sh has it
. "$(dirname "$0")/lib.sh"

# A private copy of runbooks/ (without any demo state a developer has there), so that the demo's
# state under runbooks/demo/state/ is this test's alone; and a free port for the model server.
mkdir -p "$TEST_DIR/repo"
if ! tar -C "$LIFEBOAT_SRC" --exclude=runbooks/demo/state --exclude=__pycache__ -cf - runbooks |
	tar -C "$TEST_DIR/repo" -xf -; then
	_lb_bail "cannot copy $LIFEBOAT_SRC/runbooks"
fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
	_lb_bail "cannot find a free port"
export PORT
# the demo's state folders: offsite is a read-only bind mount (the demo runs as root) of a
# read-only folder, so the harness could not remove it
at_exit "cd '$TEST_DIR/repo/runbooks' && python3 demo/ingest.py stop demo/state/features.db; python3 demo/serve.py stop demo/state/model.json"
at_exit "umount '$TEST_DIR/repo/runbooks/demo/state/offsite'"
at_exit "chmod -R u+w '$TEST_DIR/repo/runbooks/demo/state'"

Q="'"	# a single quote, for SQL strings in the test bodies

# demo_processes: the pids of this test's demo scripts still alive (a developer's own demo, in
# another folder, does not count).
demo_processes () {
	for pid in $(pgrep -f 'demo/(ingest|serve)\.py')
	do
		[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$TEST_DIR/repo/runbooks" ] || echo "$pid"
	done
}

# step_output RUN_ID STEP: a step's output, from the history
step_output () {
	sql "$TEST_DIR/h.db" "select output from steps where run_id = $Q$1$Q and name = $Q$2$Q"
}

# in_dir DIR CMD...: runs CMD in DIR
in_dir () {
	(cd "$1" && shift && "$@")
}

# demo MODE [ARGS...]: lifeboat MODE on the demo from the copy's root, as the README has it, with
# this test's history and port (and a time limit, so that a hang fails instead of blocking)
demo () {
	local mode="$1"
	shift
	in_dir "$TEST_DIR/repo" timeout 120 "$LIFEBOAT" --db "$TEST_DIR/h.db" "$mode" --yes \
		runbooks/feature-store.lua -p port="$PORT" "$@"
}

# probe_demo [ARGS...]: lifeboat probe on the demo (probe takes no --yes: it changes nothing)
probe_demo () {
	in_dir "$TEST_DIR/repo" timeout 120 "$LIFEBOAT" --db "$TEST_DIR/h.db" probe \
		runbooks/feature-store.lua -p port="$PORT" "$@"
}

# setup_demo: runbooks/feature-store-setup.lua, which brings the demo's environment up
setup_demo () {
	in_dir "$TEST_DIR/repo" timeout 120 "$LIFEBOAT" --db "$TEST_DIR/h.db" run --yes \
		runbooks/feature-store-setup.lua -p port="$PORT"
}

# objectives_met FILE: the report says the drill succeeded, measured RTO and RPO and met both
objectives_met () {
	test "$(json_get "$1" 'd["status"]')" = succeeded &&
	test "$(json_get "$1" 'd["mode"]')" = drill &&
	test "$(json_get "$1" 'd["rto"]["achieved_s"] is not None and d["rpo"]["achieved_s"] is not None')" = true &&
	test "$(json_get "$1" 'd["rto"]["met"]')" = true &&
	test "$(json_get "$1" 'd["rpo"]["met"]')" = true &&
	test "$(json_get "$1" 'd["rpo"]["status"]')" = met &&
	test "$(json_get "$1" 'd["rto"]["achieved_s"] < 60 and 0 < d["rpo"]["achieved_s"] < 60')" = true &&
	test "$(json_get "$1" 'all(p["duration_s"] is not None for p in d["phases"])')" = true &&
	test "$(json_get "$1" '[p["status"] for p in d["phases"]]')" = \
		'["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded"]'
}

test_expect_success 'setup brings the environment up; lifeboat probe finds it healthy, the RPO not exposed' '
	expect_code 0 setup_demo >out0 &&
	assert_contains out0 "started ingest in the background" &&
	assert_contains out0 "started the model server in the background" &&
	test -n "$(demo_processes)" &&
	expect_code 0 probe_demo --report "$TEST_DIR/p1.json" >outp &&
	test "$(json_get p1.json "d[\"mode\"]")" = probe &&
	test "$(json_get p1.json "[s[\"status\"] for s in d[\"probes\"][\"before\"]]")" = \
		"[\"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\"]" &&
	test "$(json_get p1.json "d[\"rpo_exposure\"][\"status\"]")" = met &&
	test "$(json_get p1.json "0 <= d[\"rpo_exposure\"][\"exposure_s\"] < 60")" = true &&
	assert_contains outp "✓ one_immutable: 1 verified copy refusing writes by this process (offsite)"
'

test_expect_success 'lifeboat probe: the newest recoverable snapshot older than the RPO exits 4' '
	state=repo/runbooks/demo/state &&
	touch -d "10 minutes ago" $state/backups/features-* &&
	expect_code 4 probe_demo --report "$TEST_DIR/p2.json" >outp2 &&
	test "$(json_get p2.json "d[\"rpo_exposure\"][\"status\"]")" = missed &&
	test "$(json_get p2.json "d[\"rpo_exposure\"][\"exposure_s\"] > 590")" = true &&
	touch $state/backups/features-*
'

test_expect_success 'the demo drill succeeds and meets its RTO and RPO' '
	elapsed_ms expect_code 0 demo drill --report "$TEST_DIR/r1.json" >out1 &&
	test "$LAST_CODE" = 0 &&
	echo "the drill took $ELAPSED_MS ms" &&
	test "$ELAPSED_MS" -lt 60000 &&
	objectives_met r1.json &&
	assert_contains out1 "restored snapshot features-" &&
	assert_contains out1 "RTO  achieved"
'

test_expect_success 'the torn snapshot was skipped, the one before it restored' '
	run=$(json_get r1.json "d[\"run_id\"]") &&
	step_output "$run" "plant a torn snapshot" >planted &&
	torn=$(sed -n "s/.*snapshot \(features-[0-9TZ]*\.db\): .*torn on purpose.*/\1/p" planted) &&
	test -n "$torn" &&
	step_output "$run" "verify snapshot manifests" >verified &&
	assert_contains verified "✗ $torn (backups): sha256" &&
	assert_contains verified "✗ $torn (offsite): sha256" &&
	test "$(grep -c "does not match its manifest" verified)" = 2 &&
	restored=$(sed -n "s/^✓ \(features-[0-9TZ]*\.db\) (backups): .*matches its manifest$/\1/p" verified) &&
	test -n "$restored" &&
	test "$restored" != "$torn" &&
	test "$(ls repo/runbooks/demo/state/backups/features-*.db | tail -n 1)" = "repo/runbooks/demo/state/backups/$torn" &&
	step_output "$run" "check integrity and rows" | assert_contains - "restored snapshot $restored: " &&
	test "$(sqlite3 repo/runbooks/demo/state/features.db "pragma integrity_check")" = ok
'

test_expect_success 'the poisoned snapshot verified but was rejected by its PSI, named in the output and the report' '
	run=$(json_get r1.json "d[\"run_id\"]") &&
	step_output "$run" "plant a poisoned snapshot" >planted &&
	poisoned=$(sed -n "s/.*snapshot \(features-[0-9TZ]*\.db\): .*poisoned on purpose.*/\1/p" planted) &&
	test -n "$poisoned" &&
	state=repo/runbooks/demo/state &&
	(cd $state/backups && sha256sum --quiet -c "$poisoned.sha256") &&
	test "$(sqlite3 $state/backups/$poisoned "select avg(churned) > 0.5 from features")" = 1 &&
	test "$(sqlite3 $state/features.db "select avg(churned) < 0.5 from features")" = 1 &&
	step_output "$run" "verify snapshot manifests" >verified &&
	grep -q "^✗ $poisoned (backups): its checksum verifies but its data does not match the reference profile (churned: PSI [0-9.]* against the reference, at most 0.1): rejected as poisoned or drifted" verified &&
	assert_not_contains verified "✓ $poisoned" &&
	restored=$(sed -n "s/^✓ \(features-[0-9TZ]*\.db\) (backups): .*matches its manifest$/\1/p" verified) &&
	test -n "$restored" && test "$restored" != "$poisoned" &&
	assert_contains out1 "1 snapshot rejected by the reference profile, restored $restored instead: $poisoned (churned: PSI" &&
	test "$(json_get r1.json "[s[\"status\"] for p in d[\"phases\"] for s in p[\"steps\"] if s[\"name\"] == \"no poisoned snapshots\"]")" = "[\"failed\"]" &&
	json_get r1.json "[s[\"error\"] for p in d[\"phases\"] for s in p[\"steps\"] if s[\"name\"] == \"no poisoned snapshots\"][0]" |
		assert_contains - "restored $restored instead: $poisoned (churned: PSI" &&
	lb --db h.db report "$run" --format md -o r1.md >/dev/null &&
	assert_contains r1.md "$poisoned (churned: PSI"
'

test_expect_success 'the probes passed before and after; 3-2-1 checked: offsite on a read-only mount that refuses root' '
	run=$(json_get r1.json "d[\"run_id\"]") &&
	step_output "$run" "snapshot copies 3-2-1" >policy &&
	for f in three_copies two_media one_offsite one_immutable checksums max_age; do
		grep -q "^✓ $f: " policy || { cat policy; return 1; }
	done &&
	assert_contains policy "✓ one_immutable: 1 verified copy refusing writes by this process (offsite), at least 1 needed: read-only file system" &&
	test "$(json_get r1.json "[s[\"status\"] for k in (\"before\", \"after\") for s in d[\"probes\"][k] if s[\"name\"] == \"snapshot copies 3-2-1\"]")" = "[\"succeeded\", \"succeeded\"]" &&
	test "$(json_get r1.json "[s[\"status\"] for k in (\"before\", \"after\") for s in d[\"probes\"][k]]")" = \
		"[\"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\", \"succeeded\"]" &&
	test "$(findmnt -n -o OPTIONS --target repo/runbooks/demo/state/offsite | cut -d, -f1)" = ro &&
	test "$(id -u)" = 0 &&
	! touch repo/runbooks/demo/state/offsite/planted 2>/dev/null &&
	test "$(ls repo/runbooks/demo/state/replica/features-*.db | wc -l)" = 4
'

test_expect_success 'the snapshots were kept 3-2-1: local, and offsite read-only' '
	state=repo/runbooks/demo/state &&
	test "$(ls $state/backups/features-*.db | wc -l)" = 4 &&
	test "$(ls $state/offsite/features-*.db.sha256 | wc -l)" = 4 &&
	test "$(stat -c %a $state/offsite)" = 555 &&
	test "$(stat -c %a $state/offsite/$(ls $state/offsite | head -n 1))" = 444 &&
	(cd $state/backups && sha256sum --quiet -c $(ls features-*.sha256 | sed "\$d"))
'

test_expect_success 'the retrained model was served and checked' '
	run=$(json_get r1.json "d[\"run_id\"]") &&
	step_output "$run" "check holdout accuracy" | assert_contains - "): ok" &&
	step_output "$run" "model answers predictions" | assert_contains - "\"prediction\"" &&
	sha=$(cut -d" " -f1 repo/runbooks/demo/state/model.json.sha256) &&
	step_output "$run" "model server healthy" | assert_contains - "ok $sha"
'

test_expect_success 'the training pipeline signed the model and lifeboat verified it before serving' '
	run=$(json_get r1.json "d[\"run_id\"]") &&
	state=repo/runbooks/demo/state &&
	minisign -Vm $state/model.json -p $state/keys/training.pub >/dev/null &&
	step_output "$run" "verify the model artifact" |
		assert_contains - "signature by the training pipeline${Q}s key verified"
'

test_expect_success 'nothing of the demo is left running' '
	test -z "$(demo_processes)" &&
	test ! -e repo/runbooks/demo/state/ingest.pid &&
	! python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $PORT), 1)" 2>/dev/null
'

test_expect_success 'a second drill in a row succeeds too' '
	expect_code 0 setup_demo >out2 &&
	expect_code 0 demo drill --report "$TEST_DIR/r2.json" >>out2 &&
	objectives_met r2.json &&
	assert_contains out2 "wiped the previous demo state" &&
	test "$(json_get r1.json "d[\"run_id\"]")" != "$(json_get r2.json "d[\"run_id\"]")" &&
	test -z "$(demo_processes)" &&
	test "$(sql h.db "select count(*) from runs where runbook = ${Q}feature-store$Q and mode = ${Q}drill$Q and status = ${Q}succeeded$Q")" = 2
'

test_expect_success 'lifeboat run (no fault phases) recovers from the snapshots the drill left' '
	expect_code 0 demo run --report "$TEST_DIR/r3.json" >out3 &&
	test "$(json_get r3.json "[p[\"status\"] for p in d[\"phases\"]][:2]")" = "[\"skipped\", \"skipped\"]" &&
	test "$(json_get r3.json "d[\"status\"]")" = succeeded &&
	assert_contains out3 "restored snapshot features-" &&
	assert_contains out3 "ingest is not running" &&
	test -z "$(demo_processes)"
'

test_expect_success 'without the environment the drill stops at the probes before injecting anything' '
	state=repo/runbooks/demo/state &&
	test -z "$(demo_processes)" &&
	ls $state/backups >before &&
	expect_code 1 demo drill --report "$TEST_DIR/r5.json" >out5 &&
	test "$(json_get r5.json "[(s[\"name\"], s[\"status\"]) for s in d[\"probes\"][\"before\"] if s[\"status\"] != \"succeeded\"][0]")" = \
		"[\"ingest running\", \"failed\"]" &&
	test "$(json_get r5.json "[p[\"status\"] for p in d[\"phases\"] if p[\"fault\"]]")" != "[\"succeeded\", \"succeeded\"]" &&
	ls $state/backups >after && cmp before after &&
	test "$(sqlite3 $state/features.db "pragma integrity_check")" = ok
'

test_expect_success 'lifeboat run without any demo state fails and says how to make it' '
	mkdir fresh &&
	tar -C "$LIFEBOAT_SRC" --exclude=runbooks/demo/state --exclude=__pycache__ -cf - runbooks |
		tar -C fresh -xf - &&
	expect_code 1 in_dir fresh "$LIFEBOAT" --db "$TEST_DIR/h.db" run --yes \
		runbooks/feature-store.lua -p port="$PORT" >out4 2>&1 &&
	assert_contains out4 "no snapshots in demo/state/backups or demo/state/offsite" &&
	assert_contains out4 "lifeboat drill --yes runbooks/feature-store.lua"
'

test_done
