#!/bin/sh
# Header and URL injection through a declarative http step (issue 10 item 6): ${name} expands a
# param into headers and the URL, and a param can hold "\r\nX-Injected: yes". The Lua http API
# refused line breaks already; the step path sent them. Every request is checked where it is
# sent now: a control character in the URL or a header value, or a bad header name, refuses the
# request before anything goes out, without repeating the value.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

python3 "$LIFEBOAT_SRC/tests/e2e/request-recorder.py" requests.jsonl port >/dev/null 2>&1 &
at_exit "kill $!"

test_expect_success 'setup: the recorder and a runbook' '
	wait_for "test -s port" 20 &&
	write_runbook inject.lua <<-\EOF
	return runbook { name = "inject", params = { port = "0", tok = "none", q = "x" },
		phase "p" {
			step "header" { http = "http://127.0.0.1:${port}/h", headers = { ["X-Token"] = "${tok}" },
					continue_on_error = true },
			step "url" { http = "http://127.0.0.1:${port}/u?q=${q}", continue_on_error = true },
			step "header from a function" { continue_on_error = true,
				http = "http://127.0.0.1:${port}/f",
				headers = function(ctx) return { ["X-Fn"] = ctx.params.tok } end },
		},
	}
	EOF
'

test_expect_success 'clean values go out (the recorder sees the header)' '
	expect_code 0 lb --db h.db run --yes -p "port=$(cat port)" -p tok=abc123 inject.lua \
		--report r.json >out 2>err &&
	test "$(json_get r.json "[s[\"status\"] for s in d[\"phases\"][0][\"steps\"]]")" = \
		"[\"succeeded\", \"succeeded\", \"succeeded\"]" &&
	grep -c . requests.jsonl >count &&
	test "$(cat count)" = 3 &&
	assert_contains requests.jsonl "[\"X-Token\", \"abc123\"]" &&
	assert_contains requests.jsonl "[\"X-Fn\", \"abc123\"]"
'

test_expect_success 'CR/LF in a header value or the URL is refused before anything is sent' '
	: >requests.jsonl &&
	crlf=$(printf "abc\r\nX-Injected: yes") &&
	expect_code 0 lb --db h.db run --yes -p "port=$(cat port)" -p "tok=$crlf" -p "q=$crlf" \
		inject.lua --report r.json >out 2>err &&
	test "$(json_get r.json "[s[\"status\"] for s in d[\"phases\"][0][\"steps\"]]")" = \
		"[\"failed\", \"failed\", \"failed\"]" &&
	test ! -s requests.jsonl &&
	assert_contains out "the value of header X-Token has a line break or control character: refused" &&
	assert_contains out "the URL has a control character (byte 0x0d at offset" &&
	assert_contains out "the value of header X-Fn has a line break" &&
	assert_not_contains out "Injected"
'

test_done
