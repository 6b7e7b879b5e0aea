#!/bin/sh
# crypto.* in runbooks (SPEC 1, 9): crypto.sha256(s) is sha256sum's digest; crypto.verify(file,
# sig, pub) returns true for a minisign signature (prehashed or legacy) and otherwise raises
# naming what failed, so a redeploy step that ignores the result still never deploys an artifact
# its pipeline did not sign.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
minisign -G -W -p train.pub -s train.key >/dev/null </dev/null
lb -q keygen other
head -c 300000 /dev/urandom >model.bin
minisign -S -s train.key -m model.bin
minisign -S -l -s train.key -m model.bin -x model.legacy
write_runbook deploy.lua <<-\EOF
return runbook { name = "deploy", params = { artifact = "model.bin", sig = "model.bin.minisig", pub = "train.pub" },
	phase "p" {
		step "verify and deploy" { run = function(ctx)
			local p = ctx.params
			crypto.verify(p.artifact, p.sig, p.pub)   -- the result is not even looked at
			fs.write("deployed", p.artifact)
		end },
	},
}
EOF

test_expect_success 'crypto.sha256 is the SHA-256 of the string' '
	write_runbook h.lua <<-\EOF &&
	return runbook { name = "h", phase "p" { step "s" { run = function()
		log("sha=%s", crypto.sha256("lifeboat\n"))
		log("empty=%s", crypto.sha256(""))
	end } } }
	EOF
	expect_code 0 lb run --yes h.lua >out &&
	assert_contains out "sha=$(printf "lifeboat\n" | sha256sum | cut -d" " -f1)" &&
	assert_contains out "empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
'

test_expect_success 'crypto.verify returns true for a minisign signature, prehashed or legacy' '
	write_runbook v.lua <<-\EOF &&
	return runbook { name = "v", phase "p" { step "s" { run = function()
		assert(crypto.verify("model.bin", "model.bin.minisig", "train.pub") == true)
		assert(crypto.verify("model.bin", "model.legacy", "train.pub") == true)
	end } } }
	EOF
	expect_code 0 lb run --yes v.lua >out
'

test_expect_success 'a signed artifact deploys' '
	expect_code 0 lb run --yes deploy.lua >out &&
	test "$(cat deployed)" = model.bin && rm deployed
'

test_expect_success 'a changed artifact raises and is never deployed' '
	cp model.bin swapped.bin && printf x >>swapped.bin && cp model.bin.minisig swapped.bin.minisig &&
	expect_code 1 lb run --yes deploy.lua -p artifact=swapped.bin -p sig=swapped.bin.minisig >out &&
	assert_contains out "crypto.verify: $TEST_DIR/swapped.bin: signature verification failed" &&
	test ! -e deployed
'

test_expect_success 'another key, a missing signature, a damaged key: each raises saying so' '
	expect_code 1 lb run --yes deploy.lua -p pub=other.pub >out &&
	assert_contains out "the signature was made by key" &&
	expect_code 1 lb run --yes deploy.lua -p sig=nothing.minisig >out &&
	assert_contains out "cannot read $Q$TEST_DIR/nothing.minisig$Q" &&
	printf "untrusted comment: x\nRWQ\n" >bad.pub &&
	expect_code 1 lb run --yes deploy.lua -p pub=bad.pub >out &&
	assert_contains out "bad.pub:2: the public key is not valid base64" &&
	test ! -e deployed
'

test_done
