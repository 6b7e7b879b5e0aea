#!/bin/sh
# `cmake --install` into a prefix puts every file in its usual place, and what it installed
# works from there: the binary, the example runbooks and config (check, and a run in a copy),
# the schemas (the example config against its schema), the luacheck standard (on the installed
# examples), the man pages (rendered with man -l), the systemd units (pointing at bin/lifeboat).
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

build=$(dirname "$LIFEBOAT")

test_expect_success 'cmake --install puts each file in its place under the prefix' '
	cmake --install "$build" --prefix "$TEST_DIR/pfx" >install.log &&
	for f in bin/lifeboat \
		share/doc/lifeboat/README.md share/doc/lifeboat/runbook.md share/doc/lifeboat/config.md \
		share/doc/lifeboat/commands.md share/doc/lifeboat/exit-codes.md \
		share/doc/lifeboat/report-json.md share/doc/lifeboat/rto-rpo.md \
		share/doc/lifeboat/examples/restore-db.lua share/doc/lifeboat/examples/feature-store.lua \
		share/doc/lifeboat/examples/redeploy-rollback.lua share/doc/lifeboat/examples/demo/serve.py \
		share/doc/lifeboat/examples/lifeboat.example.yaml \
		share/lifeboat/schemas/lifeboat.yaml.schema.json share/lifeboat/schemas/report.schema.json \
		share/lifeboat/lua/lifeboat.lua share/lifeboat/lua/luacheckrc \
		lib/systemd/system/lifeboat-scheduler.service lib/systemd/system/lifeboat-scheduler.timer \
		lib/systemd/system/lifeboat-scheduler-once.service; do
		test -f "pfx/$f" || { echo "not installed: $f"; return 1; }
	done &&
	test -x pfx/bin/lifeboat &&
	! test -e pfx/bin/lifeboat-crashtest &&
	! find pfx -name "*.c" -o -name "*.o" -o -name CMakeLists.txt | grep . &&
	! test -e pfx/share/doc/lifeboat/examples/demo/state
'

test_expect_success 'every man page of docs/man is installed and renders' '
	ls "$LIFEBOAT_SRC"/docs/man/*.scd >pages &&
	test -s pages &&
	while read -r src; do
		page=$(basename "$src" .scd) &&
		f=pfx/share/man/man${page##*.}/$page &&
		test -f "$f" || { echo "not installed: $f"; return 1; }
		MANWIDTH=80 man -l "$f" >rendered 2>&1 && grep -qi lifeboat rendered ||
			{ echo "man -l $f:"; cat rendered; return 1; }
	done <pages
'

test_expect_success 'the installed examples check, run from a copy, and pass luacheck' '
	ex=pfx/share/doc/lifeboat/examples &&
	expect_code 0 pfx/bin/lifeboat --config "$ex/lifeboat.example.yaml" check "$ex"/*.lua >out &&
	luacheck --no-color --config pfx/share/lifeboat/lua/luacheckrc "$ex"/*.lua >lint ||
		{ cat lint; false; } &&
	mkdir drill && cp "$ex/restore-db.lua" drill/ &&
	(cd drill && expect_code 0 ../pfx/bin/lifeboat run --yes restore-db.lua --report r.json >out) &&
	/usr/bin/python3 "$LIFEBOAT_SRC/tests/e2e/schema-check.py" \
		pfx/share/lifeboat/schemas/report.schema.json drill/r.json &&
	/usr/bin/python3 "$LIFEBOAT_SRC/tests/e2e/schema-check.py" \
		pfx/share/lifeboat/schemas/lifeboat.yaml.schema.json "$ex/lifeboat.example.yaml"
'

test_expect_success 'the systemd units start the installed binary, and are not enabled' '
	grep -q "^ExecStart=/usr/bin/lifeboat --config /etc/lifeboat/lifeboat.yaml scheduler\$" \
		pfx/lib/systemd/system/lifeboat-scheduler.service &&
	grep -q "^ExecStart=/usr/bin/lifeboat --config /etc/lifeboat/lifeboat.yaml scheduler --once\$" \
		pfx/lib/systemd/system/lifeboat-scheduler-once.service &&
	grep -q "^Unit=lifeboat-scheduler-once.service\$" pfx/lib/systemd/system/lifeboat-scheduler.timer &&
	grep -q "^OnCalendar=" pfx/lib/systemd/system/lifeboat-scheduler.timer &&
	! find pfx -path "*wants*" | grep .
'

test_done
