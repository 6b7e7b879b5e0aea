#!/bin/sh
# The HTML report in a real browser: headless Chromium (installed by scripts/setup.sh, Debian
# package `chromium`; this test installs nothing) renders the page without a console error, its
# DOM holds the verdicts and a timeline bar per phase, and a screenshot and a printout come out.
# Chromium runs without a network: background networking, updates and sync are off, and the page
# itself names no URL (t4000 checks that).
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

# chrome ARGS... URL: one headless Chromium run with a fresh profile, bounded in time.
chrome () {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --hide-scrollbars \
		--enable-logging=stderr --v=0 --user-data-dir="$(mktemp -d "$TEST_DIR/profile.XXXXXX")" "$@"
}

# no_page_errors FILE: Chromium's stderr shows no message from the page (console or uncaught error).
no_page_errors () {
	if grep -E "CONSOLE|Uncaught|Refused to|net::ERR_" "$1"; then
		echo "the page reported errors (above)"
		return 1
	fi
}

write_runbook drill.lua <<-\EOF
return runbook { name = "feature-store", rto = "10s", rpo = "1h",
	recovery_point = function(ctx) return now() - 900 end,
	phase "break the store" { fault = true, role = "sre", step "delete" { sh = "true" } },
	phase "restore" { role = "data-eng", budget = "2s",
		step "copy snapshot" { sh = "sleep 0.3", retries = 1 },
		step "check rows" { run = function(ctx) log("rows ok") end } },
	phase "redeploy" { role = "sre", budget = "2s",
		step "start server" { sh = "sleep 0.2" },
		step "sign off" { manual = "Confirm", role = "commander" } },
	phase "tidy up" { cleanup = true,
		step "restart ingest" { sh = "echo '<error> broker & \"kafka\" down'; exit 1" } },
}
EOF

test_expect_success 'setup: chromium is there (scripts/setup.sh installs it)' '
	command -v chromium >/dev/null ||
		{ echo "chromium not found: run scripts/setup.sh (Debian package chromium)"; exit 1; }
'

test_expect_success 'setup: a drill and its HTML report' '
	expect_code 0 lb drill --yes drill.lua >/dev/null &&
	id=$(lb history --json | json_get - "d[\"runs\"][0][\"run_id\"]") &&
	expect_code 0 lb report "$id" --format html -o report.html >/dev/null &&
	test -s report.html
'

test_expect_success 'the page renders: its DOM holds the verdicts and a bar per phase' '
	chrome --dump-dom "file://$TEST_DIR/report.html" >dom.html 2>dom.err &&
	assert_contains dom.html "RTO met: achieved" &&
	assert_contains dom.html "RPO met: achieved" &&
	test "$(grep -o "<rect class=\"phase\"" dom.html | wc -l)" = 4 &&
	assert_contains dom.html "&lt;error&gt; broker &amp; \"kafka\" down"
'

test_expect_success 'no page errors on the console' '
	no_page_errors dom.err
'

test_expect_success 'a screenshot is a non-empty PNG of the window size' '
	chrome --screenshot="$TEST_DIR/shot.png" --window-size=1200,1600 \
		"file://$TEST_DIR/report.html" >shot.out 2>shot.err &&
	no_page_errors shot.err &&
	python3 - shot.png <<-\PY
	import struct, sys
	data = open(sys.argv[1], "rb").read()
	assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
	w, h = struct.unpack(">II", data[16:24])
	assert (w, h) == (1200, 1600), (w, h)
	assert len(data) > 20000, "suspiciously small: %d bytes" % len(data)
	PY
'

test_expect_success 'it prints: a PDF comes out' '
	chrome --print-to-pdf="$TEST_DIR/report.pdf" --no-pdf-header-footer \
		"file://$TEST_DIR/report.html" >pdf.out 2>pdf.err &&
	no_page_errors pdf.err &&
	head -c 5 report.pdf | grep -q "%PDF-" &&
	test "$(wc -c <report.pdf)" -gt 10000
'

test_done
