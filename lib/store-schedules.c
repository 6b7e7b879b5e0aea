/*
 * Scheduled drills in the history: each schedule's state by its key and
 * what the scheduler did. Only store*.c and userdb.c talk to SQLite.
 */
#include "store-int.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "clock.h"
#include "util.h"

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
