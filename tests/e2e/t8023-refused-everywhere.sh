#!/bin/sh
# SPEC 9, issue 15: under require_signed, the four ways around a signature (a signed runbook
# renamed, an older signed version copied back, a same-named runbook or module from another
# folder, a FIFO where the runbook or a module should be) are each refused by every command that
# runs code (run, drill, the scheduler, the console, resume): exit 5, a refused run (or, for
# resume, a refusal in the run's audit log) with the reason, nothing runs, and no hang (every
# command under timeout; a FIFO is never opened for reading). A FIFO without require_signed is
# only unreadable: exit 2, no run.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

need_tmux
Q="'"
CRASHTEST=${LIFEBOAT_CRASHTEST:-$(dirname "$LIFEBOAT")/lifeboat-crashtest}
[ -x "$CRASHTEST" ] || _lb_bail "no crash-test build at $CRASHTEST (LIFEBOAT_CRASHTEST)"
export CRASHTEST
lb -q keygen ci && mkdir keys && mv ci.* keys/

# the refused ones by name: renamed (a signed runbook's copy under another name), older (v1
# back after v2 ran), foreign (its module swapped for the same-named one of another folder),
# fifo (a FIFO as the runbook), fifomod (a FIFO as its module)
cat >lifeboat.yaml <<-\EOF
trust: { keys: [keys/ci.pub] }
environments: { prod: { require_signed: true }, dev: {} }
schedules:
  - { runbook: renamed.lua, cron: "* * * * *", env: prod, yes: true }
  - { runbook: older.lua, cron: "* * * * *", env: prod, yes: true }
  - { runbook: app/prod/foreign.lua, cron: "* * * * *", env: prod, yes: true }
  - { runbook: fifomod.lua, cron: "* * * * *", env: prod, yes: true }
EOF

# runbook NAME [MODULE]: a one-step runbook appending NAME (and the module's word) to ran
runbook () {
	if [ -n "${2:-}" ]; then
		printf 'local m = require "%s"\nreturn runbook { name = "%s", phase "p" { step "s" { sh = "echo %s-" .. m.w .. " >>'"$TEST_DIR"'/ran" } } }\n' "$2" "$1" "$1"
	else
		printf 'return runbook { name = "%s", phase "p" { step "s" { sh = "echo %s >>'"$TEST_DIR"'/ran" } } }\n' "$1" "$1"
	fi
}
signed_at () { # FILE TIMESTAMP: FILE.minisig by keys/ci.key with that trusted timestamp
	rm -f "$1.minisig" &&
	minisign -S -s keys/ci.key -m "$1" -t "timestamp:$2	file:$1	hashed" >/dev/null </dev/null
}

runbook good >good.lua && lb -q sign --key keys/ci.key good.lua
# renamed: good.lua and its signature under another name
cp good.lua renamed.lua && cp good.lua.minisig renamed.lua.minisig
# older: v1 and v2 (signed later), both run; v1 goes back in the test
runbook older >older.lua && signed_at older.lua 1700000000 && mkdir v1 && cp older.lua* v1/ &&
	echo "-- v2" >>older.lua && signed_at older.lua 1750000000
# foreign: app/prod/foreign.lua requires lib.util; app/staging/lib/util.lua is signed as its own
runbook foreign lib.util >fg && write_runbook app/prod/foreign.lua <fg &&
	write_runbook app/prod/lib/util.lua <<-\EOF &&
	return { w = "prod" }
	EOF
	write_runbook app/staging/lib/util.lua <<-\EOF &&
	return { w = "staging" }
	EOF
	lb -q sign --key keys/ci.key app/prod/foreign.lua app/prod/lib/util.lua app/staging/lib/util.lua
# fifo, fifomod
mkfifo fifo.lua && runbook fifomod fhelper >fifomod.lua && lb -q sign --key keys/ci.key fifomod.lua &&
	mkfifo fhelper.lua

refused () { # FILE TRIGGER: the newest run of FILE is refused, triggered so, with a reason
	test "$(sql .lifeboat/history.db "select status || $Q/$Q || \"trigger\" || $Q/$Q || (error is not null)
		from runs where file like $Q%/$1$Q order by started_at desc, rowid desc limit 1")" = "refused/$2/1"
}
refusals () { # how many refused runs the history holds
	sql .lifeboat/history.db "select count(*) from runs where status = ${Q}refused$Q"
}

test_expect_success 'the genuine ones run: good, older v1 then v2, foreign with its own module' '
	expect_code 0 timeout 20 "$LIFEBOAT" run --yes --env prod good.lua >out &&
	mkdir v2 && cp older.lua* v2/ && cp v1/* . &&
	expect_code 0 timeout 20 "$LIFEBOAT" run --yes --env prod older.lua >out &&
	cp v2/* . &&
	expect_code 0 timeout 20 "$LIFEBOAT" run --yes --env prod older.lua >out &&
	expect_code 0 timeout 20 "$LIFEBOAT" run --yes --env prod app/prod/foreign.lua >out &&
	test "$(cat ran)" = "good
older
older
foreign-prod" &&
	test "$(refusals)" = 0
'

test_expect_success 'then the tampering: v1 back, the staging module in prod' '
	cp v1/* . &&
	cp app/staging/lib/util.lua app/staging/lib/util.lua.minisig app/prod/lib/
'

test_expect_success 'run and drill refuse each: exit 5, a refused run with the reason, nothing ran' '
	for f in renamed.lua older.lua app/prod/foreign.lua fifo.lua fifomod.lua
	do
		for cmd in run drill
		do
			expect_code 5 timeout 20 "$LIFEBOAT" $cmd --yes --env prod $f >out 2>err &&
			assert_contains err "nothing ran (recorded as run" &&
			refused "${f##*/}" cli || return 1
		done
	done &&
	test "$(refusals)" = 10 &&
	test "$(wc -l <ran)" -eq 4
'

test_expect_success 'each refusal says why' '
	expect_code 5 lb run --yes --env prod renamed.lua 2>err &&
	assert_contains err "the signature is for file ${Q}good.lua$Q, not ${Q}renamed.lua$Q" &&
	expect_code 5 lb run --yes --env prod older.lua 2>err &&
	assert_contains err "an older signed version does not count" &&
	expect_code 5 lb run --yes --env prod app/prod/foreign.lua 2>err &&
	assert_contains err "the signature is for ${Q}app/staging/lib/util.lua$Q" &&
	expect_code 5 timeout 20 "$LIFEBOAT" run --yes --env prod fifo.lua 2>err &&
	assert_contains err "fifo.lua: not a regular file (a device, a FIFO or a socket), so no signature can vouch for its bytes" &&
	expect_code 5 timeout 20 "$LIFEBOAT" run --yes --env prod fifomod.lua 2>err &&
	assert_contains err "fhelper.lua: not a regular file" &&
	test "$(sql .lifeboat/history.db "select count(*) from audit where event = ${Q}refused$Q
		and json_extract(detail, $Q\$.reason$Q) = ${Q}signature$Q")" = "$(refusals)"
'

test_expect_success 'the scheduler refuses each of its four, at once' '
	expect_code 5 timeout 30 "$LIFEBOAT" scheduler --once >out 2>err &&
	for f in renamed.lua older.lua foreign.lua fifomod.lua
	do
		refused $f schedule || return 1
	done &&
	test "$(wc -l <ran)" -eq 4
'

test_expect_success 'a FIFO as a scheduled runbook stops the config at once: file:line, exit 2' '
	mkdir s && cd s && mkfifo f.lua &&
	printf "schedules:\n  - { runbook: f.lua, cron: \"* * * * *\" }\n" >lifeboat.yaml &&
	expect_code 2 timeout 20 "$LIFEBOAT" scheduler --once 2>err &&
	assert_contains err "lifeboat.yaml:2:" &&
	assert_contains err "runbook ${Q}f.lua$Q is not a file"
'

test_expect_success 'the console refuses each before its screen starts' '
	for f in renamed.lua older.lua app/prod/foreign.lua fifo.lua fifomod.lua
	do
		n=$(basename $f .lua) &&
		at_exit "tmux -S $Q$TEST_DIR/.tm-$n$Q kill-server" &&
		tm $n new-session -d -x 100 -y 30 \
			"cd $TEST_DIR && TERM=xterm timeout 20 $LIFEBOAT console --yes --env prod $f 2>$n.err; echo \$? >$n.code" &&
		wait_for "test -s $n.code" 25 &&
		test "$(cat $n.code)" = 5 &&
		assert_contains $n.err "recorded as run" &&
		refused "${f##*/}" console || return 1
	done &&
	test "$(wc -l <ran)" -eq 4
'

# crash NAME: a run of NAME.lua, signed now, killed before its step: the run id
crash () {
	LIFEBOAT_CRASH_AT=before_step expect_code 137 "$CRASHTEST" run --yes --env prod "$1.lua" >/dev/null 2>&1 &&
	sql .lifeboat/history.db "select id from runs where runbook = $Q$1$Q and status = ${Q}running$Q"
}
resume_refused () { # ID TEXT: resume --yes --force exits 5 saying TEXT, refused in the audit log
	expect_code 5 timeout 20 "$LIFEBOAT" resume "$1" --yes --force 2>err &&
	assert_contains err "$2" &&
	test "$(sql .lifeboat/history.db "select count(*) from audit where run_id = $Q$1$Q and event = ${Q}refused$Q
		and json_extract(detail, $Q\$.reason$Q) = ${Q}signature$Q")" = 1
}

test_expect_success 'resume refuses a run whose runbook became an older version, another file or a FIFO' '
	runbook r1 >r1.lua && signed_at r1.lua 1700000000 && cp r1.lua r1.lua.minisig v1/ &&
	signed_at r1.lua 1750000000 && id1=$(crash r1) && test -n "$id1" &&
	cp v1/r1.lua v1/r1.lua.minisig . &&
	resume_refused "$id1" "an older signed version does not count" &&
	runbook r2 >r2.lua && lb -q sign --key keys/ci.key r2.lua && id2=$(crash r2) && test -n "$id2" &&
	cp good.lua r2.lua && cp good.lua.minisig r2.lua.minisig &&
	resume_refused "$id2" "the signature is for file ${Q}good.lua$Q, not ${Q}r2.lua$Q" &&
	runbook r3 >r3.lua && lb -q sign --key keys/ci.key r3.lua && id3=$(crash r3) && test -n "$id3" &&
	rm r3.lua && mkfifo r3.lua &&
	resume_refused "$id3" "r3.lua: not a regular file" &&
	test "$(wc -l <ran)" -eq 4
'

test_expect_success 'without require_signed a FIFO is only unreadable: exit 2 at once, no run' '
	n=$(sql .lifeboat/history.db "select count(*) from runs") &&
	expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env dev fifo.lua 2>err &&
	assert_contains err "fifo.lua: cannot read the runbook: not a regular file" &&
	expect_code 2 timeout 20 "$LIFEBOAT" run --yes --env dev fifomod.lua 2>err &&
	assert_contains err "fhelper.lua: cannot read the module: not a regular file" &&
	test "$(sql .lifeboat/history.db "select count(*) from runs")" = "$n"
'

test_done
