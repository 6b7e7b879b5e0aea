/*
 * The history in SQLite: the only file that talks to SQLite.
 *
 * Each table's columns are listed once, as an enum and a name array; the
 * INSERT/UPSERT/SELECT texts are built from those lists and the binders and
 * readers index by the same enum, so a column cannot be bound in one place
 * and read back from another. Statements are prepared once per connection
 * and reused (the engine writes a few rows per step), and every write is its
 * own BEGIN IMMEDIATE transaction so concurrent lifeboats queue on
 * busy_timeout instead of failing with "database is locked".
 *
 * Values: timestamps are ISO-8601 UTC text with ms (SPEC 2), NULL when
 * absent; NAN doubles, unknown tri-states and "no exit code" are NULL;
 * statuses and sections are their names, so the file reads well in sqlite3.
 */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "clock.h"
#include "redact.h"
#include "runlock.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 10000
#define BUSY_RETRIES 5		/* each one after busy_timeout gave up */
#define RETRY_SLEEP_MS 10
#define WAL_RETRIES 1000	/* ~10 s, as busy_timeout */
#define MAX_INDEX 1000000	/* bigger phase/step indexes read back mean a damaged file */

/*
 * Migration i takes the schema from user_version i to i + 1. Only append:
 * a file written by an older lifeboat is brought up to date in place.
 */
static const char *const migrations[] = {
	/* 1: the run tree */
	"CREATE TABLE runs ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" runbook TEXT, file TEXT, sha256 TEXT, mode TEXT, \"trigger\" TEXT, env TEXT,"
	" operator TEXT, uid INTEGER, host TEXT, pid INTEGER, params_json TEXT,"
	" status TEXT NOT NULL,"
	" started_at TEXT, ended_at TEXT, incident_at TEXT, restored_at TEXT,"
	" rto_target_s REAL, rto_achieved_s REAL, rto_met INTEGER,"
	" rpo_target_s REAL, rpo_achieved_s REAL, rpo_met INTEGER, rpo_status TEXT,"
	" recovery_point_at TEXT, human_wait_s REAL, exit_code INTEGER,"
	" strict_budgets INTEGER NOT NULL DEFAULT 0, error TEXT);"
	"CREATE INDEX runs_runbook_started ON runs (runbook, started_at);"
	"CREATE INDEX runs_started ON runs (started_at);"
	"CREATE TABLE phases ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" name TEXT, role TEXT, budget_s REAL,"
	" fault INTEGER NOT NULL DEFAULT 0, cleanup INTEGER NOT NULL DEFAULT 0,"
	" restores_service INTEGER NOT NULL DEFAULT 0, parallel INTEGER NOT NULL DEFAULT 1,"
	" status TEXT NOT NULL, started_at TEXT, ended_at TEXT,"
	" duration_s REAL, human_wait_s REAL, over_budget INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (run_id, idx));"
	"CREATE TABLE steps ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" phase_idx INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" name TEXT, kind TEXT, role TEXT, section TEXT NOT NULL DEFAULT 'main',"
	" idempotent INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, started_at TEXT, ended_at TEXT,"
	" duration_s REAL, human_wait_s REAL, exit_code INTEGER, confirmed_by TEXT,"
	" error TEXT, output TEXT, output_cut INTEGER NOT NULL DEFAULT 0, state_json TEXT,"
	" PRIMARY KEY (run_id, phase_idx, idx));"
	"CREATE TABLE attempts ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" phase_idx INTEGER NOT NULL, step_idx INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" status TEXT NOT NULL, started_at TEXT, ended_at TEXT, duration_s REAL,"
	" exit_code INTEGER, error TEXT, output TEXT, output_cut INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (run_id, phase_idx, step_idx, attempt));"
	"CREATE TABLE notes ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" at TEXT, operator TEXT, text TEXT);"
	"CREATE INDEX notes_run ON notes (run_id, seq);",
	/*
	 * 2: resuming, acting from other terminals, the audit chain. The
	 * audit table has no foreign key (it outlives what it describes) and
	 * triggers refuse changes: append-only, and `audit verify` catches
	 * whoever drops the triggers.
	 */
	"CREATE TABLE requests ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" run_id TEXT NOT NULL, kind TEXT NOT NULL, step TEXT, operator TEXT, uid INTEGER,"
	" text TEXT, created_at TEXT, handled_at TEXT, result TEXT);"
	"CREATE INDEX requests_pending ON requests (run_id, handled_at);"
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY, at TEXT NOT NULL, run_id TEXT, event TEXT NOT NULL,"
	" operator TEXT, uid INTEGER, detail TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/*
	 * 3: the config file's machinery. The outbox holds webhook deliveries
	 * until notify.c's sender has sent them (owner: the process that queued
	 * them; next_at_ms: unix ms of the next attempt). schedules keeps each
	 * scheduled drill's last run (unix seconds, so the due rule can compare
	 * them directly); schedule_events says what the scheduler did, skips
	 * included.
	 */
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, run_id TEXT,"
	" event TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at_ms INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL DEFAULT 'pending', sent_at TEXT, last_error TEXT);"
	"CREATE INDEX outbox_pending ON outbox (owner, status, id);"
	"CREATE TABLE schedules ("
	" key TEXT PRIMARY KEY NOT NULL, first_seen_at INTEGER NOT NULL, last_run_at INTEGER,"
	" last_exit_code INTEGER);"
	"CREATE TABLE schedule_events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, at TEXT NOT NULL,"
	" event TEXT NOT NULL, exit_code INTEGER, detail TEXT);",
	/*
	 * 4: signed runbooks and evidence. runs.signed_by is the key id of the
	 * runbook's trusted signature. sources keeps each text a run loaded once
	 * per content (by SHA-256); run_sources says which a run loaded, in order
	 * (the runbook first), so evidence can be written after the files changed.
	 */
	"ALTER TABLE runs ADD COLUMN signed_by TEXT;"
	"CREATE TABLE sources (sha256 TEXT PRIMARY KEY NOT NULL, text BLOB NOT NULL);"
	"CREATE TABLE run_sources ("
	" run_id TEXT NOT NULL, idx INTEGER NOT NULL, path TEXT NOT NULL,"
	" sha256 TEXT NOT NULL REFERENCES sources (sha256), signed_by TEXT,"
	" PRIMARY KEY (run_id, idx));",
	/*
	 * 5: attempts stored in their primary key's b-tree (WITHOUT ROWID): a
	 * step's result is one commit, and this saves it a page (the separate
	 * index of the key) in the write-ahead log of every step.
	 */
	"CREATE TABLE attempts_v5 ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" phase_idx INTEGER NOT NULL, step_idx INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" status TEXT NOT NULL, started_at TEXT, ended_at TEXT, duration_s REAL,"
	" exit_code INTEGER, error TEXT, output TEXT, output_cut INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (run_id, phase_idx, step_idx, attempt)) WITHOUT ROWID;"
	"INSERT INTO attempts_v5 (run_id, phase_idx, step_idx, attempt, status, started_at,"
	" ended_at, duration_s, exit_code, error, output, output_cut)"
	" SELECT run_id, phase_idx, step_idx, attempt, status, started_at, ended_at, duration_s,"
	" exit_code, error, output, output_cut FROM attempts;"
	"DROP TABLE attempts;"
	"ALTER TABLE attempts_v5 RENAME TO attempts;",
	/* 6: the text of the signature that counted for each source, for evidence */
	"ALTER TABLE run_sources ADD COLUMN signature TEXT;",
	/*
	 * 7: remote steps (SPEC 8): an instance row per host per attempt; seq
	 * is the host's place in the step's target.
	 */
	"CREATE TABLE IF NOT EXISTS host_instances ("
	" run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" phase_idx INTEGER NOT NULL, step_idx INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, host TEXT NOT NULL, status TEXT NOT NULL, exit_code INTEGER,"
	" duration_s REAL, error TEXT, output TEXT,"
	" PRIMARY KEY (run_id, phase_idx, step_idx, attempt, host));",
};
#define SCHEMA_VERSION ((int)ARRAY_SIZE(migrations))

enum run_col {
	RC_ID, RC_RUNBOOK, RC_FILE, RC_SHA256, RC_MODE, RC_TRIGGER, RC_ENV, RC_OPERATOR,
	RC_UID, RC_HOST, RC_PID, RC_PARAMS, RC_STATUS, RC_STARTED, RC_ENDED, RC_INCIDENT,
	RC_RESTORED, RC_RTO_TARGET, RC_RTO_ACHIEVED, RC_RTO_MET, RC_RPO_TARGET,
	RC_RPO_ACHIEVED, RC_RPO_MET, RC_RPO_STATUS, RC_RECOVERY_POINT, RC_HUMAN_WAIT,
	RC_EXIT_CODE, RC_STRICT_BUDGETS, RC_ERROR, RC_SIGNED_BY, RC__COUNT
};
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
	[RC_SIGNED_BY] = "signed_by",
};

enum phase_col {
	PC_RUN_ID, PC_IDX, PC_NAME, PC_ROLE, PC_BUDGET, PC_FAULT, PC_CLEANUP, PC_RESTORES,
	PC_PARALLEL, PC_STATUS, PC_STARTED, PC_ENDED, PC_DURATION, PC_HUMAN_WAIT,
	PC_OVER_BUDGET, PC__COUNT
};
static const char *const phase_cols[PC__COUNT] = {
	[PC_RUN_ID] = "run_id", [PC_IDX] = "idx", [PC_NAME] = "name", [PC_ROLE] = "role",
	[PC_BUDGET] = "budget_s", [PC_FAULT] = "fault", [PC_CLEANUP] = "cleanup",
	[PC_RESTORES] = "restores_service", [PC_PARALLEL] = "parallel",
	[PC_STATUS] = "status", [PC_STARTED] = "started_at", [PC_ENDED] = "ended_at",
	[PC_DURATION] = "duration_s", [PC_HUMAN_WAIT] = "human_wait_s",
	[PC_OVER_BUDGET] = "over_budget",
};

enum step_col {
	SC_RUN_ID, SC_PHASE_IDX, SC_IDX, SC_NAME, SC_KIND, SC_ROLE, SC_SECTION,
	SC_IDEMPOTENT, SC_STATUS, SC_ATTEMPTS, SC_STARTED, SC_ENDED, SC_DURATION,
	SC_HUMAN_WAIT, SC_EXIT_CODE, SC_CONFIRMED_BY, SC_ERROR, SC_OUTPUT, SC_OUTPUT_CUT,
	SC_STATE_JSON, SC__COUNT
};
static const char *const step_cols[SC__COUNT] = {
	[SC_RUN_ID] = "run_id", [SC_PHASE_IDX] = "phase_idx", [SC_IDX] = "idx",
	[SC_NAME] = "name", [SC_KIND] = "kind", [SC_ROLE] = "role",
	[SC_SECTION] = "section", [SC_IDEMPOTENT] = "idempotent", [SC_STATUS] = "status",
	[SC_ATTEMPTS] = "attempts", [SC_STARTED] = "started_at", [SC_ENDED] = "ended_at",
	[SC_DURATION] = "duration_s", [SC_HUMAN_WAIT] = "human_wait_s",
	[SC_EXIT_CODE] = "exit_code", [SC_CONFIRMED_BY] = "confirmed_by",
	[SC_ERROR] = "error", [SC_OUTPUT] = "output", [SC_OUTPUT_CUT] = "output_cut",
	[SC_STATE_JSON] = "state_json",
};

enum attempt_col {
	AC_RUN_ID, AC_PHASE_IDX, AC_STEP_IDX, AC_ATTEMPT, AC_STATUS, AC_STARTED, AC_ENDED,
	AC_DURATION, AC_EXIT_CODE, AC_ERROR, AC_OUTPUT, AC_OUTPUT_CUT, AC__COUNT
};
static const char *const attempt_cols[AC__COUNT] = {
	[AC_RUN_ID] = "run_id", [AC_PHASE_IDX] = "phase_idx", [AC_STEP_IDX] = "step_idx",
	[AC_ATTEMPT] = "attempt", [AC_STATUS] = "status", [AC_STARTED] = "started_at",
	[AC_ENDED] = "ended_at", [AC_DURATION] = "duration_s", [AC_EXIT_CODE] = "exit_code",
	[AC_ERROR] = "error", [AC_OUTPUT] = "output", [AC_OUTPUT_CUT] = "output_cut",
};

/* notes.seq is left to SQLite: the insert binds the others, in this order */
enum note_col { NC_RUN_ID, NC_AT, NC_OPERATOR, NC_TEXT, NC__COUNT };
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

enum query {
	Q_BEGIN_WRITE, Q_BEGIN_READ, Q_COMMIT, Q_ROLLBACK,
	Q_RUN_INSERT, Q_RUN_UPSERT, Q_PHASE_UPSERT, Q_STEP_UPSERT, Q_ATTEMPT_UPSERT,
	Q_NOTE_INSERT,
	Q_RUN_FIND, Q_RUN_GET, Q_PHASES_GET, Q_STEPS_GET, Q_NOTES_GET, Q_ATTEMPTS_GET,
	Q_RUNS_LIST, Q_RUNS_LIST_RUNBOOK,
	Q_REQUEST_ADD, Q_REQUESTS_PENDING, Q_REQUEST_DONE, Q_REQUEST_RESULT,
	Q_AUDIT_LAST, Q_AUDIT_ADD, Q_AUDIT_ALL, Q_RUN_STOPS,
	Q_OUTBOX_ADD, Q_OUTBOX_PENDING, Q_OUTBOX_SENT, Q_OUTBOX_FAILED,
	Q_SCHEDULE_GET, Q_SCHEDULE_SEEN, Q_SCHEDULE_RAN, Q_SCHEDULE_EVENT, Q_SCHEDULE_EXIT, Q_RUN_ACTIVE,
	Q_SOURCE_ADD, Q_RUN_SOURCE_ADD, Q_RUN_SOURCES_GET, Q_RUN_BY_PID,
	Q__COUNT
};

struct store {
	sqlite3 *db;
	char *path;			/* xstrdup'd */
	char *err;			/* last error, xmalloc'd; NULL before any */
	sqlite3_stmt *stmt[Q__COUNT];	/* prepared on first use, finalized by store_close */
	int in_unit;			/* store_unit_begin: writes share one transaction */
	dev_t dev;			/* the file opened, for store_check_file; ino 0: none */
	ino_t ino;
};

static void set_err(struct store *st, const char *fmt, ...) LB_PRINTF(2, 3);
static void set_err(struct store *st, const char *fmt, ...)
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
static int db_fail(struct store *st, const char *what)
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
		return xstrdup("SELECT id FROM runs WHERE file = ?1 AND status = 'running'"
			       " ORDER BY started_at DESC");
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
	case Q__COUNT: break;
	}
	return NULL;
}

/* The cached statement for q, reset and unbound; NULL with the error set. */
static sqlite3_stmt *q_get(struct store *st, enum query q)
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

static void q_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no rows, then readies it for the next use. */
static int q_exec(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		db_fail(st, what);
	q_done(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* ---- transactions ---- */

/*
 * busy_timeout already waits for the lock inside sqlite3_step; the loops
 * here only cover the rare cases where SQLite reports BUSY without waiting
 * (a deadlock it breaks, WAL recovery) or the wait ran out under a storm.
 */
static int tx_step(struct store *st, enum query q, const char *what)
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

static int tx_begin_write(struct store *st)
{
	if (st->in_unit && !sqlite3_get_autocommit(st->db))
		return 0;	/* part of the open unit */
	return tx_step(st, Q_BEGIN_WRITE, "begin a transaction");
}

static void tx_rollback(struct store *st)
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
static int tx_end(struct store *st, int rc)
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

#define AUTO_SUFFIX " (--yes)"	/* confirmed_by of an automatic confirmation, as stored */

/*
 * Secrets (SPEC 5) never reach the file, the WAL included: every text value
 * is redacted as it is bound. One redactor for the process, set before any
 * other thread opens a connection; redact_string only reads it.
 */
static const struct redactor *secrets;

void store_set_redactor(const struct redactor *r)
{
	secrets = r;
}

static void bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (!v)
		sqlite3_bind_null(s, col + 1);
	else if (redact_count(secrets))
		sqlite3_bind_text(s, col + 1, redact_string(secrets, v), -1, free);
	else
		sqlite3_bind_text(s, col + 1, v, -1, SQLITE_STATIC);
}

static void bind_ts(sqlite3_stmt *s, int col, int64_t ms)
{
	char buf[32];
	if (ms == TS_NONE)
		sqlite3_bind_null(s, col + 1);
	else
		sqlite3_bind_text(s, col + 1, clock_iso8601(ms, buf), -1, SQLITE_TRANSIENT);
}

static void bind_real(sqlite3_stmt *s, int col, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, col + 1);
	else
		sqlite3_bind_double(s, col + 1, v);
}

/* none: the value that means absent (-1 for tri-states and exit codes) */
static void bind_int(sqlite3_stmt *s, int col, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(s, col + 1);
	else
		sqlite3_bind_int64(s, col + 1, v);
}

static void bind_flag(sqlite3_stmt *s, int col, int v)
{
	sqlite3_bind_int(s, col + 1, v != 0);
}

static char *col_text(sqlite3_stmt *s, int col)
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

static int64_t col_ts(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	int64_t ms;
	if (!t || (iso_fast(t, &ms) && clock_parse(t, 0, &ms)))
		return TS_NONE;
	return ms;
}

static double col_real(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

static int64_t col_int(sqlite3_stmt *s, int col, int64_t none)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? none : sqlite3_column_int64(s, col);
}

static int col_status(struct store *st, sqlite3_stmt *s, int col, const char *table,
		      enum status *out)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	if (status_parse(t, out)) {
		set_err(st, "unknown status '%s' in table %s", t ? t : "", table);
		return -1;
	}
	return 0;
}

/* ---- writers ---- */

static int run_write(struct store *st, enum query q, const struct run_rec *r)
{
	if (!r->id) {
		set_err(st, "cannot save a run without an id");
		return -1;
	}
	sqlite3_stmt *s = q_get(st, q);
	if (!s)
		return -1;
	bind_text(s, RC_ID, r->id);
	bind_text(s, RC_RUNBOOK, r->runbook);
	bind_text(s, RC_FILE, r->file);
	bind_text(s, RC_SHA256, r->sha256);
	bind_text(s, RC_MODE, r->mode);
	bind_text(s, RC_TRIGGER, r->trigger);
	bind_text(s, RC_ENV, r->env);
	bind_text(s, RC_OPERATOR, r->operator);
	bind_int(s, RC_UID, r->uid, -1);
	bind_text(s, RC_HOST, r->host);
	bind_int(s, RC_PID, r->pid, 0);
	bind_text(s, RC_PARAMS, r->params_json);
	bind_text(s, RC_STATUS, status_name(r->status));
	bind_ts(s, RC_STARTED, r->started_ms);
	bind_ts(s, RC_ENDED, r->ended_ms);
	bind_ts(s, RC_INCIDENT, r->incident_ms);
	bind_ts(s, RC_RESTORED, r->restored_ms);
	bind_real(s, RC_RTO_TARGET, r->rto_target_s);
	bind_real(s, RC_RTO_ACHIEVED, r->rto_achieved_s);
	bind_int(s, RC_RTO_MET, r->rto_met, -1);
	bind_real(s, RC_RPO_TARGET, r->rpo_target_s);
	bind_real(s, RC_RPO_ACHIEVED, r->rpo_achieved_s);
	bind_int(s, RC_RPO_MET, r->rpo_met, -1);
	bind_text(s, RC_RPO_STATUS, r->rpo_status);
	bind_ts(s, RC_RECOVERY_POINT, r->recovery_point_ms);
	bind_real(s, RC_HUMAN_WAIT, r->human_wait_s);
	bind_int(s, RC_EXIT_CODE, r->exit_code, -1);
	bind_flag(s, RC_STRICT_BUDGETS, r->strict_budgets);
	bind_text(s, RC_ERROR, r->error);
	bind_text(s, RC_SIGNED_BY, r->signed_by);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		q_done(s);
		return 0;
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT && q == Q_RUN_INSERT)
		set_err(st, "run '%s' already exists", r->id);
	else
		db_fail(st, "save a run");
	q_done(s);
	return -1;
}

static int phase_write(struct store *st, const char *run_id, int idx, const struct phase_rec *p)
{
	sqlite3_stmt *s = q_get(st, Q_PHASE_UPSERT);
	if (!s)
		return -1;
	bind_text(s, PC_RUN_ID, run_id);
	sqlite3_bind_int(s, PC_IDX + 1, idx);
	bind_text(s, PC_NAME, p->name);
	bind_text(s, PC_ROLE, p->role);
	bind_real(s, PC_BUDGET, p->budget_s);
	bind_flag(s, PC_FAULT, p->fault);
	bind_flag(s, PC_CLEANUP, p->cleanup);
	bind_flag(s, PC_RESTORES, p->restores_service);
	sqlite3_bind_int(s, PC_PARALLEL + 1, p->parallel);
	bind_text(s, PC_STATUS, status_name(p->status));
	bind_ts(s, PC_STARTED, p->started_ms);
	bind_ts(s, PC_ENDED, p->ended_ms);
	bind_real(s, PC_DURATION, p->duration_s);
	bind_real(s, PC_HUMAN_WAIT, p->human_wait_s);
	bind_flag(s, PC_OVER_BUDGET, p->over_budget);
	return q_exec(st, s, "save a phase");
}

static int step_write(struct store *st, const char *run_id, int phase_idx, int idx,
		      const struct step_rec *sr)
{
	sqlite3_stmt *s = q_get(st, Q_STEP_UPSERT);
	if (!s)
		return -1;
	bind_text(s, SC_RUN_ID, run_id);
	sqlite3_bind_int(s, SC_PHASE_IDX + 1, phase_idx);
	sqlite3_bind_int(s, SC_IDX + 1, idx);
	bind_text(s, SC_NAME, sr->name);
	bind_text(s, SC_KIND, sr->kind);
	bind_text(s, SC_ROLE, sr->role);
	bind_text(s, SC_SECTION, sr->section == SEC_ROLLBACK ? "rollback" : "main");
	bind_flag(s, SC_IDEMPOTENT, sr->idempotent);
	bind_text(s, SC_STATUS, status_name(sr->status));
	sqlite3_bind_int(s, SC_ATTEMPTS + 1, sr->attempts);
	bind_ts(s, SC_STARTED, sr->started_ms);
	bind_ts(s, SC_ENDED, sr->ended_ms);
	bind_real(s, SC_DURATION, sr->duration_s);
	bind_real(s, SC_HUMAN_WAIT, sr->human_wait_s);
	bind_int(s, SC_EXIT_CODE, sr->exit_code, -1);
	/* the column keeps "alice (--yes)" for an automatic confirmation, as it always has */
	char *confirmed = sr->auto_confirmed && sr->confirmed_by ?
			  xasprintf("%s%s", sr->confirmed_by, AUTO_SUFFIX) : NULL;
	bind_text(s, SC_CONFIRMED_BY, confirmed ? confirmed : sr->confirmed_by);
	bind_text(s, SC_ERROR, sr->error);
	bind_text(s, SC_OUTPUT, sr->output);
	sqlite3_bind_int64(s, SC_OUTPUT_CUT + 1, sr->output_cut);
	bind_text(s, SC_STATE_JSON, sr->state_json);
	int rc = q_exec(st, s, "save a step");
	free(confirmed);
	return rc;
}

static int note_write(struct store *st, const char *run_id, const struct note_rec *n)
{
	sqlite3_stmt *s = q_get(st, Q_NOTE_INSERT);
	if (!s)
		return -1;
	bind_text(s, NC_RUN_ID, run_id);
	bind_ts(s, NC_AT, n->at_ms);
	bind_text(s, NC_OPERATOR, n->operator);
	bind_text(s, NC_TEXT, n->text);
	return q_exec(st, s, "add a note");
}

static int need_run_id(struct store *st, const char *run_id)
{
	if (run_id)
		return 0;
	set_err(st, "no run id given");
	return -1;
}

int store_run_insert(struct store *st, const struct run_rec *run)
{
	if (tx_begin_write(st))
		return -1;
	int rc = run_write(st, Q_RUN_INSERT, run);
	for (size_t i = 0; !rc && i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		rc = phase_write(st, run->id, (int)i, p);
		for (size_t j = 0; !rc && j < p->nsteps; j++)
			rc = step_write(st, run->id, (int)i, (int)j, &p->steps[j]);
	}
	for (size_t i = 0; !rc && i < run->nnotes; i++)
		rc = note_write(st, run->id, &run->notes[i]);
	return tx_end(st, rc);
}

int store_run_save(struct store *st, const struct run_rec *run)
{
	if (tx_begin_write(st))
		return -1;
	return tx_end(st, run_write(st, Q_RUN_UPSERT, run));
}

int store_phase_save(struct store *st, const char *run_id, int phase_idx,
		     const struct phase_rec *ph)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, phase_write(st, run_id, phase_idx, ph));
}

int store_step_save(struct store *st, const char *run_id, int phase_idx, int step_idx,
		    const struct step_rec *step)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, step_write(st, run_id, phase_idx, step_idx, step));
}

static int attempt_write(struct store *st, const char *run_id, int phase_idx, int step_idx,
			 const struct attempt_rec *a)
{
	sqlite3_stmt *s = q_get(st, Q_ATTEMPT_UPSERT);
	if (!s)
		return -1;
	bind_text(s, AC_RUN_ID, run_id);
	sqlite3_bind_int(s, AC_PHASE_IDX + 1, phase_idx);
	sqlite3_bind_int(s, AC_STEP_IDX + 1, step_idx);
	sqlite3_bind_int(s, AC_ATTEMPT + 1, a->attempt);
	bind_text(s, AC_STATUS, status_name(a->status));
	bind_ts(s, AC_STARTED, a->started_ms);
	bind_ts(s, AC_ENDED, a->ended_ms);
	bind_real(s, AC_DURATION, a->duration_s);
	bind_int(s, AC_EXIT_CODE, a->exit_code, -1);
	bind_text(s, AC_ERROR, a->error);
	bind_text(s, AC_OUTPUT, a->output);
	sqlite3_bind_int64(s, AC_OUTPUT_CUT + 1, a->output_cut);
	return q_exec(st, s, "save an attempt");
}

int store_attempt_save(struct store *st, const char *run_id, int phase_idx, int step_idx,
		       const struct attempt_rec *a)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, attempt_write(st, run_id, phase_idx, step_idx, a));
}

int store_step_finish(struct store *st, const char *run_id, int phase_idx, int step_idx,
		      const struct step_rec *step, const struct attempt_rec *a)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	int rc = attempt_write(st, run_id, phase_idx, step_idx, a);
	if (!rc)
		rc = step_write(st, run_id, phase_idx, step_idx, step);
	return tx_end(st, rc);
}

int store_note_add(struct store *st, const char *run_id, const struct note_rec *note)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, note_write(st, run_id, note));
}

/* ---- readers ---- */

static int run_read(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	r->id = col_text(s, RC_ID);
	r->runbook = col_text(s, RC_RUNBOOK);
	r->file = col_text(s, RC_FILE);
	r->sha256 = col_text(s, RC_SHA256);
	r->mode = col_text(s, RC_MODE);
	r->trigger = col_text(s, RC_TRIGGER);
	r->env = col_text(s, RC_ENV);
	r->operator = col_text(s, RC_OPERATOR);
	r->uid = (long)col_int(s, RC_UID, -1);
	r->host = col_text(s, RC_HOST);
	r->pid = (long)col_int(s, RC_PID, 0);
	r->params_json = col_text(s, RC_PARAMS);
	r->started_ms = col_ts(s, RC_STARTED);
	r->ended_ms = col_ts(s, RC_ENDED);
	r->incident_ms = col_ts(s, RC_INCIDENT);
	r->restored_ms = col_ts(s, RC_RESTORED);
	r->rto_target_s = col_real(s, RC_RTO_TARGET);
	r->rto_achieved_s = col_real(s, RC_RTO_ACHIEVED);
	r->rto_met = (int)col_int(s, RC_RTO_MET, -1);
	r->rpo_target_s = col_real(s, RC_RPO_TARGET);
	r->rpo_achieved_s = col_real(s, RC_RPO_ACHIEVED);
	r->rpo_met = (int)col_int(s, RC_RPO_MET, -1);
	r->rpo_status = col_text(s, RC_RPO_STATUS);
	r->recovery_point_ms = col_ts(s, RC_RECOVERY_POINT);
	r->human_wait_s = col_real(s, RC_HUMAN_WAIT);
	r->exit_code = (int)col_int(s, RC_EXIT_CODE, -1);
	r->strict_budgets = (int)col_int(s, RC_STRICT_BUDGETS, 0);
	r->error = col_text(s, RC_ERROR);
	r->signed_by = col_text(s, RC_SIGNED_BY);
	if (col_status(st, s, RC_STATUS, "runs", &r->status))
		return -1;
	if (r->status == ST_RUNNING && r->id) {
		/* a run whose process is gone is never shown as running */
		char *dir = runlock_dir(st->path);
		if (!runlock_alive(dir, r->id))
			r->status = ST_INTERRUPTED;
		free(dir);
	}
	return 0;
}

static int check_index(struct store *st, const struct run_rec *r, int64_t idx)
{
	if (idx >= 0 && idx < MAX_INDEX)
		return 0;
	set_err(st, "run '%s' has a damaged index %lld", r->id, (long long)idx);
	return -1;
}

/* Makes r->phases[idx] exist; new entries are absent phases. */
static struct phase_rec *phase_at(struct run_rec *r, size_t idx)
{
	if (idx >= r->nphases) {
		r->phases = xrealloc(r->phases, (idx + 1) * sizeof(*r->phases));
		for (size_t i = r->nphases; i <= idx; i++)
			phase_rec_init(&r->phases[i]);
		r->nphases = idx + 1;
	}
	return &r->phases[idx];
}

static struct step_rec *step_at(struct phase_rec *p, size_t idx)
{
	if (idx >= p->nsteps) {
		p->steps = xrealloc(p->steps, (idx + 1) * sizeof(*p->steps));
		for (size_t i = p->nsteps; i <= idx; i++)
			step_rec_init(&p->steps[i]);
		p->nsteps = idx + 1;
	}
	return &p->steps[idx];
}

/*
 * The frame every reader of a run's rows shares: the cached query q bound
 * to the run id, row() called for each row (non-zero stops with an error
 * it has set), the statement reset whatever happens.
 */
typedef int (*row_fn)(struct store *st, sqlite3_stmt *s, struct run_rec *r);

static int run_rows(struct store *st, enum query q, struct run_rec *r, row_fn row,
		    const char *what)
{
	sqlite3_stmt *s = q_get(st, q);
	if (!s)
		return -1;
	bind_text(s, 0, r->id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (row(st, s, r)) {
			q_done(s);
			return -1;
		}
	if (rc != SQLITE_DONE)
		db_fail(st, what);
	q_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int phase_row(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	int64_t idx = sqlite3_column_int64(s, PC_IDX);
	if (check_index(st, r, idx))
		return -1;
	struct phase_rec *p = phase_at(r, (size_t)idx);
	p->name = col_text(s, PC_NAME);
	p->role = col_text(s, PC_ROLE);
	p->budget_s = col_real(s, PC_BUDGET);
	p->fault = (int)col_int(s, PC_FAULT, 0);
	p->cleanup = (int)col_int(s, PC_CLEANUP, 0);
	p->restores_service = (int)col_int(s, PC_RESTORES, 0);
	p->parallel = (int)col_int(s, PC_PARALLEL, 1);
	p->started_ms = col_ts(s, PC_STARTED);
	p->ended_ms = col_ts(s, PC_ENDED);
	p->duration_s = col_real(s, PC_DURATION);
	p->human_wait_s = col_real(s, PC_HUMAN_WAIT);
	p->over_budget = (int)col_int(s, PC_OVER_BUDGET, 0);
	return col_status(st, s, PC_STATUS, "phases", &p->status);
}

static int step_row(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	int64_t pidx = sqlite3_column_int64(s, SC_PHASE_IDX);
	int64_t idx = sqlite3_column_int64(s, SC_IDX);
	if (check_index(st, r, pidx) || check_index(st, r, idx))
		return -1;
	struct step_rec *sr = step_at(phase_at(r, (size_t)pidx), (size_t)idx);
	sr->name = col_text(s, SC_NAME);
	sr->kind = col_text(s, SC_KIND);
	sr->role = col_text(s, SC_ROLE);
	const char *sec = (const char *)sqlite3_column_text(s, SC_SECTION);
	sr->section = sec && !strcmp(sec, "rollback") ? SEC_ROLLBACK : SEC_MAIN;
	sr->idempotent = (int)col_int(s, SC_IDEMPOTENT, 1);
	sr->attempts = (int)col_int(s, SC_ATTEMPTS, 0);
	sr->started_ms = col_ts(s, SC_STARTED);
	sr->ended_ms = col_ts(s, SC_ENDED);
	sr->duration_s = col_real(s, SC_DURATION);
	sr->human_wait_s = col_real(s, SC_HUMAN_WAIT);
	sr->exit_code = (int)col_int(s, SC_EXIT_CODE, -1);
	sr->confirmed_by = col_text(s, SC_CONFIRMED_BY);
	size_t clen = sr->confirmed_by ? strlen(sr->confirmed_by) : 0;
	if (clen > strlen(AUTO_SUFFIX) &&
	    !strcmp(sr->confirmed_by + clen - strlen(AUTO_SUFFIX), AUTO_SUFFIX)) {
		sr->confirmed_by[clen - strlen(AUTO_SUFFIX)] = '\0';
		sr->auto_confirmed = 1;
	}
	sr->error = col_text(s, SC_ERROR);
	sr->output = col_text(s, SC_OUTPUT);
	sr->output_cut = col_int(s, SC_OUTPUT_CUT, 0);
	sr->state_json = col_text(s, SC_STATE_JSON);
	return col_status(st, s, SC_STATUS, "steps", &sr->status);
}

static int note_row(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	(void)st;
	run_rec_add_note(r, col_ts(s, NC_AT), (const char *)sqlite3_column_text(s, NC_OPERATOR),
			 (const char *)sqlite3_column_text(s, NC_TEXT));
	return 0;
}

static int phases_read(struct store *st, struct run_rec *r)
{
	return run_rows(st, Q_PHASES_GET, r, phase_row, "read phases");
}

static int steps_read(struct store *st, struct run_rec *r)
{
	return run_rows(st, Q_STEPS_GET, r, step_row, "read steps");
}

static int notes_read(struct store *st, struct run_rec *r)
{
	return run_rows(st, Q_NOTES_GET, r, note_row, "read notes");
}

/* The full id of the one run id_or_prefix names: 0, 1 none, 2 ambiguous, -1 error. */
static int run_find(struct store *st, const char *prefix, char **id)
{
	sqlite3_stmt *s = q_get(st, Q_RUN_FIND);
	if (!s)
		return -1;
	char *upper = xasprintf("%s\xff", prefix);
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, upper, -1, SQLITE_STATIC);
	int n = 0, rc = SQLITE_DONE, ret;
	while (n < 2 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(s, 0);
		if (n++ == 0) {
			*id = xstrdup(got);
			if (got && !strcmp(got, prefix))
				break;	/* an exact id wins over longer ids it prefixes */
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = db_fail(st, "look up a run");
	else
		ret = n == 0 ? 1 : n == 1 ? 0 : 2;
	if (ret) {
		free(*id);
		*id = NULL;
	}
	q_done(s);
	free(upper);
	return ret;
}

/* ---- remote hosts' instances (SPEC 8) ---- */

int store_instance_save(struct store *st, const char *run_id, int phase_idx, int step_idx, int attempt,
			int seq, const struct host_rec *h)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO host_instances (run_id, phase_idx, step_idx,"
			       " attempt, seq, host, status, exit_code, duration_s, error, output)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &s, NULL) != SQLITE_OK) {
		db_fail(st, "save a host's instance");
	} else {
		bind_text(s, 0, run_id);
		sqlite3_bind_int(s, 2, phase_idx);
		sqlite3_bind_int(s, 3, step_idx);
		sqlite3_bind_int(s, 4, attempt);
		sqlite3_bind_int(s, 5, seq);
		bind_text(s, 5, h->host);
		bind_text(s, 6, h->status);
		bind_int(s, 7, h->exit_code, -1);
		bind_real(s, 8, h->duration_s);
		bind_text(s, 9, h->error);
		bind_text(s, 10, h->output);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, "save a host's instance");
	}
	sqlite3_finalize(s);
	return tx_end(st, rc);
}

/* Each remote step's hosts: the latest instance of each, and how many ran. */
static int hosts_read(struct store *st, struct run_rec *r)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT phase_idx, step_idx, seq, host, status, exit_code, duration_s,"
			       " error, output FROM host_instances WHERE run_id = ?"
			       " ORDER BY phase_idx, step_idx, attempt, seq", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "read hosts' instances");
	bind_text(s, 0, r->id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t pi = sqlite3_column_int64(s, 0), si = sqlite3_column_int64(s, 1);
		if (pi < 0 || (size_t)pi >= r->nphases || si < 0 || (size_t)si >= r->phases[pi].nsteps)
			continue;
		struct step_rec *sr = &r->phases[pi].steps[si];
		const char *host = (const char *)sqlite3_column_text(s, 3);
		if (!host)
			continue;
		struct host_rec *h = NULL;
		for (size_t k = 0; k < sr->nhosts && !h; k++)
			if (!strcmp(sr->hosts[k].host, host))
				h = &sr->hosts[k];
		if (!h) {
			sr->hosts = xrealloc(sr->hosts, (sr->nhosts + 1) * sizeof(*sr->hosts));
			h = &sr->hosts[sr->nhosts++];
			memset(h, 0, sizeof(*h));
			h->host = xstrdup(host);
		}
		char *status = col_text(s, 4);
		if (status && strcmp(status, "skipped") && strcmp(status, "pending"))
			h->attempts++;
		else if (h->status && strcmp(h->status, "pending") && strcmp(h->status, "skipped")) {
			free(status);	/* not run this attempt: what it had stays */
			continue;
		}
		free(h->status);
		h->status = status;
		h->exit_code = (int)col_int(s, 5, -1);
		h->duration_s = col_real(s, 6);
		free(h->error);
		h->error = col_text(s, 7);
		free(h->output);
		h->output = col_text(s, 8);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_fail(st, "read hosts' instances");
}

int store_run_load(struct store *st, const char *id_or_prefix, struct run_rec **out)
{
	*out = NULL;
	if (!id_or_prefix || !*id_or_prefix)
		return 1;
	if (tx_step(st, Q_BEGIN_READ, "begin a read"))
		return -1;
	/* one read transaction: the tree is a snapshot even while the engine writes */
	char *id = NULL;
	int rc = run_find(st, id_or_prefix, &id);
	if (rc) {
		tx_end(st, 0);
		return rc;
	}
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	rc = -1;
	sqlite3_stmt *s = q_get(st, Q_RUN_GET);
	if (s) {
		bind_text(s, 0, id);
		int src = sqlite3_step(s);
		if (src == SQLITE_ROW)
			rc = run_read(st, s, r);
		else if (src == SQLITE_DONE)
			set_err(st, "run '%s' vanished while loading", id);
		else
			db_fail(st, "load a run");
		q_done(s);
	}
	if (!rc)
		rc = phases_read(st, r) || steps_read(st, r) || notes_read(st, r) || hosts_read(st, r) ? -1 : 0;
	free(id);
	if (tx_end(st, rc)) {
		run_rec_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int store_attempts_load(struct store *st, const char *run_id, int phase_idx, int step_idx,
			struct attempt_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (need_run_id(st, run_id))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_ATTEMPTS_GET);
	if (!s)
		return -1;
	bind_text(s, 0, run_id);
	sqlite3_bind_int(s, 2, phase_idx);
	sqlite3_bind_int(s, 3, step_idx);
	struct attempt_rec *v = NULL;
	size_t len = 0, alloc = 0;
	int rc = SQLITE_DONE, bad = 0;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		struct attempt_rec *a = &v[len++];
		a->attempt = (int)col_int(s, AC_ATTEMPT, 0);
		a->started_ms = col_ts(s, AC_STARTED);
		a->ended_ms = col_ts(s, AC_ENDED);
		a->duration_s = col_real(s, AC_DURATION);
		a->exit_code = (int)col_int(s, AC_EXIT_CODE, -1);
		a->error = col_text(s, AC_ERROR);
		a->output = col_text(s, AC_OUTPUT);
		a->output_cut = col_int(s, AC_OUTPUT_CUT, 0);
		bad = col_status(st, s, AC_STATUS, "attempts", &a->status);
	}
	if (!bad && rc != SQLITE_DONE)
		bad = db_fail(st, "read attempts");
	if (bad) {
		q_done(s);
		for (size_t i = 0; i < len; i++)
			attempt_rec_release(&v[i]);
		free(v);
		return -1;
	}
	q_done(s);
	*out = v;
	*n = len;
	return 0;
}

int store_runs_list(struct store *st, const char *runbook, int limit,
		    struct run_rec ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = q_get(st, runbook ? Q_RUNS_LIST_RUNBOOK : Q_RUNS_LIST);
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);	/* LIMIT -1: all */
	if (runbook)
		sqlite3_bind_text(s, 2, runbook, -1, SQLITE_STATIC);
	struct run_rec **v = NULL;
	size_t len = 0, alloc = 0;
	int rc = SQLITE_DONE, bad = 0;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		struct run_rec *r = xmalloc(sizeof(*r));
		run_rec_init(r);
		v[len++] = r;
		bad = run_read(st, s, r);
	}
	if (!bad && rc != SQLITE_DONE) {
		db_fail(st, "list runs");
		bad = 1;
	}
	q_done(s);
	if (bad) {
		for (size_t i = 0; i < len; i++)
			run_rec_free(v[i]);
		free(v);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

/* ---- requests from other terminals, and the audit chain ---- */

static char *now_iso(char buf[32])
{
	clock_iso8601(clock_wall_ms(), buf);
	return buf;
}

int store_request_add(struct store *st, const char *run_id, const char *kind, const char *step,
		      const char *operator, long uid, const char *text, long *id)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_REQUEST_ADD);
	int rc = -1;
	if (s) {
		char iso[32];
		bind_text(s, 0, run_id);
		bind_text(s, 1, kind);
		bind_text(s, 2, step);
		bind_text(s, 3, operator);
		sqlite3_bind_int64(s, 5, uid);
		bind_text(s, 5, text);
		bind_text(s, 6, now_iso(iso));
		rc = q_exec(st, s, "add a request");
		if (!rc && id)
			*id = (long)sqlite3_last_insert_rowid(st->db);
	}
	return tx_end(st, rc);
}

int store_requests_pending(struct store *st, const char *run_id, struct request **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = q_get(st, Q_REQUESTS_PENDING);
	if (!s)
		return -1;
	bind_text(s, 0, run_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct request *r = &(*out)[(*n)++];
		r->id = (long)sqlite3_column_int64(s, 0);
		r->run_id = col_text(s, 1);
		r->kind = col_text(s, 2);
		r->step = col_text(s, 3);
		r->operator = col_text(s, 4);
		r->uid = (long)col_int(s, 5, -1);
		r->text = col_text(s, 6);
		r->created_ms = col_ts(s, 7);
	}
	q_done(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, "read requests");
	return 0;
}

int store_request_done(struct store *st, long id, const char *result)
{
	if (tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_REQUEST_DONE);
	int rc = -1;
	if (s) {
		char iso[32];
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 1, now_iso(iso));
		bind_text(s, 2, result);
		rc = q_exec(st, s, "answer a request");
	}
	return tx_end(st, rc);
}

int store_request_result(struct store *st, long id, char **result)
{
	*result = NULL;
	sqlite3_stmt *s = q_get(st, Q_REQUEST_RESULT);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	int rc = sqlite3_step(s), handled = 0;
	if (rc == SQLITE_ROW) {
		handled = sqlite3_column_int(s, 0);
		if (handled)
			*result = col_text(s, 1);
	}
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "read a request");
	return handled ? 1 : 0;
}

void request_release(struct request *r)
{
	free(r->run_id);
	free(r->kind);
	free(r->step);
	free(r->operator);
	free(r->text);
}

/*
 * Appends in its own write transaction: reading the previous hash and
 * inserting happen under one lock, so two processes can never both chain
 * onto the same entry.
 */
static int audit_append(struct store *st, int64_t at_ms, const char *run_id, const char *event,
			const char *operator, long uid, const char *detail);

int store_audit_append(struct store *st, const char *run_id, const char *event,
		       const char *operator, long uid, const char *detail)
{
	return store_audit_append_at(st, TS_NONE, run_id, event, operator, uid, detail);
}

int store_audit_append_at(struct store *st, int64_t at_ms, const char *run_id, const char *event,
			  const char *operator, long uid, const char *detail)
{
	/* redacted before hashing, so the chain covers what is stored */
	char *red_op = secrets ? redact_string(secrets, operator) : NULL;
	char *red_detail = secrets ? redact_string(secrets, detail) : NULL;
	if (secrets) {
		operator = red_op;
		detail = red_detail;
	}
	int rc = audit_append(st, at_ms, run_id, event, operator, uid, detail);
	free(red_op);
	free(red_detail);
	return rc;
}

static int audit_append(struct store *st, int64_t at_ms, const char *run_id, const char *event,
			const char *operator, long uid, const char *detail)
{
	if (tx_begin_write(st))
		return -1;
	int rc = -1;
	struct audit_entry e = { 0 };
	char iso[32];
	clock_iso8601(at_ms == TS_NONE ? clock_wall_ms() : at_ms, iso);
	e.at = iso;
	e.run_id = (char *)(uintptr_t)run_id;
	e.event = (char *)(uintptr_t)event;
	e.operator = (char *)(uintptr_t)operator;
	e.uid = uid;
	e.detail = (char *)(uintptr_t)detail;
	sqlite3_stmt *s = q_get(st, Q_AUDIT_LAST);
	if (!s)
		return tx_end(st, -1);
	int step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		e.seq = sqlite3_column_int64(s, 0) + 1;
		const char *h = (const char *)sqlite3_column_text(s, 1);
		snprintf(e.prev_hash, sizeof(e.prev_hash), "%s", h ? h : "");
	} else {
		e.seq = 1;
		snprintf(e.prev_hash, sizeof(e.prev_hash), "%s", AUDIT_GENESIS);
	}
	q_done(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return tx_end(st, db_fail(st, "read the audit head"));
	audit_hash(&e, e.hash);
	s = q_get(st, Q_AUDIT_ADD);
	if (s) {
		sqlite3_bind_int64(s, 1, e.seq);
		bind_text(s, 1, e.at);
		bind_text(s, 2, run_id);
		bind_text(s, 3, event);
		bind_text(s, 4, operator);
		sqlite3_bind_int64(s, 6, uid);
		bind_text(s, 6, detail);
		bind_text(s, 7, e.prev_hash);
		bind_text(s, 8, e.hash);
		rc = q_exec(st, s, "append to the audit log");
	}
	return tx_end(st, rc);
}

int store_run_stops(struct store *st, const char *run_id,
		    void (*fn)(void *ud, const char *at, const char *event, const char *operator,
			       const char *detail),
		    void *ud)
{
	sqlite3_stmt *s = q_get(st, Q_RUN_STOPS);
	if (!s)
		return -1;
	bind_text(s, 0, run_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3));
	q_done(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, "read the run's starts and stops");
	return 0;
}

/* A text column's bytes (NUL-terminated copy) and their count, NUL bytes included. */
static char *col_bytes(sqlite3_stmt *s, int col, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	*len = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
	if (!t)
		return NULL;
	char *copy = xmalloc(*len + 1);
	memcpy(copy, t, *len);
	copy[*len] = '\0';
	return copy;
}

/* A stored hash: exactly 64 bytes, or "" (which matches no hash) when it is anything else. */
static void hash_col(sqlite3_stmt *s, int col, char out[65])
{
	const unsigned char *t = sqlite3_column_text(s, col);
	out[0] = '\0';
	if (t && sqlite3_column_bytes(s, col) == 64 && !memchr(t, '\0', 64)) {
		memcpy(out, t, 64);
		out[64] = '\0';
	}
}

int store_check_file(struct store *st)
{
	struct stat sb;
	if (!st->ino)
		return 0;
	if (stat(st->path, &sb) || sb.st_dev != st->dev || sb.st_ino != st->ino) {
		set_err(st, "the history file '%s' was deleted or replaced while this run was using it", st->path);
		return -1;
	}
	return 0;
}

int store_run_count(struct store *st, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM runs", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "count the runs");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_fail(st, "count the runs");
}

int store_audit_walk(struct store *st, int (*fn)(void *ud, const struct audit_entry *e), void *ud)
{
	sqlite3_stmt *s = q_get(st, Q_AUDIT_ALL);
	if (!s)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct audit_entry e = { 0 };
		e.seq = sqlite3_column_int64(s, 0);
		/* the bytes as stored, NUL bytes and all: the hash covers every one */
		e.at = col_bytes(s, 1, &e.at_len);
		e.run_id = col_bytes(s, 2, &e.run_id_len);
		e.event = col_bytes(s, 3, &e.event_len);
		e.operator = col_bytes(s, 4, &e.operator_len);
		e.uid = col_int(s, 5, -1);
		e.detail = col_bytes(s, 6, &e.detail_len);
		hash_col(s, 7, e.prev_hash);
		hash_col(s, 8, e.hash);
		stop = fn(ud, &e);
		audit_entry_release(&e);
	}
	q_done(s);
	if (!stop && rc != SQLITE_DONE)
		return db_fail(st, "read the audit log");
	return 0;
}

int store_audit_head(struct store *st, char **head)
{
	*head = NULL;
	sqlite3_stmt *s = q_get(st, Q_AUDIT_LAST);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 1);
		*head = xasprintf("%lld:%s", (long long)sqlite3_column_int64(s, 0), h ? h : "");
	}
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "read the audit head");
	return 0;
}

/* ---- the webhook outbox ---- */

int store_outbox_add(struct store *st, const char *owner, const char *run_id, const char *event,
		     const char *url, const char *body)
{
	if (tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_OUTBOX_ADD);
	int rc = -1;
	if (s) {
		char iso[32];
		bind_text(s, 0, owner);
		bind_text(s, 1, run_id);
		bind_text(s, 2, event);
		bind_text(s, 3, url);
		bind_text(s, 4, body);
		bind_text(s, 5, now_iso(iso));
		rc = q_exec(st, s, "queue a webhook delivery");
	}
	return tx_end(st, rc);
}

int store_outbox_pending(struct store *st, const char *owner, struct outbox_item **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = q_get(st, Q_OUTBOX_PENDING);
	if (!s)
		return -1;
	bind_text(s, 0, owner);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct outbox_item *it = &(*out)[(*n)++];
		it->id = (long)sqlite3_column_int64(s, 0);
		it->url = col_text(s, 1);
		it->body = col_text(s, 2);
		it->attempts = sqlite3_column_int(s, 3);
		it->next_ms = sqlite3_column_int64(s, 4);
	}
	q_done(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, "read the webhook outbox");
	return 0;
}

int store_outbox_sent(struct store *st, long id)
{
	if (tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_OUTBOX_SENT);
	int rc = -1;
	if (s) {
		char iso[32];
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 1, now_iso(iso));
		rc = q_exec(st, s, "mark a webhook delivery sent");
	}
	return tx_end(st, rc);
}

int store_outbox_failed(struct store *st, long id, int attempts, int64_t next_ms, int final,
			const char *error)
{
	if (tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_OUTBOX_FAILED);
	int rc = -1;
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, attempts);
		sqlite3_bind_int64(s, 3, next_ms);
		bind_text(s, 3, final ? "failed" : "pending");
		bind_text(s, 4, error);
		rc = q_exec(st, s, "record a failed webhook delivery");
	}
	return tx_end(st, rc);
}

void outbox_item_release(struct outbox_item *it)
{
	free(it->url);
	free(it->body);
}

/* ---- scheduled drills ---- */

int store_schedule_get(struct store *st, const char *key, int64_t *first_seen, int64_t *last_run)
{
	*first_seen = *last_run = -1;
	sqlite3_stmt *s = q_get(st, Q_SCHEDULE_GET);
	if (!s)
		return -1;
	bind_text(s, 0, key);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*first_seen = sqlite3_column_int64(s, 0);
		*last_run = col_int(s, 1, -1);
		if (sqlite3_column_type(s, 1) == SQLITE_NULL)
			*last_run = -1;
	}
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "read a schedule");
	return rc == SQLITE_ROW ? 1 : 0;
}

static int schedule_write(struct store *st, enum query q, const char *key, int64_t at,
			  const char *what)
{
	if (tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, q);
	int rc = -1;
	if (s) {
		bind_text(s, 0, key);
		sqlite3_bind_int64(s, 2, at);
		rc = q_exec(st, s, what);
	}
	return tx_end(st, rc);
}

int store_schedule_seen(struct store *st, const char *key, int64_t now_unix)
{
	return schedule_write(st, Q_SCHEDULE_SEEN, key, now_unix, "record a schedule");
}

int store_schedule_ran(struct store *st, const char *key, int64_t at_unix)
{
	return schedule_write(st, Q_SCHEDULE_RAN, key, at_unix, "record a schedule's run");
}

int store_schedule_event(struct store *st, const char *key, const char *event, int exit_code,
			 const char *detail)
{
	if (tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_SCHEDULE_EVENT);
	int rc = -1;
	if (s) {
		char iso[32];
		bind_text(s, 0, key);
		bind_text(s, 1, now_iso(iso));
		bind_text(s, 2, event);
		bind_int(s, 3, exit_code, -1);
		bind_text(s, 4, detail);
		rc = q_exec(st, s, "record what the scheduler did");
	}
	if (!rc && exit_code >= 0) {
		/* the schedule's row says how its last drill ended, beside when it ran */
		sqlite3_stmt *u = q_get(st, Q_SCHEDULE_EXIT);
		rc = -1;
		if (u) {
			bind_text(u, 0, key);
			sqlite3_bind_int(u, 2, exit_code);
			rc = q_exec(st, u, "record the schedule's last exit code");
		}
	}
	return tx_end(st, rc);
}

int store_run_active(struct store *st, const char *file, char **run_id)
{
	*run_id = NULL;
	sqlite3_stmt *s = q_get(st, Q_RUN_ACTIVE);
	if (!s)
		return -1;
	bind_text(s, 0, file);
	char *dir = runlock_dir(st->path);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		if (id && runlock_alive(dir, id)) {
			*run_id = xstrdup(id);
			break;
		}
	}
	free(dir);
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "look for running runs");
	return *run_id ? 1 : 0;
}

/* ---- opening ---- */

/* mkdir -p of the folder that will hold path; on failure *failed (caller frees) is the one */
static int mkdir_parents(const char *path, char **failed)
{
	char *dir = xstrdup(path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) && errno != EEXIST) {
			*failed = dir;
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

/*
 * Switching a brand-new file to WAL needs a lock SQLite does not wait for
 * through busy_timeout, so several processes creating the history at once
 * retry here. A file system without shared memory keeps the rollback
 * journal: slower to share, still correct, so that is not an error.
 */
static int set_wal(struct store *st)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "switch to WAL");
	int rc;
	for (int tries = 0;; tries++) {
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			break;
		int base = rc & 0xff;
		if ((base != SQLITE_BUSY && base != SQLITE_LOCKED) || tries >= WAL_RETRIES)
			break;
		clock_sleep_ms(RETRY_SLEEP_MS);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(st, "switch to WAL");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int user_version(struct store *st, int *v)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "read the schema version");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	else
		db_fail(st, "read the schema version");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int exec(struct store *st, const char *sql, const char *what)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(st, what);
}

static int too_new(struct store *st, int v)
{
	set_err(st, "its schema version %d is newer than this lifeboat knows (%d): "
		"use a newer lifeboat or another --db", v, SCHEMA_VERSION);
	return -1;
}

/*
 * The version is checked again once BEGIN IMMEDIATE holds the write lock:
 * of several processes opening a new file, one migrates, the others find
 * the work done.
 */
static int migrate(struct store *st)
{
	int v;
	if (user_version(st, &v))
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v > SCHEMA_VERSION)
		return too_new(st, v);
	if (tx_begin_write(st))
		return -1;
	int rc = user_version(st, &v);
	if (!rc && v > SCHEMA_VERSION)
		rc = too_new(st, v);
	for (; !rc && v < SCHEMA_VERSION; v++)
		rc = exec(st, migrations[v], "create the history's tables");
	if (!rc) {
		char sql[48];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
		rc = exec(st, sql, "set the schema version");
	}
	return tx_end(st, rc);
}

int store_open(const char *path, int sync_full, struct store **out, char **errmsg)
{
	*out = NULL;
	if (errmsg)
		*errmsg = NULL;
	struct store *st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path ? path : "");
	char *dir = NULL;
	int rc = -1;
	if (!path || !*path) {
		set_err(st, "no history file given");
	} else if (mkdir_parents(path, &dir)) {
		set_err(st, "cannot create folder '%s': %s", dir, strerror(errno));
	} else if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				   SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (st->db)
			db_fail(st, "open");
		else
			set_err(st, "cannot open: out of memory");
	} else {
		/* first, so every lock taken from here on (WAL aside) waits its turn */
		sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
		rc = set_wal(st) ||
		     exec(st, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
			  "set synchronous") ||
		     exec(st, "PRAGMA foreign_keys=ON", "enable foreign keys") ||
		     /* rows are appended, rarely reread: 1 MiB of page cache, not 2 */
		     exec(st, "PRAGMA cache_size=-1024", "set the cache size") ||
		     migrate(st) ? -1 : 0;
		struct stat sb;
		if (!rc && stat(path, &sb) == 0) {
			st->dev = sb.st_dev;
			st->ino = sb.st_ino;
		}
	}
	free(dir);
	if (rc) {
		if (errmsg)
			*errmsg = xstrdup(st->err);
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st->err);
	free(st);
}

const char *store_error(struct store *st)
{
	return st && st->err ? st->err : "no error";
}

const char *store_path(struct store *st)
{
	return st->path;
}

/* ---- runbook databases (the Lua sql API) ---- */

#define USERDB_BUSY_MS 5000
#define USERDB_PROGRESS_OPS 1000	/* VM instructions between deadline checks */
#define USERDB_SOFT_HEAP (64 * 1024 * 1024)

struct userdb {
	sqlite3 *db;			/* NULL when opening ran out of memory */
	sqlite3_stmt *stmt;		/* the statement being run, or NULL */
	char *err;			/* last error, xmalloc'd; NULL before any */
	int64_t deadline_ns;		/* 0: none */
	int timed_out;			/* the progress handler stopped the statement */
	int64_t mem_limit;		/* bytes for all runbook databases; 0: none */
	int64_t mem_used;		/* this one's, as last measured (in userdb_mem_total) */
	int mem_out;			/* the progress handler stopped it for memory */
};

/*
 * What the open runbook databases hold in SQLite's memory, together: the
 * sum of their last measurements. (SQLite's own heap limit is process-wide
 * and would fail the history's writes too, so the cap is kept here.)
 */
static _Atomic int64_t userdb_mem_total;

/* Measures db's caches and statements, keeping userdb_mem_total up to date. */
static int64_t userdb_measure(struct userdb *db)
{
	int cache = 0, stmt = 0, schema = 0, hi = 0;
	if (db->db) {
		sqlite3_db_status(db->db, SQLITE_DBSTATUS_CACHE_USED, &cache, &hi, 0);
		sqlite3_db_status(db->db, SQLITE_DBSTATUS_STMT_USED, &stmt, &hi, 0);
		sqlite3_db_status(db->db, SQLITE_DBSTATUS_SCHEMA_USED, &schema, &hi, 0);
	}
	int64_t now = (int64_t)cache + stmt + schema;
	int64_t total = atomic_fetch_add(&userdb_mem_total, now - db->mem_used) + now - db->mem_used;
	db->mem_used = now;
	return total;
}

static void userdb_set_err(struct userdb *db, const char *fmt, ...) LB_PRINTF(2, 3);
static void userdb_set_err(struct userdb *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(db->err);
	db->err = msg;
}

static int userdb_fail(struct userdb *db)
{
	if (db->timed_out)
		userdb_set_err(db, "interrupted: the step ran out of time");
	else if (db->mem_out)
		userdb_set_err(db, "interrupted: the runbook's databases would hold more than %lld MiB of memory (the Lua memory limit, lua_memory, covers them too)",
			       (long long)(db->mem_limit >> 20));
	else
		userdb_set_err(db, "%s", db->db ? sqlite3_errmsg(db->db) : "out of memory");
	return -1;
}

/* SQLite calls this every USERDB_PROGRESS_OPS instructions; non-zero interrupts. */
static int userdb_progress(void *ud)
{
	struct userdb *db = ud;
	if (db->deadline_ns && clock_mono_ns() > db->deadline_ns)
		db->timed_out = 1;
	if (db->mem_limit && userdb_measure(db) > db->mem_limit)
		db->mem_out = 1;
	return db->timed_out || db->mem_out;
}

void userdb_set_memory_limit(struct userdb *db, size_t bytes)
{
	db->mem_limit = bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes;
	if (db->db && bytes) {
		int len = sqlite3_limit(db->db, SQLITE_LIMIT_LENGTH, -1);
		if ((size_t)len > bytes)
			sqlite3_limit(db->db, SQLITE_LIMIT_LENGTH, (int)bytes);
	}
}

int userdb_open(const char *path, int flags, struct userdb **out)
{
	static int heap_limited;
	struct userdb *db = xcalloc(1, sizeof(*db));
	*out = db;
	if (!heap_limited) {
		/* soft: SQLite gives back cache sooner, no allocation fails */
		sqlite3_soft_heap_limit64(USERDB_SOFT_HEAP);
		heap_limited = 1;
	}
	struct stat sb;
	int memory = !strcmp(path, ":memory:");
	if (!memory && !(flags & USERDB_CREATE) && stat(path, &sb)) {
		userdb_set_err(db, "cannot open '%s': %s%s", path, strerror(errno),
			       errno == ENOENT ? " (create = true makes a new database)" : "");
		return -1;
	}
	if (!memory && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		userdb_set_err(db, "cannot open '%s': it is a folder", path);
		return -1;
	}
	int oflags = SQLITE_OPEN_NOMUTEX | ((flags & USERDB_READONLY) ? SQLITE_OPEN_READONLY :
		     SQLITE_OPEN_READWRITE | ((flags & USERDB_CREATE) ? SQLITE_OPEN_CREATE : 0));
	if (sqlite3_open_v2(path, &db->db, oflags, NULL) != SQLITE_OK) {
		userdb_set_err(db, "cannot open '%s': %s", path,
			       db->db ? sqlite3_errmsg(db->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(db->db, USERDB_BUSY_MS);
	sqlite3_extended_result_codes(db->db, 1);
	/* a runbook may write any SQL, but not corrupt the file through the schema */
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_progress_handler(db->db, USERDB_PROGRESS_OPS, userdb_progress, db);
	/* SQLite opens lazily: read the schema now, so "not a database" shows here */
	char *msg = NULL;
	if (sqlite3_exec(db->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, &msg) !=
	    SQLITE_OK) {
		userdb_set_err(db, "cannot open '%s': %s", path, msg ? msg : sqlite3_errmsg(db->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

void userdb_close(struct userdb *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->stmt);
	sqlite3_close(db->db);
	atomic_fetch_sub(&userdb_mem_total, db->mem_used);
	free(db->err);
	free(db);
}

const char *userdb_error(const struct userdb *db)
{
	return db && db->err ? db->err : "no error";
}

void userdb_set_deadline(struct userdb *db, int64_t mono_ns)
{
	db->deadline_ns = mono_ns;
	db->timed_out = 0;
	db->mem_out = 0;
}

void userdb_finish(struct userdb *db)
{
	sqlite3_finalize(db->stmt);
	db->stmt = NULL;
}

int userdb_prepare(struct userdb *db, const char *sql, size_t len, size_t *used)
{
	userdb_finish(db);
	*used = len;
	if (!db->db)
		return userdb_fail(db);
	if (len >= INT32_MAX) {
		userdb_set_err(db, "the SQL text is too long");
		return -1;
	}
	const char *tail = NULL;
	if (sqlite3_prepare_v2(db->db, sql, (int)len, &db->stmt, &tail) != SQLITE_OK) {
		userdb_fail(db);
		userdb_finish(db);
		return -1;
	}
	if (tail)
		*used = (size_t)(tail - sql);
	return db->stmt ? 0 : 1;
}

int userdb_param_count(struct userdb *db)
{
	return db->stmt ? sqlite3_bind_parameter_count(db->stmt) : 0;
}

int userdb_bind(struct userdb *db, int idx, const struct userdb_value *v)
{
	int rc;
	switch (v->type) {
	case USERDB_INTEGER:
		rc = sqlite3_bind_int64(db->stmt, idx, v->i);
		break;
	case USERDB_REAL:
		rc = sqlite3_bind_double(db->stmt, idx, v->d);
		break;
	case USERDB_TEXT:
		rc = sqlite3_bind_text64(db->stmt, idx, v->p, v->len, SQLITE_TRANSIENT, SQLITE_UTF8);
		break;
	case USERDB_BLOB:
		rc = sqlite3_bind_blob64(db->stmt, idx, v->p, v->len, SQLITE_TRANSIENT);
		break;
	case USERDB_NULL:
	default:
		rc = sqlite3_bind_null(db->stmt, idx);
		break;
	}
	return rc == SQLITE_OK ? 0 : userdb_fail(db);
}

int userdb_step(struct userdb *db)
{
	if (!db->stmt) {
		userdb_set_err(db, "no statement to run");
		return -1;
	}
	int rc = sqlite3_step(db->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	userdb_fail(db);
	return -1;
}

int userdb_column_count(struct userdb *db)
{
	return db->stmt ? sqlite3_column_count(db->stmt) : 0;
}

const char *userdb_column_name(struct userdb *db, int i)
{
	const char *name = sqlite3_column_name(db->stmt, i);
	return name ? name : "?";
}

void userdb_column(struct userdb *db, int i, struct userdb_value *v)
{
	memset(v, 0, sizeof(*v));
	switch (sqlite3_column_type(db->stmt, i)) {
	case SQLITE_INTEGER:
		v->type = USERDB_INTEGER;
		v->i = sqlite3_column_int64(db->stmt, i);
		break;
	case SQLITE_FLOAT:
		v->type = USERDB_REAL;
		v->d = sqlite3_column_double(db->stmt, i);
		break;
	case SQLITE_TEXT:
		v->type = USERDB_TEXT;
		v->p = (const char *)sqlite3_column_text(db->stmt, i);
		v->len = (size_t)sqlite3_column_bytes(db->stmt, i);
		break;
	case SQLITE_BLOB:
		v->type = USERDB_BLOB;
		v->p = sqlite3_column_blob(db->stmt, i);
		v->len = (size_t)sqlite3_column_bytes(db->stmt, i);
		break;
	default:
		v->type = USERDB_NULL;
		break;
	}
	/* out of memory turns a value into NULL; better an error than a silent nil */
	if (!v->p && (v->type == USERDB_TEXT || v->type == USERDB_BLOB) &&
	    sqlite3_errcode(db->db) == SQLITE_NOMEM)
		die_oom(v->len);
}

int64_t userdb_total_changes(struct userdb *db)
{
	return db->db ? (int64_t)sqlite3_total_changes64(db->db) : 0;
}

/* ---- trends: narrow reads for history, plan and the reports ---- */

/*
 * These prepare their statement per call instead of through the cached
 * set: each runs once or a few times per command, and a query this narrow
 * costs microseconds to prepare. The runs_runbook_started index serves
 * both; the runs themselves are never loaded whole.
 */
static sqlite3_stmt *trend_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(st, "prepare a query");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int store_objectives(struct store *st, const char *runbook, const char *env, int64_t until_ms,
		     int limit, struct objective_point **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = trend_prepare(st,
		until_ms == TS_NONE
		? "SELECT started_at, rto_achieved_s, rto_target_s, rpo_achieved_s, rpo_target_s"
		  " FROM runs WHERE runbook = ?1 AND env IS ?4"
		  " AND (rto_achieved_s IS NOT NULL OR rpo_achieved_s IS NOT NULL)"
		  " ORDER BY started_at DESC, rowid DESC LIMIT ?2"
		: "SELECT started_at, rto_achieved_s, rto_target_s, rpo_achieved_s, rpo_target_s"
		  " FROM runs WHERE runbook = ?1 AND started_at <= ?3 AND env IS ?4"
		  " AND (rto_achieved_s IS NOT NULL OR rpo_achieved_s IS NOT NULL)"
		  " ORDER BY started_at DESC, rowid DESC LIMIT ?2");
	if (!s)
		return -1;
	bind_text(s, 0, runbook);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	if (until_ms != TS_NONE)
		bind_ts(s, 2, until_ms);
	bind_text(s, 3, env);
	struct objective_point *v = NULL;
	size_t len = 0, alloc = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? alloc * 2 : 32;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[len++] = (struct objective_point){ col_ts(s, 0), col_real(s, 1), col_real(s, 2),
						     col_real(s, 3), col_real(s, 4) };
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "read the objectives' history");
		sqlite3_finalize(s);
		free(v);
		return -1;
	}
	sqlite3_finalize(s);
	for (size_t i = 0; i < len / 2; i++) {	/* oldest first */
		struct objective_point t = v[i];
		v[i] = v[len - 1 - i];
		v[len - 1 - i] = t;
	}
	*out = v;
	*n = len;
	return 0;
}

int store_phase_durations(struct store *st, const char *runbook, int limit,
			  int (*fn)(void *ud, const char *phase, double duration_s), void *ud)
{
	sqlite3_stmt *s = trend_prepare(st,
		"SELECT p.name, p.duration_s FROM"
		" (SELECT id, started_at, rowid AS rid FROM runs"
		"  WHERE runbook = ?1 AND status = 'succeeded'"
		"  ORDER BY started_at DESC, rowid DESC LIMIT ?2) AS r"
		" JOIN phases AS p ON p.run_id = r.id"
		" WHERE p.status = 'succeeded' AND p.duration_s IS NOT NULL"
		" ORDER BY r.started_at DESC, r.rid DESC, p.idx");
	if (!s)
		return -1;
	bind_text(s, 0, runbook);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		if (name && fn(ud, name, sqlite3_column_double(s, 1))) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		db_fail(st, "read the phases' history");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- the sources a run loaded ---- */

int store_sources_save(struct store *st, const char *run_id, const struct store_source *src,
		       size_t n)
{
	if (tx_begin_write(st))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_stmt *s = q_get(st, Q_SOURCE_ADD);
		if (!s) {
			rc = -1;
			break;
		}
		/* a blob: the exact bytes, never redacted (their hash must still match) */
		sqlite3_bind_text(s, 1, src[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(s, 2, src[i].text, src[i].len, SQLITE_STATIC);
		if ((rc = q_exec(st, s, "store a runbook's source")))
			break;
		if (!(s = q_get(st, Q_RUN_SOURCE_ADD))) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		sqlite3_bind_text(s, 3, src[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, src[i].sha256, -1, SQLITE_STATIC);
		if (src[i].signed_by && *src[i].signed_by)
			sqlite3_bind_text(s, 5, src[i].signed_by, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 5);
		if (src[i].signature)
			sqlite3_bind_text(s, 6, src[i].signature, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 6);
		rc = q_exec(st, s, "record a run's sources");
	}
	return tx_end(st, rc);
}

int store_sources_load(struct store *st, const char *run_id, struct store_source **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = q_get(st, Q_RUN_SOURCES_GET);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct store_source *src = &(*out)[(*n)++];
		memset(src, 0, sizeof(*src));
		src->path = col_text(s, 0);
		char *sha = col_text(s, 1);
		snprintf(src->sha256, sizeof(src->sha256), "%s", sha ? sha : "");
		free(sha);
		src->signed_by = col_text(s, 2);
		const void *blob = sqlite3_column_blob(s, 3);
		src->len = (size_t)sqlite3_column_bytes(s, 3);
		src->missing = sqlite3_column_type(s, 3) == SQLITE_NULL;
		src->text = xmalloc(src->len + 1);
		if (src->len)
			memcpy(src->text, blob, src->len);
		src->text[src->len] = '\0';
		src->signature = col_text(s, 4);
	}
	q_done(s);
	if (rc != SQLITE_DONE) {
		store_sources_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_fail(st, "read a run's sources");
	}
	return 0;
}

void store_sources_free(struct store_source *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(src[i].path);
		free(src[i].text);
		free(src[i].signed_by);
		free(src[i].signature);
	}
	free(src);
}

int store_run_by_pid(struct store *st, const char *file, long pid, char **run_id)
{
	*run_id = NULL;
	sqlite3_stmt *s = q_get(st, Q_RUN_BY_PID);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, pid);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*run_id = col_text(s, 0);
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "find a run");
	return *run_id ? 1 : 0;
}
