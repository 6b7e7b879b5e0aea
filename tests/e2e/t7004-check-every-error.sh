#!/bin/sh
# `check` reports every problem of a runbook, not only the first (issue 13 item 10): each runbook
# field, phase option and step is validated on its own, every problem printed as file:line, in
# file order, up to 20; what cannot be read (roles, params) is not held against later parts.
# `run` refuses the same file with the same list, and nothing runs.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

test_expect_success 'eight problems in one file: all reported, each at its line, in order' '
	write_runbook bad.lua <<-\EOF &&
	return runbook { name = "bad", rto = "15 minutes", roles = { "sre" },
	  params = { dir = "x" },
	  phase "one" { budget = "soon", role = "sre",
	    step "a" { sh = "touch marker", timeuot = "1s" },
	    step "b" { },
	    step "c" { http = "http://127.0.0.1:1/${nope}" },
	  },
	  phase "two" { role = "dba",
	    step "d" { sh = "touch marker", retries = -1 },
	    step "d" { manual = "ok" },
	  },
	}
	EOF
	expect_code 2 lb --db h.db check bad.lua >out 2>err &&
	cat >want <<-\EOF &&
	bad.lua:1: runbook: rto = "15 minutes" is not a duration
	bad.lua:3: phase '\''one'\'': budget = "soon" is not a duration
	bad.lua:4: step '\''a'\'': unknown key '\''timeuot'\'' (did you mean '\''timeout'\''?)
	bad.lua:5: step '\''b'\'': no kind
	bad.lua:6: step '\''c'\'': http refers to ${nope}, which is not a declared param
	bad.lua:8: phase '\''two'\'': role '\''dba'\'' is not in the runbook'\''s roles (sre)
	bad.lua:9: step '\''d'\'': retries must be at least 0
	bad.lua:10: phase '\''two'\'': step name '\''d'\'' is used twice (first at line 9)
	EOF
	test "$(wc -l <err)" = 8 &&
	while IFS= read -r line
	do
		n=$((${n:-0} + 1)) &&
		sed -n "${n}p" err | grep -qF -- "$line" || { echo "line $n is not: $line"; cat err; return 1; }
	done <want &&
	test ! -s out &&
	expect_code 2 lb --db h.db run --yes bad.lua >out 2>run.err &&
	cmp err run.err &&
	test ! -e marker &&
	test ! -e h.db
'

test_expect_success 'at most 20 problems, then it says it stopped' '
	{
		echo "return runbook { name = \"many\", phase \"p\" {" &&
		i=1 &&
		while [ $i -le 30 ]
		do
			echo "  step \"s$i\" { sh = \"true\", retries = \"x\" }," &&
			i=$((i + 1)) || return 1
		done &&
		echo "} }"
	} >many.lua &&
	expect_code 2 lb check many.lua 2>err &&
	test "$(grep -c "^many.lua:[0-9]*: step .s[0-9]*.: retries" err)" = 20 &&
	assert_contains err "(stopped after 20 problems: fix these first)" &&
	assert_contains err "many.lua:2: step '\''s1'\''" &&
	assert_contains err "many.lua:21: step '\''s20'\''" &&
	assert_not_contains err "s21"
'

test_expect_success 'unreadable roles or params are one problem, not one per use' '
	write_runbook roles.lua <<-\EOF &&
	return runbook { name = "r", roles = "sre", params = 5,
	  phase "p" { role = "sre",
	    step "s" { http = "http://127.0.0.1:1/${x}", role = "sre" },
	  },
	}
	EOF
	expect_code 2 lb check roles.lua 2>err &&
	test "$(wc -l <err)" = 2 &&
	assert_contains err "roles.lua:1: runbook: roles must be a list of names" &&
	assert_contains err "roles.lua:1: runbook: params must be a table"
'

test_expect_success 'a good file is still ok, and a syntax error is still one line with its place' '
	write_runbook good.lua <<-\EOF &&
	return runbook { name = "good", phase "p" { step "s" { sh = "true" } } }
	EOF
	lb check good.lua >out &&
	assert_contains out "good.lua: ok" &&
	printf "return runbook {\n  name = \"x\",,\n}\n" >syntax.lua &&
	expect_code 2 lb check syntax.lua 2>err &&
	test "$(wc -l <err)" = 1 &&
	assert_contains err "syntax.lua:2:"
'

test_expect_success 'several files: each one'\''s problems, and the good one passes' '
	expect_code 2 lb check bad.lua good.lua roles.lua >out 2>err &&
	assert_contains out "good.lua: ok" &&
	test "$(grep -c "^bad.lua:" err)" = 8 &&
	test "$(grep -c "^roles.lua:" err)" = 2
'

test_done
