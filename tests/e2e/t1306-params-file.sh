#!/bin/sh
# Issue 13 item 11 (SPEC 1): `-p @params.yaml` and `--params-file` merge a YAML mapping in
# command-line order with other -p, with the same validation (a param the runbook does not
# declare is an error naming it; a broken file names file:line:column).
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'setup' '
	write_runbook p.lua <<-\EOF
	return runbook { name = "p", params = { registry = "r0", tag = "t0", region = "g0" },
		phase "p" { step "show" { sh = [[echo "$registry|$tag|$region" >seen]] } } }
	EOF
'

test_expect_success '-p @file merges a YAML mapping; later -p wins, and so does a later file' '
	printf "registry: reg.example\ntag: v1\n" >ci.yaml &&
	printf "tag: v2\n" >late.yaml &&
	expect_code 0 lb --db h.db run --yes -p region=eu -p @ci.yaml p.lua >out &&
	test "$(cat seen)" = "reg.example|v1|eu" &&
	expect_code 0 lb --db h.db run --yes -p @ci.yaml -p tag=v9 p.lua >out &&
	test "$(cat seen)" = "reg.example|v9|g0" &&
	expect_code 0 lb --db h.db run --yes --params-file ci.yaml --params-file late.yaml p.lua >out &&
	test "$(cat seen)" = "reg.example|v2|g0" &&
	expect_code 0 lb --db h.db run --yes -p tag=v9 -p @ci.yaml p.lua >out &&
	test "$(cat seen)" = "reg.example|v1|g0"
'

test_expect_success 'the same validation as -p: an undeclared param, a bad file, a list value' '
	printf "registry: x\nregsitry: y\n" >typo.yaml &&
	expect_code 2 lb --db h.db run --yes -p @typo.yaml p.lua 2>err &&
	assert_contains err "the runbook declares no param ${SQ}regsitry${SQ}" &&
	printf "registry: [a, b]\n" >list.yaml &&
	expect_code 2 lb --db h.db run --yes --params-file list.yaml p.lua 2>err &&
	assert_contains err "list.yaml:1:11: params.registry: expected a single value" &&
	printf "registry: \"unclosed\n" >broken.yaml &&
	expect_code 2 lb --db h.db run --yes -p @broken.yaml p.lua 2>err &&
	assert_contains err "broken.yaml:" &&
	expect_code 2 lb --db h.db run --yes -p @missing.yaml p.lua 2>err &&
	assert_contains err "cannot read params file ${SQ}missing.yaml${SQ}" &&
	printf "PATH: /tmp\n" >reserved.yaml &&
	expect_code 2 lb --db h.db run --yes -p @reserved.yaml p.lua 2>err &&
	assert_contains err "reserved.yaml:1:1: params.PATH"
'

test_expect_success 'an undeclared param from a file names the file and its line, with did-you-mean' '
	rm -f seen &&
	printf "registry: x\n\nregsitry: y\n" >typo2.yaml &&
	expect_code 2 lb --db h.db run --yes -p @typo2.yaml p.lua 2>err &&
	assert_contains err "typo2.yaml:3: regsitry: the runbook declares no param ${SQ}regsitry${SQ} (did you mean ${SQ}registry${SQ}?" &&
	assert_contains err "declared in p.lua: region, registry, tag" &&
	expect_code 2 lb --db h.db run --yes -p regsitry=1 p.lua 2>err &&
	assert_contains err "p.lua: -p regsitry: the runbook declares no param ${SQ}regsitry${SQ} (did you mean ${SQ}registry${SQ}?" &&
	test ! -e seen
'

test_expect_success '-p @ without a file name says so' '
	expect_code 2 lb --db h.db run --yes -p @ p.lua 2>err &&
	assert_contains err "-p @ needs a file name after the @" &&
	test ! -e seen
'

test_done
