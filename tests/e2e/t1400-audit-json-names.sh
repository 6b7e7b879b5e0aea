#!/bin/sh
# Issue 11: every audit detail is built with lib/json.c, never with printf. A runbook named
# say "hi"\ (a quote and a trailing backslash), with such step and phase names, is run, fails,
# is refused a resume once changed, is resumed with --force: `audit verify` passes and every
# detail parses as JSON holding the names as they were written.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

write_runbook hi.lua <<-\EOF
return runbook { name = "say \"hi\"\\",
	phase "p \"q\"\\" {
		step "s \"x\"\\" { sh = "true" },
		step "needs\\fix" { sh = "test -e fixed" },
	},
}
EOF

# the values of KEY in the details of EVENT, one a line
details () {
	python3 - "$1" "$2" "$3" <<-\EOF
	import json, sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	for (detail,) in db.execute("select detail from audit where event = ? order by seq", (sys.argv[2],)):
	    print(json.loads(detail)[sys.argv[3]])
	EOF
}

test_expect_success 'a failed run, a refused and a forced resume: the audit log verifies' '
	expect_code 1 lb --db h.db run --yes hi.lua >run.out &&
	id=$(sed -n "s/^run \([0-9a-f]*\) failed.*/\1/p" run.out) &&
	test -n "$id" &&
	echo "-- changed" >>hi.lua &&
	expect_code 5 lb --db h.db resume "$id" >refused.out 2>&1 &&
	touch fixed &&
	expect_code 0 lb --db h.db resume --force "$id" >resume.out 2>&1 &&
	expect_code 0 lb --db h.db audit verify >v &&
	assert_contains v "audit log ok"
'

test_expect_success 'every audit detail parses as JSON' '
	audit_bad_details h.db >bad &&
	same "$(cat bad)" "" &&
	test "$(sql h.db "select count(*) from audit where detail is not null")" -ge 8
'

test_expect_success 'the details hold the names as written' '
	printf "%s\n" "say \"hi\"\\" >want &&
	details h.db run_started runbook >got &&
	cmp want got &&
	printf "%s\n" "p \"q\"\\" "p \"q\"\\" "p \"q\"\\" >want &&
	details h.db step_started phase >got &&
	cmp want got &&
	printf "%s\n" "s \"x\"\\" "needs\\fix" "needs\\fix" >want &&
	details h.db step_started step >got &&
	cmp want got &&
	printf "%s\n" "runbook changed" >want &&
	details h.db refused reason >got &&
	cmp want got &&
	test "$(details h.db force now)" = "$(sha256sum hi.lua | cut -d" " -f1)"
'

test_done
