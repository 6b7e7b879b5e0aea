#!/bin/sh
# The scheduler says once where a drill's evidence bundle went (`evidence: true`), on its own
# line prefixed like its other lines; the bundle is there and checks.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

lb -q keygen ev
cat >lifeboat.yaml <<-\EOF
evidence_key: ev.key
schedules:
  - { runbook: drill.lua, cron: "* * * * *", yes: true, evidence: true }
EOF
write_runbook drill.lua <<-\EOF
return runbook { name = "drill", phase "p" { step "s" { sh = "true" } } }
EOF

test_expect_success 'one line names the bundle of the drill' '
	expect_code 0 lb scheduler --once >out 2>err &&
	test "$(grep -c "evidence" out)" = 1 &&
	grep -q "^scheduler: drill.lua: evidence of run [0-9a-f]* in .*evidence-[0-9a-f]*$" out &&
	dir=$(ls -d reports/evidence-*) &&
	(cd "$dir" && minisign -Vm MANIFEST -p ../../ev.pub >/dev/null && sha256sum -c MANIFEST >/dev/null)
'

test_done
