#!/bin/sh
# Issue 10 item 8: what a runbook or its steps print cannot drive the operator's terminal. On a
# terminal (a pty from script(1) here), `run` and `show` print control characters visibly — ESC as
# ^[, BEL as ^G, CR as ^M, NUL as ^@, C1 and broken UTF-8 as \xNN — in step output, step and
# phase names and Lua errors; piped output and reports keep the bytes as they were.
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

# on_tty OUT CMD...: runs CMD on a pseudo-terminal, its output (CR LF line ends) into OUT
on_tty () {
	local out="$1"
	shift
	script -qec "$*" /dev/null >"$out" </dev/null
}

# no_control FILE: fails, showing where, if FILE holds a control byte other than LF, TAB and
# the CR of the terminal's CR LF line ends
no_control () {
	python3 - "$1" <<-\EOF
	import re, sys
	d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
	m = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", d)
	if m:
	    sys.exit("control byte %r at %d: %r" % (m.group(), m.start(), d[max(0, m.start() - 40):m.start() + 20]))
	EOF
}

write_runbook inj.lua <<\EOF
return runbook { name = "inj\27]0;pwned\7", phase "p\27[2J" {
	step "s\27[H" { sh = [[printf 'a\033]52;c;ZXZpbA==\007b\r\033[K\342\234\223 all good\n'; printf '\302\233x\377\n']] },
	step "l" { run = function() error("bad\27[31m red") end },
} }
EOF

test_expect_success 'run on a terminal: output, names and Lua errors show their escapes' '
	on_tty out "NO_COLOR=1 $LIFEBOAT run --yes inj.lua" || :
	no_control out &&
	assert_contains out "inj^[]0;pwned^G" &&
	assert_contains out "▶ p^[[2J" &&
	assert_contains out "s^[[H | a^[]52;c;ZXZpbA==^Gb^M^[[K✓ all good" &&
	assert_contains out "s^[[H | \\x9bx\\xff" &&
	assert_contains out "bad^[[31m red" &&
	assert_contains out "exit 1"
'

test_expect_success 'show on a terminal renders them the same way' '
	lb history --json >h.json &&
	id=$(jv h.json runs.0.run_id) &&
	on_tty shown "NO_COLOR=1 $LIFEBOAT show $id" &&
	no_control shown &&
	assert_contains shown "inj^[]0;pwned^G" &&
	assert_contains shown "a^[]52;c;ZXZpbA==^Gb^M^[[K✓ all good" &&
	assert_contains shown "bad^[[31m red"
'

test_expect_success 'a Lua error at load time is shown escaped on the terminal too' '
	write_runbook bad.lua <<-\EOF &&
	error("load\27]52;c;aGk=\7 failed")
	EOF
	on_tty err "$LIFEBOAT check bad.lua" || :
	no_control err &&
	assert_contains err "load^[]52;c;aGk=^G failed"
'

test_expect_success 'piped output and the JSON report keep the bytes unchanged' '
	expect_code 1 lb run --yes --report r.json inj.lua >piped 2>&1 &&
	printf "\033]52;c;ZXZpbA==\007" >osc &&
	grep -qF "$(cat osc)" piped &&
	json_get r.json "[s[\"name\"] for p in d[\"phases\"] for s in p[\"steps\"]][0]" >name &&
	printf "s\033[H\n" >want &&
	cmp name want
'

test_done
