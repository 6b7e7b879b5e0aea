#!/bin/sh
# A runbook or a module that is a FIFO, a device or a folder (dropped there by whoever can write
# the folder) never hangs the load and is never replaced by the shipped library of that name: exit 2
# at once, naming the file; under require_signed a FIFO or a device is refused instead (exit 5, a
# refused run: no signature can vouch for its bytes). Nothing runs.
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

test_expect_success 'a FIFO module: exit 2 at once naming it; under require_signed refused, exit 5' '
	mkfifo helper.lua && at_exit "rm -f $Q$TEST_DIR/helper.lua$Q" &&
	expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env dev rb.lua >out 2>err &&
	assert_contains err "require ${Q}helper$Q: " &&
	assert_contains err "helper.lua: cannot read the module: not a regular file" &&
	expect_code 5 timeout 20 "$LIFEBOAT" run --yes --env prod rb.lua >out 2>err &&
	assert_contains err "helper.lua: not a regular file (a device, a FIFO or a socket), so no signature can vouch for its bytes" &&
	assert_contains err "nothing ran (recorded as run" &&
	test "$(sql .lifeboat/history.db "select status from runs")" = refused &&
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

test_expect_success 'a FIFO runbook: exit 2 at once naming it; under require_signed refused, exit 5' '
	mkfifo fifo.lua &&
	expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env dev fifo.lua >out 2>err &&
	assert_contains err "fifo.lua: cannot read the runbook: not a regular file" &&
	expect_code 5 timeout 20 "$LIFEBOAT" run --yes --env prod fifo.lua >out 2>err &&
	assert_contains err "fifo.lua: not a regular file (a device, a FIFO or a socket), so no signature can vouch for its bytes" &&
	expect_code 5 timeout 20 "$LIFEBOAT" drill --yes --env prod --dry-run fifo.lua >out 2>err &&
	assert_contains err "fifo.lua: not a regular file" &&
	assert_contains err "a real drill would be refused (exit 5)"
'

test_expect_success 'a real module, signed, runs' '
	echo "return {}" >helper.lua && lb -q sign --key ci.key helper.lua &&
	expect_code 0 lb run --yes --env prod rb.lua >out &&
	test -e ran
'

test_expect_success 'a FIFO where a trusted key or --pub should be: exit 2 at once naming it; where a signature should be, verify fails (exit 1)' '
	mkdir fk && mkfifo fk/k.pub &&
	printf "trust: { keys: [k.pub] }\n" >fk/lifeboat.yaml &&
	cp rb.lua fk/ &&
	(cd fk && expect_code 2 timeout 20 "$LIFEBOAT" check rb.lua >../out 2>../err) &&
	assert_contains err "lifeboat.yaml:1:" &&
	assert_contains err "trust.keys[0]: cannot read" &&
	assert_contains err "not a regular file" &&
	expect_code 2 timeout 20 "$LIFEBOAT" verify --pub fk/k.pub rb.lua >out 2>err &&
	assert_contains err "not a regular file" &&
	mkfifo fk/rb.lua.minisig &&
	expect_code 1 timeout 20 "$LIFEBOAT" verify --pub ci.pub fk/rb.lua >out 2>err &&
	assert_contains err "not a regular file"
'

test_done
