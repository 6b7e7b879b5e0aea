#!/bin/sh
# Editor support (editor/, installed under share/lifeboat/lua): the luacheck standard names
# exactly the globals a runbook sees (read from a real run), luacheck passes the shipped
# runbooks with it and flags misspelt or missing API names; the Lua language server definitions
# declare every global, API function and DSL option that lifeboat knows.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

RC=$LIFEBOAT_SRC/editor/luacheckrc
META=$LIFEBOAT_SRC/editor/lifeboat.lua

# Every global of a runbook's environment, one a line: NAME, or NAME.FIELD for library tables.
write_runbook globals.lua <<-\EOF
return runbook { name = "globals", phase "p" { step "list" { run = function()
	local names = {}
	for k, v in pairs(_G) do
		names[#names + 1] = k
		if type(v) == "table" and k ~= "_G" then
			for f in pairs(v) do names[#names + 1] = k .. "." .. f end
		end
	end
	table.sort(names)
	fs.write("globals.txt", table.concat(names, "\n") .. "\n")
end } } }
EOF

test_expect_success 'luacheck passes the shipped runbooks with the standard' '
	luacheck --no-color --config "$RC" "$LIFEBOAT_SRC"/runbooks/*.lua >out ||
		{ cat out; false; } &&
	assert_contains out "0 warnings / 0 errors"
'

test_expect_success 'luacheck flags sql.opne, io.open, dofile and a stray global' '
	write_runbook typo.lua <<-\EOF &&
	return runbook { name = "typo", phase "p" {
		step "open" { run = function(ctx)
			local db = sql.opne(ctx.params.db)
			db:close()
		end },
		step "io" { run = function() io.open("x") end },
		step "dofile" { run = function() dofile("x.lua") end },
		step "leak" { run = function() counter = 1 end },
		step "fine" { run = function() log("%s", json.encode(fs.list("."))) end },
	} }
	EOF
	expect_code 1 luacheck --no-color --config "$RC" typo.lua >out &&
	assert_contains out "typo.lua:3:" &&
	grep -q "typo.lua:3:.*accessing undefined field .opne. of global .sql." out &&
	grep -q "typo.lua:6:.*accessing undefined variable .io." out &&
	grep -q "typo.lua:7:.*accessing undefined variable .dofile." out &&
	grep -q "typo.lua:8:.*setting non-standard global variable .counter." out &&
	assert_not_contains out "typo.lua:10:"
'

test_expect_success 'the standard names exactly what a runbook sees' '
	expect_code 0 lb --db h.db run --yes globals.lua >out &&
	test "$(wc -l <globals.txt)" -gt 100 &&
	# luacheck runs on Lua 5.1 (lua-check depends on lua5.1): read the config as it does
	lua5.1 - "$RC" >std.txt <<-\LUA &&
	local env = setmetatable({ stds = {} }, { __index = _G })
	local chunk = assert(loadfile(arg[1]))
	setfenv(chunk, env)
	chunk()
	local out = {}
	for k, v in pairs(env.stds.lifeboat.read_globals) do
		if type(k) == "number" then out[#out + 1] = v
		else
			out[#out + 1] = k
			for f in pairs(v.fields) do out[#out + 1] = k .. "." .. f end
		end
	end
	table.sort(out)
	print(table.concat(out, "\n"))
	LUA
	sort globals.txt >seen &&
	sort std.txt >std &&
	if ! cmp -s seen std; then
		echo "in the sandbox, not in editor/luacheckrc:"; comm -23 seen std
		echo "in editor/luacheckrc, not in the sandbox:"; comm -13 seen std
		false
	fi
'

test_expect_success 'the language server definitions parse and declare every global of the API' '
	luacheck --no-color --no-config --no-global --no-unused --no-redefined --no-max-line-length \
		"$META" >out || { cat out; false; } &&
	head -n 1 "$META" | grep -q "^---@meta" &&
	lua_builtins=" _G _VERSION assert collectgarbage error getmetatable ipairs load next pairs pcall rawequal rawget rawlen rawset require select setmetatable tonumber tostring type xpcall coroutine math os string table utf8 " &&
	missing= &&
	for name in $(grep -v "\." globals.txt); do
		case $lua_builtins in *" $name "*) continue ;; esac
		grep -Eq "^function $name\(|^$name = \{\}" "$META" || missing="$missing $name"
	done &&
	for name in $(grep -E "^(http|sql|fs|json)\." globals.txt); do
		grep -q "^function $name(" "$META" || missing="$missing $name"
	done &&
	test -z "$missing" || { echo "not declared in editor/lifeboat.lua:$missing"; false; }
'

test_expect_success 'the definitions document every runbook, phase and step option the DSL accepts' '
	/usr/bin/python3 - "$LIFEBOAT_SRC/lib/lua/prelude.lua" "$META" <<-\PY
	import re, sys
	prelude = open(sys.argv[1]).read()
	meta = open(sys.argv[2]).read()
	def keys(name):
	    m = re.search(name + r"\s*=\s*\{(.*?)\}", prelude, re.S)
	    return re.findall(r"\"([a-z_]+)\"", m.group(1))
	def fields(cls):
	    m = re.search(r"---@class " + cls + r"\n((?:---@field .*\n)+)", meta)
	    assert m, "no class " + cls
	    return set(re.findall(r"---@field ([a-z_]+)\??", m.group(1)))
	bad = 0
	for lst, cls in (("RUNBOOK_KEYS", "lifeboat.runbook_options"), ("PHASE_KEYS", "lifeboat.phase_options"),
	                 ("STEP_KEYS", "lifeboat.step_options")):
	    missing = set(keys(lst)) - fields(cls)
	    extra = fields(cls) - set(keys(lst))
	    if missing or extra:
	        bad += 1
	        print("%s: undocumented %s, unknown to lifeboat %s" % (cls, sorted(missing), sorted(extra)))
	sys.exit(1 if bad else 0)
	PY
'

test_done
