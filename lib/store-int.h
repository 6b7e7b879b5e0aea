/*
 * What the history's files (store*.c) share, private to them: the
 * connection, each table's columns as an enum (their names are the arrays in
 * store-sql.c, in the same order), the queries, and store-sql.c's statement
 * cache, transactions and value binders and readers. Only store*.c and
 * userdb.c talk to SQLite.
 */
#ifndef LB_STORE_INT_H
#define LB_STORE_INT_H
#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"
#include "store.h"
#include "util.h"

#define BUSY_RETRIES 5		/* each one after busy_timeout gave up */
#define RETRY_SLEEP_MS 10

enum run_col {
	RC_ID, RC_RUNBOOK, RC_FILE, RC_SHA256, RC_MODE, RC_TRIGGER, RC_ENV, RC_OPERATOR,
	RC_UID, RC_HOST, RC_PID, RC_PARAMS, RC_STATUS, RC_STARTED, RC_ENDED, RC_INCIDENT,
	RC_RESTORED, RC_RTO_TARGET, RC_RTO_ACHIEVED, RC_RTO_MET, RC_RPO_TARGET,
	RC_RPO_ACHIEVED, RC_RPO_MET, RC_RPO_STATUS, RC_RECOVERY_POINT, RC_HUMAN_WAIT,
	RC_EXIT_CODE, RC_STRICT_BUDGETS, RC_ERROR, RC_SIGNED_BY, RC_NEWEST_RECOVERABLE,
	RC_EXPOSURE, RC_EXPOSURE_STATUS, RC__COUNT
};
enum phase_col {
	PC_RUN_ID, PC_IDX, PC_NAME, PC_ROLE, PC_BUDGET, PC_FAULT, PC_CLEANUP, PC_RESTORES,
	PC_PARALLEL, PC_STATUS, PC_STARTED, PC_ENDED, PC_DURATION, PC_HUMAN_WAIT,
	PC_OVER_BUDGET, PC_PROBE, PC__COUNT
};
enum step_col {
	SC_RUN_ID, SC_PHASE_IDX, SC_IDX, SC_NAME, SC_KIND, SC_ROLE, SC_SECTION,
	SC_IDEMPOTENT, SC_STATUS, SC_ATTEMPTS, SC_STARTED, SC_ENDED, SC_DURATION,
	SC_HUMAN_WAIT, SC_EXIT_CODE, SC_CONFIRMED_BY, SC_ERROR, SC_OUTPUT, SC_OUTPUT_CUT,
	SC_STATE_JSON, SC_WAITING, SC__COUNT
};
enum attempt_col {
	AC_RUN_ID, AC_PHASE_IDX, AC_STEP_IDX, AC_ATTEMPT, AC_STATUS, AC_STARTED, AC_ENDED,
	AC_DURATION, AC_EXIT_CODE, AC_ERROR, AC_OUTPUT, AC_OUTPUT_CUT, AC__COUNT
};
/* notes.seq is left to SQLite: the insert binds the others, in this order */
enum note_col { NC_RUN_ID, NC_AT, NC_OPERATOR, NC_TEXT, NC__COUNT };

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
	Q_SIGNATURES_OF_PATH,
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

/*
 * The secrets every text value is redacted of as it is written (SPEC 5);
 * store_set_redactor sets it, NULL: none.
 */
struct redactor;
extern const struct redactor *store_secrets;

/* Errors: set_err sets store_error's text; db_fail says "cannot <what>: <SQLite's reason>", -1. */
void set_err(struct store *st, const char *fmt, ...) LB_PRINTF(2, 3);
int db_fail(struct store *st, const char *what);

/* Statements: q_get gives q's cached statement (NULL with the error set); q_done readies it again. */
sqlite3_stmt *q_get(struct store *st, enum query q);
void q_done(sqlite3_stmt *s);
/* Steps a statement that returns no rows, then readies it for the next use. */
int q_exec(struct store *st, sqlite3_stmt *s, const char *what);

/*
 * Runs query q with key bound as ?1, calling row(ud, s) for each row; a
 * non-zero row() stops with -1 (it set the error). 0, or -1 ("cannot <what>").
 */
int q_rows(struct store *st, enum query q, const char *key,
	   int (*row)(void *ud, sqlite3_stmt *s), void *ud, const char *what);

/* The rows as an array (*v, xrealloc'd; *n elements of size bytes), each filled by read(). */
int q_rows_into(struct store *st, enum query q, const char *key, void **v, size_t *n,
		size_t size, void (*read)(sqlite3_stmt *s, void *elem), const char *what);

/* Write transactions (or the open unit's); tx_end commits when rc is 0, else rolls back. */
int tx_step(struct store *st, enum query q, const char *what);	/* BEGIN, COMMIT, ... */
int tx_begin_write(struct store *st);
void tx_rollback(struct store *st);
int tx_end(struct store *st, int rc);

/* Values in: col is the column's index from 0 (an enum above); NULL, NAN, TS_NONE and none bind NULL. */
void bind_text(sqlite3_stmt *s, int col, const char *v);
void bind_ts(sqlite3_stmt *s, int col, int64_t ms);
void bind_real(sqlite3_stmt *s, int col, double v);
void bind_int(sqlite3_stmt *s, int col, int64_t v, int64_t none);
void bind_flag(sqlite3_stmt *s, int col, int v);
/* Values out, the same way back; col_text is xstrdup'd. */
char *col_text(sqlite3_stmt *s, int col);
int64_t col_ts(sqlite3_stmt *s, int col);
double col_real(sqlite3_stmt *s, int col);
int64_t col_int(sqlite3_stmt *s, int col, int64_t none);
int col_status(struct store *st, sqlite3_stmt *s, int col, const char *table, enum status *out);
/* Now as ISO-8601 UTC in buf. */
char *now_iso(char buf[32]);
/* -1 with the error set when run_id is NULL. */
int need_run_id(struct store *st, const char *run_id);

#endif
