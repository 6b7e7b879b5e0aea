#!/bin/sh
# The runbook standard library (SPEC 1, "The Lua API available to runbooks"): fs against real
# files, sql against a real SQLite file, http against a real server on loopback, and json, log,
# recovery_point, wait_until, now, sleep, secret; and the functions that act raise "not available
# while loading" at a runbook's top level.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# step_error FILE.lua [OPTIONS]: runs it (exit 1 expected) and prints its first step's error
step_error () {
	expect_code 1 lb --db h.db run --yes "$@" --report r.json >/dev/null 2>&1 &&
	jv r.json phases.0.steps.0.error
}

# A test HTTP server on a free loopback port: /slow sleeps 5 s, /missing is a 404, /headers
# echoes the request headers as JSON, /redirect goes to /hello, POST and PUT echo the body.
cat >server.py <<-\EOF
import http.server, json, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body, ctype="text/plain", extra=()):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Twice", "one")
        self.send_header("X-Twice", "two")
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(5)
            return self.send(200, "late")
        if self.path == "/missing":
            return self.send(404, "no such thing")
        if self.path == "/headers":
            return self.send(200, json.dumps({k.lower(): v for k, v in self.headers.items()}),
                             "application/json")
        if self.path == "/redirect":
            return self.send(302, "", extra=[("Location", "/hello")])
        self.send(200, "hello from " + self.path)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.send(201, self.command + " " + body)
    do_PUT = do_POST
http.server.ThreadingHTTPServer.daemon_threads = True
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open("port.tmp", "w") as f: f.write(str(srv.server_address[1]))
import os; os.rename("port.tmp", "port")
srv.serve_forever()
EOF
python3 server.py >server.log 2>&1 &
at_exit "kill $!"
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat port)
# a port nothing listens on
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
export PORT CLOSED

test_expect_success 'the test server is up' '
	test -n "$PORT" &&
	curl -fsS "http://127.0.0.1:$PORT/x" >body &&
	assert_contains body "hello from /x"
'

# fs -------------------------------------------------------------------------------------------

test_expect_success 'fs: read, write, exists, size, list, copy, remove against real files' '
	mkdir -p fsdir/sub &&
	printf "one\ntwo\n" >fsdir/given.txt &&
	write_runbook fsdir/fs.lua <<-\EOF &&
	return runbook { name = "fs", phase "p" { step "files" { run = function()
		assert(fs.exists("given.txt") == true and fs.exists("nope") == false)
		assert(fs.read("given.txt") == "one\ntwo\n")
		assert(fs.size("given.txt") == 8 and math.type(fs.size("given.txt")) == "integer")
		assert(fs.write("new.txt", "bin\0ary\255") == true)
		assert(fs.read("new.txt") == "bin\0ary\255")
		assert(fs.write("new.txt", "replaced") and fs.read("new.txt") == "replaced")
		assert(fs.copy("given.txt", "sub/copy.txt") == true)
		assert(fs.read("sub/copy.txt") == "one\ntwo\n")
		local names = fs.list(".")
		assert(table.concat(names, ",") == "fs.lua,given.txt,new.txt,sub", table.concat(names, ","))
		assert(fs.remove("sub/copy.txt") == true and not fs.exists("sub/copy.txt"))
		assert(fs.remove("sub") == true and not fs.exists("sub"))
		assert(fs.write("", "x") == nil)
	end } } }
	EOF
	expect_code 1 lb --db h.db run --yes fsdir/fs.lua --report r.json >out &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "bad argument #1 to '\''write'\'' (empty path)" &&
	test "$(cat fsdir/new.txt)" = replaced &&
	test ! -e fsdir/sub &&
	test "$(ls -A fsdir | tr "\n" " ")" = "fs.lua given.txt new.txt "
'

test_expect_success 'fs: expected failures return nil and "path: reason"; misuse raises' '
	write_runbook fsfail.lua <<-\EOF &&
	return runbook { name = "fsfail", phase "p" { step "fail" { run = function()
		local v, err = fs.read("missing.txt")
		assert(v == nil and err:find("/missing.txt: No such file or directory", 1, true), err)
		v, err = fs.list("missing")
		assert(v == nil and err:find("missing: No such file or directory", 1, true), err)
		v, err = fs.write("no/such/folder/x.txt", "x")
		assert(v == nil and err:find("x.txt: No such file or directory", 1, true), err)
		v, err = fs.copy("missing.txt", "copy.txt")
		assert(v == nil and err:find("missing.txt", 1, true), err)
		v, err = fs.remove("missing.txt")
		assert(v == nil and err:find("missing.txt", 1, true), err)
		v, err = fs.read(".")
		assert(v == nil and err:find("Is a directory", 1, true), err)
		v, err = fs.sha256("missing.txt")
		assert(v == nil and err:find("missing.txt", 1, true), err)
		assert(fs.mtime("missing.txt") == nil and fs.size("missing.txt") == nil)
		fs.read({})
	end } } }
	EOF
	step_error fsfail.lua >error.txt &&
	assert_contains error.txt "fsfail.lua:17: bad argument #1 to '\''read'\'' (string expected, got table)"
'

test_expect_success 'fs: sha256 and mtime agree with sha256sum and stat' '
	head -c 300000 /dev/urandom >blob.bin &&
	touch -d "2026-01-02 03:04:05.678" blob.bin &&
	write_runbook hash.lua <<-\EOF &&
	return runbook { name = "hash", phase "p" { step "hash" { run = function()
		fs.write("hash.out", fs.sha256("blob.bin") .. " " .. string.format("%.3f", fs.mtime("blob.bin")))
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes hash.lua >out &&
	test "$(cat hash.out)" = "$(sha256sum blob.bin | cut -d" " -f1) 1767323045.678"
'

test_expect_success 'fs.write is atomic: no temporary file left, the mode of the old file kept' '
	printf old >mode.txt &&
	chmod 640 mode.txt &&
	write_runbook atomic.lua <<-\EOF &&
	return runbook { name = "atomic", phase "p" { step "w" { run = function()
		assert(fs.write("mode.txt", string.rep("n", 100000)))
		assert(fs.copy("mode.txt", "copied.txt"))
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes atomic.lua >out &&
	test "$(stat -c %a mode.txt)" = 640 &&
	test "$(stat -c %a copied.txt)" = 640 &&
	test "$(wc -c <mode.txt)" = 100000 &&
	test -z "$(ls -A | grep lifeboat-)"
'

test_expect_success 'fs: relative paths resolve against the runbook workdir' '
	mkdir -p wd/books wd/data &&
	printf "in data" >wd/data/f.txt &&
	write_runbook wd/books/wd.lua <<-\EOF &&
	return runbook { name = "wd", workdir = "../data", phase "p" { step "s" { run = function()
		assert(fs.read("f.txt") == "in data")
		assert(fs.write("out.txt", "written"))
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes wd/books/wd.lua >out &&
	test "$(cat wd/data/out.txt)" = written
'

test_expect_success 'fs.read refuses a file over 64 MiB instead of loading it' '
	truncate -s 65M big.bin &&
	write_runbook big.lua <<-\EOF &&
	return runbook { name = "big", phase "p" { step "s" { run = function()
		local v, err = fs.read("big.bin")
		assert(v == nil, "read it")
		error(err)
	end } } }
	EOF
	step_error big.lua >error.txt &&
	assert_contains error.txt "big.bin: too big to read" &&
	assert_contains error.txt "64 MiB"
'

# sql ------------------------------------------------------------------------------------------

test_expect_success 'sql: create, exec with binds, query rows, scalar; the file is a real SQLite db' '
	write_runbook sqlrw.lua <<-\EOF &&
	return runbook { name = "sqlrw", phase "p" { step "db" { run = function()
		local db = sql.open("store.db", { create = true })
		assert(db:exec([[
			create table features (id integer primary key, name text, score real, raw blob);
			create index features_name on features (name);
		]]) == 0)
		assert(db:exec("insert into features (name, score, raw) values (?, ?, ?)", "a", 1.5, "x\0y") == 1)
		assert(db:exec("insert into features (name, score) values (?, ?), (?, ?)", "b", 2, "c", nil) == 2)
		assert(db:exec("insert into features (name) values (?)", "Robert\x27); drop table features; --") == 1)
		local rows = db:query("select id, name, score, raw from features where id <= ? order by id", 3)
		assert(#rows == 3)
		assert(rows[1].id == 1 and math.type(rows[1].id) == "integer" and rows[1].name == "a")
		assert(rows[1].score == 1.5 and rows[1].raw == "x\0y")
		assert(rows[2].score == 2.0 and rows[3].score == nil and rows[3].raw == nil)
		assert(db:scalar("select count(*) from features") == 4)
		assert(db:scalar("select name from features where id = ?", 99) == nil)
		assert(db:scalar("select ? || ?", "con", "cat") == "concat")
		assert(db:scalar("select ?", true) == 1)
		assert(#db:query("select * from features where 0") == 0)
		assert(db:exec("update features set score = score * 2 where score is not null") == 2)
		db:close()
		db:close()
		local ok, err = pcall(db.scalar, db, "select 1")
		assert(not ok and err:find("closed database", 1, true), err)
		do
			local db2 <close> = sql.open("store.db")
			assert(db2:scalar("select score from features where name = ?", "b") == 4.0)
		end
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes sqlrw.lua >out &&
	test "$(sql store.db "select count(*), sum(score) from features")" = "4|7.0" &&
	test "$(sql store.db "select name from features where id = 4")" = "Robert'\''); drop table features; --"
'

test_expect_success 'sql: a database made elsewhere is read, readonly refuses writes' '
	sql other.db "create table events (t text); insert into events values ('\''2026-11-20T10:00:00Z'\''), ('\''2026-11-21T09:30:00Z'\'')" &&
	write_runbook sqlro.lua <<-\EOF &&
	return runbook { name = "sqlro", phase "p" { step "ro" { run = function()
		local db = sql.open("other.db", { readonly = true })
		assert(db:scalar("select max(t) from events") == "2026-11-21T09:30:00Z")
		db:exec("delete from events")
	end } } }
	EOF
	step_error sqlro.lua >error.txt &&
	assert_contains error.txt "sqlro.lua:4: sql: attempt to write a readonly database" &&
	test "$(sql other.db "select count(*) from events")" = 2
'

test_expect_success 'sql: a missing file is an error unless create = true, and is not created' '
	write_runbook sqlmissing.lua <<-\EOF &&
	return runbook { name = "sqlmissing", phase "p" { step "open" { run = function()
		sql.open("absent.db")
	end } } }
	EOF
	step_error sqlmissing.lua >error.txt &&
	assert_contains error.txt "sqlmissing.lua:2: sql.open: cannot open" &&
	assert_contains error.txt "absent.db'\'': No such file or directory (create = true makes a new database)" &&
	test ! -e absent.db
'

test_expect_success 'sql: misuse raises (parameter count, types, two statements, options)' '
	for case in \
		"db:query(\"select ?\", 1, 2)|the statement has 1 parameter, 2 values given" \
		"db:query(\"select ?\")|the statement has 1 parameter, 0 values given" \
		"db:query(\"select ?\", {})|bad argument #2 to '\''query'\'' (nil, boolean, number or string expected, got table)" \
		"db:scalar(\"select 1; select 2\")|one statement at a time" \
		"db:query(\"select * from nosuch\")|sql: no such table: nosuch" \
		"sql.open(\"x.db\", { craete = true })|unknown option '\''craete'\''" \
		"sql.open(\"x.db\", { create = true, readonly = true })|exclude each other" \
		"db:query(\"with recursive c(x) as (select 1 union all select x + 1 from c limit 100001) select x from c\")|more than 100000 rows"
	do
		write_runbook misuse.lua <<-EOF &&
		return runbook { name = "misuse", phase "p" { step "m" { run = function()
			local db = sql.open(":memory:")
			${case%%|*}
		end } } }
		EOF
		step_error misuse.lua >error.txt &&
		assert_contains error.txt "misuse.lua:3: " &&
		assert_contains error.txt "${case#*|}" || return 1
	done
'

test_expect_success 'sql: a runaway query stops at the step timeout' '
	write_runbook sqlspin.lua <<-\EOF &&
	return runbook { name = "sqlspin", phase "p" { step "spin" { timeout = "500ms", run = function()
		sql.open(":memory:"):scalar("with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c")
	end } } }
	EOF
	elapsed_ms expect_code 1 lb --db h.db run --yes sqlspin.lua --report r.json >out &&
	test "$ELAPSED_MS" -lt 3000 &&
	test "$(jv r.json phases.0.steps.0.status)" = timed_out &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "interrupted"
'

test_expect_success 'sql in recovery_point, as in the spec: the RPO is measured from the data' '
	write_runbook rpo.lua <<-\EOF &&
	return runbook { name = "rpo", rpo = "1h", params = { store = "rpo.db" },
		recovery_point = function(ctx)
			return sql.open(ctx.params.store):scalar("select max(event_time) from features")
		end,
		phase "restore" { step "load" { run = function(ctx)
			local db <close> = sql.open(ctx.params.store, { create = true })
			db:exec("create table features (event_time text)")
			db:exec("insert into features values (?)", os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 600))
		end } },
	}
	EOF
	expect_code 0 lb --db h.db run --yes rpo.lua --report r.json >out &&
	test "$(jv r.json rpo.met)" = true &&
	json_get r.json "590 <= d[\"rpo\"][\"achieved_s\"] <= 620" | grep -q true
'

# http -----------------------------------------------------------------------------------------

test_expect_success 'http.get: status, body, lower-case headers, duration' '
	write_runbook get.lua <<-\EOF &&
	return runbook { name = "get", params = { port = "0" }, phase "p" { step "get" { run = function(ctx)
		local base = "http://127.0.0.1:" .. ctx.params.port
		local r = http.get(base .. "/ping")
		assert(r.status == 200 and r.body == "hello from /ping", r.body)
		assert(r.headers["content-type"] == "text/plain", r.headers["content-type"])
		assert(r.headers["x-twice"] == "one, two", r.headers["x-twice"])
		assert(type(r.duration) == "number" and r.duration >= 0 and r.duration < 5)
		assert(r.truncated == false)
		r = http.get(base .. "/missing")
		assert(r.status == 404 and r.body == "no such thing")
		r = http.get(base .. "/redirect")
		assert(r.status == 302 and r.headers.location == "/hello")
		r = http.get(base .. "/redirect", { redirects = true })
		assert(r.status == 200 and r.body == "hello from /hello")
		r = http.get(base .. "/headers", { headers = { ["X-Token"] = "t0ken", ["X-Count"] = 3 } })
		local seen = json.decode(r.body)
		assert(seen["x-token"] == "t0ken" and seen["x-count"] == "3")
		assert(seen["user-agent"]:find("^lifeboat/"))
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes get.lua -p port=$PORT >out
'

test_expect_success 'http.post and http.request send the body and method' '
	write_runbook post.lua <<-\EOF &&
	return runbook { name = "post", params = { port = "0" }, phase "p" { step "post" { run = function(ctx)
		local base = "http://127.0.0.1:" .. ctx.params.port
		local r = http.post(base .. "/api", json.encode({ model = "v2" }),
			{ headers = { ["Content-Type"] = "application/json" } })
		assert(r.status == 201 and r.body == "POST {\"model\":\"v2\"}", r.body)
		r = http.request { method = "PUT", url = base .. "/api", body = "replace", timeout = "5s" }
		assert(r.status == 201 and r.body == "PUT replace", r.body)
		r = http.request { url = base .. "/plain" }
		assert(r.status == 200 and r.body == "hello from /plain")
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes post.lua -p port=$PORT >out
'

test_expect_success 'http: a 404 is a status for Lua, but fails an http step that expects 200' '
	write_runbook expect.lua <<-\EOF &&
	return runbook { name = "expect", params = { port = "0" }, phase "p" {
		step "lua sees 404" { run = function(ctx)
			assert(http.get("http://127.0.0.1:" .. ctx.params.port .. "/missing").status == 404)
		end },
		step "step expects 200" { http = "http://127.0.0.1:${port}/missing", expect = 200 },
	} }
	EOF
	expect_code 1 lb --db h.db run --yes expect.lua -p port=$PORT --report r.json >out &&
	test "$(jv r.json phases.0.steps.0.status)" = succeeded &&
	test "$(jv r.json phases.0.steps.1.status)" = failed &&
	jv r.json phases.0.steps.1.error >error.txt &&
	assert_contains error.txt "/missing returned 404, expected 200"
'

test_expect_success 'http: a timeout raises naming the URL' '
	write_runbook slow.lua <<-\EOF &&
	return runbook { name = "slow", params = { port = "0" }, phase "p" { step "slow" { run = function(ctx)
		http.get("http://127.0.0.1:" .. ctx.params.port .. "/slow", { timeout = "300ms" })
	end } } }
	EOF
	elapsed_ms step_error slow.lua -p port=$PORT >/dev/null &&
	test "$LAST_CODE" = 0 &&
	test "$ELAPSED_MS" -lt 3000 &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "slow.lua:2: http.get: GET http://127.0.0.1:$PORT/slow: " &&
	assert_contains error.txt "timed out"
'

test_expect_success 'http: a refused connection raises naming the URL and the reason' '
	write_runbook refused.lua <<-\EOF &&
	return runbook { name = "refused", params = { port = "0" }, phase "p" { step "refused" { run = function(ctx)
		http.post("http://127.0.0.1:" .. ctx.params.port .. "/x", "body")
	end } } }
	EOF
	expect_code 1 lb --db h.db run --yes refused.lua -p port=$CLOSED --report r.json >out &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "http.post: POST http://127.0.0.1:$CLOSED/x: " &&
	assert_contains error.txt "connect"
'

test_expect_success 'http: a request never outlives the step timeout' '
	write_runbook stepslow.lua <<-\EOF &&
	return runbook { name = "stepslow", params = { port = "0" }, phase "p" {
		step "slow" { timeout = "700ms", run = function(ctx)
			http.get("http://127.0.0.1:" .. ctx.params.port .. "/slow", { timeout = "1m" })
		end },
	} }
	EOF
	elapsed_ms expect_code 1 lb --db h.db run --yes stepslow.lua -p port=$PORT --report r.json >out &&
	test "$ELAPSED_MS" -lt 3000 &&
	test "$(jv r.json phases.0.steps.0.status)" = timed_out
'

test_expect_success 'http: misuse raises (options, headers, scheme)' '
	for case in \
		"http.get(base, { timeuot = 1 })|unknown option '\''timeuot'\''" \
		"http.get(base, { timeout = \"soon\" })|timeout '\''soon'\'' is not a duration" \
		"http.get(base, { headers = { [\"Bad Name\"] = \"x\" } })|'\''Bad Name'\'' is not a valid header name" \
		"http.get(base, { headers = { X = \"a\\r\\nInjected: yes\" } })|line break" \
		"http.request { method = \"GET\" }|url = " \
		"http.post(base)|bad argument #2 to '\''post'\''" \
		"http.get(\"file:///etc/passwd\")|http.get: GET file:///etc/passwd: "
	do
		write_runbook misuse.lua <<-EOF &&
		return runbook { name = "misuse", phase "p" { step "m" { run = function()
			local base = "http://127.0.0.1:$PORT/"
			${case%%|*}
		end } } }
		EOF
		step_error misuse.lua >error.txt &&
		assert_contains error.txt "misuse.lua:3: " &&
		assert_contains error.txt "${case#*|}" || return 1
	done
'

# the rest of the API --------------------------------------------------------------------------

test_expect_success 'json.encode and json.decode round-trip' '
	write_runbook json.lua <<-\EOF &&
	return runbook { name = "json", phase "p" { step "j" { run = function()
		local v = { name = "ü-store", n = 3, x = 1.5, ok = true, list = { 1, 2, "three" }, nested = { a = { b = false } } }
		local back = json.decode(json.encode(v))
		assert(back.name == "ü-store" and back.n == 3 and math.type(back.n) == "integer")
		assert(back.x == 1.5 and back.ok == true and back.list[3] == "three" and back.nested.a.b == false)
		assert(json.encode({ 1, 2 }) == "[1,2]" and json.encode("s") == "\"s\"")
		local bad, err = json.decode("{nope")
		assert(bad == nil and err:find("json.decode", 1, true))
		assert(not pcall(json.encode, { f = print }))
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes json.lua >out
'

test_expect_success 'log writes into the step output and the history' '
	write_runbook log.lua <<-\EOF &&
	return runbook { name = "log", phase "p" { step "l" { run = function()
		log("restored %d rows from %s", 42, "snap-7")
		print("printed", 1)
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes log.lua --report r.json >out &&
	assert_contains out "restored 42 rows from snap-7" &&
	sql h.db "select output from steps where run_id = '\''$(jv r.json run_id)'\''" >output.txt &&
	assert_contains output.txt "restored 42 rows from snap-7" &&
	assert_contains output.txt "printed	1"
'

test_expect_success 'recovery_point takes ISO-8601 and unix seconds; the last call wins' '
	t=$(($(date +%s) - 7200)) &&
	iso=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%S) &&
	write_runbook rp.lua <<-\EOF &&
	return runbook { name = "rp", rpo = "1d", params = { iso = "", unix = "" },
		phase "p" { step "rp" { run = function(ctx)
			recovery_point(now() - 60)
			recovery_point(ctx.params.iso)
		end } } }
	EOF
	expect_code 0 lb --db h.db run --yes rp.lua -p "iso=$iso" --report r.json >out &&
	test "$(jv r.json recovery_point)" = "$iso.000Z" &&
	write_runbook rpunix.lua <<-\EOF &&
	return runbook { name = "rpunix", rpo = "1d", params = { unix = "" },
		phase "p" { step "rp" { run = function(ctx)
			recovery_point(tonumber(ctx.params.unix) + 0.25)
		end } } }
	EOF
	expect_code 0 lb --db h.db run --yes rpunix.lua -p "unix=$t" --report r.json >out &&
	test "$(jv r.json recovery_point)" = "$iso.250Z"
'

test_expect_success 'recovery_point more than a day ahead is rejected (milliseconds by mistake?)' '
	write_runbook rpms.lua <<-\EOF &&
	return runbook { name = "rpms", phase "p" { step "rp" { run = function()
		recovery_point(now() * 1000)
	end } } }
	EOF
	step_error rpms.lua >error.txt &&
	assert_contains error.txt "recovery_point: " &&
	assert_contains error.txt "day"
'

test_expect_success 'wait_until polls until true, and raises on timeout with the last error' '
	write_runbook wait.lua <<-\EOF &&
	return runbook { name = "wait", phase "p" {
		step "ok" { run = function()
			local n = 0
			local v = wait_until(function() n = n + 1; return n >= 3 and "ready" end, { timeout = "5s", every = "50ms" })
			assert(v == "ready" and n == 3)
		end },
		step "times out" { run = function()
			wait_until(function() error("replica lag 40s") end, { timeout = "300ms", every = "100ms" })
		end },
	} }
	EOF
	elapsed_ms expect_code 1 lb --db h.db run --yes wait.lua --report r.json >out &&
	test "$ELAPSED_MS" -lt 3000 &&
	test "$(jv r.json phases.0.steps.0.status)" = succeeded &&
	jv r.json phases.0.steps.1.error >error.txt &&
	assert_contains error.txt "wait.lua:8: wait_until: timed out after 0.3s" &&
	assert_contains error.txt "replica lag 40s"
'

test_expect_success 'now is the wall clock with ms; sleep pauses' '
	write_runbook clock.lua <<-\EOF &&
	return runbook { name = "clock", phase "p" { step "c" { run = function()
		local t0 = now()
		assert(math.abs(t0 - os.time()) <= 1)
		sleep(0.3)
		local dt = now() - t0
		assert(dt >= 0.29 and dt < 2, dt)
		fs.write("clock.out", string.format("%.3f", t0))
	end } } }
	EOF
	before=$(date +%s) &&
	expect_code 0 lb --db h.db run --yes clock.lua >out &&
	after=$(date +%s) &&
	awk -v t="$(cat clock.out)" -v a="$before" -v b="$after" "BEGIN { exit !(t >= a && t <= b + 1) }"
'

test_expect_success 'secret reads a secret the config lists from the environment (a declared one unset stops the run: t1300)' '
	printf "secrets: [LB_TEST_TOKEN]\n" >secrets.yaml &&
	write_runbook secret.lua <<-\EOF &&
	return runbook { name = "secret", phase "p" { step "s" { run = function()
		assert(secret("LB_TEST_TOKEN") == "s3cr3t-value")
		local v, err = secret("HOME")
		assert(v == nil and err:find("not a secret", 1, true), err)
	end } } }
	EOF
	expect_code 0 env LB_TEST_TOKEN=s3cr3t-value "$LIFEBOAT" --db h.db --config secrets.yaml \
		run --yes secret.lua >out
'

test_expect_success 'the functions that act raise "not available while loading" at the top level' '
	for call in \
		"sh(\"touch marker\")" \
		"http.get(\"http://127.0.0.1:$PORT/\")" \
		"http.post(\"http://127.0.0.1:$PORT/\", \"x\")" \
		"http.request { url = \"http://127.0.0.1:$PORT/\" }" \
		"sql.open(\"marker\", { create = true })" \
		"fs.write(\"marker\", \"x\")" \
		"fs.copy(\"load.lua\", \"marker\")" \
		"fs.remove(\"load.lua\")" \
		"secret(\"HOME\")" \
		"sleep(0)" \
		"notify(\"sre\", \"hello\")" \
		"recovery_point(0)"
	do
		write_runbook load.lua <<-EOF &&
		$call
		return runbook { name = "load", phase "p" { step "s" { sh = "true" } } }
		EOF
		expect_code 2 lb --db h.db check load.lua >out 2>err &&
		assert_contains err "load.lua:1: " &&
		assert_contains err "not available while loading" &&
		test ! -e marker &&
		test -e load.lua || return 1
	done
'

test_expect_success 'reading files is allowed while loading' '
	printf "db-primary" >name.txt &&
	write_runbook readload.lua <<-\EOF &&
	local host = fs.read("name.txt")
	assert(fs.exists("name.txt") and fs.size("name.txt") == 10 and #fs.list(".") > 0)
	return runbook { name = "readload", params = { host = host }, phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 0 lb --db h.db check readload.lua >out
'

test_done
