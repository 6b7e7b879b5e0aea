#!/bin/sh
# Bash completion (issue 14): completion/lifeboat.bash, sourced in bash after bash-completion,
# its function called with COMP_WORDS/COMP_CWORD as bash would: commands, each command's options
# (asked from the binary, so they never drift from --help), runbook files for FILE, run ids from
# the history for RUN_ID, environment names from the config, the values of --format.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

COMPLETION=$LIFEBOAT_SRC/completion/lifeboat.bash
CWORD=
export COMPLETION CWORD

# complete WORD... : the candidates bash would offer for the last word (may be ''), one a line,
# sorted; the first word is the binary, as the user typed it. With CWORD=N, for word N instead
# (the cursor at its end, the words after it on the line).
complete_words () {
	bash -c '
		. /usr/share/bash-completion/bash_completion || exit 1
		. "$COMPLETION" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=${CWORD:-$(($# - 1))}
		COMP_LINE="$*"
		before="${COMP_WORDS[*]:0:COMP_CWORD + 1}"
		COMP_POINT=${#before}
		_lifeboat lifeboat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		if ((${#COMPREPLY[@]})); then printf "%s\n" "${COMPREPLY[@]}"; fi' complete "$LIFEBOAT" "$@" | sort
}

# has FILE WORD...: each WORD is a line of FILE
has () {
	local f=$1 w
	shift
	for w
	do
		grep -qx -e "$w" "$f" || { echo "no '$w' among:"; cat "$f"; return 1; }
	done
}

test_expect_success 'the file is registered for lifeboat' '
	bash -c ". /usr/share/bash-completion/bash_completion; . \"\$COMPLETION\"; complete -p lifeboat" >out &&
	assert_contains out "complete -F _lifeboat lifeboat"
'

test_expect_success 'the first word: commands, and global options after a dash' '
	complete_words "" >c &&
	has c run drill console check history show report resume init help &&
	complete_words dr >c &&
	test "$(cat c)" = drill &&
	complete_words --d >c &&
	test "$(cat c)" = --db &&
	complete_words --db h.db sh >c &&
	test "$(cat c)" = show
'

test_expect_success 'a command'\''s options: every one --help lists, and no other command'\''s' '
	complete_words run -- >c &&
	has c --param --env --yes --incident-start --strict-budgets --junit --report --db --config &&
	! grep -qx -e --watch -e --format c &&
	lb run --help | grep -o -e "--[a-z][a-z-]*" | sort -u >helped &&
	while read -r o
	do
		grep -qx -e "$o" c || { echo "$o of run --help is not completed"; return 1; }
	done <helped &&
	complete_words console --w >c &&
	test "$(cat c)" = --watch &&
	complete_words report --f >c &&
	test "$(cat c)" = --format
'

test_expect_success 'FILE arguments: runbooks (*.lua) and folders, not other files' '
	mkdir -p rb/sub && : >rb/a.lua && : >rb/b.lua && : >rb/notes.txt &&
	(cd rb && complete_words run "") >c &&
	has c a.lua b.lua sub &&
	! grep -qx notes.txt c &&
	(cd rb && complete_words check a.lua "") >c &&
	has c b.lua &&
	(cd rb && complete_words run --yes --env staging a) >c &&
	test "$(cat c)" = a.lua
'

write_runbook quick.lua <<-\EOF
return runbook { name = "quick", phase "p" { step "s" { sh = "true" } } }
EOF

test_expect_success 'RUN_ID arguments: the runs of the history in use (--db)' '
	lb --db runs.db run --yes --report one.json quick.lua >/dev/null 2>&1 &&
	lb --db runs.db run --yes --report two.json quick.lua >/dev/null 2>&1 &&
	one=$(json_get one.json "d[\"run_id\"]") && two=$(json_get two.json "d[\"run_id\"]") &&
	complete_words --db runs.db show "" >c &&
	has c "$one" "$two" &&
	test "$(wc -l <c)" = 2 &&
	complete_words report --db=runs.db "$(echo "$one" | cut -c1-6)" >c &&
	test "$(cat c)" = "$one" &&
	complete_words --db runs.db console --watch "" >c &&
	has c "$one" "$two"
'

test_expect_success 'no history: no run ids, and completing creates nothing' '
	mkdir empty &&
	(cd empty && complete_words show "") >c &&
	test ! -s c &&
	test ! -e empty/.lifeboat
'

test_expect_success '--env: the environments of the config in use' '
	cat >lifeboat.yaml <<-\EOF &&
	environments:
	  staging: { rto: 30m }
	  prod: { rto: 15m }
	EOF
	cat >other.yaml <<-\EOF &&
	environments:
	  lab: { rto: 1h }
	EOF
	complete_words run --env "" >c &&
	has c staging prod &&
	test "$(wc -l <c)" = 2 &&
	complete_words plan --env=st >c &&
	test "$(cat c)" = staging &&
	complete_words --config other.yaml drill --env "" >c &&
	test "$(cat c)" = lab &&
	rm lifeboat.yaml
'

test_expect_success 'fixed values: --format, audit'\''s verb, help'\''s command, init'\''s folder' '
	complete_words report --format "" >c &&
	has c json junit md html prom &&
	complete_words report -f j >c &&
	has c json junit &&
	complete_words audit "" >c &&
	test "$(cat c)" = verify &&
	complete_words help hi >c &&
	test "$(cat c)" = history &&
	mkdir -p dirs/d1 && : >dirs/f1 &&
	(cd dirs && complete_words init "") >c &&
	has c d1 &&
	! grep -qx f1 c
'

test_expect_success '-p: the names of the params the runbook on the line declares' '
	write_runbook prm.lua <<-\EOF &&
	return runbook { name = "prm", params = { region = "eu", replicas = "3", port = "80" },
		phase "p" { step "s" { sh = "true" } } }
	EOF
	complete_words run prm.lua -p "" >c &&
	has c region= replicas= port= &&
	test "$(wc -l <c)" = 3 &&
	CWORD=3 complete_words drill -p re prm.lua >c &&
	has c region= replicas= &&
	CWORD=2 complete_words run --param=po prm.lua >c &&
	test "$(cat c)" = port= &&
	complete_words run prm.lua -p region=e >c &&
	test ! -s c &&
	complete_words run -p "" >c &&
	test ! -s c
'

test_expect_success 'an option value is not taken for an argument' '
	mkdir -p pos && : >pos/x.lua &&
	(cd pos && complete_words confirm --db h.db "") >c &&
	! grep -qx x.lua c &&
	(cd pos && complete_words run -p who=me "") >c &&
	has c x.lua
'

test_done
