#!/bin/sh
# A runbook's FILE.minisig that is a FIFO or a device (dropped there by whoever can write the
# folder) is refused at once as not a regular file: no hang of a run or a scheduled drill.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

lb -q keygen ci
printf "trust: { keys: [ci.pub] }\nenvironments: { prod: { require_signed: true } }\n" >lifeboat.yaml
write_runbook rb.lua <<-\EOF
return runbook { name = "rb", phase "p" { step "s" { sh = "echo ran >>ran" } } }
EOF

test_expect_success 'a FIFO as the signature: refused at once, exit 5' '
	mkfifo rb.lua.minisig &&
	expect_code 5 timeout 20 "$LIFEBOAT" run --yes --env prod rb.lua 2>err &&
	assert_contains err "rb.lua.minisig: not a regular file" &&
	test ! -e ran && rm rb.lua.minisig
'

test_expect_success 'a device as the signature: refused, exit 5; a real signature runs' '
	ln -s /dev/zero rb.lua.minisig &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "rb.lua.minisig: not a regular file" &&
	rm rb.lua.minisig && lb -q sign --key ci.key rb.lua &&
	expect_code 0 lb run --yes --env prod rb.lua >out && test -e ran
'

test_done
