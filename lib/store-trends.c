/*
 * Trends: narrow reads of the history for history, plan and the reports
 * (no run is loaded whole). Only store*.c and userdb.c talk to SQLite.
 */
#include "store-int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

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

int store_last_success(struct store *st, const char *runbook, const char *env, const char *mode,
		       int64_t until_ms, int64_t *ended_ms)
{
	*ended_ms = TS_NONE;
	sqlite3_stmt *s = trend_prepare(st,
		"SELECT max(ended_at) FROM runs WHERE runbook = ?1 AND env IS ?2 AND mode = ?3"
		" AND status = 'succeeded' AND exit_code = 0 AND (?4 IS NULL OR started_at <= ?4)");
	if (!s)
		return -1;
	bind_text(s, 0, runbook);
	bind_text(s, 1, env);
	bind_text(s, 2, mode);
	bind_ts(s, 3, until_ms);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ended_ms = col_ts(s, 0);
	else if (rc != SQLITE_DONE)
		db_fail(st, "read the last success");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
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
		"  WHERE runbook = ?1 AND status = 'succeeded' AND mode IS NOT ?3"
		"  ORDER BY started_at DESC, rowid DESC LIMIT ?2) AS r"
		" JOIN phases AS p ON p.run_id = r.id"
		" WHERE p.status = 'succeeded' AND p.duration_s IS NOT NULL"
		" ORDER BY r.started_at DESC, r.rid DESC, p.idx");
	if (!s)
		return -1;
	bind_text(s, 0, runbook);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	bind_text(s, 2, run_mode_name(MODE_PROBE));
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
