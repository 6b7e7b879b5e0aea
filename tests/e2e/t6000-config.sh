#!/bin/sh
# The config file (SPEC 4): every problem names file:line:column and the key and exits 2 with
# nothing run; check validates it with the runbooks (roles included); --env takes rto, rpo and
# params over the runbook's, -p last; permissions.<env>.run refuses (exit 5, recorded as refused
# with the operator and uid); a manual step is confirmed only by a member of its role; db,
# sync, lua_memory and reports_dir take effect.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

Q="'"	# a single quote, for SQL strings in the test bodies

write_runbook ok.lua <<-\EOF
return runbook { name = "ok", roles = { "sre" },
	phase "p" { role = "sre", step "s" { sh = "touch ran" } },
}
EOF

# bad NAME 'LINE:COL' 'KEY' <<YAML: a config with one problem; check and run both exit 2
# naming NAME.yaml:LINE:COL and the key, and the runbook never runs.
bad () {
	local name="$1" pos="$2" key="$3"
	cat >"$name.yaml" &&
	expect_code 2 lb --db h.db --config "$name.yaml" check ok.lua >out 2>err &&
	assert_contains err "$name.yaml:$pos: $key" &&
	expect_code 2 lb --db h.db --config "$name.yaml" run --yes ok.lua >out 2>err &&
	assert_contains err "$name.yaml:$pos: $key" &&
	test ! -e ran
}

test_expect_success 'an unknown key: file:line:column, the key, a suggestion, exit 2' '
	bad unknown 2:1 "dbx" <<-\EOF &&
	roles: { sre: { members: [tester] } }
	dbx: .lifeboat/h.db
	EOF
	assert_contains err "did you mean ${Q}db${Q}"
'

test_expect_success 'a duration that does not parse' '
	bad duration 3:19 "environments.staging.rto" <<-\EOF
	roles: { sre: {} }
	environments:
	  staging: { rto: 15 minutes }
	EOF
'

test_expect_success 'a role referenced but not defined' '
	bad role 5:17 "permissions.prod.run[0]" <<-\EOF &&
	roles: { sre: {} }
	environments:
	  prod: { rto: 15m }
	permissions:
	  prod: { run: [comander] }
	EOF
	assert_contains err "comander"
'

test_expect_success 'an invalid cron expression' '
	bad cron 3:30 "schedules[0].cron" <<-\EOF &&
	roles: { sre: {} }
	schedules:
	  - { runbook: ok.lua, cron: "61 * * * *" }
	EOF
	assert_contains err "61"
'

test_expect_success 'an invalid time zone' '
	bad tz 2:11 "timezone" <<-\EOF
	roles: { sre: {} }
	timezone: Mars/Olympus
	EOF
'

test_expect_success 'a schedule naming a runbook that does not exist' '
	bad missing 3:16 "schedules[0].runbook" <<-\EOF &&
	roles: { sre: {} }
	schedules:
	  - { runbook: runbooks/gone.lua, cron: "0 3 * * 1" }
	EOF
	assert_contains err "runbooks/gone.lua"
'

test_expect_success 'a secret shorter than 6 characters (its value never shown)' '
	export LB_SHORT_SECRET=abc12 &&
	bad secret 2:11 "secrets[0]" <<-\EOF &&
	roles: { sre: {} }
	secrets: [LB_SHORT_SECRET]
	EOF
	assert_contains err "shorter than 6" &&
	assert_not_contains err "abc12"
'

test_expect_success 'YAML syntax errors name the line and column too' '
	printf "roles: { sre: {}\nenvironments: [\n" >syntax.yaml &&
	expect_code 2 lb --config syntax.yaml check ok.lua >out 2>err &&
	grep -q "^syntax.yaml:[0-9]*:[0-9]*: " err
'

test_expect_success 'every command stops on a broken config, and lifeboat.yaml is found by default' '
	printf "dbx: 1\n" >lifeboat.yaml &&
	expect_code 2 lb history >out 2>err &&
	assert_contains err "lifeboat.yaml:1:1: dbx" &&
	rm lifeboat.yaml
'

cat >roles.yaml <<-\EOF
roles:
  sre: { members: [tester] }
  commander: { members: [alice] }
environments:
  staging: { rto: 30m, rpo: 2h, params: { store: staging.db, unrelated: x } }
  prod: { rto: 5m }
permissions:
  prod: { run: [commander] }
EOF

test_expect_success 'check names a runbook role missing from the config, and the file' '
	write_runbook roles.lua <<-\EOF &&
	return runbook { name = "roles", roles = { "sre", "dba" },
		phase "p" { role = "sre", step "s" { sh = "true", role = "dba" } },
	}
	EOF
	expect_code 2 lb --config roles.yaml check roles.lua >out 2>err &&
	assert_contains err "roles.lua: role ${Q}dba${Q} is not defined in roles.yaml" &&
	expect_code 2 lb --db h.db --config roles.yaml run --yes roles.lua >out 2>err &&
	assert_contains err "dba" &&
	expect_code 0 lb --config roles.yaml check ok.lua >out &&
	assert_contains out "roles.yaml: ok" &&
	expect_code 0 lb check roles.lua >out
'

write_runbook envs.lua <<-\EOF
return runbook { name = "envs", rto = "1h", rpo = "1d", roles = { "sre", "commander" },
	params = { store = "default.db", port = "8080" },
	phase "p" { role = "sre",
		step "s" { sh = [[printf "%s %s\n" "$store" "$port" >params.out]] },
	},
}
EOF

test_expect_success '--env takes rto, rpo and params from the environment; -p still wins' '
	expect_code 4 lb --db h.db --config roles.yaml run --yes --env staging envs.lua --report r.json >out &&
	test "$(cat params.out)" = "staging.db 8080" &&
	test "$(json_get r.json "d[\"env\"]")" = staging &&
	test "$(json_get r.json "d[\"rto\"][\"target_s\"]")" = 1800.0 &&
	test "$(json_get r.json "d[\"rpo\"][\"target_s\"]")" = 7200.0 &&
	run=$(json_get r.json "d[\"run_id\"]") &&
	test "$(sql h.db "select env, rto_target_s, rpo_target_s, params_json from runs where id = $Q$run$Q")" = \
		"staging|1800.0|7200.0|{\"port\":\"8080\",\"store\":\"staging.db\"}" &&
	expect_code 4 lb --db h.db --config roles.yaml run --yes --env staging -p store=cli.db envs.lua >out &&
	test "$(cat params.out)" = "cli.db 8080" &&
	expect_code 2 lb --db h.db --config roles.yaml run --yes --env nowhere envs.lua >out 2>err &&
	assert_contains err "no environment ${Q}nowhere${Q} (defined: staging, prod)" &&
	expect_code 2 lb --db h.db run --yes --env staging envs.lua >out 2>err &&
	assert_contains err "no config file"
'

test_expect_success 'plan --env shows the environment'\''s objectives' '
	expect_code 0 lb --db h.db --config roles.yaml plan --env staging envs.lua >out &&
	assert_contains out "RTO 30m00s, RPO 2h00m00s in environment staging"
'

test_expect_success 'permissions: a refused run exits 5, runs nothing, is recorded with operator and uid' '
	rm -f params.out &&
	expect_code 5 lb --db h.db --config roles.yaml --as bob run --yes --env prod envs.lua >out 2>err &&
	test ! -e params.out &&
	assert_contains err "${Q}bob${Q} may not run in environment ${Q}prod${Q}" &&
	assert_contains err "alice" &&
	test "$(sql h.db "select status, operator, uid, env, mode from runs where status = ${Q}refused$Q")" = \
		"refused|bob|$(id -u)|prod|run" &&
	test "$(sql h.db "select count(*) from audit where event = ${Q}refused$Q and operator = ${Q}bob$Q")" = 1 &&
	expect_code 5 lb --db h.db --config roles.yaml --as bob drill --yes --env prod envs.lua >out 2>err &&
	test ! -e params.out &&
	expect_code 4 lb --db h.db --config roles.yaml --as alice run --yes --env prod envs.lua >out &&
	test -e params.out &&
	lb --db h.db history --json >hist.json &&
	test "$(json_get hist.json "[r[\"status\"] for r in d[\"runs\"]][:3]")" = "[\"succeeded\", \"refused\", \"refused\"]"
'

write_runbook signoff.lua <<-\EOF
return runbook { name = "signoff", roles = { "sre", "commander" },
	phase "p" { role = "sre",
		step "commander signs off" { manual = "Check the dashboard", role = "commander" },
		step "after" { sh = "touch after-ran" },
	},
}
EOF

test_expect_success 'only a member of the step'\''s role confirms; a non-member is told who may' '
	( rc=0; timeout -s KILL 60 "$LIFEBOAT" --db h.db --config roles.yaml run signoff.lua >run.out 2>&1 || rc=$?; echo $rc >run.rc ) &
	wait_for "test \"\$(sql h.db \"select count(*) from steps where name = ${Q}commander signs off$Q and status = ${Q}running$Q\")\" = 1" 20 &&
	run=$(sql h.db "select id from runs where runbook = ${Q}signoff$Q and status = ${Q}running$Q") &&
	expect_code 5 lb --db h.db --config roles.yaml --as bob confirm "$run" >out 2>err &&
	assert_contains err "${Q}bob${Q} may not confirm a step of role ${Q}commander${Q}: its members are alice" &&
	test ! -e after-ran &&
	expect_code 0 lb --db h.db --config roles.yaml --as alice confirm "$run" "commander signs off" >out &&
	wait_for "test -s run.rc" 20 &&
	test "$(cat run.rc)" = 0 &&
	test -e after-ran &&
	test "$(sql h.db "select confirmed_by from steps where run_id = $Q$run$Q and name = ${Q}commander signs off$Q")" = alice &&
	test "$(sql h.db "select count(*) from audit where run_id = $Q$run$Q and event = ${Q}refused$Q and operator = ${Q}bob$Q")" = 1
'

test_expect_success 'a non-member may not decline either; --yes confirms as the operator, recorded as automatic' '
	rm -f after-ran run.rc
	( rc=0; timeout -s KILL 60 "$LIFEBOAT" --db h.db --config roles.yaml run signoff.lua >run.out 2>&1 || rc=$?; echo $rc >run.rc ) &
	wait_for "test \"\$(sql h.db \"select count(*) from steps where name = ${Q}commander signs off$Q and status = ${Q}running$Q\")\" = 1" 20 &&
	run=$(sql h.db "select id from runs where runbook = ${Q}signoff$Q and status = ${Q}running$Q") &&
	expect_code 5 lb --db h.db --config roles.yaml decline "$run" >out 2>err &&
	assert_contains err "${Q}tester${Q} may not confirm" &&
	expect_code 0 lb --db h.db --config roles.yaml --as alice decline "$run" >out &&
	wait_for "test -s run.rc" 20 &&
	test "$(cat run.rc)" = 1 &&
	expect_code 0 lb --db h.db --config roles.yaml run --yes signoff.lua --report y.json >out &&
	test "$(json_get y.json "d[\"phases\"][0][\"steps\"][0][\"confirmed_by\"]")" = tester &&
	test "$(json_get y.json "d[\"phases\"][0][\"steps\"][0][\"auto_confirmed\"]")" = true
'

# The y/N prompt needs a terminal: tmux gives it one (a server of its own, in the test folder).
if command -v tmux >/dev/null 2>&1; then
test_expect_success 'at the y/N prompt a non-member is refused, told who may, and asked again' '
	rm -f after-ran tty.code &&
	at_exit "tmux -S $TEST_DIR/.tm kill-server" &&
	tmux -S .tm new-session -d -s t -x 160 -y 40 \
		"cd $TEST_DIR && env LIFEBOAT_USER=bob NO_COLOR=1 $LIFEBOAT --db h.db --config roles.yaml run signoff.lua 2>&1 | tee tty.out; echo \$? >tty.code; exec sleep 600" &&
	wait_for "tmux -S .tm capture-pane -p -t t | grep -q \"confirm here as bob? \[y/N\]\"" 20 &&
	tmux -S .tm send-keys -t t y Enter &&
	wait_for "grep -q \"bob may not confirm ${Q}commander signs off${Q}\" tty.out" 20 &&
	assert_contains tty.out "its members are alice" &&
	test ! -e after-ran &&
	run=$(sql h.db "select id from runs where runbook = ${Q}signoff$Q and status = ${Q}running$Q") &&
	expect_code 0 lb --db h.db --config roles.yaml --as alice confirm "$run" >out &&
	wait_for "test -s tty.code" 20 &&
	test -e after-ran &&
	test "$(sql h.db "select confirmed_by from steps where run_id = $Q$run$Q and name = ${Q}commander signs off$Q")" = alice
'
fi

test_expect_success 'db (relative to the config), sync: full, reports_dir and lua_memory take effect' '
	mkdir -p conf &&
	cat >conf/lb.yaml <<-\EOF &&
	db: state/history.db
	sync: full
	reports_dir: out/reports
	lua_memory: 16MiB
	EOF
	write_runbook plain.lua <<-\EOF &&
	return runbook { name = "plain", phase "p" { step "s" { sh = "true" } } }
	EOF
	expect_code 0 lb --config conf/lb.yaml run --yes plain.lua >out &&
	test -f conf/state/history.db &&
	test "$(sql conf/state/history.db "pragma synchronous")" = 2 &&
	run=$(sql conf/state/history.db "select id from runs") &&
	expect_code 0 lb --config conf/lb.yaml report "$run" --format json >out &&
	test -f "conf/out/reports/plain-$run.json" &&
	write_runbook hog.lua <<-\EOF &&
	return runbook { name = "hog", phase "p" { step "s" { run = function()
		local t = {} for i = 1, 1e7 do t[i] = string.rep("x", 64) .. i end
	end } } }
	EOF
	expect_code 1 lb --config conf/lb.yaml run --yes hog.lua --report hog.json >out &&
	assert_contains hog.json "memory limit (16 MiB)" &&
	expect_code 0 lb --config conf/lb.yaml --db other.db run --yes plain.lua >out &&
	test -f other.db
'

test_done
