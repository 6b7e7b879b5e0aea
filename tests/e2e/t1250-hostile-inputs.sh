#!/bin/sh
# Issue 10 items 14 and 17: bad input is refused up front, exit 2, nothing runs — an
# --incident-start that overflows, has no digit or an impossible zone offset; a runbook or config
# that is a device, a FIFO, a folder or larger than the cap (it used to read forever or hang).
# shellcheck disable=SC2016,SC3043 # bodies are single-quoted and eval'd later; local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook ok.lua <<\EOF
return runbook { name = "ok", phase "p" { step "s" { sh = "echo ran >>ran.txt" } } }
EOF

test_expect_success '--incident-start that overflows, is only a dot or has a +99:99 offset exits 2' '
	for t in 99999999999999999999 9223372036854776 . .. "2026-11-22T01:53:00+99:99" \
		"2026-11-22T01:53:00+24:00" "2026-02-31T00:00:00Z"
	do
		expect_code 2 lb run --yes --incident-start "$t" ok.lua >out 2>err &&
		assert_contains err "--incident-start" &&
		assert_contains err "is not a time" &&
		test ! -e ran.txt || return 1
	done &&
	test ! -e .lifeboat/history.db
'

test_expect_success 'the largest and the usual --incident-start values still work' '
	expect_code 0 lb run --yes --incident-start "$(date -u -d "-5 min" +%Y-%m-%dT%H:%M:%S+00:00)" ok.lua >out &&
	expect_code 0 lb run --yes --incident-start "$(($(date +%s) - 60)).5" ok.lua >out &&
	test "$(wc -l <ran.txt)" -eq 2
'

# timeout: before the fix these read /dev/zero until memory ran out, or waited on the FIFO forever
test_expect_success 'a device, a FIFO or a folder as runbook: exit 2 at once, naming it' '
	rm -f ran.txt &&
	mkfifo fifo.lua &&
	mkdir folder.lua &&
	for f in /dev/zero /dev/full fifo.lua; do
		expect_code 2 timeout 10 "$LIFEBOAT" check "$f" >out 2>err &&
		assert_contains err "$f: cannot read the runbook: not a regular file" &&
		expect_code 2 timeout 10 "$LIFEBOAT" run --yes "$f" >out 2>err &&
		assert_contains err "not a regular file" || return 1
	done &&
	expect_code 2 lb check folder.lua >out 2>err &&
	assert_contains err "folder.lua: is a folder" &&
	test ! -e ran.txt
'

test_expect_success 'a device, a FIFO or a folder as config: exit 2 at once, nothing runs' '
	rm -f ran.txt fifo.yaml && mkfifo fifo.yaml &&
	for f in /dev/zero /dev/full fifo.yaml; do
		expect_code 2 timeout 10 "$LIFEBOAT" --config "$f" run --yes ok.lua >out 2>err &&
		assert_contains err "cannot read config '"'"'$f'"'"': not a regular file" || return 1
	done &&
	expect_code 2 lb --config . run --yes ok.lua >out 2>err &&
	assert_contains err "a folder, not a file" &&
	test ! -e ran.txt &&
	expect_code 0 lb --config /dev/null run --yes ok.lua >out &&
	test -e ran.txt
'

test_expect_success 'a runbook or config larger than 16 MiB is refused without reading it whole' '
	rm -f ran.txt &&
	{ echo "return runbook { name = \"big\", phase \"p\" { step \"s\" { sh = \"true\" } } }" &&
	  head -c 17000000 /dev/zero | tr "\\0" "-"; } >big.lua &&
	expect_code 2 lb check big.lua >out 2>err &&
	assert_contains err "big.lua: cannot read the runbook: larger than 16 MiB" &&
	{ echo "lua_memory: 64MiB" && head -c 17000000 /dev/zero | tr "\\0" "#"; } >big.yaml &&
	expect_code 2 lb --config big.yaml run --yes ok.lua >out 2>err &&
	assert_contains err "larger than 16 MiB" &&
	test ! -e ran.txt
'

test_done
