#!/bin/sh
# A runbook or a module that is a FIFO, a device or a folder (dropped there by whoever can write
# the folder) never hangs the load and is never replaced by the shipped library of that name:
# exit 2 at once, naming the file, with or without require_signed; nothing runs.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
lb -q keygen ci
printf "trust: { keys: [ci.pub] }\nenvironments: { prod: { require_signed: true }, dev: {} }\n" >lifeboat.yaml
write_runbook rb.lua <<-\EOF
local m = require "helper"
return runbook { name = "rb", phase "p" { step "s" { sh = "echo ran >>ran" } } }
EOF
lb -q sign --key ci.key rb.lua

test_expect_success 'a FIFO module: exit 2 at once naming it, in both environments' '
	mkfifo helper.lua &&
	for env in dev prod
	do
		expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env $env rb.lua >out 2>err &&
		assert_contains err "require ${Q}helper$Q: " &&
		assert_contains err "helper.lua: cannot read the module: not a regular file" || return 1
	done &&
	expect_code 2 timeout 20 "$LIFEBOAT" check rb.lua >out 2>err &&
	assert_contains err "helper.lua: cannot read the module: not a regular file" &&
	test ! -e ran && rm helper.lua
'

test_expect_success 'a folder or a device where the module should be: exit 2, not the shipped library' '
	mkdir helper.lua &&
	expect_code 2 lb run --yes --env dev rb.lua >out 2>err &&
	assert_contains err "helper.lua: cannot read the module: a folder, not a file" &&
	rmdir helper.lua && ln -s /dev/zero helper.lua &&
	expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env dev rb.lua >out 2>err &&
	assert_contains err "helper.lua: cannot read the module: not a regular file" &&
	test ! -e ran && rm helper.lua
'

test_expect_success 'a FIFO runbook under require_signed: exit 2 at once, naming it' '
	mkfifo fifo.lua &&
	expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env prod fifo.lua >out 2>err &&
	assert_contains err "fifo.lua: cannot read the runbook: not a regular file" &&
	expect_code 2 timeout 20 "$LIFEBOAT" drill --yes --env prod --dry-run fifo.lua >out 2>err &&
	assert_contains err "fifo.lua: cannot read the runbook: not a regular file"
'

test_expect_success 'a real module, signed, runs' '
	echo "return {}" >helper.lua && lb -q sign --key ci.key helper.lua &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test -e ran
'

test_done
