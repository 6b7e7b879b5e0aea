#!/bin/sh
# history and show (SPEC 3): `history --json` lists runs newest first with the report's top-level
# fields; `show RUN --json` gives the same document as the run's report; an unknown id exits 2; a
# prefix of an id is enough.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# jv FILE a.b.0.c: the JSON value at that path, printed as json_get prints it
jv () {
	json_get "$1" "d$(printf '%s\n' "$2" | awk -F. '{ for (i = 1; i <= NF; i++) printf($i ~ /^[0-9]+$/ ? "[%s]" : "[\"%s\"]", $i) }')"
}

write_runbook alpha.lua <<-\EOF
return runbook { name = "alpha", rto = "1m", rpo = "1h", params = { fail = "0" },
	recovery_point = function(ctx) return now() - 120 end,
	phase "break" { fault = true, step "f" { sh = "true" } },
	phase "restore" { budget = "10s", step "s" { sh = "exit $fail" },
		rollback = { step "undo" { sh = "true" } } },
	phase "verify" { step "m" { manual = "look" } },
	phase "tidy" { cleanup = true, step "c" { sh = "true" } },
}
EOF
write_runbook beta.lua <<-\EOF
return runbook { name = "beta", phase "p" { step "s" { sh = "true" } } }
EOF

test_expect_success 'set up: four runs of two runbooks' '
	expect_code 0 lb run --yes alpha.lua --report a1.json >out &&
	expect_code 0 lb drill --yes beta.lua --report b1.json >out &&
	expect_code 1 lb run --yes -p fail=1 alpha.lua --report a2.json >out &&
	expect_code 0 lb drill --yes alpha.lua --report a3.json >out
'

test_expect_success 'history --json lists the runs newest first with their top-level fields' '
	lb history --json >h.json &&
	test "$(json_get h.json "len(d[\"runs\"])")" = 4 &&
	test "$(json_get h.json "[r[\"run_id\"] for r in d[\"runs\"]]")" = "[\"$(jv a3.json run_id)\", \"$(jv a2.json run_id)\", \"$(jv b1.json run_id)\", \"$(jv a1.json run_id)\"]" &&
	test "$(json_get h.json "[r[\"mode\"] for r in d[\"runs\"]]")" = "[\"drill\", \"run\", \"drill\", \"run\"]" &&
	test "$(json_get h.json "[r[\"status\"] for r in d[\"runs\"]]")" = "[\"succeeded\", \"failed\", \"succeeded\", \"succeeded\"]" &&
	test "$(json_get h.json "[r[\"runbook\"] for r in d[\"runs\"]]")" = "[\"alpha\", \"alpha\", \"beta\", \"alpha\"]" &&
	test "$(json_get h.json "d[\"runs\"] == sorted(d[\"runs\"], key=lambda r: r[\"started_at\"], reverse=True)")" = true &&
	r=$(jv a1.json run_id) &&
	test "$(json_get h.json "[x for x in d[\"runs\"] if x[\"run_id\"] == \"$r\"][0][\"started_at\"] == json.load(open(\"a1.json\"))[\"started_at\"]")" = true &&
	test "$(json_get h.json "[x for x in d[\"runs\"] if x[\"run_id\"] == \"$r\"][0][\"rto\"] == json.load(open(\"a1.json\"))[\"rto\"]")" = true &&
	test "$(json_get h.json "[x for x in d[\"runs\"] if x[\"run_id\"] == \"$r\"][0][\"rpo\"] == json.load(open(\"a1.json\"))[\"rpo\"]")" = true &&
	test "$(json_get h.json "d[\"runs\"][0][\"rpo\"][\"status\"]")" = met
'

test_expect_success 'history RUNBOOK and --limit narrow the list' '
	lb history alpha --json >ha.json &&
	test "$(json_get ha.json "sorted(set(r[\"runbook\"] for r in d[\"runs\"]))")" = "[\"alpha\"]" &&
	test "$(json_get ha.json "len(d[\"runs\"])")" = 3 &&
	lb history --limit 2 --json >h2.json &&
	test "$(json_get h2.json "[r[\"run_id\"] for r in d[\"runs\"]]")" = "[\"$(jv a3.json run_id)\", \"$(jv a2.json run_id)\"]" &&
	lb history >h.txt &&
	assert_contains h.txt "$(jv a2.json run_id)"
'

test_expect_success 'show RUN --json is the run report' '
	for r in a1 a2 a3 b1
	do
		lb show "$(jv $r.json run_id)" --json >show-$r.json &&
		if test "$(json_get show-$r.json "d == json.load(open(\"$r.json\"))")" != true
		then
			echo "show --json of $r differs from its report:"
			diff $r.json show-$r.json
			exit 1
		fi
	done
'

test_expect_success 'show of an unknown run id exits 2 and says so' '
	expect_code 2 lb show 0123456789ab >out 2>err &&
	assert_contains err "0123456789ab" &&
	expect_code 2 lb show 0123456789ab --json >out 2>err
'

test_expect_success 'a prefix of a run id is enough' '
	id=$(jv a2.json run_id) &&
	prefix=$(echo "$id" | cut -c1-6) &&
	lb show "$prefix" --json >p.json &&
	test "$(jv p.json run_id)" = "$id" &&
	lb show "$prefix" >p.txt &&
	assert_contains p.txt "$id" &&
	assert_contains p.txt "restore"
'

test_done
