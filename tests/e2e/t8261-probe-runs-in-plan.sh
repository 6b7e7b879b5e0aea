#!/bin/sh
# Probe runs (SPEC 10) are runs of their own mode that restore nothing: a nightly or hourly probe
# must not push the drills out of what `plan` reads. plan's phase history comes from the last
# runs and drills, however many probe runs came after them.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"

write_runbook rb.lua <<-\EOF
return runbook { name = "rb", rto = "1m",
	probes = { step "up" { sh = "true" } },
	phase "restore" { step "r" { sh = "sleep 0.2" } },
}
EOF

test_expect_success 'a run, then more probe runs than plan reads: the restore phase keeps its history' '
	expect_code 0 lb --db h.db run --yes rb.lua >out &&
	i=0 && while [ $i -lt 21 ]; do
		expect_code 0 lb --db h.db probe rb.lua >/dev/null || return 1
		i=$((i + 1))
	done &&
	same "$(sql h.db "select mode, count(*) from runs group by mode order by mode")" "$(printf "probe|21\nrun|1")" &&
	expect_code 0 lb --db h.db plan rb.lua >plan &&
	sed -n "/^2\. restore/,/^3\./p" plan >restore &&
	{ grep -q "history: median 2[0-9][0-9]ms, p95 2[0-9][0-9]ms over 1 run" restore || { cat plan; false; }; } &&
	assert_not_contains plan "no history yet"
'

test_done
