#!/bin/sh
# The command line (issue 14, issue 13 item 10): one getopt_long table per command, so
# `--opt=value` and `--opt value` both work, options may follow arguments, `--` ends the options;
# every command's --help lists its options one a line and an example; an unknown command or
# option suggests the nearest (exit 2).
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook p.lua <<-\EOF
return runbook { name = "p", rto = "1h", params = { who = "nobody" },
	phase "only" { step "say" { sh = "echo hello-${who}" } } }
EOF

test_expect_success '--param=k=v, -pk=v, --param k=v and -p k=v all set a param' '
	for form in "--param=who=ann" "-pwho=ann" "--param who=ann" "-p who=ann"
	do
		rm -f h.db &&
		# shellcheck disable=SC2086 # the form is split on purpose
		lb --db h.db run --yes $form --report r.json p.lua >out 2>&1 &&
		assert_contains out "hello-ann" || return 1
	done
'

test_expect_success 'options may follow the file, the global ones too' '
	lb run p.lua --yes -p who=bob --db=after.db --report=r2.json >out 2>&1 &&
	assert_contains out "hello-bob" &&
	test -f after.db &&
	test "$(json_get r2.json "d[\"status\"]")" = succeeded
'

test_expect_success 'global options before the command take both spellings' '
	lb --db before.db --as=carol run --yes --report r3.json p.lua >/dev/null 2>&1 &&
	test "$(json_get r3.json "d[\"operator\"]")" = carol &&
	test -f before.db
'

test_expect_success '-- ends the options: a runbook named like an option runs' '
	cp p.lua ./--yes &&
	lb --db dd.db run --yes -- --yes >out 2>&1 &&
	assert_contains out "hello-nobody" &&
	expect_code 2 lb --db dd.db run -- --yes p.lua >out 2>err &&
	assert_contains err "only one runbook file at a time"
'

test_expect_success 'after --, words with dashes are arguments (a note'\''s text)' '
	lb --db n.db run --yes --report nr.json p.lua >/dev/null 2>&1 &&
	id=$(json_get nr.json "d[\"run_id\"]") &&
	expect_code 2 lb --db n.db note "$id" -x looked fine 2>err &&
	assert_contains err "unknown option '\''-x'\''" &&
	rc=0 && lb --db n.db note "$id" -- -x looked fine >out 2>err || rc=$? &&
	test "$rc" != 2 &&
	assert_not_contains err "unknown option"
'

test_expect_success 'a missing value, a value for a flag, an unknown option: exit 2, named' '
	expect_code 2 lb run p.lua --env 2>err &&
	assert_contains err "option '\''--env'\'' needs a value (ENV)" &&
	assert_contains err "usage: lifeboat run [options] FILE" &&
	expect_code 2 lb run --yes=1 p.lua 2>err &&
	assert_contains err "option '\''--yes'\'' takes no value" &&
	expect_code 2 lb history --jsn 2>err &&
	assert_contains err "unknown option '\''--jsn'\'' (did you mean '\''--json'\''?)" &&
	expect_code 2 lb show -z abc 2>err &&
	assert_contains err "unknown option '\''-z'\''" &&
	expect_code 2 lb --db "" history 2>err &&
	assert_contains err "option '\''--db'\'' needs a value" &&
	test ! -e .lifeboat
'

test_expect_success 'an abbreviated option works; an ambiguous one names the candidates' '
	lb --db ab.db run --ye --rep=ab.json p.lua >/dev/null 2>&1 &&
	test -f ab.json &&
	expect_code 2 lb console --d p.lua 2>err &&
	assert_contains err "option '\''--d'\'' is ambiguous: --drill, --db"
'

test_expect_success 'an unknown command suggests the nearest (exit 2)' '
	expect_code 2 lb drlil p.lua >out 2>err &&
	assert_contains err "'\''drlil'\'' is not a lifeboat command (did you mean '\''drill'\''?)" &&
	expect_code 2 lb histroy 2>err &&
	assert_contains err "did you mean '\''history'\''?" &&
	expect_code 2 lb xyzzy 2>err &&
	assert_contains err "'\''xyzzy'\'' is not a lifeboat command" &&
	assert_not_contains err "did you mean" &&
	expect_code 2 lb help shwo 2>err &&
	assert_contains err "did you mean '\''show'\''?" &&
	test ! -s out
'

test_expect_success 'every command'\''s --help: usage line, one line per option, an example' '
	lb --list-commands >cmds &&
	test "$(wc -l <cmds)" -ge 15 &&
	lb --list-options | grep "^-" >globals &&
	grep -qx -e "--db PATH" globals &&
	while read -r c
	do
		test "$c" = help && continue
		lb "$c" --help >h.out 2>h.err || { echo "$c --help failed"; return 1; }
		test ! -s h.err &&
		grep -q "^usage: lifeboat $c \[options\]" h.out &&
		grep -q "^  lifeboat $c" h.out &&
		grep -q "^examples\{0,1\}:" h.out || { echo "$c --help lacks usage or example"; cat h.out; return 1; }
		# each option the completion is told about is on its own line of the help
		lb --list-options "$c" | grep -vxF -f globals | grep "^--" | while read -r o _
		do
			grep -q -e "^  -., $o\>" -e "^      $o\>" h.out || { echo "$c: $o not in help"; return 1; }
		done || return 1
		lb help "$c" >h2.out && cmp h.out h2.out || return 1
	done <cmds
'

test_expect_success 'no command: the commands on stderr, exit 2; hidden options are never ignored' '
	expect_code 2 lb >out 2>err &&
	assert_contains err "lifeboat: no command given" &&
	assert_contains err "  drill     run a runbook with its fault phases" &&
	test ! -s out &&
	lb run --list-options >o1 &&
	lb --list-options run >o2 &&
	cmp o1 o2 &&
	assert_contains o1 "ARGS FILE" &&
	expect_code 2 lb run --list-environments p.lua >out 2>err &&
	assert_contains err "go before the command" &&
	test ! -s out &&
	test ! -e .lifeboat
'

test_expect_success '--help after a command runs nothing and needs no config' '
	echo "not: [valid" >bad.yaml &&
	lb --config bad.yaml run --help p.lua >out &&
	assert_contains out "--incident-start TIME" &&
	test ! -e .lifeboat
'

test_expect_success 'help lines fit 80 columns' '
	for c in run drill console history report resume audit
	do
		lb "$c" --help || return 1
	done >all.out &&
	lb --help >>all.out &&
	! awk "length > 79 { print; bad = 1 } END { exit !bad }" all.out
'

test_done
