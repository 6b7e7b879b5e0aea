#!/bin/sh
# The audit log (issue 5): hash-chained, append-only; `audit verify` names the first entry that
# was changed, deleted, inserted or reordered, prints the head, and --expect-head catches a cut tail.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

write_runbook a.lua <<-\EOF
return runbook { name = "a",
	phase "p" { step "one" { sh = "true" }, step "two" { manual = "ok?" } },
}
EOF

tamper () { # DB SQL: drops the triggers, then changes the log
	sqlite3 "$1" "drop trigger audit_no_update; drop trigger audit_no_delete; $2"
}

snap () { # a consistent copy of h.db as t.db (a plain cp would miss the WAL)
	rm -f t.db t.db-wal t.db-shm && sqlite3 h.db ".backup t.db"
}

test_expect_success 'runs leave a verifiable chain with the expected events' '
	lb --db h.db run --yes a.lua >out &&
	lb --db h.db run --yes a.lua >out &&
	expect_code 0 lb --db h.db audit verify >v &&
	assert_contains v "audit log ok" &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'run_started'"'"'")" = 2 &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'run_finished'"'"'")" = 2 &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'step_started'"'"'")" = 4 &&
	test "$(sql h.db "select count(*) from audit where event = '"'"'step_result'"'"'")" = 4 &&
	test "$(sql h.db "select count(*) from audit where uid is null or operator is null")" = 0 &&
	sed -n "s/.*head \([0-9]*:[0-9a-f]*\).*/\1/p" v >head.txt &&
	test -s head.txt
'

test_expect_success 'the log refuses updates and deletes' '
	snap &&
	! sqlite3 t.db "update audit set operator = '"'"'mallory'"'"' where seq = 2" 2>e &&
	grep -q "append-only" e &&
	! sqlite3 t.db "delete from audit where seq = 2" 2>e
'

test_expect_success 'a changed field is found and named' '
	snap && tamper t.db "update audit set operator = '"'"'mallory'"'"' where seq = 3" &&
	expect_code 1 lb --db t.db audit verify >v &&
	assert_contains v "entry 3" && assert_contains v "changed"
'

test_expect_success 'a deleted entry is found' '
	snap && tamper t.db "delete from audit where seq = 4" &&
	expect_code 1 lb --db t.db audit verify >v &&
	assert_contains v "entry 5"
'

test_expect_success 'an inserted entry is found' '
	snap &&
	tamper t.db "create temp table tail as select * from audit where seq >= 3; delete from audit where seq >= 3; insert into audit select 3, at, run_id, event, operator, uid, detail, prev_hash, hash from audit where seq = 2; insert into audit select seq + 1, at, run_id, event, operator, uid, detail, prev_hash, hash from tail" &&
	expect_code 1 lb --db t.db audit verify >v &&
	assert_contains v "BROKEN"
'

test_expect_success 'reordered entries are found' '
	snap &&
	tamper t.db "update audit set seq = -1 where seq = 3; update audit set seq = 3 where seq = 4; update audit set seq = 4 where seq = -1" &&
	expect_code 1 lb --db t.db audit verify >v &&
	assert_contains v "BROKEN"
'

test_expect_success '--expect-head passes on an untouched log and catches a cut tail' '
	head=$(cat head.txt) &&
	expect_code 0 lb --db h.db audit verify --expect-head "$head" >v &&
	lb --db h.db run --yes a.lua >out &&
	expect_code 0 lb --db h.db audit verify --expect-head "$head" >v &&
	snap &&
	n=${head%%:*} &&
	tamper t.db "delete from audit where seq >= $n" &&
	expect_code 0 lb --db t.db audit verify >v &&
	expect_code 1 lb --db t.db audit verify --expect-head "$head" >v &&
	assert_contains v "cut"
'

test_expect_success 'confirmations, notes and aborts from other terminals are audited' '
	write_runbook w.lua <<-\EOF
	return runbook { name = "w",
		phase "p" { step "wait" { manual = "go?" }, step "long" { sh = "sleep 30.444" } },
		phase "c" { cleanup = true, step "tidy" { sh = "true" } },
	}
	EOF
	lb --db h.db run w.lua >out 2>&1 &
	wait_for "grep -q \"lifeboat --db\" out" 10 &&
	id=$(lb --db h.db history w --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	LIFEBOAT_USER=bob lb --db h.db note "$id" "looking into it" >o &&
	LIFEBOAT_USER=alice lb --db h.db confirm "$id" wait >o &&
	wait_for "pgrep -f \"sleep 30.444\"" 10 &&
	LIFEBOAT_USER=carol lb --db h.db abort "$id" >o &&
	wait_for "lb --db h.db history w --json | grep -q aborted" 15 &&
	test "$(sql h.db "select operator from audit where event = '"'"'note'"'"'")" = bob &&
	test "$(sql h.db "select operator from audit where event = '"'"'confirm'"'"'")" = alice &&
	test "$(sql h.db "select operator from audit where event = '"'"'abort'"'"'")" = carol &&
	expect_code 0 lb --db h.db audit verify >v &&
	no_process_matching "sleep 30.444"
'

test_done
