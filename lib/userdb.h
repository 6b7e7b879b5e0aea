/*
 * Runbook databases: any SQLite file a runbook opens through the Lua sql API
 * (lua_sql.c), unrelated to the history. Only store*.c and userdb.c talk to
 * SQLite. A handle runs one statement at a time and owns it, so a binding
 * that raises between two calls leaks nothing: the next userdb_prepare,
 * userdb_finish or userdb_close finalizes it.
 *
 * Errors: functions return -1 and userdb_error() says why (its text lives
 * until the next call on the handle). Running SQL stops with an error at the
 * deadline given to userdb_set_deadline (the Lua hook cannot reach into C).
 */
#ifndef LB_USERDB_H
#define LB_USERDB_H
#include <stddef.h>
#include <stdint.h>

struct userdb;

enum userdb_type { USERDB_NULL, USERDB_INTEGER, USERDB_REAL, USERDB_TEXT, USERDB_BLOB };

/* A bound value or a column: bytes (TEXT, BLOB) are borrowed, never owned. */
struct userdb_value {
	enum userdb_type type;
	int64_t i;		/* INTEGER */
	double d;		/* REAL */
	const char *p;		/* TEXT, BLOB; for a column, valid until the next step */
	size_t len;
};

#define USERDB_READONLY 1	/* open read-only: every write fails */
#define USERDB_CREATE 2		/* create the file when it is missing */

/*
 * Opens path (":memory:" for a private in-memory database). 0, or -1 with
 * the reason in userdb_error(*out): either way *out is a handle the caller
 * closes with userdb_close, as with sqlite3_open_v2.
 */
int userdb_open(const char *path, int flags, struct userdb **out);
void userdb_close(struct userdb *db);
const char *userdb_error(const struct userdb *db);
/* clock_mono_ns() after which running SQL is interrupted; 0: none. */
void userdb_set_deadline(struct userdb *db, int64_t mono_ns);
/*
 * Caps the memory SQLite holds for the runbook databases open in this
 * process, this one included (its page caches: a ":memory:" database lives
 * there): SQL that takes them past bytes is interrupted, and no single
 * value may be longer. 0: no cap.
 */
void userdb_set_memory_limit(struct userdb *db, size_t bytes);

/*
 * Prepares the first statement in sql[0..len) and sets *used to the bytes it
 * took, so the caller can go on with the next one. 0, 1 when there is no
 * statement (only blanks and comments), or -1.
 */
int userdb_prepare(struct userdb *db, const char *sql, size_t len, size_t *used);
int userdb_param_count(struct userdb *db);
int userdb_bind(struct userdb *db, int idx, const struct userdb_value *v);	/* idx from 1 */
/* 1: a row is ready, 0: the statement is done, -1: error. */
int userdb_step(struct userdb *db);
int userdb_column_count(struct userdb *db);
const char *userdb_column_name(struct userdb *db, int i);	/* i from 0 */
void userdb_column(struct userdb *db, int i, struct userdb_value *v);
void userdb_finish(struct userdb *db);	/* finalizes the statement, if any */
/* Rows changed by INSERT, UPDATE and DELETE since the handle was opened. */
int64_t userdb_total_changes(struct userdb *db);

#endif
