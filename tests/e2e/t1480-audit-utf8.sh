#!/bin/sh
# Issue 11: lib/json.c's one rule for text that is not UTF-8 (each bad byte becomes U+FFFD) holds
# for the whole audit trail. A runbook and its module in a folder whose name is Latin-1 keep both
# files in run_started's "sources" (they went missing); an operator name that is not UTF-8 is
# stored by the rule, so `audit verify` passes and the evidence bundle's audit.jsonl holds every
# entry (they were all "{}") and checks with its own check-audit.py. A note written after the
# run's end whose text is not UTF-8 keeps its text in the audit detail (the detail was empty).
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

dir=$(printf 'caf\351')
write_runbook "$dir/rb.lua" <<-\EOF
local m = require("mod")
return runbook { name = "rb", phase "p" { step "s" { sh = "true" } } }
EOF
printf 'return {}\n' >"$dir/mod.lua"

# the audit entries' KEY of run_started's detail, as JSON, one a line
started () {
	python3 - "$1" "$2" <<-\EOF
	import json, sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	for (detail,) in db.execute("select detail from audit where event = 'run_started'"):
	    print(json.dumps(json.loads(detail)[sys.argv[2]], ensure_ascii=False))
	EOF
}

test_expect_success 'a runbook in a Latin-1 folder: run_started lists both of its files' '
	expect_code 0 lb --db h.db run --yes "$dir/rb.lua" >run.out &&
	started h.db sources >sources &&
	python3 -c "
import json, sys
s = json.loads(open(\"sources\").read())
assert [x[\"path\"].rsplit(\"/\", 2)[1:] for x in s] == [[\"caf\ufffd\", \"rb.lua\"], [\"caf\ufffd\", \"mod.lua\"]], s
assert all(len(x[\"sha256\"]) == 64 for x in s), s
" &&
	started h.db file >file &&
	assert_contains file "caf�/rb.lua"
'

test_expect_success 'an operator name that is not UTF-8: the audit log verifies' '
	expect_code 0 lb --db h2.db --as "$(printf "op\377")" run --yes "$dir/rb.lua" >run2.out &&
	audit_bad_details h2.db >bad &&
	same "$(cat bad)" "" &&
	same "$(sql h2.db "select distinct operator from audit")" "op�" &&
	expect_code 0 lb --db h2.db audit verify >v &&
	assert_contains v "audit log ok"
'

test_expect_success 'its evidence bundle holds every audit entry, and they check' '
	id=$(sql h2.db "select id from runs") &&
	expect_code 0 lb --db h2.db evidence -o ev "$id" >ev.out &&
	test "$(wc -l <ev/audit.jsonl)" -eq 5 &&
	! grep -x "{}" ev/audit.jsonl &&
	python3 -c "
import json
lines = open(\"ev/audit.jsonl\").read().splitlines()[1:]
assert [json.loads(l)[\"seq\"] for l in lines] == [1, 2, 3, 4], lines
assert {json.loads(l)[\"operator\"] for l in lines} == {\"op\ufffd\"}, lines
" &&
	(cd ev && python3 check-audit.py audit.jsonl >../check.out) &&
	assert_contains check.out "ok"
'

test_expect_success 'a note after the end that is not UTF-8: its audit detail holds the text' '
	id=$(sql h.db "select id from runs") &&
	expect_code 0 lb --db h.db note "$id" "$(printf "pr\351vu")" >note.out &&
	audit_bad_details h.db >bad &&
	same "$(cat bad)" "" &&
	same "$(sql h.db "select detail from audit where event = '"'note'"'")" "{\"text\":\"pr�vu\",\"after_end\":true}"
'

test_expect_success 'a secret holding a byte that is not UTF-8 is masked in the audit log too (operator and a note)' '
	printf "secrets: [LB_TOKEN]\n" >sec.yaml &&
	token=$(printf "hunter\344supersecret") &&
	id=$(sql h.db "select id from runs") &&
	LB_TOKEN=$token expect_code 0 lb --config sec.yaml --db h.db --as "$token" note "$id" "leak: $token end" >note2.out &&
	same "$(sql h.db "select text from notes order by seq desc limit 1")" "leak: *** end" &&
	sql h.db "select operator, detail from audit where event = '"'note'"' order by seq desc limit 1" >last &&
	cat last &&
	assert_not_contains last "supersecret" &&
	assert_contains last "leak: *** end" &&
	expect_code 0 lb --db h.db audit verify >v2 &&
	assert_contains v2 "audit log ok"
'

test_done
