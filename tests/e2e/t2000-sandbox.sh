#!/bin/sh
# The Lua sandbox (SPEC 5): every way out of a runbook's environment fails its step with a clear
# error at the runbook's line and touches nothing; library tables and the string metatable stay
# intact for the host and the next step; runaway code (loops in pcall, coroutines, a memory bomb)
# is stopped at the step's timeout or the memory cap without taking the host down, and the
# cleanup phase still runs.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# escape WORDS: the Lua code on stdin is the body of a run step (from line 3 of the runbook);
# were it to get past its escape attempt, it would write the file "escaped". The run must exit 1,
# the step's error (in `show --json`) must hold WORDS and the runbook's file:line, "escaped" must
# not exist, and a cleanup step must find string, table and the string metatable intact.
escape () {
	rm -f escaped intact esc.lua &&
	{
		echo 'return runbook { name = "escape",'
		echo '  phase "p" { step "try" { run = function(ctx)'
		cat
		echo '    fs.write("escaped", "the escape worked")'
		echo '  end } },'
		echo '  phase "tidy" { cleanup = true, step "intact" { run = function()'
		echo '    assert(("a"):upper() == "A" and string.upper("b") == "B" and #string.rep("x", 3) == 3)'
		echo '    assert(table.insert ~= print and getmetatable("") == false)'
		echo '    assert(load("return 1 + 1")() == 2 and string.dump == nil)'
		echo '    fs.write("intact", "yes")'
		echo '  end } },'
		echo '}'
	} >esc.lua &&
	expect_code 1 lb --db h.db run --yes esc.lua --report r.json >out 2>&1 &&
	test ! -e escaped &&
	test -e intact &&
	lb --db h.db show "$(jv r.json run_id)" --json >show.json &&
	test "$(jv show.json phases.0.steps.0.status)" = failed &&
	jv show.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "$1" &&
	assert_contains error.txt "esc.lua:"
}

test_expect_success 'string.dump is not available' '
	escape "dump" <<-\EOF
	local s = string.dump(function() end)
	EOF
'

test_expect_success 'string.dump is not reachable through the string metatable' '
	escape "method '\''dump'\''" <<-\EOF
	local s = (""):dump(function() end)
	EOF
'

test_expect_success 'load refuses a binary chunk' '
	escape "attempt to load a binary chunk" <<-\EOF
	local f = assert(load("\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86"))
	f()
	EOF
'

test_expect_success 'load refuses binary mode outright' '
	escape "only text chunks" <<-\EOF
	local f = load("return 1", "x", "bt")
	EOF
'

test_expect_success 'a loaded chunk runs in the sandbox, not the host globals' '
	escape "global '\''io'\'' is not available in runbooks" <<-\EOF
	local g = load("return _G")()
	assert(g == _G, "load gave another environment")
	assert(rawget(g, "debug") == nil and rawget(g, "package") == nil and rawget(g, "dofile") == nil,
		"host globals leaked")
	g.io.open("escaped", "w")
	EOF
'

test_expect_success 'os.execute is not available' '
	escape "execute" <<-\EOF
	os.execute("echo the escape worked >escaped")
	EOF
'

test_expect_success 'io.popen is not available' '
	escape "global '\''io'\''" <<-\EOF
	io.popen("echo the escape worked >escaped")
	EOF
'

test_expect_success 'io.open is not available' '
	escape "global '\''io'\''" <<-\EOF
	io.open("escaped", "w"):write("the escape worked")
	EOF
'

test_expect_success 'debug.getinfo is not available' '
	escape "global '\''debug'\''" <<-\EOF
	local info = debug.getinfo(1)
	EOF
'

test_expect_success 'debug.sethook is not available (it would switch off the timeout)' '
	escape "global '\''debug'\''" <<-\EOF
	debug.sethook()
	EOF
'

test_expect_success 'package.loadlib is not available' '
	escape "global '\''package'\''" <<-\EOF
	package.loadlib("libc.so.6", "system")
	EOF
'

test_expect_success 'require loads no C module, not even one in the runbook folder' '
	printf "\177ELF not really\n" >lfs.so &&
	escape "C modules cannot be loaded" <<-\EOF
	local lfs = require("lfs")
	EOF
'

test_expect_success 'require refuses names that climb out of the runbook folder' '
	escape "invalid module name" <<-\EOF
	require("../../etc/passwd")
	EOF
'

test_expect_success 'dofile is not available' '
	escape "global '\''dofile'\''" <<-\EOF
	dofile("esc.lua")
	EOF
'

test_expect_success 'loadfile is not available' '
	escape "global '\''loadfile'\''" <<-\EOF
	loadfile("esc.lua")
	EOF
'

test_expect_success 'collectgarbage only counts' '
	escape "only collectgarbage(\"count\")" <<-\EOF
	assert(collectgarbage("count") > 0)
	collectgarbage("collect")
	EOF
'

test_expect_success 'string is read-only' '
	escape "'\''string'\'' is read-only" <<-\EOF
	string.upper = nil
	EOF
'

test_expect_success 'table is read-only' '
	escape "'\''table'\'' is read-only" <<-\EOF
	table.insert = print
	EOF
'

test_expect_success 'a library table stays read-only through rawset' '
	escape "'\''string'\'' is read-only" <<-\EOF
	rawset(string, "upper", print)
	EOF
'

test_expect_success 'pairs over a library table does not hand out the real table' '
	escape "'\''string'\'' is read-only" <<-\EOF
	local _, real = pairs(string)
	real.upper = nil
	EOF
'

test_expect_success 'the API tables are read-only too' '
	escape "'\''fs'\'' is read-only" <<-\EOF
	fs.write = nil
	EOF
'

test_expect_success 'the string metatable is hidden and cannot be changed' '
	escape "index a boolean value" <<-\EOF
	getmetatable("").__index = {}
	EOF
'

test_expect_success 'a library table metatable cannot be replaced' '
	escape "protected metatable" <<-\EOF
	setmetatable(string, {})
	EOF
'

test_expect_success 'no __gc finalizers: they run with the timeout switched off' '
	escape "__gc" <<-\EOF
	setmetatable({}, { __gc = function() while true do end end })
	EOF
'

test_expect_success 'the guarded coroutine, xpcall, setmetatable and rawset behave as plain Lua' '
	write_runbook plain.lua <<-\EOF &&
	return runbook { name = "plain", phase "p" { step "lua" { run = function()
		local gen = coroutine.wrap(function(a)
			local b = coroutine.yield(a + 1)
			local c = coroutine.yield(b * 2)
			return "done", c
		end)
		assert(gen(1) == 2 and gen(5) == 10 and select(2, gen(7)) == 7)
		local co = coroutine.create(function() error({ code = 7 }) end)
		local ok, e = coroutine.resume(co)
		assert(not ok and e.code == 7 and coroutine.status(co) == "dead")
		local ok2, e2 = pcall(coroutine.wrap(function() error("oops") end))
		assert(not ok2 and e2:find("oops"), e2)
		assert(not pcall(coroutine.create, 1))
		local closed = false
		local co2 = coroutine.create(function()
			local x <close> = setmetatable({}, { __close = function() closed = true end })
			coroutine.yield()
		end)
		coroutine.resume(co2)
		coroutine.close(co2)
		assert(closed and coroutine.isyieldable() == false)
		coroutine.wrap(function() assert(coroutine.isyieldable()) end)()
		local r = table.pack(xpcall(function(a, b) return a + b, "x" end, print, 2, 3))
		assert(r.n == 3 and r[1] and r[2] == 5 and r[3] == "x")
		local ok3, m = xpcall(error, function(msg) return "h:" .. msg end, "boom")
		assert(not ok3 and m == "h:boom", m)
		local t = setmetatable({}, { __index = function(_, k) return k .. "!" end })
		assert(t.x == "x!" and rawset(t, "y", 1) == t and t.y == 1)
		local n = 0
		for k, v in pairs(string) do n = n + 1 end
		assert(n > 10 and #load("return _G")().string.rep("ab", 2) == 4)
		fs.write("plain", "yes")
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes plain.lua >out &&
	test -e plain
'

# runaway code ---------------------------------------------------------------------------------

# runaway NAME: runs NAME.lua (written by the caller; its step "spin" has timeout = "500ms"), which
# must exit 1 within 3 s with the step timed_out and the cleanup marker written
runaway () {
	rm -f cleaned &&
	elapsed_ms lb --db h.db run --yes "$1.lua" --report r.json >out 2>&1 &&
	test "$LAST_CODE" = 1 &&
	test "$ELAPSED_MS" -lt 3000 &&
	test "$(jv r.json phases.0.steps.0.status)" = timed_out &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "timed out" &&
	test -e cleaned
}

# spin NAME: writes NAME.lua with the run step body on stdin
spin () {
	{
		echo "return runbook { name = \"$1\","
		echo '  phase "p" { step "spin" { timeout = "500ms", run = function()'
		cat
		echo '  end } },'
		echo '  phase "tidy" { cleanup = true, step "c" { run = function() fs.write("cleaned", "yes") end } },'
		echo '}'
	} >"$1.lua"
}

test_expect_success 'an endless loop is stopped at the timeout' '
	spin loop <<-\EOF &&
	while true do end
	EOF
	runaway loop
'

test_expect_success 'an endless loop inside pcall in a loop is stopped' '
	spin pcallloop <<-\EOF &&
	while true do pcall(function() while true do end end) end
	EOF
	runaway pcallloop
'

test_expect_success 'nested pcalls in loops cannot hold the timeout either' '
	spin nested <<-\EOF &&
	while true do
		pcall(function() while true do pcall(function() while true do end end) end end)
	end
	EOF
	runaway nested
'

test_expect_success 'xpcall with a looping message handler is stopped' '
	spin xpcallloop <<-\EOF &&
	while true do xpcall(function() while true do end end, function() while true do end end) end
	EOF
	runaway xpcallloop
'

test_expect_success 'an endless loop inside a coroutine is stopped' '
	spin coloop <<-\EOF &&
	local co = coroutine.wrap(function() while true do end end)
	co()
	EOF
	runaway coloop
'

test_expect_success 'coroutines resumed in a loop, each looping, are stopped' '
	spin coresume <<-\EOF &&
	while true do
		coroutine.resume(coroutine.create(function() while true do end end))
		pcall(coroutine.wrap(function() while true do pcall(error) end end))
	end
	EOF
	runaway coresume
'

test_expect_success 'a looping <close> handler of a coroutine the timeout killed is stopped too' '
	spin coclose <<-\EOF &&
	local co = coroutine.wrap(function()
		local guard <close> = setmetatable({}, { __close = function() while true do end end })
		while true do end
	end)
	co()
	EOF
	runaway coclose
'

test_expect_success 'a memory bomb in pcall fails the step at the cap; the host survives and cleans up' '
	write_runbook bomb.lua <<-\EOF &&
	return runbook { name = "bomb",
		phase "p" { step "bomb" { timeout = "20s", run = function()
			while true do
				pcall(function()
					local t = {}
					while true do t[#t + 1] = string.rep("x", 1e6) end
				end)
			end
		end } },
		phase "tidy" { cleanup = true, step "c" { run = function()
			local t = {}
			for i = 1, 10 do t[i] = string.rep("y", 1e6) end
			fs.write("cleaned", "yes")
		end } },
	}
	EOF
	elapsed_ms env LIFEBOAT_LUA_MEMORY=32MiB "$LIFEBOAT" --db h.db run --yes bomb.lua \
		--report r.json >out 2>&1 &&
	test "$LAST_CODE" = 1 &&
	test "$ELAPSED_MS" -lt 10000 &&
	test "$(jv r.json phases.0.steps.0.status)" = failed &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "memory limit (32 MiB)" &&
	test "$(jv r.json phases.1.steps.0.status)" = succeeded &&
	test -e cleaned
'

test_expect_success 'a refused allocation that pcall catches still trips the cap' '
	spin huge <<-\EOF &&
	for i = 1, 100 do pcall(string.rep, "x", 1 << 30) end
	fs.write("got-past", "yes")
	EOF
	expect_code 1 env LIFEBOAT_LUA_MEMORY=32MiB "$LIFEBOAT" --db h.db run --yes huge.lua \
		--report r.json >out &&
	jv r.json phases.0.steps.0.error >error.txt &&
	assert_contains error.txt "memory limit" &&
	test ! -e got-past &&
	test -e cleaned
'

test_expect_success 'garbage alone does not trip the cap' '
	write_runbook garbage.lua <<-\EOF &&
	return runbook { name = "garbage", phase "p" { step "churn" { run = function()
		-- 20 MiB live: the collector lets garbage grow past the 32 MiB cap before
		-- it runs, and a refused allocation must get the emergency collection
		local chunk = string.rep("k", 1 << 20)
		local keep = {}
		for i = 1, 20 do keep[i] = chunk .. i end
		for i = 1, 300 do local s = chunk .. i end
		assert(#keep == 20)
		fs.write("churned", "yes")
	end } } }
	EOF
	expect_code 0 env LIFEBOAT_LUA_MEMORY=32MiB "$LIFEBOAT" --db h.db run --yes garbage.lua >out &&
	test -e churned
'

test_expect_success 'SIGTERM stops a run step that loops inside pcall' '
	spin term <<-\EOF &&
	fs.write("spinning", "yes")
	while true do pcall(function() while true do end end) end
	EOF
	sed "s/\"500ms\"/\"1h\"/" term.lua >term1h.lua
	"$LIFEBOAT" --db h.db run --yes term1h.lua >out 2>&1 &
	pid=$! &&
	at_exit "kill -9 $pid" &&
	wait_for "test -e spinning" 10 &&
	kill -s TERM $pid &&
	code=0 &&
	{ wait $pid || code=$?; } &&
	test "$code" = 143 &&
	test -e cleaned
'

test_expect_success 'a Lua error fails the step with file:line and keeps the traceback' '
	write_runbook err.lua <<-\EOF &&
	local function helper(n)
		if n > 2 then error("disk full on /restore") end
		return helper(n + 1) + 1
	end
	return runbook { name = "err",
		phase "p" { step "boom" { run = function() helper(0) end } },
	}
	EOF
	expect_code 1 lb --db h.db run --yes err.lua --report r.json >out &&
	test "$(jv r.json phases.0.steps.0.status)" = failed &&
	test "$(jv r.json phases.0.steps.0.error)" = "err.lua:2: disk full on /restore" &&
	sql h.db "select output from steps where run_id = '\''$(jv r.json run_id)'\''" >output.txt &&
	assert_contains output.txt "stack traceback:" &&
	assert_contains output.txt "err.lua:2: in"
'

test_done
