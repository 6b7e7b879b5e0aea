# tests/e2e/pg.sh - a private PostgreSQL 15 server for the central-history tests (t83xx), sourced
# after lib.sh. A real server, never a mock: initdb and pg_ctl run as the postgres user (runuser)
# into a fresh folder under /tmp, listening on 127.0.0.1 only, on a free port.
#
#	(sourcing it sets PG_DIR, PG_PORT and PG_URL: postgresql://lifeboat@127.0.0.1:PORT/lifeboat)
#	pg_start          initdb, start; roles: lifeboat (trust) owning the database lifeboat, and
#	                  pwuser (password "right-password", scram) with the database pwdb.
#	                  The server stops (immediate) and its folder goes when the script exits.
#	pg_stop           stops it (fast: its connections are cut), keeping its data
#	pg_restart        starts it again on the same port, after pg_stop
#	psql_q SQL        runs SQL in the database lifeboat as lifeboat; rows as a|b|c, no header
#	pg_config_file F  writes lifeboat config F with central: { url: $PG_URL } (appends stdin)
#	pg_runners D...   makes each folder D with a D/lifeboat.yaml of central alone: a runner each
# shellcheck disable=SC3043 # local, as in lib.sh

PG_BIN=/usr/lib/postgresql/15/bin
# chosen when sourced, so that every test body (a subshell) knows them
PG_DIR=$(mktemp -d /tmp/lifeboat-pg.XXXXXX) && chown postgres: "$PG_DIR" && chmod 700 "$PG_DIR" &&
PG_PORT=$(free_port) || _lb_bail "pg.sh: cannot make a folder for PostgreSQL or find a free port"
PG_URL="postgresql://lifeboat@127.0.0.1:$PG_PORT/lifeboat"
export PG_DIR PG_PORT PG_URL
at_exit "rm -rf '$PG_DIR'"

_pg_as () (
	cd / && runuser -u postgres -- "$@"
)

pg_start () {
	[ -x "$PG_BIN/initdb" ] || { _lb_say "pg_start: $PG_BIN/initdb missing (scripts/setup.sh installs postgresql-15)"; return 1; }
	at_exit "cd / && runuser -u postgres -- $PG_BIN/pg_ctl -D '$PG_DIR/data' stop -m immediate"
	_pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 \
		--locale=C >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOC
	listen_addresses = '127.0.0.1'
	port = $PG_PORT
	unix_socket_directories = '$PG_DIR'
	fsync = off
	synchronous_commit = off
	full_page_writes = off
	shared_buffers = 32MB
	max_connections = 60
	EOC
	cat >"$PG_DIR/data/pg_hba.conf" <<-EOC
	local all postgres trust
	host all pwuser 127.0.0.1/32 scram-sha-256
	host all all 127.0.0.1/32 trust
	EOC
	pg_restart || return 1
	_pg_as "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 >/dev/null <<-EOS || return 1
	CREATE ROLE lifeboat LOGIN;
	CREATE DATABASE lifeboat OWNER lifeboat;
	CREATE ROLE pwuser LOGIN PASSWORD 'right-password';
	CREATE DATABASE pwdb OWNER pwuser;
	EOS
}

pg_stop () {
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" stop -m fast >/dev/null
}

pg_restart () {
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start >/dev/null ||
		{ cat "$PG_DIR/server.log" >&2; return 1; }
}

psql_q () {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"
}

pg_config_file () {
	{
		printf 'central:\n  url: "%s"\n' "$PG_URL"
		cat
	} >"$1"
}

pg_runners () {
	local _pr
	for _pr in "$@"
	do
		mkdir -p "$_pr" && pg_config_file "$_pr/lifeboat.yaml" </dev/null || return 1
	done
}
