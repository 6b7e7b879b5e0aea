#!/bin/sh
# crypto.verify: a signature whose trusted comment names another file (another artifact signed
# by the same key, renamed into place with its signature) raises; a trusted comment without a
# file: field (minisign -t) is decided by the signature alone.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

minisign -G -W -p train.pub -s train.key >/dev/null </dev/null
printf "good model\n" >model.bin
printf "the model that was pulled\n" >old.bin
minisign -S -s train.key -m model.bin >/dev/null </dev/null
minisign -S -s train.key -m old.bin >/dev/null </dev/null
write_runbook deploy.lua <<-\EOF
return runbook { name = "deploy", params = { artifact = "model.bin", sig = "model.bin.minisig" },
	phase "p" { step "s" { run = function(ctx)
		crypto.verify(ctx.params.artifact, ctx.params.sig, "train.pub")
		fs.write("deployed", fs.read(ctx.params.artifact))
	end } },
}
EOF

test_expect_success 'the artifact its signature names deploys' '
	expect_code 0 lb run --yes deploy.lua >out &&
	cmp deployed model.bin && rm deployed
'

test_expect_success 'another signed artifact renamed into place raises' '
	mkdir swap && cp old.bin swap/model.bin && cp old.bin.minisig swap/model.bin.minisig &&
	minisign -Vm swap/model.bin -p train.pub >/dev/null &&
	expect_code 1 lb run --yes deploy.lua -p artifact=swap/model.bin -p sig=swap/model.bin.minisig >out &&
	assert_contains out "the signature is for file" &&
	assert_contains out "old.bin" &&
	test ! -e deployed
'

test_expect_success 'a trusted comment without file: (minisign -t) counts on the signature alone' '
	minisign -S -s train.key -m model.bin -x custom.minisig -t "model v3" >/dev/null </dev/null &&
	expect_code 0 lb run --yes deploy.lua -p sig=custom.minisig >out &&
	cmp deployed model.bin
'

test_done
