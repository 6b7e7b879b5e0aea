#!/bin/sh
# A machine policy that requires signatures but lists no keys: the repository's own trust.keys
# does not count under it (else whoever edits lifeboat.yaml adds their key and signs anything);
# every runbook is refused, with a message naming the policy. Where the policy does not require
# signatures, the project's keys still name who signed.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
CRASHTEST=${LIFEBOAT_CRASHTEST:-$(dirname "$LIFEBOAT")/lifeboat-crashtest}
lb -q keygen mallory
write_runbook rb.lua <<-\EOF
return runbook { name = "rb", phase "p" { step "s" { sh = "echo ran >>ran" } } }
EOF
lb -q sign --key mallory.key rb.lua
printf "trust: { keys: [mallory.pub] }\n" >lifeboat.yaml
mkdir -p policy && chmod 755 policy

test_expect_success 'require_signed: always and no keys: a project key does not pass' '
	printf "require_signed: always\n" >policy/trust.yaml && chmod 644 policy/trust.yaml &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 5 "$CRASHTEST" run --yes rb.lua 2>err &&
	assert_contains err "the machine policy $TEST_DIR/policy/trust.yaml lists none under keys" &&
	test ! -e ran &&
	test "$(sql .lifeboat/history.db "select status from runs")" = refused
'

test_expect_success 'a policy requiring prod only: prod refused, dev runs and names the project key' '
	printf "require_signed: [prod]\n" >policy/trust.yaml &&
	printf "trust: { keys: [mallory.pub] }\nenvironments: { prod: {}, dev: {} }\n" >lifeboat.yaml &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 5 "$CRASHTEST" run --yes --env prod rb.lua 2>err &&
	assert_contains err "lists none under keys" &&
	test ! -e ran &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 0 "$CRASHTEST" run --yes --env dev rb.lua --report r.json >out &&
	test -e ran &&
	test "$(json_get r.json "d[\"signed_by\"]")" = "$(head -n 1 mallory.pub | sed "s/.* //")"
'

test_done
