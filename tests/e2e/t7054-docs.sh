#!/bin/sh
# docs/ keeps up with the program: every runbook, phase and step key the DSL accepts is in
# docs/runbook.md, every API function a runbook sees, every config key lib/config*.c read is in
# docs/config.md, every command of `lifeboat --help` is in docs/commands.md, every exit code in
# docs/exit-codes.md, every field of a real JSON report in docs/report-json.md.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

DOCS=$LIFEBOAT_SRC/docs

test_expect_success 'docs/runbook.md documents every runbook, phase and step key' '
	/usr/bin/python3 - "$LIFEBOAT_SRC/lib/lua/prelude.lua" "$DOCS/runbook.md" <<-\PY
	import re, sys
	prelude, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
	missing = []
	for lst in ("RUNBOOK_KEYS", "PHASE_KEYS", "STEP_KEYS"):
	    keys = re.findall(r"\"([a-z_]+)\"", re.search(lst + r"\s*=\s*\{(.*?)\}", prelude, re.S).group(1))
	    missing += ["%s %s" % (lst, k) for k in keys if "`" + k not in doc]
	print("\n".join(missing))
	sys.exit(1 if missing else 0)
	PY
'

test_expect_success 'docs/runbook.md documents every function a runbook sees' '
	write_runbook globals.lua <<-\EOF &&
	return runbook { name = "globals", phase "p" { step "list" { run = function()
		local names = {}
		for k, v in pairs(_G) do
			if type(v) == "table" then
				for f in pairs(v) do names[#names + 1] = k .. "." .. f end
			else names[#names + 1] = k end
		end
		fs.write("globals.txt", table.concat(names, "\n") .. "\n")
	end } } }
	EOF
	expect_code 0 lb --db h.db run --yes globals.lua >out &&
	missing= &&
	for name in $(grep -E "^(sh|log|print|recovery_point|wait_until|notify|secret|now|sleep|[a-z]+\.[a-z0-9_]+)\$" globals.txt |
		grep -Ev "^(string|table|math|utf8|coroutine|os|_G)\."); do
		grep -q "$name" "$DOCS/runbook.md" || missing="$missing $name"
	done &&
	for name in $(grep -Ev "\." globals.txt); do
		case $name in string|table|math|utf8|coroutine|os|_G|_VERSION) continue ;; esac
		lua_base=" assert collectgarbage error getmetatable ipairs load next pairs pcall rawequal rawget rawlen rawset require select setmetatable tonumber tostring type xpcall runbook phase step "
		case $lua_base in *" $name "*) continue ;; esac
		grep -q "$name" "$DOCS/runbook.md" || missing="$missing $name"
	done &&
	test -z "$missing" || { echo "not in docs/runbook.md:$missing"; false; }
'

test_expect_success 'docs/config.md documents every config key and event' '
	cat "$LIFEBOAT_SRC"/lib/config*.c "$LIFEBOAT_SRC"/lib/config-int.h >config-src &&
	/usr/bin/python3 - config-src "$DOCS/config.md" <<-\PY
	import re, sys
	src, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
	missing = []
	for name in ("top_keys", "role_keys", "env_keys", "trust_keys", "permission_keys", "notify_keys",
	             "schedule_keys", "sync_values", "event_names"):
	    body = re.search(r"\b" + name + r"\[[^\]]*\]\s*=\s*\{(.*?)\};", src, re.S).group(1)
	    missing += ["%s: %s" % (name, k) for k in re.findall(r"\"([a-z_]+)\"", body)
	                if "`" + k + "`" not in doc]
	print("\n".join(missing))
	sys.exit(1 if missing else 0)
	PY
'

test_expect_success 'docs/commands.md documents every command and global option of --help' '
	lb --help >help &&
	sed -n "/^commands:/,/^\$/p" help | awk "NF && !/^commands:/ { print \$1 }" >commands &&
	test "$(wc -l <commands)" -gt 10 &&
	missing= &&
	for c in $(cat commands); do
		grep -q "^### $c\$\|^## $c\$\|^lifeboat $c\b\|^### $c \|lifeboat $c " "$DOCS/commands.md" ||
			missing="$missing $c"
	done &&
	sed -n "/^global options/,/^\$/p" help | grep -Eo -- "(^|[ ,])--?[a-zA-Z][a-z-]*" |
		tr -d " ," | sort -u >options &&
	grep -qx -- --db options && grep -qx -- --version options &&
	for o in $(cat options); do
		grep -q -- "\`$o" "$DOCS/commands.md" || missing="$missing $o"
	done &&
	test -z "$missing" || { echo "not in docs/commands.md:$missing"; false; }
'

test_expect_success 'docs/exit-codes.md has every exit code lib/verdict.h defines' '
	codes=$(sed -n "s/^[[:space:]]*EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p" "$LIFEBOAT_SRC/lib/verdict.h") &&
	test -n "$codes" &&
	for c in $codes; do
		grep -q "^| $c |" "$DOCS/exit-codes.md" || { echo "exit code $c is not in docs/exit-codes.md"; return 1; }
	done
'

test_expect_success 'docs/report-json.md names every field of a real report' '
	write_runbook r.lua <<-\EOF &&
	return runbook { name = "r", rto = "1m", rpo = "1h", recovery_point = function() return now() end,
		phase "p" { step "s" { sh = "true" }, rollback = { step "u" { sh = "true" } } } }
	EOF
	expect_code 0 lb --db h.db run --yes r.lua --report r.json >out &&
	/usr/bin/python3 - r.json "$DOCS/report-json.md" <<-\PY
	import json, sys
	r, doc = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
	names = set(r) | set(r["rto"]) | set(r["rpo"]) | set(r["phases"][0]) | set(r["phases"][0]["steps"][0])
	missing = sorted(n for n in names if "`" + n not in doc)
	print(" ".join(missing))
	sys.exit(1 if missing else 0)
	PY
'

test_done
