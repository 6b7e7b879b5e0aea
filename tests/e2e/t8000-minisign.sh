#!/bin/sh
# Signing (issue 15): lifeboat's keys and signatures are minisign's, so Debian's minisign
# verifies what lifeboat signs and lifeboat verifies what minisign signs (prehashed and
# legacy), secret keys included; a flipped byte in the file, the signature, the trusted
# comment or the key id fails both tools, lifeboat with a message saying which.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# flip FILE.minisig LINE OFFSET: flips one bit of byte OFFSET of base64 line LINE (1-based)
cat >flip.py <<-\EOF
import base64, sys
path, line, off = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = open(path).read().split("\n")
raw = bytearray(base64.b64decode(lines[line - 1]))
raw[off] ^= 1
lines[line - 1] = base64.b64encode(bytes(raw)).decode()
open(path, "w").write("\n".join(lines))
EOF

test_expect_success 'keygen writes a 0600 secret key and a minisign public key, never overwriting' '
	lb keygen ci >out &&
	assert_contains out "secret key: ci.key" &&
	test "$(stat -c %a ci.key)" = 600 &&
	head -n 1 ci.pub | grep -q "^untrusted comment: minisign public key [0-9A-F]\{16\}$" &&
	keyid=$(sed -n "s/^key //p" out) &&
	assert_contains ci.pub "$keyid" &&
	cp ci.key ci.key.orig &&
	expect_code 1 lb keygen ci 2>err &&
	assert_contains err "never overwrites" &&
	cmp ci.key ci.key.orig &&
	rm -f other.pub && touch other.pub &&
	expect_code 1 lb keygen other 2>err &&
	test ! -e other.key
'

test_expect_success 'lifeboat signs, minisign verifies (the trusted comment names the file)' '
	printf "restore the store\n" >runbook.lua &&
	lb sign --key ci.key runbook.lua >out &&
	assert_contains out "runbook.lua: signed by key" &&
	minisign -Vm runbook.lua -p ci.pub >mv &&
	assert_contains mv "Signature and comment signature verified" &&
	grep -q "^Trusted comment: timestamp:[0-9]*	file:runbook.lua	hashed$" mv &&
	sed -n 2p runbook.lua.minisig | base64 -d | head -c 2 | grep -q "^ED$" &&
	lb verify --pub ci.pub runbook.lua >out &&
	assert_contains out "runbook.lua: ok, signed by key"
'

test_expect_success 'minisign signs (prehashed and legacy), lifeboat verifies' '
	minisign -G -W -p m.pub -s m.key >/dev/null </dev/null &&
	printf "model weights\n" >model.bin &&
	minisign -S -s m.key -m model.bin &&
	lb verify --pub m.pub model.bin >out &&
	keyid=$(head -n 1 m.pub | sed "s/.* //") &&
	# minisign leaves out leading zeros in its comment; lifeboat always prints 16 digits
	keyid16=$(printf "%016s" "$keyid" | tr " " 0) &&
	assert_contains out "ok, signed by key $keyid16" &&
	minisign -S -l -s m.key -m model.bin -x model.legacy &&
	lb verify --pub m.pub --sig model.legacy model.bin >out &&
	assert_contains out "(legacy format)"
'

test_expect_success 'the secret keys are interchangeable: minisign signs with a lifeboat key and the reverse' '
	printf "x\n" >a.txt && printf "y\n" >b.txt &&
	minisign -S -s ci.key -m a.txt &&
	lb verify --pub ci.pub a.txt &&
	lb sign --key m.key b.txt >/dev/null &&
	minisign -Vm b.txt -p m.pub >/dev/null
'

# each case: a fresh copy, one change, then both tools must refuse
tampered () { # NAME: copies runbook.lua and its signature to NAME and NAME.minisig
	cp runbook.lua "$1" &&
	cp runbook.lua.minisig "$1.minisig"
}

test_expect_success 'a flipped byte in the file fails both' '
	tampered f1 && printf "restore the stare\n" >f1 &&
	! minisign -Vm f1 -p ci.pub >mv 2>&1 &&
	expect_code 1 lb verify --pub ci.pub f1 2>err &&
	assert_contains err "f1: signature verification failed: the file does not match its signature"
'

test_expect_success 'a flipped byte in the signature fails both' '
	tampered f2 && python3 flip.py f2.minisig 2 40 &&
	! minisign -Vm f2 -p ci.pub >mv 2>&1 &&
	expect_code 1 lb verify --pub ci.pub f2 2>err &&
	assert_contains err "does not match its signature"
'

test_expect_success 'a changed trusted comment fails both' '
	tampered f3 && sed -i "3s/timestamp:1/timestamp:2/" f3.minisig &&
	! cmp -s f3.minisig runbook.lua.minisig &&
	! minisign -Vm f3 -p ci.pub >mv 2>&1 &&
	expect_code 1 lb verify --pub ci.pub f3 2>err &&
	assert_contains err "the trusted comment does not match its signature"
'

test_expect_success 'a flipped byte in the key id fails both' '
	tampered f4 && python3 flip.py f4.minisig 2 3 &&
	! minisign -Vm f4 -p ci.pub >mv 2>&1 &&
	expect_code 1 lb verify --pub ci.pub f4 2>err &&
	assert_contains err "the signature was made by key" &&
	assert_contains err "but the public key is"
'

test_expect_success 'a flipped byte in the legacy signature and in a prehashed file both fail' '
	cp model.legacy l.minisig && python3 flip.py l.minisig 2 20 &&
	expect_code 1 lb verify --pub m.pub --sig l.minisig model.bin 2>err &&
	assert_contains err "does not match its signature"
'

test_expect_success 'damaged files are named with their line; a missing key is usage' '
	printf "untrusted comment: x\nnot base64!\n" >bad.pub &&
	expect_code 2 lb verify --pub bad.pub runbook.lua 2>err &&
	assert_contains err "bad.pub:2: the public key is not valid base64" &&
	head -n 2 runbook.lua.minisig >f5.minisig && cp runbook.lua f5 &&
	expect_code 1 lb verify --pub ci.pub f5 2>err &&
	assert_contains err "f5.minisig:3: missing the trusted comment" &&
	expect_code 1 lb verify --pub ci.pub nothing-here 2>err &&
	assert_contains err "cannot read" &&
	expect_code 2 lb verify runbook.lua 2>err &&
	assert_contains err "--pub" &&
	expect_code 2 lb sign runbook.lua 2>err &&
	assert_contains err "--key"
'

test_expect_success 'an encrypted minisign key is refused with what to do' '
	printf "pw\npw\n" | minisign -G -p enc.pub -s enc.key >/dev/null 2>&1 &&
	expect_code 2 lb sign --key enc.key a.txt 2>err &&
	assert_contains err "encrypted with a password"
'

test_done
