/*
 * The SQL the history's files share (store-int.h): the query texts, built
 * from each table's column names; the statement cache; transactions and
 * units; values bound and read back. Only store*.c and userdb.c talk to
 * SQLite.
 */
#include "store-int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redact.h"
#include "util.h"

static const char *const run_cols[RC__COUNT] = {
	[RC_ID] = "id", [RC_RUNBOOK] = "runbook", [RC_FILE] = "file",
	[RC_SHA256] = "sha256", [RC_MODE] = "mode", [RC_TRIGGER] = "trigger",
	[RC_ENV] = "env", [RC_OPERATOR] = "operator", [RC_UID] = "uid",
	[RC_HOST] = "host", [RC_PID] = "pid", [RC_PARAMS] = "params_json",
	[RC_STATUS] = "status", [RC_STARTED] = "started_at", [RC_ENDED] = "ended_at",
	[RC_INCIDENT] = "incident_at", [RC_RESTORED] = "restored_at",
	[RC_RTO_TARGET] = "rto_target_s", [RC_RTO_ACHIEVED] = "rto_achieved_s",
	[RC_RTO_MET] = "rto_met", [RC_RPO_TARGET] = "rpo_target_s",
	[RC_RPO_ACHIEVED] = "rpo_achieved_s", [RC_RPO_MET] = "rpo_met",
	[RC_RPO_STATUS] = "rpo_status", [RC_RECOVERY_POINT] = "recovery_point_at",
	[RC_HUMAN_WAIT] = "human_wait_s", [RC_EXIT_CODE] = "exit_code",
	[RC_STRICT_BUDGETS] = "strict_budgets", [RC_ERROR] = "error",
	[RC_SIGNED_BY] = "signed_by", [RC_NEWEST_RECOVERABLE] = "newest_recoverable_at",
	[RC_EXPOSURE] = "rpo_exposure_s", [RC_EXPOSURE_STATUS] = "rpo_exposure_status",
};

static const char *const phase_cols[PC__COUNT] = {
	[PC_RUN_ID] = "run_id", [PC_IDX] = "idx", [PC_NAME] = "name", [PC_ROLE] = "role",
	[PC_BUDGET] = "budget_s", [PC_FAULT] = "fault", [PC_CLEANUP] = "cleanup",
	[PC_RESTORES] = "restores_service", [PC_PARALLEL] = "parallel",
	[PC_STATUS] = "status", [PC_STARTED] = "started_at", [PC_ENDED] = "ended_at",
	[PC_DURATION] = "duration_s", [PC_HUMAN_WAIT] = "human_wait_s",
	[PC_OVER_BUDGET] = "over_budget", [PC_PROBE] = "probe",
};

static const char *const step_cols[SC__COUNT] = {
	[SC_RUN_ID] = "run_id", [SC_PHASE_IDX] = "phase_idx", [SC_IDX] = "idx",
	[SC_NAME] = "name", [SC_KIND] = "kind", [SC_ROLE] = "role",
	[SC_SECTION] = "section", [SC_IDEMPOTENT] = "idempotent", [SC_STATUS] = "status",
	[SC_ATTEMPTS] = "attempts", [SC_STARTED] = "started_at", [SC_ENDED] = "ended_at",
	[SC_DURATION] = "duration_s", [SC_HUMAN_WAIT] = "human_wait_s",
	[SC_EXIT_CODE] = "exit_code", [SC_CONFIRMED_BY] = "confirmed_by",
	[SC_ERROR] = "error", [SC_OUTPUT] = "output", [SC_OUTPUT_CUT] = "output_cut",
	[SC_STATE_JSON] = "state_json", [SC_WAITING] = "waiting",
};

static const char *const attempt_cols[AC__COUNT] = {
	[AC_RUN_ID] = "run_id", [AC_PHASE_IDX] = "phase_idx", [AC_STEP_IDX] = "step_idx",
	[AC_ATTEMPT] = "attempt", [AC_STATUS] = "status", [AC_STARTED] = "started_at",
	[AC_ENDED] = "ended_at", [AC_DURATION] = "duration_s", [AC_EXIT_CODE] = "exit_code",
	[AC_ERROR] = "error", [AC_OUTPUT] = "output", [AC_OUTPUT_CUT] = "output_cut",
};

static const char *const note_cols[NC__COUNT] = {
	[NC_RUN_ID] = "run_id", [NC_AT] = "at", [NC_OPERATOR] = "operator", [NC_TEXT] = "text",
};

struct table {
	const char *name;
	const char *const *cols;
	int ncols;
	int nkey;	/* the first nkey columns are the primary key */
};
static const struct table t_runs = { "runs", run_cols, RC__COUNT, 1 };
static const struct table t_phases = { "phases", phase_cols, PC__COUNT, 2 };
static const struct table t_steps = { "steps", step_cols, SC__COUNT, 3 };
static const struct table t_attempts = { "attempts", attempt_cols, AC__COUNT, 4 };
static const struct table t_notes = { "notes", note_cols, NC__COUNT, 0 };

void set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(st->err);
	st->err = msg;
}

/*
 * "cannot <what>: <sqlite's reason>"; returns -1 for `return db_fail(...)`.
 * Messages say why, not which file: callers name the history themselves.
 */
int db_fail(struct store *st, const char *what)
{
	set_err(st, "cannot %s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* ---- SQL text, built from the column lists ---- */

/* "a", "b" ... or, for an upsert's SET, "a" = excluded."a", ... */
static void add_cols(struct strbuf *sb, const struct table *t, int from, int to, int set)
{
	for (int i = from; i < to; i++) {
		if (i > from)
			strbuf_addstr(sb, ", ");
		if (set)
			strbuf_addf(sb, "\"%s\" = excluded.\"%s\"", t->cols[i], t->cols[i]);
		else
			strbuf_addf(sb, "\"%s\"", t->cols[i]);
	}
}

static char *insert_sql(const struct table *t, int upsert)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "INSERT INTO %s (", t->name);
	add_cols(&sb, t, 0, t->ncols, 0);
	strbuf_addstr(&sb, ") VALUES (");
	for (int i = 0; i < t->ncols; i++)
		strbuf_addf(&sb, i ? ", ?%d" : "?%d", i + 1);
	strbuf_addch(&sb, ')');
	if (upsert) {
		strbuf_addstr(&sb, " ON CONFLICT (");
		add_cols(&sb, t, 0, t->nkey, 0);
		strbuf_addstr(&sb, ") DO UPDATE SET ");
		add_cols(&sb, t, t->nkey, t->ncols, 1);
	}
	return strbuf_detach(&sb);
}

static char *select_sql(const struct table *t, const char *rest)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "SELECT ");
	add_cols(&sb, t, 0, t->ncols, 0);
	strbuf_addf(&sb, " FROM %s %s", t->name, rest);
	return strbuf_detach(&sb);
}

static char *query_sql(enum query q)
{
	switch (q) {
	case Q_BEGIN_WRITE: return xstrdup("BEGIN IMMEDIATE");
	case Q_BEGIN_READ: return xstrdup("BEGIN");
	case Q_COMMIT: return xstrdup("COMMIT");
	case Q_ROLLBACK: return xstrdup("ROLLBACK");
	case Q_RUN_INSERT: return insert_sql(&t_runs, 0);
	case Q_RUN_UPSERT: return insert_sql(&t_runs, 1);
	case Q_PHASE_UPSERT: return insert_sql(&t_phases, 1);
	case Q_STEP_UPSERT: return insert_sql(&t_steps, 1);
	case Q_ATTEMPT_UPSERT: return insert_sql(&t_attempts, 1);
	case Q_NOTE_INSERT: return insert_sql(&t_notes, 0);
	/*
	 * Prefix match as a range, so the primary key index serves it: every
	 * string that starts with ?1 sorts in [?1, ?1 || 0xff) under memcmp,
	 * since no byte of valid UTF-8 is 0xff.
	 */
	case Q_RUN_FIND: return xstrdup("SELECT id FROM runs WHERE id >= ?1 AND id < ?2 "
					"ORDER BY id LIMIT 2");
	case Q_RUN_GET: return select_sql(&t_runs, "WHERE id = ?1");
	case Q_PHASES_GET: return select_sql(&t_phases, "WHERE run_id = ?1 ORDER BY idx");
	case Q_STEPS_GET:
		return select_sql(&t_steps, "WHERE run_id = ?1 ORDER BY phase_idx, idx");
	case Q_NOTES_GET: return select_sql(&t_notes, "WHERE run_id = ?1 ORDER BY seq");
	case Q_ATTEMPTS_GET:
		return select_sql(&t_attempts, "WHERE run_id = ?1 AND phase_idx = ?2 "
					       "AND step_idx = ?3 ORDER BY attempt");
	/* rowid breaks ties by insertion order and is part of every index, so no sort */
	case Q_RUNS_LIST:
		return select_sql(&t_runs, "ORDER BY started_at DESC, rowid DESC LIMIT ?1");
	case Q_RUNS_LIST_RUNBOOK:
		return select_sql(&t_runs, "WHERE runbook = ?2 "
					   "ORDER BY started_at DESC, rowid DESC LIMIT ?1");
	case Q_REQUEST_ADD:
		return xstrdup("INSERT INTO requests (run_id, kind, step, operator, uid, text, created_at)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	case Q_REQUESTS_PENDING:
		return xstrdup("SELECT id, run_id, kind, step, operator, uid, text, created_at"
			       " FROM requests WHERE run_id = ?1 AND handled_at IS NULL ORDER BY id");
	case Q_REQUEST_DONE:
		return xstrdup("UPDATE requests SET handled_at = ?2, result = ?3 WHERE id = ?1");
	case Q_REQUEST_RESULT:
		return xstrdup("SELECT handled_at IS NOT NULL, result FROM requests WHERE id = ?1");
	case Q_AUDIT_LAST:
		return xstrdup("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
	case Q_AUDIT_ADD:
		return xstrdup("INSERT INTO audit (seq, at, run_id, event, operator, uid, detail,"
			       " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	case Q_RUN_STOPS:
		return xstrdup("SELECT at, event, operator, detail FROM audit WHERE run_id = ?1"
			       " AND event IN ('run_started', 'run_finished', 'resume') ORDER BY seq");
	case Q_AUDIT_ALL:
		return xstrdup("SELECT seq, at, run_id, event, operator, uid, detail, prev_hash, hash"
			       " FROM audit ORDER BY rowid");
	case Q_OUTBOX_ADD:
		return xstrdup("INSERT INTO outbox (owner, run_id, event, url, body, created_at)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	case Q_OUTBOX_PENDING:
		return xstrdup("SELECT id, url, body, attempts, next_at_ms FROM outbox"
			       " WHERE owner = ?1 AND status = 'pending' ORDER BY id");
	case Q_OUTBOX_SENT:
		return xstrdup("UPDATE outbox SET status = 'sent', sent_at = ?2,"
			       " attempts = attempts + 1 WHERE id = ?1");
	case Q_OUTBOX_FAILED:
		return xstrdup("UPDATE outbox SET attempts = ?2, next_at_ms = ?3, status = ?4,"
			       " last_error = ?5 WHERE id = ?1");
	case Q_SCHEDULE_GET:
		return xstrdup("SELECT first_seen_at, last_run_at FROM schedules WHERE key = ?1");
	case Q_SCHEDULE_SEEN:
		return xstrdup("INSERT OR IGNORE INTO schedules (key, first_seen_at) VALUES (?1, ?2)");
	case Q_SCHEDULE_RAN:
		return xstrdup("INSERT INTO schedules (key, first_seen_at, last_run_at) VALUES (?1, ?2, ?2)"
			       " ON CONFLICT (key) DO UPDATE SET last_run_at = excluded.last_run_at");
	case Q_SCHEDULE_EXIT:
		return xstrdup("UPDATE schedules SET last_exit_code = ?2 WHERE key = ?1");
	case Q_SCHEDULE_EVENT:
		return xstrdup("INSERT INTO schedule_events (key, at, event, exit_code, detail)"
			       " VALUES (?1, ?2, ?3, ?4, ?5)");
	case Q_RUN_ACTIVE:
		/* a probe changes nothing and takes no lock: it never holds a drill back */
		return xstrdup("SELECT id FROM runs WHERE file = ?1 AND status = 'running'"
			       " AND mode IS NOT 'probe' ORDER BY started_at DESC");
	case Q_SOURCE_ADD:
		return xstrdup("INSERT INTO sources (sha256, text) VALUES (?1, ?2)"
			       " ON CONFLICT (sha256) DO NOTHING");
	case Q_RUN_SOURCE_ADD:
		return xstrdup("INSERT OR REPLACE INTO run_sources (run_id, idx, path, sha256, signed_by, signature)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	case Q_RUN_SOURCES_GET:
		return xstrdup("SELECT r.path, r.sha256, r.signed_by, s.text, r.signature FROM run_sources r"
			       " LEFT JOIN sources s ON s.sha256 = r.sha256 WHERE r.run_id = ?1 ORDER BY r.idx");
	case Q_RUN_BY_PID:
		return xstrdup("SELECT id FROM runs WHERE file = ?1 AND pid = ?2"
			       " ORDER BY started_at DESC LIMIT 1");
	case Q_SIGNATURES_OF_PATH:
		return xstrdup("SELECT MIN(run_id), signature FROM run_sources"
			       " WHERE path = ?1 AND signature IS NOT NULL GROUP BY signature");
	case Q__COUNT: break;
	}
	return NULL;
}

/* The cached statement for q, reset and unbound; NULL with the error set. */
sqlite3_stmt *q_get(struct store *st, enum query q)
{
	if (st->stmt[q])
		return st->stmt[q];
	char *sql = query_sql(q);
	int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[q],
				    NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		db_fail(st, "prepare a query");
		sqlite3_finalize(st->stmt[q]);
		st->stmt[q] = NULL;
	}
	return st->stmt[q];
}

void q_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no rows, then readies it for the next use. */
int q_exec(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		db_fail(st, what);
	q_done(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int q_rows(struct store *st, enum query q, const char *key,
	   int (*row)(void *ud, sqlite3_stmt *s), void *ud, const char *what)
{
	sqlite3_stmt *s = q_get(st, q);
	if (!s)
		return -1;
	bind_text(s, 0, key);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (row(ud, s)) {
			q_done(s);
			return -1;
		}
	if (rc != SQLITE_DONE)
		db_fail(st, what);
	q_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct rows_into {
	void **v;
	size_t *n;
	size_t size;
	void (*read)(sqlite3_stmt *s, void *elem);
};

static int row_into(void *ud, sqlite3_stmt *s)
{
	struct rows_into *a = ud;
	*a->v = xrealloc(*a->v, (*a->n + 1) * a->size);
	a->read(s, (char *)*a->v + (*a->n)++ * a->size);
	return 0;
}

int q_rows_into(struct store *st, enum query q, const char *key, void **v, size_t *n,
		size_t size, void (*read)(sqlite3_stmt *s, void *elem), const char *what)
{
	*v = NULL;
	*n = 0;
	struct rows_into a = { v, n, size, read };
	return q_rows(st, q, key, row_into, &a, what);
}

/* ---- transactions ---- */

/*
 * busy_timeout already waits for the lock inside sqlite3_step; the loops
 * here only cover the rare cases where SQLite reports BUSY without waiting
 * (a deadlock it breaks, WAL recovery) or the wait ran out under a storm.
 */
int tx_step(struct store *st, enum query q, const char *what)
{
	sqlite3_stmt *s = q_get(st, q);
	if (!s)
		return -1;
	for (int tries = 0;; tries++) {
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(s);
			return 0;
		}
		if ((rc & 0xff) != SQLITE_BUSY || tries >= BUSY_RETRIES) {
			db_fail(st, what);
			sqlite3_reset(s);
			return -1;
		}
		sqlite3_reset(s);
		clock_sleep_ms(RETRY_SLEEP_MS << tries);
	}
}

int tx_begin_write(struct store *st)
{
	if (st->in_unit && !sqlite3_get_autocommit(st->db))
		return 0;	/* part of the open unit */
	return tx_step(st, Q_BEGIN_WRITE, "begin a transaction");
}

void tx_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return;	/* SQLite already rolled back (or nothing began) */
	sqlite3_stmt *s = q_get(st, Q_ROLLBACK);
	if (s) {
		sqlite3_step(s);
		sqlite3_reset(s);
	}
}

/* Commits when rc is 0, rolls back otherwise; returns 0 or -1. */
int tx_end(struct store *st, int rc)
{
	if (!rc && st->in_unit)
		return 0;	/* store_unit_end commits */
	if (!rc && !tx_step(st, Q_COMMIT, "commit"))
		return 0;
	tx_rollback(st);
	return -1;
}

void store_unit_begin(struct store *st)
{
	st->in_unit = 1;
}

int store_unit_end(struct store *st)
{
	st->in_unit = 0;
	if (sqlite3_get_autocommit(st->db))
		return 0;	/* nothing written, or a failed write already rolled back */
	return tx_end(st, 0);
}

/* ---- values in and out ---- */

/*
 * Secrets (SPEC 5) never reach the file, the WAL included: every text value
 * is redacted as it is bound. One redactor for the process, set before any
 * other thread opens a connection; redact_string only reads it.
 */
const struct redactor *store_secrets;

void store_set_redactor(const struct redactor *r)
{
	store_secrets = r;
}

void bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (!v)
		sqlite3_bind_null(s, col + 1);
	else if (redact_count(store_secrets))
		sqlite3_bind_text(s, col + 1, redact_string(store_secrets, v), -1, free);
	else
		sqlite3_bind_text(s, col + 1, v, -1, SQLITE_STATIC);
}

void bind_ts(sqlite3_stmt *s, int col, int64_t ms)
{
	char buf[32];
	if (ms == TS_NONE)
		sqlite3_bind_null(s, col + 1);
	else
		sqlite3_bind_text(s, col + 1, clock_iso8601(ms, buf), -1, SQLITE_TRANSIENT);
}

void bind_real(sqlite3_stmt *s, int col, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, col + 1);
	else
		sqlite3_bind_double(s, col + 1, v);
}

/* none: the value that means absent (-1 for tri-states and exit codes) */
void bind_int(sqlite3_stmt *s, int col, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(s, col + 1);
	else
		sqlite3_bind_int64(s, col + 1, v);
}

void bind_flag(sqlite3_stmt *s, int col, int v)
{
	sqlite3_bind_int(s, col + 1, v != 0);
}

char *col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	return t ? xstrdup((const char *)t) : NULL;
}

/*
 * The stamps this file writes are always "YYYY-MM-DDTHH:MM:SS.mmmZ".
 * Decoding that shape directly (days from the civil date, as in Howard
 * Hinnant's algorithm) instead of through timegm() saves a sixth of the time
 * `history` takes over 10 000 runs; anything else goes to clock_parse.
 */
static int iso_fast(const char *t, int64_t *ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	int v[7] = { 0 }, k = 0;
	for (int i = 0; shape[i]; i++) {
		if (shape[i] == 'd') {
			if (t[i] < '0' || t[i] > '9')
				return -1;
			v[k] = v[k] * 10 + (t[i] - '0');
		} else if (t[i] != shape[i]) {
			return -1;
		} else {
			k++;
		}
	}
	if (t[sizeof(shape) - 1])
		return -1;
	int64_t y = v[0], m = v[1], d = v[2];
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	y -= m <= 2;
	int64_t era = y / 400;	/* y >= 0, so / is floor */
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	*ms = ((days * 24 + v[3]) * 60 + v[4]) * 60000 + (int64_t)v[5] * 1000 + v[6];
	return 0;
}

int64_t col_ts(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	int64_t ms;
	if (!t || (iso_fast(t, &ms) && clock_parse(t, 0, &ms)))
		return TS_NONE;
	return ms;
}

double col_real(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

int64_t col_int(sqlite3_stmt *s, int col, int64_t none)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? none : sqlite3_column_int64(s, col);
}

int col_status(struct store *st, sqlite3_stmt *s, int col, const char *table,
		      enum status *out)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	if (status_parse(t, out)) {
		set_err(st, "unknown status '%s' in table %s", t ? t : "", table);
		return -1;
	}
	return 0;
}

char *now_iso(char buf[32])
{
	clock_iso8601(clock_wall_ms(), buf);
	return buf;
}
