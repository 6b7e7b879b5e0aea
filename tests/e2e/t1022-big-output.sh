#!/bin/sh
# Lots of output on stdout and stderr at once does not deadlock a step, and what the history keeps
# of it is bounded (SPEC 1, 5).
# shellcheck disable=SC2016,SC2034,SC3043 # bodies are single-quoted and eval'd later (and use the
# variables set here); local, as in lib.sh
. "$(dirname "$0")/lib.sh"

write_runbook big.lua <<-\EOF
return runbook { name = "big",
	phase "p" {
		step "flood" { timeout = "15s", sh = [[
			head -c 4194304 /dev/zero | tr "\0" a &
			head -c 4194304 /dev/zero | tr "\0" b >&2
			wait
			echo; echo the-end
		]] },
		step "after" { sh = "echo after-ran" },
	},
}
EOF

Q="'"	# a single quote, for SQL strings in the test bodies

test_expect_success '4 MiB on stdout and 4 MiB on stderr at once: exit 0, no deadlock' '
	expect_code 0 lb --db h.db -q run --yes big.lua --report r.json >out 2>err &&
	same "$(jv r.json status phases.0.steps.0.status phases.0.steps.1.status)" \
		"succeeded succeeded succeeded"
'

test_expect_success 'the output kept in the history is bounded, with its head and its tail' '
	run=$(sql h.db "select id from runs order by started_at desc limit 1") &&
	len=$(sql h.db "select length(output) from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 0") &&
	test "$len" -gt 1000 &&
	test "$len" -lt 204800 &&
	sql h.db "select output from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 0" >kept &&
	assert_contains kept "the-end" &&
	test "$(sql h.db "select output_cut > 0 from steps where run_id = $Q$run$Q and phase_idx = 0 and idx = 0")" = 1 &&
	alen=$(sql h.db "select max(length(output)) from attempts where run_id = $Q$run$Q") &&
	test "$alen" -lt 204800 &&
	lb --db h.db show "$run" --json >show.json &&
	test "$(wc -c <show.json)" -lt 204800
'

test_expect_success 'without -q the live output carries the lines, all the way to the end' '
	expect_code 0 lb --db h2.db run --yes big.lua >out 2>err &&
	assert_contains out "flood |" &&
	assert_contains out "the-end" &&
	assert_contains out "after-ran"
'

test_expect_success 'a step'"'"'s stdout and stderr are kept in the order they were written' '
	write_runbook order.lua <<-\EOF &&
	return runbook { name = "order",
		phase "p" { step "mix" { sh = [[
			i=0; while [ $i -lt 50 ]; do echo out$i; echo err$i >&2; i=$((i + 1)); done
		]] } },
	}
	EOF
	expect_code 0 lb --db h3.db -q run --yes order.lua >out 2>err &&
	awk "BEGIN { for (i = 0; i < 50; i++) printf \"out%d\\nerr%d\\n\", i, i }" >want &&
	same "$(sql h3.db "select output from steps")" "$(cat want)"
'

test_done
