#!/bin/sh
# SPEC 9: a signature names its file, folders included. `lifeboat sign` run from the project's
# folder records the path as given (file:runbooks/prod/util.lua), so under require_signed a
# module or runbook of the same name from another folder, copied in with its own signature, is
# refused (exit 5), while the project copied or deployed elsewhere as a whole still runs.
# minisign still verifies these signatures.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
lb -q keygen ci && mkdir keys && mv ci.* keys/
cat >lifeboat.yaml <<-\EOF
trust: { keys: [keys/ci.pub] }
environments: { prod: { require_signed: true } }
EOF
for env in prod staging
do
	write_runbook runbooks/$env/rb.lua <<-EOF
	local u = require "lib.util"
	return runbook { name = "rb-$env", phase "p" { step "s" { sh = "echo $env-" .. u.who .. " >>../../ran" } } }
	EOF
	write_runbook runbooks/$env/lib/util.lua <<-EOF
	return { who = "util-$env" }
	EOF
done

test_expect_success 'signed from the project folder: the trusted comment names the path; both run' '
	lb -q sign --key keys/ci.key runbooks/prod/rb.lua runbooks/prod/lib/util.lua \
		runbooks/staging/rb.lua ./runbooks/staging/lib/util.lua &&
	minisign -Vm runbooks/prod/lib/util.lua -p keys/ci.pub >mv &&
	assert_contains mv "file:runbooks/prod/lib/util.lua	hashed" &&
	minisign -Vm runbooks/staging/lib/util.lua -p keys/ci.pub >mv &&
	assert_contains mv "file:runbooks/staging/lib/util.lua	hashed" &&
	expect_code 0 lb run --yes --env prod runbooks/prod/rb.lua >out &&
	expect_code 0 lb run --yes --env prod runbooks/staging/rb.lua >out &&
	test "$(cat ran)" = "prod-util-prod
staging-util-staging"
'

test_expect_success 'the same-named module from another folder, with its signature: exit 5 naming both' '
	cp -r runbooks/prod/lib prod-lib.keep &&
	cp runbooks/staging/lib/util.lua runbooks/staging/lib/util.lua.minisig runbooks/prod/lib/ &&
	expect_code 5 lb run --yes --env prod runbooks/prod/rb.lua 2>err &&
	assert_contains err "the signature is for ${Q}runbooks/staging/lib/util.lua$Q, not" &&
	assert_contains err "runbooks/prod/lib/util.lua" &&
	test "$(wc -l <ran)" -eq 2 &&
	cp prod-lib.keep/* runbooks/prod/lib/
'

test_expect_success 'the same-named runbook from another folder, with its signature: exit 5' '
	cp runbooks/prod/rb.lua runbooks/prod/rb.lua.minisig . &&
	cp runbooks/staging/rb.lua runbooks/staging/rb.lua.minisig runbooks/prod/ &&
	expect_code 5 lb run --yes --env prod runbooks/prod/rb.lua 2>err &&
	assert_contains err "the signature is for ${Q}runbooks/staging/rb.lua$Q" &&
	test "$(sql .lifeboat/history.db "select status from runs order by started_at desc limit 1")" = refused &&
	mv rb.lua rb.lua.minisig runbooks/prod/ &&
	test "$(wc -l <ran)" -eq 2
'

test_expect_success 'the project copied elsewhere as a whole still runs (the path is matched from the end)' '
	mkdir -p /tmp/t8021.$$ && at_exit "rm -rf /tmp/t8021.$$" &&
	cp -r runbooks keys lifeboat.yaml /tmp/t8021.$$/ &&
	(cd /tmp/t8021.$$ && expect_code 0 "$LIFEBOAT" run --yes --env prod runbooks/prod/rb.lua >out) &&
	test "$(cat /tmp/t8021.$$/ran)" = "prod-util-prod" &&
	expect_code 0 lb run --yes --env prod "$TEST_DIR/runbooks/prod/rb.lua" >out &&
	test "$(wc -l <ran)" -eq 3
'

test_expect_success 'a path that leaves the folder or is absolute is signed by its base name, as minisign does' '
	mkdir sub && cd sub &&
	lb -q sign --key ../keys/ci.key ../runbooks/prod/lib/util.lua "$TEST_DIR/runbooks/staging/lib/util.lua" &&
	minisign -Vm ../runbooks/prod/lib/util.lua -p ../keys/ci.pub >mv &&
	assert_contains mv "file:util.lua	hashed" &&
	minisign -Vm ../runbooks/staging/lib/util.lua -p ../keys/ci.pub >mv &&
	assert_contains mv "file:util.lua	hashed"
'

test_expect_success 'signed through a link to a release folder (runbooks/current -> ../releases/v7): it runs' '
	write_runbook releases/v7/rel.lua <<-\EOF &&
	return runbook { name = "rel", phase "p" { step "s" { sh = "echo rel >>../../ran" } } }
	EOF
	ln -s ../releases/v7 runbooks/current &&
	lb -q sign --key keys/ci.key runbooks/current/rel.lua &&
	before=$(wc -l <ran) &&
	expect_code 0 lb run --yes --env prod runbooks/current/rel.lua >out &&
	test "$(wc -l <ran)" -eq $((before + 1))
'

test_done
