#!/bin/sh
# Issue 13 item 3 (SPEC 1): `shell` takes a list ({"bash", "-c"}) or a string naming a shell that
# takes -c ("bash" means bash -c); check rejects a shell that does not exist here, with the fix.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'shell = "bash" runs the command with bash -c; a list is taken as it is' '
	write_runbook b.lua <<-\EOF &&
	return runbook { name = "b", shell = "bash",
		phase "p" {
			step "bashism" { sh = [==[echo "${BASH_VERSION:+bash}" >which-t1308; [[ -n x ]] ]==] },
			step "list" { sh = [[echo "$0" >list-t1308]], shell = { "sh", "-c" } },
			step "flags" { sh = [[case $- in *e*) echo e >flags-t1308;; esac]], shell = "bash -e" },
		},
	}
	EOF
	expect_code 0 lb --db h.db run --yes b.lua >out &&
	test "$(cat which-t1308)" = bash &&
	test "$(cat list-t1308)" = sh &&
	test "$(cat flags-t1308)" = e
'

test_expect_success 'check rejects a shell that does not exist, naming file:line and the fix; run refuses too' '
	write_runbook z.lua <<-\EOF &&
	return runbook { name = "z",
		phase "p" {
			step "ok" { sh = "true" },
			step "zsh" { sh = "echo hi", shell = "no-such-shell-t1308" },
		},
	}
	EOF
	expect_code 2 lb check z.lua 2>err &&
	assert_contains err "z.lua:4: step ${SQ}zsh${SQ} shell: ${SQ}no-such-shell-t1308${SQ} does not exist on this machine; install it, or name one that does" &&
	expect_code 2 lb --db z.db run --yes z.lua 2>err &&
	assert_contains err "no-such-shell-t1308" &&
	test ! -e z.db
'

test_expect_success 'a runbook-wide shell that does not exist is named too' '
	write_runbook w.lua <<-\EOF &&
	return runbook { name = "w", shell = { "/opt/none/t1308sh", "-c" }, phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 2 lb check w.lua 2>err &&
	assert_contains err "w.lua: runbook shell: ${SQ}/opt/none/t1308sh${SQ} does not exist"
'

test_done
