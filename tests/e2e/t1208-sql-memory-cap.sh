#!/bin/sh
# The Lua memory cap covers the runbook's SQLite databases (issue 10 item 15): a ":memory:"
# database lives in SQLite's page cache, outside Lua's allocator, so a runbook with a 32 MiB cap
# could build one of 1.5 GB. Now the databases a runbook has open hold at most lua_memory
# together (statements past it are interrupted, and no single value may be longer); a file
# database may still be as large as the disk allows.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

test_expect_success 'a :memory: database cannot grow past the cap, alone or with others' '
	write_runbook mem.lua <<-\EOF &&
	local fill = "with recursive c(x) as (select 1 union all select x + 1 from c where x < ?) "
		.. "insert into t select randomblob(1000) from c"
	return runbook { name = "mem",
		phase "p" {
			step "one big" { run = function()
				local db = sql.open(":memory:")
				db:exec("create table t(b)")
				local ok, err = pcall(db.exec, db, fill, 200000)
				assert(not ok, "200 MB went into a :memory: database")
				log("one: %s", err)
				assert(db:scalar("select count(*) from t") == 0)
				db:close()
			end },
			step "two halves" { run = function()
				local a, b = sql.open(":memory:"), sql.open(":memory:")
				a:exec("create table t(b)")
				b:exec("create table t(b)")
				a:exec(fill, 20000)
				local ok, err = pcall(b.exec, b, fill, 20000)
				assert(not ok, "40 MB went into two :memory: databases")
				log("two: %s", err)
				a:close()
				b:exec(fill, 20000)	-- the first one gave its memory back
				log("after close: %d rows", b:scalar("select count(*) from t"))
			end },
			step "one value" { run = function()
				local db = sql.open(":memory:")
				local ok, err = pcall(db.scalar, db, "select length(zeroblob(40 * 1024 * 1024))")
				assert(not ok)
				log("value: %s", err)
			end },
			step "a file" { run = function()
				local db = sql.open("big.db", { create = true })
				db:exec("create table t(b)")
				db:exec(fill, 40000)
				log("file: %d rows", db:scalar("select count(*) from t"))
			end },
		},
	}
	EOF
	LIFEBOAT_LUA_MEMORY=32MiB expect_code 0 lb --db h.db run --yes mem.lua >out 2>err &&
	assert_contains out "one: sql: interrupted" &&
	assert_contains out "more than 32 MiB of memory (the Lua memory limit, lua_memory, covers them too)" &&
	grep "two: " out >two &&
	assert_contains two "more than 32 MiB" &&
	assert_contains out "after close: 20000 rows" &&
	assert_contains out "value: sql: string or blob too big" &&
	assert_contains out "file: 40000 rows"
'

test_done
