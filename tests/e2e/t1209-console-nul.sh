#!/bin/sh
# NUL bytes in the console's live output tail (issue 10 item 10): the tail used to end at the
# NUL, as the history did; it shows "^@" and what follows, as `run` and `show` do. Under tmux,
# the screen read with capture-pane, as t5000 does.
# shellcheck disable=SC2016 # test bodies are single-quoted on purpose: they are eval'd later
. "$(dirname "$0")/lib.sh"

sock=$TEST_DIR/.tm-nul
at_exit "tmux -S '$sock' kill-server"

test_expect_success 'the console tail shows output after a NUL byte' '
	write_runbook nul.lua <<-\EOF &&
	return runbook { name = "nul",
		phase "p" {
			step "shell" { sh = [[printf "first\0second-t1209\n"; sleep 30.1209]] },
		},
	}
	EOF
	envs= &&
	for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
	do
		eval "[ -z \"\${$v:-}\" ] || envs=\"\$envs $v='\''\$$v'\''\"" || return 1
	done &&
	tmux -S "$sock" new-session -d -s nul -x 80 -y 24 \
		"cd '\''$TEST_DIR'\'' && env LIFEBOAT_USER=tester NO_COLOR=1 LANG=C.UTF-8 TZ=UTC HOME='\''$TEST_DIR'\'' $envs '\''$LIFEBOAT'\'' --db h.db console --yes nul.lua 2>console.err; exec sleep 600" &&
	wait_for "tmux -S '\''$sock'\'' capture-pane -p -t nul | grep -F \"first^@second-t1209\"" 20 &&
	tmux -S "$sock" capture-pane -p -t nul >screen &&
	assert_contains screen "first^@second-t1209"
'

test_expect_success 'closing the terminal stops the console and its step' '
	tmux -S "$sock" kill-server &&
	wait_for "! pgrep -f \"sleep 30.1209\" >/dev/null" 15 &&
	no_process_matching "sleep 30.1209"
'

test_done
