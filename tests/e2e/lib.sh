# tests/e2e/lib.sh - the harness for lifeboat's end-to-end tests, after git's t/test-lib.sh.
#
# A test is tests/e2e/tNNNN-name.sh (POSIX sh; ctest runs each as `sh tNNNN-name.sh`):
#
#	#!/bin/sh
#	. "$(dirname "$0")/lib.sh"
#	test_expect_success 'a missed RTO exits 3' '
#		write_runbook slow.lua <<-\EOF &&
#		return runbook { name = "slow", rto = "1s", phase "p" { step "s" { sh = "sleep 2" } } }
#		EOF
#		expect_code 3 lb run --yes slow.lua >out &&
#		assert_contains out "RTO"
#	'
#	test_done
#
# By hand: LIFEBOAT=$PWD/build/lifeboat sh tests/e2e/t0000-harness.sh [-v] [-k]
# (-v shows the output of passing tests too, -k keeps the test folder).
#
# Environment: $LIFEBOAT (the binary, required) and $LIFEBOAT_SRC (the repo root; default: two
# folders above the test). Each test script gets a fresh folder $TEST_DIR, which is also the
# working directory and $HOME, with LIFEBOAT_USER=tester, NO_COLOR=1, TZ=UTC. The folder is
# removed at exit unless a test failed; then its path is printed.
#
# Each test body runs in a subshell under `set -e`, stdin from /dev/null, its output captured and
# shown only when it fails (or with -v). Being a subshell, a body cannot set variables for later
# tests: share through files. `set -e` does not apply inside `if`, `!`, or before `&&`/`||`,
# so the helpers below return non-zero themselves; chain with && where a step must not be skipped.
# Call test_expect_success at the top level, never inside `if` or `||` (that switches off set -e).
#
# Helpers (inside or outside tests):
#	lb ARGS...                 runs "$LIFEBOAT" ARGS...
#	expect_code N CMD...       runs CMD; fails, showing its output, unless it exits N
#	assert_contains FILE|- TEXT, assert_not_contains FILE|- TEXT   (one line of fixed text)
#	json_get FILE|- EXPR       prints the Python expression EXPR over the JSON document d,
#	                           e.g. 'd["rto"]["met"]'; strings raw, anything else as JSON (true, null)
#	sql DB QUERY               the sqlite3 CLI, rows as a|b|c
#	write_runbook NAME <<EOF   writes stdin to NAME (creating folders)
#	wait_for 'CMD' TIMEOUT_S   polls CMD every 0.1 s until it succeeds
#	no_process_matching PAT    fails if `pgrep -f PAT` finds a process; use a marker unique to
#	                           the test, such as `sleep 31.337`
#	elapsed_ms CMD...          runs CMD, prints the wall milliseconds it took, and sets
#	                           $ELAPSED_MS and $LAST_CODE (in $(...) they are lost: use the variables)
#	at_exit 'CMD'              runs CMD (one line) when the script exits, e.g. at_exit "kill $pid"
#	free_port                  prints a free TCP port on 127.0.0.1
# The console under tmux (t5000 and the other console tests; call need_tmux at the top first):
#	con NAME ARGS...           `lifeboat ARGS...` in a window of $CONSOLE_SIZE (default 80x24) on
#	                           a tmux server of its own; exit code and stderr land in NAME.code and
#	                           NAME.err, the console's pid in NAME.pid; the pane stays afterwards
#	screen NAME, wait_screen NAME TEXT [S], keys NAME TEXT, done_code NAME [S], tm NAME TMUX-ARGS...
# A helper's complaint goes to the failing test's report, even when the body redirected stderr.
# Helpers use `local` (dash, bash and busybox sh have it; git's shell code uses it too), so they nest.

# shellcheck disable=SC3043,SC2034 # local (above); LAST_CODE and ELAPSED_MS are for test bodies
_lb_bail () {
	echo "Bail out! $*" >&2
	exit 1
}

if [ -z "${LIFEBOAT:-}" ]; then
	_lb_bail "LIFEBOAT is not set: point it at the lifeboat binary, e.g." \
		"LIFEBOAT=\$PWD/build/lifeboat sh $0 (ctest sets it)"
fi
case $LIFEBOAT in
/*) ;;
*/*) LIFEBOAT=$PWD/$LIFEBOAT ;;
*)	# a bare name: look it up in PATH (command -v would answer "true" for the builtin)
	_lb_found=
	_lb_ifs=$IFS IFS=:
	for _lb_d in $PATH
	do
		if [ -z "$_lb_found" ] && [ -f "${_lb_d:-.}/$LIFEBOAT" ] && [ -x "${_lb_d:-.}/$LIFEBOAT" ]; then
			_lb_found=${_lb_d:-.}/$LIFEBOAT
		fi
	done
	IFS=$_lb_ifs
	[ -n "$_lb_found" ] || _lb_bail "LIFEBOAT='$LIFEBOAT' is not a command in PATH"
	LIFEBOAT=$_lb_found
	case $LIFEBOAT in /*) ;; *) LIFEBOAT=$PWD/$LIFEBOAT ;; esac
	;;
esac
[ -x "$LIFEBOAT" ] || _lb_bail "LIFEBOAT='$LIFEBOAT' is not an executable file"
if [ -z "${LIFEBOAT_SRC:-}" ]; then
	LIFEBOAT_SRC=$(cd "$(dirname "$0")/../.." && pwd) || _lb_bail "cannot find the repo root"
fi
LIFEBOAT_SRC=$(cd "$LIFEBOAT_SRC" && pwd) || _lb_bail "LIFEBOAT_SRC='$LIFEBOAT_SRC' is not a folder"

_lb_verbose='' _lb_keep=''
for _lb_arg
do
	case $_lb_arg in
	-v|--verbose) _lb_verbose=1 ;;
	-k|--keep) _lb_keep=1 ;;
	*) _lb_bail "unknown option '$_lb_arg' (known: -v, -k)" ;;
	esac
done

# A clean environment: nothing of the caller's lifeboat settings, config or locale leaks in.
for _lb_var in $(env | sed -n 's/^\(LIFEBOAT_[A-Za-z0-9_]*\)=.*/\1/p')
do
	case $_lb_var in
	LIFEBOAT_SRC|LIFEBOAT_TEST_BUILD) ;;
	*) unset "$_lb_var" ;;
	esac
done
unset CDPATH XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME LC_ALL
_lb_name=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-$_lb_name.XXXXXX") ||
	_lb_bail "cannot create a temporary folder"
# Captured outputs live apart from TEST_DIR so that a test sees only the files it made.
_lb_scratch=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-$_lb_name-harness.XXXXXX") ||
	_lb_bail "cannot create a temporary folder"
HOME=$TEST_DIR LIFEBOAT_USER=tester NO_COLOR=1 TZ=UTC LANG=C.UTF-8
export LIFEBOAT LIFEBOAT_SRC TEST_DIR HOME LIFEBOAT_USER NO_COLOR TZ LANG
cd "$TEST_DIR" || _lb_bail "cannot enter $TEST_DIR"

_lb_n=0 _lb_failed=0 _lb_done='' _lb_diag=''

_lb_exit () {
	_lb_rc=$?
	trap - EXIT
	if [ -f "$_lb_scratch/at_exit" ]; then
		while IFS= read -r _lb_cmd
		do
			(eval "$_lb_cmd") >/dev/null 2>&1
		done <"$_lb_scratch/at_exit"
	fi
	rm -rf "$_lb_scratch"
	if [ -z "$_lb_done" ]; then
		echo "# $0 stopped before test_done (exit $_lb_rc); its folder is kept: $TEST_DIR"
		[ "$_lb_rc" != 0 ] || _lb_rc=1
	elif [ "$_lb_failed" = 0 ] && [ -z "$_lb_keep" ]; then
		rm -rf "$TEST_DIR"
	fi
	exit "$_lb_rc"
}
trap _lb_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# A complaint from a helper: into the current test's report, else to stderr.
_lb_say () {
	if [ -n "$_lb_diag" ]; then
		printf '%s\n' "$*" >>"$_lb_diag"
	else
		printf '%s\n' "$*" >&2
	fi
}

_lb_say_file () {
	if [ ! -s "$1" ]; then
		_lb_say "    (empty)"
	elif [ -n "$_lb_diag" ]; then
		sed 's/^/    /' "$1" >>"$_lb_diag"
	else
		sed 's/^/    /' "$1" >&2
	fi
}

_lb_now_ms () {
	echo $(($(date +%s%N) / 1000000))
}

test_expect_success () {
	[ $# = 2 ] || _lb_bail "test_expect_success wants 2 arguments, 'title' 'commands'; got $#"
	_lb_n=$((_lb_n + 1))
	_lb_out=$_lb_scratch/out.$_lb_n
	_lb_diag=$_lb_scratch/diag.$_lb_n
	: >"$_lb_diag"
	case $- in *e*) _lb_e=1; set +e ;; *) _lb_e= ;; esac
	(
		set -e
		eval "$2"
	) </dev/null >"$_lb_out" 2>&1
	_lb_rc=$?
	_lb_diag2=$_lb_diag _lb_diag=
	[ -z "$_lb_e" ] || set -e
	if [ "$_lb_rc" = 0 ]; then
		echo "ok $_lb_n - $1"
		[ -z "$_lb_verbose" ] || sed 's/^/# /' "$_lb_out"
	else
		_lb_failed=$((_lb_failed + 1))
		echo "not ok $_lb_n - $1 (exit $_lb_rc)"
		printf '%s\n' "$2" | sed 's/^/#	/'
		if [ -s "$_lb_out" ]; then
			echo "# output:"
			sed 's/^/# /' "$_lb_out"
		fi
		if [ -s "$_lb_diag2" ]; then
			echo "# harness:"
			sed 's/^/# /' "$_lb_diag2"
		fi
	fi
	return 0
}

test_done () {
	_lb_done=1
	echo "1..$_lb_n"
	if [ "$_lb_failed" != 0 ] || [ -n "$_lb_keep" ]; then
		echo "# test folder kept: $TEST_DIR"
	fi
	echo "# passed $((_lb_n - _lb_failed)), failed $_lb_failed"
	[ "$_lb_failed" = 0 ] || exit 1
	exit 0
}

lb () {
	"$LIFEBOAT" "$@"
}

expect_code () {
	local _ec_want="$1" _ec_out _ec_err _ec_got=0
	shift
	_ec_out=$(mktemp "$_lb_scratch/ec.XXXXXX") && _ec_err=$_ec_out.err || return 1
	"$@" >"$_ec_out" 2>"$_ec_err" || _ec_got=$?
	cat "$_ec_out"
	cat "$_ec_err" >&2
	if [ "$_ec_got" != "$_ec_want" ]; then
		_lb_say "expect_code: wanted exit $_ec_want, got $_ec_got from: $*"
		_lb_say "  stdout:"
		_lb_say_file "$_ec_out"
		_lb_say "  stderr:"
		_lb_say_file "$_ec_err"
		return 1
	fi
	return 0
}

# Reads FILE, or stdin when FILE is -, into a file the caller can grep twice.
_lb_input () {
	_in_file='' _in_label=''
	if [ "$1" = - ]; then
		_in_file=$(mktemp "$_lb_scratch/stdin.XXXXXX") || return 1
		cat >"$_in_file"
		_in_label=stdin
	elif [ -f "$1" ]; then
		_in_file=$1 _in_label=$1
	else
		_lb_say "$2: no file '$1'"
		return 1
	fi
}

assert_contains () {
	[ $# = 2 ] || _lb_bail "assert_contains wants FILE|- TEXT"
	_lb_input "$1" assert_contains || return 1
	grep -qF -e "$2" "$_in_file" && return 0
	_lb_say "assert_contains: '$2' not found in $_in_label:"
	_lb_say_file "$_in_file"
	return 1
}

assert_not_contains () {
	[ $# = 2 ] || _lb_bail "assert_not_contains wants FILE|- TEXT"
	_lb_input "$1" assert_not_contains || return 1
	grep -qF -e "$2" "$_in_file" || return 0
	_lb_say "assert_not_contains: '$2' found in $_in_label:"
	_lb_say_file "$_in_file"
	return 1
}

json_get () {
	python3 -c '
import json, sys
src, expr = sys.argv[1], sys.argv[2]
try:
    d = json.load(sys.stdin if src == "-" else open(src))
    v = eval(expr, {"d": d, "json": json})
except Exception as e:
    sys.exit("json_get: %s on %s: %s: %s" % (expr, src, type(e).__name__, e))
print(v if isinstance(v, str) else json.dumps(v))
' "$@"
}

sql () {
	[ $# = 2 ] || _lb_bail "sql wants DB QUERY"
	sqlite3 -batch -bail -cmd '.timeout 5000' "$1" "$2"
}

# audit_bad_details DB: the audit entries whose detail is not valid JSON, one a line (none: nothing)
audit_bad_details () {
	python3 -c '
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.text_factory = bytes
for seq, event, detail in db.execute("select seq, event, detail from audit where detail is not null"):
    try:
        json.loads(detail.decode("utf-8"))
    except Exception as e:
        print(seq, event.decode(), detail, e)
' "$1"
}

write_runbook () {
	mkdir -p "$(dirname "$1")" && cat >"$1"
}

# early_in_minute: waits until the minute has at least 15 seconds left, so that two `--once`
# schedulers started now tick in the same minute (a slot of "* * * * *" is one minute)
early_in_minute () {
	while [ "$(date +%S | sed "s/^0//")" -gt 44 ]
	do
		sleep 1
	done
}

wait_for () {
	local _wf_cmd="$1" _wf_s="${2:-10}" _wf_end _wf_out
	_wf_end=$(($(_lb_now_ms) + $(awk 'BEGIN { printf "%d", ARGV[1] * 1000 }' "$_wf_s")))
	_wf_out=$(mktemp "$_lb_scratch/wf.XXXXXX") || return 1
	while :
	do
		if eval "$_wf_cmd" >"$_wf_out" 2>&1; then
			return 0
		fi
		[ "$(_lb_now_ms)" -lt "$_wf_end" ] || break
		sleep 0.1
	done
	_lb_say "wait_for: '$_wf_cmd' still failing after ${_wf_s}s; its last output:"
	_lb_say_file "$_wf_out"
	return 1
}

no_process_matching () {
	local _np_pids='' _np_pid
	for _np_pid in $(pgrep -f -- "$1")
	do
		[ "$_np_pid" = "$$" ] || _np_pids="$_np_pids,$_np_pid"
	done
	[ -n "$_np_pids" ] || return 0
	_lb_say "no_process_matching: processes match '$1':"
	ps -o pid,ppid,pgid,stat,args -p "${_np_pids#,}" >"$_lb_scratch/ps" 2>&1
	_lb_say_file "$_lb_scratch/ps"
	return 1
}

elapsed_ms () {
	local _em_t0
	_em_t0=$(_lb_now_ms)
	LAST_CODE=0
	"$@" || LAST_CODE=$?
	ELAPSED_MS=$(($(_lb_now_ms) - _em_t0))
	echo "$ELAPSED_MS"
}

at_exit () {
	printf '%s\n' "$*" >>"$_lb_scratch/at_exit"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now (the servers of sshd.sh and pg.sh)
free_port () {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# jv FILE PATH...: the JSON values at those paths (a.b.0.c), each printed as json_get prints
# it, separated by spaces; one python run for them all
jv () {
	local file="$1" path exprs=""
	shift
	for path
	do
		exprs="$exprs, d$(printf '%s\n' "$path" | awk -F. '{ for (i = 1; i <= NF; i++) printf($i ~ /^[0-9]+$/ ? "[%s]" : "[\"%s\"]", $i) }')"
	done
	json_get "$file" "\" \".join(v if isinstance(v, str) else json.dumps(v) for v in [${exprs#, }])"
}

# same GOT WANTED: equal strings, or a failure that shows both
same () {
	[ "$1" = "$2" ] && return 0
	printf 'wanted: %s\ngot:    %s\n' "$2" "$1"
	return 1
}

# no_step_process PAT: like no_process_matching, but only for processes that run in this test's
# folder (steps run in their runbook's folder), so that another copy of a test running at the
# same time (a second build's suite) cannot make it fail
no_step_process () {
	local pid pids="" real
	real=$(cd "$TEST_DIR" && pwd -P)
	for pid in $(pgrep -f -- "$1")
	do
		case $(readlink "/proc/$pid/cwd" 2>/dev/null) in
		"$real" | "$real"/*) pids="$pids,$pid" ;;
		esac
	done
	[ -n "$pids" ] || return 0
	echo "processes of this test still running, matching '$1':"
	ps -o pid,ppid,pgid,stat,args -p "${pids#,}"
	return 1
}

# need_tmux: the console tests need tmux; a missing one bails out (a test never skips itself)
need_tmux () {
	command -v tmux >/dev/null 2>&1 && return 0
	echo "Bail out! tmux is not installed: scripts/setup.sh installs it (a console test never skips itself)"
	exit 1
}

# tm NAME ARGS...: tmux on the server of console NAME (one server per console, so a dying
# server never meets the next console, and parallel test runs never share one)
tm () {
	local _name="$1"
	shift
	tmux -S "$TEST_DIR/.tm-$_name" "$@"
}

# con NAME ARGS...: `lifeboat ARGS...` in a window of its own; afterwards the pane stays (sleep)
# so the text printed after the console left can be read. The consoles of earlier tests go first
# (a failed test may have left one running, holding its runbook's lock).
con () {
	local _name="$1" _env='' _v _size="${CONSOLE_SIZE:-80x24}"
	shift
	for _v in $(cat consoles 2>/dev/null)
	do
		tm "$_v" kill-server 2>/dev/null || :
	done
	wait_for "! consoles_alive" 10 || return 1
	echo "$_name" >>consoles
	at_exit "tmux -S '$TEST_DIR/.tm-$_name' kill-server"
	rm -f "$_name.code" "$_name.err"
	for _v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
	do
		eval "[ -z \"\${$_v:-}\" ] || _env=\"\$_env $_v='\$$_v'\""
	done
	tm "$_name" new-session -d -s "$_name" -x "${_size%x*}" -y "${_size#*x}" \
		"cd '$TEST_DIR' && env LIFEBOAT_USER=tester NO_COLOR=1 LANG=C.UTF-8 TZ=UTC HOME='$TEST_DIR' $_env '$LIFEBOAT' $* 2>$_name.err; echo \$? >$_name.code; exec sleep 600" &&
	# the console's pid, for consoles_alive and signals
	wait_for "pgrep -P \$(tm '$_name' display-message -p -t '$_name' '#{pane_pid}') >'$_name.pid'" 5
}

# Whether a console started by con still runs.
consoles_alive () {
	local _f
	for _f in *.pid
	do
		[ -s "$_f" ] && kill -0 "$(cat "$_f")" 2>/dev/null && return 0
	done
	return 1
}

screen () {
	tm "$1" capture-pane -p -t "$1"
}

# wait_screen NAME TEXT [SECONDS]: until the screen shows TEXT
wait_screen () {
	wait_for "screen '$1' | grep -qF -e '$2'" "${3:-10}"
}

# keys NAME KEY...: as typed (-l: literally, so "y" is never a key name)
keys () {
	local _name="$1"
	shift
	tm "$_name" send-keys -t "$_name" -l "$*"
}

# done_code NAME [SECONDS]: waits for the console to exit and prints its code
done_code () {
	wait_for "test -s '$1.code'" "${2:-15}" && cat "$1.code"
}
