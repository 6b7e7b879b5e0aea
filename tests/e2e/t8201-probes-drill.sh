#!/bin/sh
# Probes in a drill and a run (SPEC 10): a drill runs them before its fault phases — a failing
# one injects nothing (the fault's side effect is absent) and fails the drill with exit 1 — and
# run and drill run them again after the last recovery phase, before cleanup, where a failure
# fails the run. Reports and show keep them apart from the phases.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

# the probe "healthy" passes while the file "sick" is absent; the order of everything is logged
write_runbook svc.lua <<-\EOF
return runbook { name = "svc", rto = "1m",
	probes = {
		step "healthy" { sh = "echo probe-$LIFEBOAT_PHASE >>order; test ! -e sick" },
		step "lua probe" { run = function(ctx) log("probe in %s", ctx.mode) end },
	},
	phase "break it" { fault = true, step "inject" { sh = "echo fault >>order; touch injected" } },
	phase "restore" { step "r" { sh = "echo restore >>order; test ! -e fail-restore" } },
	phase "verify" { step "v" { sh = "echo verify >>order; if test -e break-after; then touch sick; fi" } },
	phase "tidy" { cleanup = true, step "c" { sh = "echo cleanup >>order" } },
}
EOF

test_expect_success 'a drill runs the probes before the fault and after the last recovery phase' '
	expect_code 0 lb --db h.db drill --yes svc.lua --report d.json >out &&
	printf "%s\n" "probe-probes before" fault restore verify "probe-probes after" cleanup >want &&
	same "$(cat order)" "$(cat want)" &&
	same "$(jv d.json status probes.before.0.name probes.before.0.status probes.before.1.kind probes.after.0.status)" \
		"succeeded healthy succeeded run succeeded" &&
	same "$(json_get d.json "[p[\"name\"] for p in d[\"phases\"]]")" "[\"break it\", \"restore\", \"verify\", \"tidy\"]" &&
	assert_contains out "▶ probes before" &&
	assert_contains out "probe in drill"
'

test_expect_success 'a failing probe before the fault injects nothing and fails the drill (exit 1)' '
	rm -f order injected && touch sick &&
	expect_code 1 lb --db h.db drill --yes svc.lua --report f.json >out &&
	test ! -e injected &&
	printf "%s\n" "probe-probes before" cleanup >want &&
	same "$(cat order)" "$(cat want)" &&
	same "$(jv f.json status exit_code probes.before.0.status phases.0.status phases.0.steps.0.status phases.0.steps.0.attempts)" \
		"failed 1 failed skipped skipped 0" &&
	same "$(jv f.json error rto.achieved_s restored_at)" \
		"a probe failed before the fault phases: nothing was injected null null" &&
	id=$(jv f.json run_id) &&
	same "$(sql h.db "select status from steps where run_id = '\''$id'\'' and name = '\''inject'\''")" skipped &&
	same "$(sql h.db "select count(*) from attempts a join phases p on p.run_id = a.run_id and p.idx = a.phase_idx where a.run_id = '\''$id'\'' and p.fault = 1")" 0
'

test_expect_success 'run skips the probes before (no fault) and runs them after the recovery' '
	rm -f order sick &&
	expect_code 0 lb --db h.db run --yes svc.lua --report r.json >out &&
	printf "%s\n" restore verify "probe-probes after" cleanup >want &&
	same "$(cat order)" "$(cat want)" &&
	same "$(jv r.json probes.before.0.status probes.after.0.status probes.after.1.status)" "skipped succeeded succeeded"
'

test_expect_success 'a probe failing after the recovery fails the run (exit 1), cleanup still runs' '
	rm -f order sick && touch break-after &&
	expect_code 1 lb --db h.db run --yes svc.lua --report a.json >out &&
	printf "%s\n" restore verify "probe-probes after" cleanup >want &&
	same "$(cat order)" "$(cat want)" &&
	same "$(jv a.json status exit_code error probes.after.0.status probes.after.1.status)" \
		"failed 1 a probe failed after the recovery failed skipped" &&
	test "$(json_get a.json "d[\"rto\"][\"met\"]")" = true &&
	assert_contains out "run $(jv a.json run_id) failed" &&
	rm -f break-after sick
'

test_expect_success 'a drill fails too when a probe fails after the recovery' '
	rm -f order sick && touch break-after &&
	expect_code 1 lb --db h.db drill --yes svc.lua --report b.json >out &&
	test -e injected &&
	same "$(jv b.json probes.before.0.status probes.after.0.status)" "succeeded failed" &&
	rm -f break-after sick
'

test_expect_success 'a recovery that fails skips the probes after it' '
	rm -f order && touch fail-restore &&
	expect_code 1 lb --db h.db run --yes svc.lua --report c.json >out &&
	same "$(jv c.json probes.after.0.status error)" "skipped phase '\''restore'\'' failed" &&
	rm -f fail-restore
'

test_expect_success 'show, JUnit, Markdown and HTML show the probes' '
	id=$(jv f.json run_id) &&
	expect_code 0 lb --db h.db show "$id" >show &&
	assert_contains show "probes before" &&
	assert_contains show "probes (before the fault)" &&
	expect_code 0 lb --db h.db report "$id" --format junit -o f.xml >/dev/null &&
	assert_contains f.xml "classname=\"probes before\"" &&
	expect_code 0 lb --db h.db report "$id" --format md -o f.md >/dev/null &&
	assert_contains f.md "## Probes" &&
	expect_code 0 lb --db h.db report "$id" --format html -o f.html >/dev/null &&
	assert_contains f.html "<h2>Probes</h2>"
'

test_done
