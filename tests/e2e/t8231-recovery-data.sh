#!/bin/sh
# The recovery library's data checks (SPEC 10, require "lifeboat.data"): PSI and KS over Lua
# arrays and over the rows of a real SQLite file, against values computed independently here in
# Python's standard library (statistics.quantiles' inclusive method is numpy's linear default; the
# KS statistic by brute force over every distinct value) to 1e-9; and data.compare of restored
# tables against a reference profile kept as JSON: a faithful restore passes, flipped labels
# and a lost third of the rows fail, each finding named.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# samples.db: table s(name, x) holding several named samples; the same as JSON for Lua arrays;
# expected.txt: "psi|ks CASE VALUE" from Python alone.
/usr/bin/python3 - <<-\PY || _lb_bail "cannot make the samples"
import bisect, json, math, random, sqlite3, statistics
rng = random.Random(8231)
S = {
    "normal": [rng.gauss(0, 1) for _ in range(3000)],
    "shifted": [rng.gauss(0.3, 1.2) for _ in range(2500)],
    "ints": [rng.randint(0, 4) for _ in range(1000)],           # ties: repeated edges
    "ints2": [min(6, rng.randint(0, 5) + rng.randint(0, 1)) for _ in range(700)],
    "labels": [1 if rng.random() < 0.3 else 0 for _ in range(2000)],
    "flipped": [0 if rng.random() < 0.3 else 1 for _ in range(2000)],
    "wide": [rng.uniform(-10, 10) for _ in range(500)],          # beyond the expected range
    "small": [3.5, 1.25, 2.0, 2.0, 8.0, 5.5, 2.0],
    "small2": [2.0, 4.0, 4.0, 9.5, 1.0],
}
def psi(expected, actual, bins=10):
    interior = statistics.quantiles(expected, n=bins, method="inclusive")
    def props(xs):
        c = [0] * bins
        for x in xs:
            c[bisect.bisect_right(interior, x)] += 1
        return [(k / len(xs)) if k else 0.0001 for k in c]
    e, a = props(expected), props(actual)
    return sum((ai - ei) * math.log(ai / ei) for ei, ai in zip(e, a))
def ks(a, b):
    d = 0.0
    for v in set(a) | set(b):
        fa = sum(1 for x in a if x <= v) / len(a)
        fb = sum(1 for x in b if x <= v) / len(b)
        d = max(d, abs(fa - fb))
    return d
CASES = [("normal", "shifted", None), ("normal", "shifted", 5), ("normal", "normal", None),
         ("ints", "ints2", None), ("ints", "ints2", 4), ("labels", "flipped", None),
         ("normal", "wide", 20), ("small", "small2", 3)]
db = sqlite3.connect("samples.db")
db.execute("create table s (name text, x real)")
for name, xs in S.items():
    db.executemany("insert into s values (?, ?)", [(name, x) for x in xs])
db.commit()
with open("samples.json", "w") as f:
    json.dump(S, f)
with open("cases.json", "w") as f:
    json.dump([[e, a, b or 0] for e, a, b in CASES], f)
with open("expected.txt", "w") as f:
    for e, a, b in CASES:
        f.write("psi %s-%s-%d %.17g\n" % (e, a, b or 0, psi(S[e], S[a], b or 10)))
    for a, b in (("normal", "shifted"), ("ints", "ints2"), ("labels", "flipped"), ("small", "small2"),
                 ("normal", "normal")):
        f.write("ks %s-%s %.17g\n" % (a, b, ks(S[a], S[b])))
PY

write_runbook stats.lua <<-\EOF
local data = require "lifeboat.data"
return runbook { name = "stats", phase "p" { step "compute" { run = function()
	local arrays = json.decode(fs.read("samples.json"))
	local db <close> = sql.open("samples.db", { readonly = true })
	local function rows(name) return db:query("select x from s where name = ? order by rowid", name) end
	local out = {}
	for _, c in ipairs(json.decode(fs.read("cases.json"))) do
		local e, a, bins = c[1], c[2], c[3] ~= 0 and c[3] or nil
		local key = string.format("%s-%s-%d", e, a, c[3])
		-- the same value over Lua arrays and over SQL rows
		local p1 = data.psi(arrays[e], arrays[a], bins)
		local p2 = data.psi(rows(e), rows(a), bins)
		assert(math.abs(p1 - p2) < 1e-12, key .. ": arrays and rows differ")
		out[#out + 1] = string.format("psi %s %.17g", key, p2)
	end
	for _, c in ipairs({ { "normal", "shifted" }, { "ints", "ints2" }, { "labels", "flipped" },
		{ "small", "small2" }, { "normal", "normal" } }) do
		local d1 = data.ks(arrays[c[1]], arrays[c[2]])
		local d2 = data.ks(rows(c[1]), data.column(db:query("select x from s where name = ?", c[2]), "x"))
		assert(d1 == d2, "ks: arrays and rows differ")
		out[#out + 1] = string.format("ks %s-%s %.17g", c[1], c[2], d1)
	end
	fs.write("got.txt", table.concat(out, "\n") .. "\n")
end } } }
EOF

test_expect_success 'PSI and KS match an independent computation to 1e-9 (arrays and SQLite rows)' '
	expect_code 0 lb --db h.db run --yes stats.lua >out &&
	test "$(wc -l <expected.txt)" = 13 &&
	/usr/bin/python3 - <<-\PY
	want = dict((l.split()[0] + " " + l.split()[1], float(l.split()[2])) for l in open("expected.txt"))
	got = dict((l.split()[0] + " " + l.split()[1], float(l.split()[2])) for l in open("got.txt"))
	assert set(want) == set(got), (sorted(want), sorted(got))
	bad = [(k, want[k], got[k]) for k in want if abs(want[k] - got[k]) > 1e-9]
	for k in sorted(want):
	    print("%-32s python %.12f lifeboat %.12f" % (k, want[k], got[k]))
	assert not bad, bad
	# the cases are not trivial: a shift, flipped labels and ties all show
	assert got["psi normal-shifted-0"] > 0.1 and got["psi labels-flipped-0"] > 0.5, got
	assert got["psi normal-normal-0"] == 0 and got["ks normal-normal"] == 0, got
	assert 0 < got["ks ints-ints2"] < 1, got
	PY
'

test_expect_success 'misuse raises with the reason: several columns, text, no values, bad bins' '
	write_runbook misuse.lua <<-\EOF &&
	local data = require "lifeboat.data"
	return runbook { name = "misuse", phase "p" { step "s" { run = function()
		local db <close> = sql.open("samples.db", { readonly = true })
		local msgs = {}
		local function try(f) local ok, e = pcall(f) assert(not ok) msgs[#msgs + 1] = e end
		try(function() data.psi(db:query("select name, x from s limit 5"), { 1, 2 }) end)
		try(function() data.psi({ 1, 2, "x" }, { 1, 2 }) end)
		try(function() data.psi({}, { 1, 2 }) end)
		try(function() data.psi({ 1, 2, 3 }, { 1, 2 }, 1) end)
		try(function() data.ks({ 1, 0/0 }, { 1 }) end)
		fs.write("msgs.txt", table.concat(msgs, "\n") .. "\n")
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes misuse.lua >out &&
	assert_contains msgs.txt "data.psi: expected: row 1 has several columns (name, x): select one, or use data.column(rows, name)" &&
	assert_contains msgs.txt "data.psi: expected: value 3 is a string (x), not a number" &&
	assert_contains msgs.txt "data.psi: the expected sample has no values" &&
	assert_contains msgs.txt "data.psi: bins must be a whole number from 2 to 1000, not 1" &&
	assert_contains msgs.txt "data.ks: a: value 2 is NaN, not a number"
'

# features.db: the reference table; restored.db holds three restores of it: faithful (the same
# rows in another order), poisoned (labels flipped) and truncated (a third of the rows lost).
/usr/bin/python3 - <<-\PY || _lb_bail "cannot make the feature tables"
import random, sqlite3
rng = random.Random(4)
rows = [(i, rng.gauss(50, 10), rng.expovariate(0.2), 1 if rng.random() < 0.3 else 0) for i in range(1500)]
for path, tables in (("features.db", {"features": rows}),
                     ("restored.db", {"faithful": list(reversed(rows)),
                                      "poisoned": [(i, a, b, 1 - l) for i, a, b, l in rows],
                                      "truncated": rows[:1000]})):
    db = sqlite3.connect(path)
    for t, rs in tables.items():
        db.execute("create table %s (id integer, tenure real, spend real, label integer)" % t)
        db.executemany("insert into %s values (?, ?, ?, ?)" % t, rs)
    db.commit()
PY

test_expect_success 'data.compare: a faithful restore passes; flipped labels and lost rows fail, named' '
	write_runbook compare.lua <<-\EOF &&
	local data = require "lifeboat.data"
	return runbook { name = "compare", phase "p" {
		step "profile" { run = function()
			fs.write("reference.json", json.encode(data.profile("features.db",
				"select tenure, spend, label from features")))
		end },
		step "compare" { run = function()
			local ref = json.decode(fs.read("reference.json"))
			local db <close> = sql.open("restored.db", { readonly = true })
			local out = {}
			for _, t in ipairs({ "faithful", "poisoned", "truncated" }) do
				local r = data.compare(db, "select tenure, spend, label from " .. t, ref,
					{ max_psi = 0.1, max_rows_delta = 0.05 })
				for _, f in ipairs(r.findings) do
					out[#out + 1] = string.format("%s %s %s", t, f.name, f.ok and "ok" or "FAIL")
				end
				out[#out + 1] = string.format("%s ok=%s rows=%d label_psi=%.6f", t, tostring(r.ok), r.rows, r.psi.label)
			end
			fs.write("compare.txt", table.concat(out, "\n") .. "\n")
			data.check(data.compare(db, "select tenure, spend, label from poisoned", ref), "restored features")
		end },
	} }
	EOF
	expect_code 1 lb --db h.db run --yes compare.lua >out &&
	cat compare.txt &&
	test "$(json_get reference.json "sorted(d[\"columns\"])")" = "[\"label\", \"spend\", \"tenure\"]" &&
	test "$(json_get reference.json "d[\"rows\"], len(d[\"columns\"][\"tenure\"][\"edges\"])")" = "[1500, 11]" &&
	assert_contains compare.txt "faithful rows ok" &&
	assert_contains compare.txt "faithful psi:label ok" &&
	assert_contains compare.txt "faithful psi:tenure ok" &&
	assert_contains compare.txt "faithful ok=true rows=1500 label_psi=0.000000" &&
	assert_contains compare.txt "poisoned rows ok" &&
	assert_contains compare.txt "poisoned psi:label FAIL" &&
	assert_contains compare.txt "poisoned psi:spend ok" &&
	assert_contains compare.txt "poisoned ok=false" &&
	assert_contains compare.txt "truncated rows FAIL" &&
	assert_contains compare.txt "truncated ok=false rows=1000" &&
	assert_contains out "✓ rows: 1500 rows, the reference has 1500 (+0.0%, at most ±10.0%)" &&
	grep -q "restored features failed: psi:label (label: PSI 0\.[0-9]* against the reference, at most 0\.1)" out
'

test_expect_success 'the poisoned PSI is the independent PSI of the label column' '
	/usr/bin/python3 - <<-\PY >want &&
	import bisect, math, sqlite3, statistics
	e = [r[0] for r in sqlite3.connect("features.db").execute("select label from features")]
	a = [r[0] for r in sqlite3.connect("restored.db").execute("select label from poisoned")]
	interior = statistics.quantiles(e, n=10, method="inclusive")
	def props(xs):
	    c = [0] * 10
	    for x in xs: c[bisect.bisect_right(interior, x)] += 1
	    return [(k / len(xs)) if k else 0.0001 for k in c]
	print("%.6f" % sum((y - x) * math.log(y / x) for x, y in zip(props(e), props(a))))
	PY
	assert_contains compare.txt "poisoned ok=false rows=1500 label_psi=$(cat want)"
'

test_done
