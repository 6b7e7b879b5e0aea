#!/bin/sh
# The man pages (issue 14): docs/man/*.scd built by CMake with scdoc into build/man, each renders
# with `man -l` without a warning, and lifeboat(1) documents every command and, in that command's
# section, every option its --help prints, and every global option: an option added without its
# documentation fails here.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# the pages are built beside the binary (build/man); LIFEBOAT_MAN_DIR points elsewhere
MAN_DIR=${LIFEBOAT_MAN_DIR:-$(dirname "$LIFEBOAT")/man}
export MAN_DIR

# render PAGE: man -l at a width where no line is folded or hyphenated, into PAGE.txt
render () {
	MANWIDTH=1000 LANG=C.UTF-8 man --warnings -l "$MAN_DIR/$1" >"$1.txt" 2>"$1.err" &&
	if test -s "$1.err"; then cat "$1.err"; return 1; fi
}

# section_of CMD: the rendered text of lifeboat(1)'s subsection for CMD, up to the next one
section_of () {
	awk -v c="$1" '
		/^   [a-z]+$/ { on = ($1 == c) ; next }
		/^[A-Z]/ { on = 0 }
		on { print }' lifeboat.1.txt
}

test_expect_success 'the three pages are built and render without a warning' '
	for page in lifeboat.1 lifeboat-runbook.5 lifeboat.yaml.5
	do
		test -s "$MAN_DIR/$page" || { echo "no $MAN_DIR/$page: is scdoc installed?"; return 1; }
		render "$page" || return 1
		grep -q "^NAME" "$page.txt" &&
		grep -q "^SEE ALSO" "$page.txt" || { echo "$page: no NAME or SEE ALSO"; return 1; }
	done &&
	assert_contains lifeboat.1.txt "lifeboat - run disaster-recovery runbooks" &&
	assert_contains lifeboat-runbook.5.txt "STEP KINDS" &&
	assert_contains lifeboat.yaml.5.txt "environments"
'

test_expect_success 'lifeboat(1) has a section for every command' '
	render lifeboat.1 &&
	lb --list-commands >cmds &&
	test "$(wc -l <cmds)" -ge 15 &&
	while read -r c
	do
		grep -qx "   $c" lifeboat.1.txt || { echo "no section for $c"; return 1; }
		section_of "$c" | grep -q "lifeboat $c" || { echo "section $c lacks its synopsis"; return 1; }
	done <cmds
'

test_expect_success 'every option of every --help is in its command'\''s section of lifeboat(1)' '
	render lifeboat.1 &&
	lb --list-commands >cmds &&
	n=0 &&
	while read -r c
	do
		test "$c" = help && continue
		section_of "$c" >sec &&
		lb "$c" --help | sed -n "/^options:/,/^\$/p" >opts &&
		for o in $(grep -o -e "^  -[a-zA-Z]," -e "--[a-z][a-z-]*" opts | tr -d ,)
		do
			n=$((n + 1))
			grep -q -e "[ (]$o\\>" -e "^$o\\>" sec || { echo "lifeboat(1) section $c lacks $o"; return 1; }
		done
	done <cmds &&
	# the count proves the loop saw the options (run alone has a dozen)
	test "$n" -ge 30
'

test_expect_success 'every global option of lifeboat --help is under GLOBAL OPTIONS' '
	render lifeboat.1 &&
	awk "/^GLOBAL OPTIONS/ { on = 1; next } /^[A-Z]/ { on = 0 } on" lifeboat.1.txt >globals &&
	lb --help | sed -n "/^global options/,/^\$/p" >g &&
	test "$(grep -c -- "--" g)" -ge 7 &&
	for o in $(grep -o -e "^  -[a-zA-Z]," -e "--[a-z][a-z-]*" g | tr -d ,)
	do
		grep -q -e " $o\\>" -e "^ *$o\\>" globals || { echo "GLOBAL OPTIONS lacks $o"; return 1; }
	done
'

test_expect_success 'an undocumented option is caught (the check is not vacuous)' '
	render lifeboat.1 &&
	section_of history >sec &&
	grep -q -- "--limit" sec &&
	! grep -q -- "--strict-budgets" sec
'

test_done
