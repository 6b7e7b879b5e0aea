#!/bin/sh
# Issue 11: main sets up what a command's flags ask (NEED_CONFIG, NEED_HISTORY, NEED_RUN) after the
# command's own checks of its line. So a usage error exits 2 and says what is wrong with the line
# before anything is opened (no "no history" for a mistyped line, no history file made), readers
# never create a history, and the commands that need neither config nor history (keygen, sign,
# verify) work beside a broken lifeboat.yaml.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'a usage error comes before the history is looked at, and touches no file' '
	mkdir u && cd u &&
	expect_code 2 lb --db typo.db show 2>err &&
	assert_contains err "no run id given" &&
	assert_not_contains err "no history" &&
	expect_code 2 lb --db typo.db show a b 2>err &&
	assert_contains err "only one run at a time" &&
	expect_code 2 lb --db typo.db report abc --format pdf 2>err &&
	assert_contains err "unknown format '"'"'pdf'"'"'" &&
	assert_not_contains err "no history" &&
	expect_code 2 lb --db typo.db evidence abc 2>err &&
	assert_contains err "give -o DIR" &&
	expect_code 2 lb --db typo.db audit verify --expect-head 3:short 2>err &&
	assert_contains err "--expect-head wants SEQ:HASH" &&
	expect_code 2 lb --db typo.db audit check 2>err &&
	assert_contains err "lifeboat audit verify" &&
	expect_code 2 lb --db typo.db note abc 2>err &&
	assert_contains err "give a run id and the note" &&
	expect_code 2 lb --db typo.db confirm a b c 2>err &&
	assert_contains err "too many arguments" &&
	expect_code 2 lb --db typo.db resume 2>err &&
	assert_contains err "no run id given" &&
	expect_code 2 lb --db typo.db abort 2>err &&
	assert_contains err "no run id given" &&
	test ! -e typo.db && test ! -e .lifeboat
'

test_expect_success 'a well-formed line on a missing history says so, and still creates nothing' '
	mkdir m && cd m &&
	for c in "show abc" "report abc --format json" "evidence abc -o ev" "resume abc" \
		"confirm abc" "decline abc" "note abc text" "abort abc" "audit verify"
	do
		expect_code 2 lb --db typo.db $c 2>err &&
		assert_contains err "no history at" || return 1
	done &&
	test ! -e typo.db && test ! -e .lifeboat && test ! -e ev
'

test_expect_success 'the run a command names is loaded once by main: an unknown id exits 2' '
	mkdir r && cd r &&
	write_runbook ok.lua <<-\EOF &&
	return runbook { name = "ok", phase "p" { step "s" { sh = "echo t1460-out" } } }
	EOF
	expect_code 0 lb run --yes ok.lua --report r.json >out &&
	id=$(jv r.json run_id) &&
	expect_code 2 lb show zzzz 2>err &&
	assert_contains err "zzzz" &&
	lb show "$id" >show.txt &&
	assert_contains show.txt "t1460-out" &&
	lb report "$id" -o - --format json >rep.json &&
	test "$(jv rep.json run_id)" = "$id" &&
	expect_code 0 lb note "$id" a finding after the end >out &&
	assert_contains out "note added after the end" &&
	expect_code 5 lb abort "$id" 2>err &&
	assert_contains err "not running"
'

test_expect_success 'keygen, sign and verify need no config: a broken lifeboat.yaml does not stop them' '
	mkdir k && cd k &&
	printf "environments: [unclosed\n" >lifeboat.yaml &&
	expect_code 2 lb history 2>err &&
	assert_contains err "lifeboat.yaml" &&
	expect_code 0 lb keygen ci >out &&
	echo "print(1)" >f.lua &&
	expect_code 0 lb sign --key ci.key f.lua >out &&
	expect_code 0 lb verify --pub ci.pub f.lua >out
'

test_expect_success 'the commands that read the config still do, probe and push among them' '
	mkdir c && cd c &&
	printf "environments: [unclosed\n" >lifeboat.yaml &&
	write_runbook f.lua <<-\EOF &&
	return runbook { name = "f", probes = { step "p" { sh = "true" } }, phase "p" { step "s" { sh = "true" } } }
	EOF
	for c in "probe f.lua" "push" "run --yes f.lua" "drill --yes f.lua" "check f.lua" "plan f.lua" \
		"history" "scheduler --once" "hosts"
	do
		expect_code 2 lb $c 2>err &&
		assert_contains err "lifeboat.yaml:2" || return 1
	done &&
	test ! -e .lifeboat
'

test_done
