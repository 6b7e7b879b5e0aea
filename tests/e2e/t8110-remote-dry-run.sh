#!/bin/sh
# SPEC 8 and the preflight: `run --dry-run` and `drill --dry-run` show, under an sh step with
# `on =`, the hosts it would run on: groups expanded through the config's inventory (an
# environment's own group first), duplicates dropped, a function-valued `on` resolved or shown as
# decided at run time. Nothing connects: no sshd runs here, the hosts do not exist.
. "$(dirname "$0")/lib.sh"

cat >lifeboat.yaml <<'EOF'
hosts:
  web: [h1, h2, h3]
  db: [h4]
ssh:
  connect_timeout: 2s
environments:
  staging: { hosts: { web: [stage-1, stage-2] } }
EOF

test_expect_success 'setup' '
	write_runbook fleet.lua <<-\EOF
	return runbook { name = "fleet",
	  phase "roll" {
	    step "web" { sh = "echo rtx8110", on = "web" },
	    step "mixed" { sh = "echo rtx8110", on = { "db", "web", "h1" } },
	    step "computed" { sh = "echo rtx8110", on = function(ctx) return { "db" } end },
	    step "later" { sh = "echo rtx8110", on = function(ctx) return ctx.state.targets end },
	    step "local" { sh = "echo rtx8110" },
	  } }
	EOF
'

test_expect_success 'run --dry-run lists each remote step'"'"'s hosts, groups expanded' '
	lb run --dry-run fleet.lua >out 2>err &&
	grep -A3 "· web\$" out | grep -Fx "      on: h1 h2 h3 (3 hosts)" &&
	grep -A3 "· mixed\$" out | grep -Fx "      on: h4 h1 h2 h3 (4 hosts)" &&
	grep -A3 "· computed\$" out | grep -Fx "      on: h4 (1 host)" &&
	grep -A3 "· later\$" out | grep -E "^      on: \(decided at run time: .+\)\$" &&
	! grep -A3 "· local\$" out | grep "on:" &&
	assert_contains out "nothing ran and nothing was recorded" &&
	test ! -e .lifeboat/history.db
'

test_expect_success 'an environment'"'"'s own group is the one a run in it resolves' '
	lb run --dry-run --env staging fleet.lua >out 2>err &&
	grep -A3 "· web\$" out | grep -Fx "      on: stage-1 stage-2 (2 hosts)" &&
	grep -A3 "· mixed\$" out | grep -Fx "      on: h4 stage-1 stage-2 h1 (4 hosts)"
'

test_expect_success 'drill --dry-run shows them too' '
	lb drill --dry-run fleet.lua >out 2>err &&
	grep -A3 "· web\$" out | grep -Fx "      on: h1 h2 h3 (3 hosts)"
'

test_expect_success 'nothing connected' '
	no_process_matching rtx8110
'

test_done
