#!/bin/sh
# `lifeboat init [DIR]` (issue 14): a starter runbook using every step kind, a lifeboat.yaml with
# roles and one environment, and a CI script; `check` passes on it, `run --yes` and `drill --yes`
# of it succeed, the CI script passes, and init never overwrites anything.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

free_port () {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

test_expect_success 'init DIR makes the starter files and says what next' '
	lb init proj >out 2>err &&
	test ! -s err &&
	for f in lifeboat.yaml runbooks/starter.lua backup/index.html ci/lifeboat-ci.sh
	do
		test -s "proj/$f" || { echo "no proj/$f"; return 1; }
		assert_contains out "created proj/$f" || return 1
	done &&
	test -x proj/ci/lifeboat-ci.sh &&
	assert_contains out "lifeboat check runbooks/starter.lua" &&
	test ! -e proj/.lifeboat
'

test_expect_success 'the starter runbook uses every step kind and is commented' '
	for kind in "sh = " "run = function" "http = " "manual = " "service = true" \
		"fault = true" "cleanup = true" "rollback = " "restores_service = true"
	do
		grep -q "$kind" proj/runbooks/starter.lua || { echo "no $kind"; return 1; }
	done &&
	test "$(grep -c "^ *--" proj/runbooks/starter.lua)" -ge 15 &&
	grep -q "^roles:" proj/lifeboat.yaml &&
	grep -q "^  commander: { members: \[tester\] }" proj/lifeboat.yaml &&
	grep -q "^  staging:" proj/lifeboat.yaml
'

test_expect_success 'check passes on the starter, config included' '
	(cd proj && lb check runbooks/starter.lua) >out 2>err &&
	assert_contains out "runbooks/starter.lua: ok" &&
	assert_contains out "lifeboat.yaml: ok (2 roles, 1 environment, 0 schedules, 0 secrets)" &&
	test ! -s err
'

test_expect_success 'run --yes of the starter succeeds: site restored, served, checked' '
	port=$(free_port) &&
	(cd proj && lb run --yes -p port="$port" --report r.json runbooks/starter.lua) >out 2>&1 &&
	test "$(json_get proj/r.json "d[\"status\"]")" = succeeded &&
	test "$(json_get proj/r.json "d[\"rto\"][\"met\"]")" = true &&
	test "$(json_get proj/r.json "sorted(set(s[\"kind\"] for p in d[\"phases\"] for s in p[\"steps\"]))")" \
		= "[\"http\", \"manual\", \"run\", \"sh\"]" &&
	grep -q "hello from the backup" proj/site/index.html &&
	no_process_matching "http.server $port"
'

test_expect_success 'drill --yes breaks the site first, then recovers it' '
	port=$(free_port) &&
	echo stale >proj/site/index.html &&
	(cd proj && lb drill --yes -p port="$port" --report d.json runbooks/starter.lua) >out 2>&1 &&
	test "$(json_get proj/d.json "d[\"status\"]")" = succeeded &&
	test "$(json_get proj/d.json "d[\"phases\"][0][\"status\"]")" = succeeded &&
	grep -q "hello from the backup" proj/site/index.html
'

test_expect_success 'the CI script checks, runs in staging and leaves a JUnit report' '
	port=$(free_port) &&
	PATH=$(dirname "$LIFEBOAT"):$PATH sh proj/ci/lifeboat-ci.sh -p port="$port" >out 2>&1 &&
	test -s proj/reports/starter.xml &&
	grep -q "<testsuite" proj/reports/starter.xml &&
	test "$(sql proj/.lifeboat/history.db "select env from runs order by started_at desc limit 1")" = staging
'

test_expect_success 'init refuses to overwrite, and then writes nothing at all' '
	cp proj/runbooks/starter.lua before.lua &&
	echo "# mine" >proj/lifeboat.yaml &&
	expect_code 2 lb init proj >out 2>err &&
	assert_contains err "'\''proj/lifeboat.yaml'\'' exists: init never overwrites" &&
	test "$(cat proj/lifeboat.yaml)" = "# mine" &&
	cmp before.lua proj/runbooks/starter.lua &&
	mkdir other &&
	mkdir -p other/ci && echo keep >other/ci/lifeboat-ci.sh &&
	expect_code 2 lb init other 2>err &&
	assert_contains err "other/ci/lifeboat-ci.sh" &&
	test ! -e other/lifeboat.yaml &&
	test ! -e other/runbooks
'

test_expect_success 'init with no folder writes into the working directory' '
	mkdir here &&
	(cd here && lb init) >out &&
	test -s here/lifeboat.yaml &&
	test -s here/runbooks/starter.lua &&
	assert_contains out "created lifeboat.yaml" &&
	expect_code 2 lb init a b 2>err &&
	assert_contains err "one folder at a time"
'

test_done
