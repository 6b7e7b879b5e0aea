#!/bin/sh
# SPEC 8: the inventory in the config (hosts:, ssh:, environments' hosts) and `on =` on sh steps,
# validated by check (file:line, exit 2, nothing runs); `lifeboat hosts` lists the inventory.
. "$(dirname "$0")/lib.sh"

cat >lifeboat.yaml <<'EOF2'
hosts:
  web: [h1, h2, h3]
  db: [h4]
ssh:
  connect_timeout: 3s
  parallel: 4
  options: ["-o", "ServerAliveInterval=5"]
environments:
  staging: { hosts: { web: [stage-1] } }
EOF2

test_expect_success 'a runbook whose on names groups and hosts checks' '
	write_runbook ok.lua <<-\EOF &&
	return runbook { name = "ok",
	  phase "p" {
	    step "all web" { sh = "true", on = "web", max_failed_hosts = 1 },
	    step "one host" { sh = "true", on = "h4", remote_workdir = "/srv" },
	    step "a list" { sh = "true", on = { "db", "h2" } },
	    step "staging only" { sh = "true", on = "stage-1" },
	    step "computed" { sh = "true", on = function(ctx) return "web" end },
	  } }
	EOF
	lb check ok.lua >out &&
	assert_contains out "ok.lua: ok"
'

test_expect_success 'an unknown group is a file:line error with did-you-mean, exit 2' '
	write_runbook typo.lua <<-\EOF &&
	return runbook { name = "typo",
	  phase "p" {
	    step "fine" { sh = "true" },
	    step "deploy" { sh = "touch ran", on = "wbe" },
	  } }
	EOF
	expect_code 2 lb check typo.lua 2>err &&
	assert_contains err "typo.lua:4: step '"'"'deploy'"'"': on: '"'"'wbe'"'"' is neither a group nor a host" &&
	assert_contains err "did you mean '"'"'web'"'"'" &&
	expect_code 2 lb run --yes typo.lua 2>err &&
	assert_contains err "typo.lua:4" &&
	test ! -e ran
'

test_expect_success 'an environment sees its own groups; a host of another environment is refused at run' '
	write_runbook stage.lua <<-\EOF &&
	return runbook { name = "stage", phase "p" { step "s" { sh = "touch ran", on = "stage-1" } } }
	EOF
	expect_code 2 lb run --yes stage.lua 2>err &&
	assert_contains err "stage.lua:1" &&
	test ! -e ran
'

test_expect_success 'on on a non-sh step, with service, max_failed_hosts not whole: file:line, exit 2' '
	write_runbook a.lua <<-\EOF &&
	return runbook { name = "a", phase "p" {
	  step "lua" { run = function() end, on = "web" } } }
	EOF
	expect_code 2 lb check a.lua 2>err &&
	assert_contains err "a.lua:2" && assert_contains err "on = only applies to sh steps" &&
	write_runbook b.lua <<-\EOF &&
	return runbook { name = "b", phase "p" {
	  step "svc" { sh = "sleep 1", service = true, on = "web" } } }
	EOF
	expect_code 2 lb check b.lua 2>err &&
	assert_contains err "b.lua:2" && assert_contains err "service = true" &&
	write_runbook c.lua <<-\EOF &&
	return runbook { name = "c", phase "p" {
	  step "s" { sh = "true", on = "web", max_failed_hosts = 1.5 } } }
	EOF
	expect_code 2 lb check c.lua 2>err &&
	assert_contains err "c.lua:2" && assert_contains err "max_failed_hosts must be a whole number" &&
	write_runbook d.lua <<-\EOF &&
	return runbook { name = "d", phase "p" {
	  step "s" { sh = "true", max_failed_hosts = 1 } } }
	EOF
	expect_code 2 lb check d.lua 2>err &&
	assert_contains err "max_failed_hosts only applies to steps with on" &&
	write_runbook e.lua <<-\EOF &&
	return runbook { name = "e", phase "p" {
	  step "s" { sh = "true", on = {} } } }
	EOF
	expect_code 2 lb check e.lua 2>err &&
	assert_contains err "e.lua:2" && assert_contains err "empty list"
'

test_expect_success 'a malformed inventory names file:line:column and the key' '
	mkdir -p bad && cat >bad/lifeboat.yaml <<-\EOF &&
	hosts:
	  web: h1
	  "no good": [h2]
	  db: [h4, "-oProxyCommand=x", "a b"]
	  empty: []
	ssh:
	  parallel: 0
	  connect_timeout: soon
	  conifg: x
	EOF
	expect_code 2 lb --config bad/lifeboat.yaml check 2>err &&
	assert_contains err "bad/lifeboat.yaml:2:8: hosts.web: expected a list of hosts" &&
	assert_contains err "bad/lifeboat.yaml:3:3: hosts.no good: '"'"'no good'"'"' is not a group name" &&
	assert_contains err "bad/lifeboat.yaml:4:12: hosts.db: host '"'"'-oProxyCommand=x'"'"' starts with '"'"'-'"'"'" &&
	assert_contains err "host '"'"'a b'"'"' has a character" &&
	assert_contains err "bad/lifeboat.yaml:5:10: hosts.empty: the group lists no host" &&
	assert_contains err "bad/lifeboat.yaml:7:13: ssh.parallel: '"'"'0'"'"' is not a whole number from 1 to 1000" &&
	assert_contains err "bad/lifeboat.yaml:8:20: ssh.connect_timeout: '"'"'soon'"'"' is not a duration" &&
	assert_contains err "bad/lifeboat.yaml:9:3: ssh.conifg: unknown key; did you mean '"'"'config'"'"'?"
'

test_expect_success 'without a config, check warns that on is not checked; run refuses (exit 2)' '
	mkdir -p none && cd none &&
	write_runbook r.lua <<-\EOF &&
	return runbook { name = "r", phase "p" { step "s" { sh = "touch ran", on = "web" } } }
	EOF
	expect_code 0 lb check r.lua 2>err &&
	assert_contains err "warning: r.lua:1: step '"'"'s'"'"': on: not checked" &&
	expect_code 2 lb run --yes r.lua 2>err &&
	assert_contains err "r.lua:1" && assert_contains err "no inventory" &&
	test ! -e ran
'

test_expect_success 'a config without hosts: makes on an error for check too' '
	mkdir -p empty && cd empty && echo "timezone: UTC" >lifeboat.yaml &&
	write_runbook r.lua <<-\EOF &&
	return runbook { name = "r", phase "p" { step "s" { sh = "true", on = "web" } } }
	EOF
	expect_code 2 lb check r.lua 2>err &&
	assert_contains err "r.lua:1" && assert_contains err "groups: none"
'

test_expect_success 'hosts lists the groups; --env replaces; GROUP selects; an unknown one exits 2' '
	lb hosts >out &&
	assert_contains out "web: h1 h2 h3" && assert_contains out "db: h4" &&
	lb hosts --env staging >out &&
	assert_contains out "web: stage-1" && assert_not_contains out "h1" &&
	lb hosts db >out &&
	assert_contains out "db: h4" && assert_not_contains out "web" &&
	expect_code 2 lb hosts dbb 2>err &&
	assert_contains err "did you mean '"'"'db'"'"'"
'

test_done
