#!/bin/sh
# Issue 11 (one helper, not two): ctx.params' "did you mean" uses the same rule as -p and params
# files (util.c's suggest_word). A short name is no longer "corrected" to an unrelated param two
# edits away, and a typo in case or a swap of two letters is still caught.
# shellcheck disable=SC2016 # bodies are single-quoted and eval'd later
. "$(dirname "$0")/lib.sh"
SQ="'"

test_expect_success 'a two-letter name two edits from the only param lists it instead of guessing' '
	write_runbook short.lua <<-\EOF &&
	return runbook { name = "short", params = { id = "1" },
		phase "p" { step "s" { run = function(ctx) return ctx.params.xy end } },
	}
	EOF
	expect_code 1 lb --db h.db run --yes short.lua >out &&
	assert_contains out "short.lua:2: no param ${SQ}xy${SQ} (the runbook declares id; add it to params)" &&
	assert_not_contains out "did you mean" &&
	expect_code 2 lb --db h.db run --yes -p xy=2 short.lua 2>err &&
	assert_not_contains err "did you mean"
'

test_expect_success 'case and swapped letters are suggested in ctx.params as with -p' '
	write_runbook case.lua <<-\EOF &&
	return runbook { name = "case", params = { Region = "eu", registry = "r" },
		phase "p" {
			step "case" { run = function(ctx) return ctx.params.region end, continue_on_error = true },
			step "swap" { run = function(ctx) return ctx.params.regsitry end },
		},
	}
	EOF
	expect_code 1 lb --db h.db run --yes case.lua >out &&
	assert_contains out "case.lua:3: no param ${SQ}region${SQ} (did you mean ${SQ}Region${SQ}?)" &&
	assert_contains out "case.lua:4: no param ${SQ}regsitry${SQ} (did you mean ${SQ}registry${SQ}?)" &&
	expect_code 2 lb --db h.db run --yes -p region=us case.lua 2>err &&
	assert_contains err "did you mean ${SQ}Region${SQ}"
'

test_done
