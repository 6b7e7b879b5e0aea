/*
 * The history in SQLite: opening the file and bringing its schema up to
 * date. Only store*.c (the history) and userdb.c (the databases runbooks
 * open) talk to SQLite; the history's files share store-int.h:
 *   store.c            open, migrations, close, the file's checks
 *   store-sql.c        query texts, statement cache, transactions, values
 *   store-runs.c       the run tree written and read (runs, phases, steps,
 *                      attempts, notes, hosts' instances, sources)
 *   store-requests.c   requests from other terminals, the webhook outbox
 *   store-audit.c      the audit chain
 *   store-schedules.c  scheduled drills
 *   store-trends.c     narrow reads for history, plan and the reports
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
#include "store-int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "store-central.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 10000
#define WAL_RETRIES 1000	/* ~10 s, as busy_timeout */

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
	/* 8: the central queue, its source id and triggers (SPEC 11, store-central.c) */
	store_central_migration,
	/*
	 * 9: probes and RPO exposure (SPEC 10): a probes phase says when it
	 * runs ('before', 'after'); a probe run keeps the exposure it measured.
	 */
	"ALTER TABLE phases ADD COLUMN probe TEXT;"
	"ALTER TABLE runs ADD COLUMN newest_recoverable_at TEXT;"
	"ALTER TABLE runs ADD COLUMN rpo_exposure_s REAL;"
	"ALTER TABLE runs ADD COLUMN rpo_exposure_status TEXT;",
	/*
	 * 10: who or what a running step waits for (record.h's enum step_wait):
	 * "person" (a manual step), "decision" (paused after a failure), NULL.
	 */
	"ALTER TABLE steps ADD COLUMN waiting TEXT;",
	/*
	 * 11: the signatures a path ran with, read at every signed start (the
	 * older-version check, trust.c): found by index, not by a scan of
	 * every file every run loaded.
	 */
	"CREATE INDEX IF NOT EXISTS run_sources_signed ON run_sources (path) WHERE signature IS NOT NULL;",
};
#define SCHEMA_VERSION ((int)ARRAY_SIZE(migrations))

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

/* ---- opening ---- */

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
	} else if (mkdir_parents(path, 0777, &dir)) {
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
		rc = (sync_full == STORE_SCRATCH ?
			      exec(st, "PRAGMA journal_mode=OFF", "turn the journal off") ||
			      exec(st, "PRAGMA synchronous=OFF", "set synchronous") :
			      set_wal(st) ||
			      exec(st, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
				   "set synchronous")) ||
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
