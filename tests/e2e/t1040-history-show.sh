#!/bin/sh
# history and show (SPEC 3): `history --json` lists runs newest first with the report's top-level
# fields; `show RUN --json` gives the same document as the run's report; an unknown id exits 2; a
# prefix of an id is enough.
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

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
	same "$(json_get h.json "[(r[\"run_id\"], r[\"runbook\"], r[\"mode\"], r[\"status\"]) for r in d[\"runs\"]]")" \
		"[[\"$(jv a3.json run_id)\", \"alpha\", \"drill\", \"succeeded\"], [\"$(jv a2.json run_id)\", \"alpha\", \"run\", \"failed\"], [\"$(jv b1.json run_id)\", \"beta\", \"drill\", \"succeeded\"], [\"$(jv a1.json run_id)\", \"alpha\", \"run\", \"succeeded\"]]" &&
	same "$(json_get h.json "[r[\"started_at\"] for r in d[\"runs\"]] == sorted([r[\"started_at\"] for r in d[\"runs\"]], reverse=True)")" true &&
	same "$(json_get h.json "[{k: r[k] for k in (\"started_at\", \"rto\", \"rpo\")} for r in d[\"runs\"]] == [{k: json.load(open(f))[k] for k in (\"started_at\", \"rto\", \"rpo\")} for f in (\"a3.json\", \"a2.json\", \"b1.json\", \"a1.json\")]")" true &&
	same "$(jv h.json runs.0.rpo.status runs.3.rto.met)" "met true"
'

test_expect_success 'history RUNBOOK and --limit narrow the list' '
	lb history alpha --json >ha.json &&
	same "$(json_get ha.json "[r[\"runbook\"] for r in d[\"runs\"]]")" "[\"alpha\", \"alpha\", \"alpha\"]" &&
	lb history --limit 2 --json >h2.json &&
	same "$(json_get h2.json "[r[\"run_id\"] for r in d[\"runs\"]]")" "[\"$(jv a3.json run_id)\", \"$(jv a2.json run_id)\"]" &&
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
	same "$(jv p.json run_id)" "$id" &&
	lb show "$prefix" >p.txt &&
	assert_contains p.txt "$id" &&
	assert_contains p.txt "restore"
'

test_expect_success 'readers never create a history: a wrong --db is not an empty one' '
	mkdir empty && cd empty &&
	expect_code 0 lb history >out &&
	assert_contains out "no history" &&
	expect_code 0 lb --db typo.db history --json >h.json &&
	test "$(json_get h.json "len(d[\"runs\"])")" = 0 &&
	expect_code 2 lb --db typo.db show abc 2>err &&
	assert_contains err "no history at" &&
	expect_code 2 lb --db typo.db report abc --format json 2>err &&
	expect_code 2 lb --db typo.db audit verify 2>err &&
	test ! -e typo.db && test ! -e .lifeboat
'

test_done
