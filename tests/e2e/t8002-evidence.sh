#!/bin/sh
# Evidence bundles (SPEC 9): `lifeboat evidence RUN_ID -o DIR` (and --tar FILE) writes the
# reports, the runbook files exactly as run (from the history, after the files changed), the
# run's audit chain segment with the hash before it, an exercise summary and a MANIFEST signed
# with evidence_key; `minisign -Vm MANIFEST -p KEY.pub && sha256sum -c MANIFEST` checks it, and
# one changed file is caught. The scheduler writes a bundle after a drill with evidence: true.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
lb -q keygen ev
cat >lifeboat.yaml <<-\EOF
evidence_key: ev.key
roles: { sre: { members: [tester] }, commander: { members: [tester] } }
schedules:
  - { runbook: drill.lua, cron: "* * * * *", yes: true, evidence: true }
EOF
write_runbook lib/steps.lua <<-\EOF
return { restore = "echo restored" }
EOF
write_runbook rb.lua <<-\EOF
local steps = require "lib.steps"
return runbook { name = "store", description = "Restore the store from last night's snapshot",
	rto = "10m", rpo = "1h", roles = { "sre", "commander" },
	recovery_point = function() return os.time() - 60 end,
	phase "restore" { role = "sre", budget = "100ms",
		step "flaky" { sh = "test -e tried || { touch tried; exit 1; }", retries = 1, retry_delay = "10ms" },
		step "copy" { sh = steps.restore },
		step "slow" { sh = "sleep 0.3" },
	},
	phase "sign off" { role = "commander",
		step "commander confirms" { manual = "Is the store back?" },
	},
}
EOF
cp rb.lua rb.lua.orig
write_runbook drill.lua <<-\EOF
return runbook { name = "drill", phase "p" { step "s" { sh = "true" } } }
EOF

add_finding () { # RUN_ID: a review finding, noted after the run ended
	lb -q note "$1" "snapshot was 40 minutes old"
}

test_expect_success 'a run, a note, then its evidence: every file is there, MANIFEST signed' '
	expect_code 0 lb run --yes rb.lua --report r.json >out &&
	id=$(json_get r.json "d[\"run_id\"]") && echo "$id" >id &&
	add_finding "$id" &&
	echo "-- edited after the run" >>rb.lua &&
	expect_code 0 lb evidence "$id" -o bundle >out &&
	assert_contains out "MANIFEST signed by key" &&
	for f in report.json report.xml report.md report.html audit.jsonl exercise.md README.txt \
		check-audit.py runbook/rb.lua runbook/lib/steps.lua MANIFEST MANIFEST.minisig; do
		test -s "bundle/$f" || { echo "missing $f"; exit 1; }
	done &&
	cmp bundle/runbook/rb.lua rb.lua.orig &&
	test "$(wc -l <bundle/MANIFEST)" = 10 &&
	! grep -q "MANIFEST" bundle/MANIFEST
'

test_expect_success 'minisign and sha256sum check the bundle; the audit segment checks on its own' '
	(cd bundle && minisign -Vm MANIFEST -p ../ev.pub >../mv && sha256sum -c MANIFEST >../sc) &&
	assert_contains mv "Signature and comment signature verified" &&
	assert_contains mv "file:MANIFEST	run:$(cat id)" &&
	assert_contains sc "runbook/rb.lua: OK" &&
	(cd bundle && python3 check-audit.py audit.jsonl >../ac) &&
	assert_contains ac "audit segment ok" &&
	head -n 1 bundle/audit.jsonl | grep -q "\"hash_before\"" &&
	test "$(json_get bundle/report.json "d[\"run_id\"]")" = "$(cat id)" &&
	xmllint --noout bundle/report.xml
'

test_expect_success 'the exercise summary names scenario, objectives, participants, results, deviations, notes' '
	e=bundle/exercise.md &&
	assert_contains $e "Restore the store from last night${Q}s snapshot" &&
	assert_contains $e "- RTO: 10m" &&
	assert_contains $e "| restore | sre | 100ms |" &&
	assert_contains $e "| tester | " &&
	assert_contains $e "| commander confirms | commander | auto-confirmed (--yes by tester) |" &&
	assert_contains $e "- Run: **succeeded**, exit code 0" &&
	assert_contains $e "- Phase restore over budget" &&
	assert_contains $e "- Step flaky (phase restore): retried, 2 attempts" &&
	assert_contains $e "snapshot was 40 minutes old" &&
	assert_contains $e "## Audit trail"
'

test_expect_success 'one changed file is caught by sha256sum; a changed MANIFEST by minisign' '
	cp -r bundle b2 &&
	sed -i "s/succeeded/failed/" b2/report.md &&
	! (cd b2 && sha256sum -c MANIFEST >../sc 2>&1) &&
	assert_contains sc "report.md: FAILED" &&
	cp -r bundle b3 &&
	sed -i "s/  report.md$/  report.txt/" b3/MANIFEST &&
	! (cd b3 && minisign -Vm MANIFEST -p ../ev.pub >../mv 2>&1) &&
	cp -r bundle b4 &&
	python3 - b4/audit.jsonl <<-\EOF &&
	import json, sys
	lines = open(sys.argv[1]).read().splitlines()
	e = json.loads(lines[2]); e["operator"] = "mallory"; lines[2] = json.dumps(e)
	open(sys.argv[1], "w").write("\n".join(lines) + "\n")
	EOF
	! (cd b4 && python3 check-audit.py >../ac 2>&1) &&
	assert_contains ac "was changed"
'

test_expect_success '--tar writes the same bundle as one archive' '
	id=$(cat id) &&
	expect_code 0 lb evidence "$id" --tar bundle.tar >out &&
	mkdir x && tar -xf bundle.tar -C x &&
	(cd "x/evidence-$id" && minisign -Vm MANIFEST -p ../../ev.pub >/dev/null && sha256sum -c MANIFEST >/dev/null) &&
	cmp "x/evidence-$id/runbook/rb.lua" rb.lua.orig
'

test_expect_success 'a folder that is not empty is refused; a bad run id names it' '
	expect_code 1 lb evidence "$(cat id)" -o bundle 2>err &&
	assert_contains err "is not empty" &&
	expect_code 2 lb evidence nosuchrun -o elsewhere 2>err &&
	test ! -e elsewhere &&
	expect_code 2 lb evidence "$(cat id)" 2>err &&
	assert_contains err "-o DIR"
'

test_expect_success 'without evidence_key the bundle is unsigned and still checks with sha256sum' '
	printf "roles: { sre: { members: [tester] }, commander: { members: [tester] } }\n" >plain.yaml &&
	expect_code 0 lb --config plain.yaml evidence "$(cat id)" -o plain >out &&
	assert_contains out "not signed" &&
	test ! -e plain/MANIFEST.minisig &&
	(cd plain && sha256sum -c MANIFEST >/dev/null)
'

tamper_source () { # DB: changes the stored text of the runbook
	sqlite3 "$1" "update sources set text = cast('return 1' as blob) where sha256 = (select sha256 from run_sources where idx = 0 limit 1)"
}

test_expect_success 'a source changed in the history is refused, not exported' '
	sqlite3 .lifeboat/history.db ".backup h2.db" &&
	tamper_source h2.db &&
	expect_code 1 lb --db h2.db evidence "$(cat id)" -o tampered 2>err &&
	assert_contains err "does not match its recorded SHA-256"
'

test_expect_success 'a signed run carries its runbook'"$Q"'s signatures: minisign checks the code that ran' '
	lb -q keygen ci &&
	printf "trust: { keys: [ci.pub] }\nevidence_key: ev.key\nroles: { sre: { members: [tester] }, commander: { members: [tester] } }\n" >signed.yaml &&
	cp rb.lua.orig srb.lua &&
	lb -q sign --key ci.key srb.lua lib/steps.lua &&
	expect_code 0 lb --config signed.yaml run --yes srb.lua --report s.json >out &&
	sid=$(json_get s.json "d[\"run_id\"]") &&
	rm srb.lua.minisig && echo "-- changed" >>srb.lua &&
	expect_code 0 lb --config signed.yaml evidence "$sid" -o sbundle >out &&
	(cd sbundle && sha256sum -c MANIFEST >/dev/null &&
		minisign -Vm runbook/srb.lua -p ../ci.pub >../mv &&
		minisign -Vm runbook/lib/steps.lua -p ../ci.pub >/dev/null) &&
	assert_contains mv "file:srb.lua" &&
	grep -q "  runbook/srb.lua.minisig$" sbundle/MANIFEST &&
	assert_contains sbundle/README.txt "signed by key $(head -n 1 ci.pub | sed "s/.* //")"
'

test_expect_success 'the scheduler writes a bundle after a drill with evidence: true' '
	expect_code 0 lb scheduler --once >out 2>err &&
	assert_contains out "evidence of run" &&
	dir=$(ls -d reports/evidence-*) &&
	(cd "$dir" && minisign -Vm MANIFEST -p ../../ev.pub >/dev/null && sha256sum -c MANIFEST >/dev/null) &&
	assert_contains "$dir/report.json" "\"trigger\": \"schedule\""
'

test_done
