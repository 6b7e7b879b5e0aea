#!/bin/sh
# Signed runbooks (SPEC 9): with require_signed, run, drill, console, resume and the scheduler
# refuse (exit 5, recorded as a refused run with the reason) a runbook or a module it requires
# without a valid signature by a trusted key that names the file; a signed runbook runs and its
# key id is in the lineage, the audit log and the reports; a machine policy cannot be weakened
# by the project's config; `check` shows each file's signature status.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"
CRASHTEST=${LIFEBOAT_CRASHTEST:-$(dirname "$LIFEBOAT")/lifeboat-crashtest}
[ -x "$CRASHTEST" ] || _lb_bail "no crash-test build at $CRASHTEST (LIFEBOAT_CRASHTEST)"
export CRASHTEST
lb -q keygen ci && lb -q keygen evil && mkdir keys && mv ci.* evil.* keys/
KEYID=$(head -n 1 keys/ci.pub | sed "s/.* //")
cat >lifeboat.yaml <<-\EOF
trust:
  keys: [keys/ci.pub]
environments:
  prod: { require_signed: true }
  dev: {}
schedules:
  - { runbook: sched.lua, cron: "* * * * *", env: prod, yes: true }
EOF
write_runbook rb.lua <<-\EOF
local m = require "helper"
return runbook { name = "rb", phase "p" { step "s" { sh = "echo ran-" .. m.word .. " >>ran" } } }
EOF
write_runbook helper.lua <<-\EOF
return { word = "helper" }
EOF
cp rb.lua sched.lua

runs_of () { # STATUS: how many runs have it
	sql .lifeboat/history.db "select count(*) from runs where status = $Q$1$Q"
}

test_expect_success 'unsigned: exit 5, nothing runs, a refused run with the reason' '
	expect_code 5 lb run --yes --env prod rb.lua >out 2>err &&
	assert_contains err "rb.lua is not signed (no rb.lua.minisig) and environment $Q"prod"$Q requires signed runbooks" &&
	assert_contains err "recorded as run" &&
	test ! -e ran &&
	test "$(sql .lifeboat/history.db "select runbook, status, env, error like $Q%not signed%$Q from runs")" = "rb|refused|prod|1" &&
	test "$(sql .lifeboat/history.db "select json_extract(detail, $Q\$.reason$Q) from audit where event = $Q"refused"$Q")" = signature &&
	expect_code 5 lb drill --yes --env prod rb.lua 2>err &&
	test "$(runs_of refused)" = 2
'

test_expect_success 'without require_signed the same runbook runs (other environments are not affected)' '
	expect_code 0 lb run --yes --env dev rb.lua >out &&
	test "$(cat ran)" = ran-helper && rm ran
'

test_expect_success 'signed runbook with an unsigned module: exit 5 naming the module' '
	lb -q sign --key keys/ci.key rb.lua &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "helper.lua is not signed" &&
	test ! -e ran
'

test_expect_success 'signed runbook and module: it runs; the key id is in the lineage, audit and reports' '
	lb -q sign --key keys/ci.key helper.lua &&
	expect_code 0 lb run --yes --env prod rb.lua --report r.json --junit r.xml >out &&
	test "$(cat ran)" = ran-helper && rm ran &&
	test "$(json_get r.json "d[\"signed_by\"]")" = "$KEYID" &&
	grep -q "<property name=\"signed_by\" value=\"$KEYID\"/>" r.xml &&
	id=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql .lifeboat/history.db "select signed_by from runs where id = $Q$id$Q")" = "$KEYID" &&
	test "$(sql .lifeboat/history.db "select json_extract(detail, $Q\$.signed_by$Q) from audit where event = $Q"run_started"$Q and run_id = $Q$id$Q")" = "$KEYID" &&
	lb show "$id" >shown && assert_contains shown "signed by key $KEYID" &&
	lb report "$id" --format md -o r.md >/dev/null && assert_contains r.md "$KEYID" &&
	lb report "$id" --format html -o r.html >/dev/null && assert_contains r.html "$KEYID" &&
	test "$(sql .lifeboat/history.db "select count(*) from run_sources where run_id = $Q$id$Q and signed_by = $Q$KEYID$Q")" = 2
'

test_expect_success 'an unsigned run reports signed_by null' '
	cp rb.lua plain.lua &&
	expect_code 0 lb run --yes --env dev plain.lua --report u.json >/dev/null && rm ran &&
	test "$(json_get u.json "d[\"signed_by\"]")" = null
'

test_expect_success 'signed, then edited: exit 5' '
	cp rb.lua rb.lua.orig &&
	echo "-- an edit" >>rb.lua &&
	expect_code 5 lb run --yes --env prod rb.lua 2>err &&
	assert_contains err "rb.lua: signature verification failed: the file does not match its signature" &&
	cp rb.lua.orig rb.lua
'

test_expect_success 'an untrusted key: exit 5 naming the key' '
	cp rb.lua evil.lua && lb -q sign --key keys/evil.key evil.lua &&
	expect_code 5 lb run --yes --env prod evil.lua 2>err &&
	assert_contains err "which is not trusted (trusted: $KEYID"
'

test_expect_success 'a renamed signed runbook (or another file'"$Q"'s signature): exit 5' '
	cp rb.lua renamed.lua && cp rb.lua.minisig renamed.lua.minisig &&
	expect_code 5 lb run --yes --env prod renamed.lua 2>err &&
	assert_contains err "the signature is for file $Q"rb.lua"$Q, not $Q"renamed.lua"$Q"
'

test_expect_success 'a refused module stays refused when the runbook catches the error' '
	write_runbook sneaky.lua <<-\EOF &&
	local ok = pcall(require, "unsigned_mod")
	return runbook { name = "sneaky", phase "p" { step "s" { sh = "touch sneaky-ran" } } }
	EOF
	echo "return {}" >unsigned_mod.lua &&
	lb -q sign --key keys/ci.key sneaky.lua &&
	expect_code 5 lb run --yes --env prod sneaky.lua 2>err &&
	assert_contains err "unsigned_mod.lua is not signed" &&
	test ! -e sneaky-ran
'

test_expect_success 'under require_signed, require works only at the top level, never inside a step' '
	write_runbook late.lua <<-\EOF &&
	return runbook { name = "late", phase "p" { step "s" { run = function() require "helper" end } } }
	EOF
	lb -q sign --key keys/ci.key late.lua &&
	expect_code 1 lb run --yes --env prod late.lua >out 2>err &&
	assert_contains out "modules are loaded only at the runbook${Q}s top level" &&
	expect_code 0 lb run --yes --env dev late.lua >out
'

test_expect_success 'resume of a signed run whose runbook was edited: exit 5, even with --force' '
	cp rb.lua crashy.lua && cp helper.lua helper.lua.keep &&
	lb -q sign --key keys/ci.key crashy.lua &&
	LIFEBOAT_CRASH_AT=before_step expect_code 137 "$CRASHTEST" run --yes --env prod crashy.lua >out 2>&1 &&
	id=$(sql .lifeboat/history.db "select id from runs where runbook = $Q"rb"$Q and status = $Q"running"$Q") &&
	test -n "$id" &&
	echo "-- edited after the crash" >>crashy.lua &&
	expect_code 5 lb resume "$id" --yes --force 2>err &&
	assert_contains err "crashy.lua: signature verification failed" &&
	assert_contains err "--force does not override a signature" &&
	test "$(sql .lifeboat/history.db "select count(*) from audit where run_id = $Q$id$Q and event = $Q"refused"$Q and json_extract(detail, $Q\$.reason$Q) = $Q"signature"$Q")" = 1 &&
	test ! -e ran
'

test_expect_success 'the scheduler refuses an unsigned runbook in a require_signed environment' '
	expect_code 5 lb scheduler --once >out 2>err &&
	test "$(sql .lifeboat/history.db "select status || $Q/$Q || \"trigger\" from runs where file like $Q%sched.lua$Q")" = "refused/schedule"
'

test_expect_success 'the console refuses an unsigned runbook too, before its screen starts' '
	cp rb.lua unsigned.lua &&
	at_exit "tmux -L lb-t8001 kill-server" &&
	tmux -L lb-t8001 new-session -d -x 100 -y 30 \
		"cd $TEST_DIR && TERM=xterm $LIFEBOAT console --yes --env prod unsigned.lua 2>console.err; echo \$? >console.rc" &&
	wait_for "test -s console.rc" 20 &&
	test "$(cat console.rc)" = 5 &&
	assert_contains console.err "unsigned.lua is not signed" &&
	test "$(sql .lifeboat/history.db "select status || $Q/$Q || \"trigger\" from runs where file like $Q%unsigned.lua$Q")" = "refused/console"
'

test_expect_success 'check shows each file'"$Q"'s signature status' '
	expect_code 0 lb check rb.lua evil.lua sneaky.lua >out &&
	assert_contains out "/rb.lua: signed by key $KEYID" &&
	assert_contains out "/helper.lua: signed by key $KEYID" &&
	assert_contains out "/evil.lua: signature does not count" &&
	assert_contains out "/unsigned_mod.lua: not signed"
'

# The machine policy needs the test build to point elsewhere than /etc/lifeboat/trust.yaml.
mkdir -p policy && lb -q keygen policy/ops
cat >policy/trust.yaml <<-\EOF
keys: [ops.pub]
require_signed: always
EOF
chmod 755 policy && chmod 644 policy/trust.yaml

test_expect_success 'a machine policy requires signatures without --env, and only its keys count' '
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 5 "$CRASHTEST" run --yes --env dev rb.lua 2>err &&
	assert_contains err "which is not trusted (trusted: $(head -n 1 policy/ops.pub | sed "s/.* //") ($TEST_DIR/policy/ops.pub))" &&
	assert_contains err "the machine policy $TEST_DIR/policy/trust.yaml requires signed runbooks" &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 5 "$CRASHTEST" --config /dev/null run --yes rb.lua 2>err &&
	cp rb.lua ops.lua && cp helper.lua ops_helper.lua &&
	sed -i "s/\"helper\"/\"ops_helper\"/" ops.lua &&
	"$LIFEBOAT" -q sign --key policy/ops.key ops.lua ops_helper.lua &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 0 "$CRASHTEST" run --yes ops.lua >out &&
	test "$(cat ran)" = ran-helper && rm ran
'

test_expect_success 'a policy listing environments requires signatures there only, whatever the project says' '
	printf "keys: [ops.pub]\nrequire_signed: [staging]\n" >policy/trust.yaml &&
	printf "environments:\n  staging: { require_signed: false }\n  dev: {}\n" >weak.yaml &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 5 "$CRASHTEST" --config weak.yaml run --yes --env staging rb.lua 2>err &&
	assert_contains err "the machine policy $TEST_DIR/policy/trust.yaml requires signed runbooks in environment $Q"staging"$Q" &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 0 "$CRASHTEST" --config weak.yaml run --yes --env dev rb.lua >out &&
	rm -f ran &&
	printf "keys: [ops.pub]\nrequire_signed: always\n" >policy/trust.yaml
'

test_expect_success 'a policy others can write is ignored, with a warning' '
	chmod 664 policy/trust.yaml &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 0 "$CRASHTEST" run --yes --env dev rb.lua >out 2>err &&
	assert_contains err "ignoring the machine policy" &&
	assert_contains err "writable by its group or others" &&
	chmod 644 policy/trust.yaml && chmod 775 policy &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 0 "$CRASHTEST" run --yes --env dev rb.lua >out 2>err &&
	assert_contains err "ignoring the machine policy" && rm -f ran &&
	chmod 755 policy
'

test_expect_success 'the release binary does not read LIFEBOAT_TRUST_POLICY' '
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 0 lb run --yes --env dev rb.lua >out 2>err &&
	rm -f ran
'

test_expect_success 'bad trust config: file:line and exit 2' '
	printf "trust:\n  keys: [keys/missing.pub]\n" >bad.yaml &&
	expect_code 2 lb --config bad.yaml check rb.lua 2>err &&
	assert_contains err "bad.yaml:2:" &&
	assert_contains err "trust.keys[0]" &&
	printf "environments:\n  prod: { require_signed: maybe }\n" >bad2.yaml &&
	expect_code 2 lb --config bad2.yaml check rb.lua 2>err &&
	assert_contains err "environments.prod.require_signed" &&
	printf "require_signed: sometimes\n" >policy/trust.yaml &&
	LIFEBOAT_TRUST_POLICY=$TEST_DIR/policy/trust.yaml expect_code 2 "$CRASHTEST" check rb.lua 2>err &&
	assert_contains err "trust.yaml:1:"
'

test_done
