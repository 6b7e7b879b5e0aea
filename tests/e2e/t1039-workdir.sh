#!/bin/sh
# Working directories (SPEC 1): steps run in the runbook's workdir, by default the runbook's folder,
# wherever lifeboat was started; paths given on the command line resolve against the caller's.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook books/sub/here.lua <<-\EOF
return runbook { name = "here",
	phase "p" {
		step "touch" { sh = "touch marker; pwd >pwd.out" },
		step "lua" { run = function(ctx) sh("touch lua-marker") end },
	},
}
EOF

test_expect_success 'a relative path in a step lands beside the runbook, started elsewhere' '
	mkdir elsewhere &&
	(cd elsewhere && lb run --yes ../books/sub/here.lua --report r.json >out) &&
	test -e books/sub/marker &&
	test -e books/sub/lua-marker &&
	test ! -e elsewhere/marker &&
	test ! -e marker &&
	test "$(cat books/sub/pwd.out)" = "$TEST_DIR/books/sub"
'

test_expect_success 'relative --report and --db resolve against the caller, not the runbook' '
	test -e elsewhere/r.json &&
	test -e elsewhere/.lifeboat/history.db &&
	test ! -e books/sub/r.json &&
	test ! -e books/sub/.lifeboat &&
	(cd elsewhere && lb --db ../mine.db run --yes ../books/sub/here.lua >out) &&
	test -e mine.db &&
	test "$(sql mine.db "select count(*) from runs")" = 1
'

test_expect_success 'the same holds for a runbook given by an absolute path' '
	rm -f books/sub/marker &&
	mkdir -p far/away &&
	(cd far/away && lb run --yes "$TEST_DIR/books/sub/here.lua" >out) &&
	test -e books/sub/marker &&
	test ! -e far/away/marker
'

test_expect_success 'an absolute workdir is where steps run' '
	mkdir -p work &&
	sed "s|name = \"here\",|name = \"there\", workdir = \"$TEST_DIR/work\",|" books/sub/here.lua >books/there.lua &&
	lb run --yes books/there.lua >out &&
	test -e work/marker &&
	test -e work/lua-marker &&
	test ! -e books/marker
'

test_done
