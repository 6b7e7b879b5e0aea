#!/bin/sh
# SPEC 9: an older signed version of a runbook (or module), copied back with its own .minisig, does
# not pass require_signed. The history keeps the signatures each file ran with; one whose trusted
# comment's timestamp is older than the newest already run for that file's path, by any key
# trusted now, is refused: exit 5, a refused run with the reason, nothing runs.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
lb -q keygen ci && lb -q keygen ops && lb -q keygen gone && mkdir keys && mv ci.* ops.* gone.* keys/
cat >lifeboat.yaml <<-\EOF
trust:
  keys: [keys/ci.pub, keys/ops.pub]
environments:
  prod: { require_signed: true }
EOF

# version N of rb.lua (and of its module), signed by KEY with the trusted comment's timestamp TS
version () {
	printf 'local m = require "mod"\nreturn runbook { name = "rb", phase "p" { step "s" { sh = "echo v%s-" .. m.v .. " >>ran" } } }\n' "$1" >rb.lua &&
	printf 'return { v = "m%s" }\n' "$1" >mod.lua &&
	for f in rb.lua mod.lua
	do
		rm -f "$f.minisig" &&
		minisign -S -s "keys/$2.key" -m "$f" -t "timestamp:$3	file:$f	hashed" >/dev/null </dev/null || return 1
	done
}

keep () { # NAME: a copy of the runbook, the module and their signatures
	mkdir -p "$1" && cp rb.lua rb.lua.minisig mod.lua mod.lua.minisig "$1"/
}

put_back () { # NAME
	cp "$1"/rb.lua "$1"/rb.lua.minisig "$1"/mod.lua "$1"/mod.lua.minisig .
}

test_expect_success 'v1 then v2 run; v1 copied back with its signature: exit 5, recorded, nothing ran' '
	version 1 ci 1700000000 && keep v1 &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	version 2 ci 1750000000 && keep v2 &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	id2=$(lb history --json | jv - runs.0.run_id) &&
	put_back v1 &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "rb.lua: its signature is from 2023-11-14T22:13:20" &&
	assert_contains err "older than the one run $id2 already ran this file with (signed at 2025-06-15T15:06:40" &&
	assert_contains err "an older signed version does not count" &&
	test "$(cat ran)" = "v1-m1
v2-m2" &&
	test "$(sql .lifeboat/history.db "select status, error like $Q%older signed version%$Q from runs order by started_at desc limit 1")" = "refused|1" &&
	test "$(sql .lifeboat/history.db "select json_extract(detail, $Q\$.reason$Q) from audit where event = $Q"refused"$Q")" = signature
'

test_expect_success 'an older module alone (the runbook current) is refused too' '
	put_back v2 && cp v1/mod.lua v1/mod.lua.minisig . &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "mod.lua: its signature is from 2023-11-14" &&
	test "$(wc -l <ran)" -eq 2
'

test_expect_success 'per file, whichever trusted key signed: an older version by another key is as old' '
	version 1 ops 1720000000 &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "older than the one run" &&
	test "$(wc -l <ran)" -eq 2
'

test_expect_success 'a signature without a timestamp cannot be ordered: refused once the file ran with one' '
	version 3 ci 1760000000 &&
	rm rb.lua.minisig &&
	minisign -S -s keys/ci.key -m rb.lua -t "file:rb.lua" >/dev/null </dev/null &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "rb.lua: its signature carries no timestamp" &&
	test "$(wc -l <ran)" -eq 2
'

test_expect_success 'the current version, and one signed later, run; the same signature runs again' '
	put_back v2 &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	version 4 ops 1780000000 &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test "$(tail -n 3 ran)" = "v2-m2
v4-m4
v4-m4"
'

test_expect_success 'lifeboat sign writes the timestamp that orders them: a fresh signature passes' '
	version 5 ci 1600000000 &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	lb -q sign --key keys/ci.key rb.lua mod.lua &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test "$(tail -n 1 ran)" = "v5-m5"
'

test_expect_success 'a key no longer trusted does not hold files back with its newer signatures' '
	mkdir other && cd other &&
	printf "trust: { keys: [../keys/gone.pub] }\nenvironments: { prod: { require_signed: true } }\n" >lifeboat.yaml &&
	echo "return runbook { name = \"o\", phase \"p\" { step \"s\" { sh = \"echo o >>ran\" } } }" >o.lua &&
	minisign -S -s ../keys/gone.key -m o.lua -t "timestamp:2100000000	file:o.lua	hashed" >/dev/null </dev/null &&
	expect_code 0 lb run --yes --env prod o.lua >out &&
	printf "trust: { keys: [../keys/ci.pub] }\nenvironments: { prod: { require_signed: true } }\n" >lifeboat.yaml &&
	rm o.lua.minisig &&
	minisign -S -s ../keys/ci.key -m o.lua -t "timestamp:1700000000	file:o.lua	hashed" >/dev/null </dev/null &&
	expect_code 0 lb run --yes --env prod o.lua >out &&
	test "$(wc -l <ran)" -eq 2
'

test_expect_success 'a signature from a clock in the future does not lock the file out: a fresh one still runs' '
	version 6 ci 4102444800 &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test "$(tail -n 1 ran)" = "v6-m6" &&
	version 7 ci 1600000000 &&
	lb -q sign --key keys/ci.key rb.lua mod.lua &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test "$(tail -n 1 ran)" = "v7-m7"
'

test_done
