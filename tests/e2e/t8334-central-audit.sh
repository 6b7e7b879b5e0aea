#!/bin/sh
# SPEC 11: `audit verify --central` walks every source history's chain as PostgreSQL stores it.
# Two runners' chains verify, each with the head its own file has; a row changed, deleted or
# inserted in PostgreSQL is caught, naming the source history and the entry, while the other
# source stays ok; `push --all` from the source of truth repairs a deleted row.
. "$(dirname "$0")/lib.sh"
. "$LIFEBOAT_SRC/tests/e2e/pg.sh"

Q="'"

# the source id of runner $1's history
src () {
	sql "$1/.lifeboat/history.db" "select id from central_source"
}

test_expect_success 'setup: a private PostgreSQL; runners a and b run and push' '
	pg_start &&
	pg_runners a b &&
	write_runbook a/rb.lua <<-\EOF &&
	return runbook { name = "rb", phase "p" { step "s" { sh = "echo one" } } }
	EOF
	cp a/rb.lua b/rb.lua &&
	(cd a && lb run --yes rb.lua && lb run --yes rb.lua && lb push) >a.out 2>&1 &&
	(cd b && lb run --yes rb.lua && lb push) >b.out 2>&1 &&
	for r in a b
	do
		test "$(psql_q "select count(*) from audit where source_id = $Q$(src $r)$Q")" = \
			"$(sql $r/.lifeboat/history.db "select count(*) from audit")" || return 1
	done
'

test_expect_success 'audit verify --central: both chains ok, each with the head of its own file' '
	(cd b && lb audit verify --central) >v.out &&
	cat v.out &&
	test "$(grep -c "audit log ok" v.out)" = 2 &&
	for r in a b
	do
		(cd $r && lb audit verify) >l$r.out &&
		head=$(sed -n "s/^audit log ok: .* head \([0-9]*:[0-9a-f]*\)$/\1/p" l$r.out) &&
		test -n "$head" &&
		grep -F "source $(src $r)): audit log ok" v.out >line$r &&
		assert_contains line$r "head $head" &&
		assert_contains line$r "$PWD/$r/.lifeboat/history.db" || return 1
	done
'

test_expect_success 'a row changed in PostgreSQL: exit 1 naming the source and the entry; the local file still verifies' '
	psql_q "update audit set operator = ${Q}mallory$Q where source_id = $Q$(src a)$Q and seq = 2" &&
	expect_code 1 lb --config a/lifeboat.yaml audit verify --central >v2.out &&
	cat v2.out &&
	grep -F "source $(src a)): audit log BROKEN" v2.out >broken &&
	assert_contains broken "entry 2 (" &&
	assert_contains broken "its contents do not match its hash: it was changed" &&
	grep -F "source $(src b)): audit log ok" v2.out &&
	(cd a && lb audit verify) >la.out &&
	assert_contains la.out "audit log ok"
'

test_expect_success 'a row deleted in PostgreSQL is caught; push --all from the source of truth puts it back' '
	psql_q "update audit set operator = a.operator from (select operator from audit where source_id = $Q$(src a)$Q and seq = 1) a
		where source_id = $Q$(src a)$Q and seq = 2" &&
	lb --config a/lifeboat.yaml audit verify --central >v3.out &&
	test "$(grep -c "audit log ok" v3.out)" = 2 &&
	psql_q "delete from audit where source_id = $Q$(src a)$Q and seq = 3" &&
	expect_code 1 lb --config a/lifeboat.yaml audit verify --central >v4.out &&
	cat v4.out &&
	grep -F "source $(src a)): audit log BROKEN" v4.out >broken &&
	assert_contains broken "expected sequence number 3 here: an entry was deleted before it" &&
	(cd a && lb push --all) >p.out &&
	lb --config a/lifeboat.yaml audit verify --central >v5.out &&
	test "$(grep -c "audit log ok" v5.out)" = 2
'

test_expect_success 'a row inserted in PostgreSQL (a forged entry at the end) is caught' '
	psql_q "insert into audit (source_id, seq, at, run_id, event, operator, uid, detail, prev_hash, hash)
		select source_id, seq + 1, at, run_id, event, ${Q}mallory$Q, uid, detail, hash, hash from audit
		where source_id = $Q$(src b)$Q order by seq desc limit 1" &&
	expect_code 1 lb --config a/lifeboat.yaml audit verify --central >v6.out &&
	cat v6.out &&
	grep -F "source $(src b)): audit log BROKEN" v6.out >broken &&
	assert_contains broken "it was changed" &&
	grep -F "source $(src a)): audit log ok" v6.out
'

test_done
