/*
 * The audit chain in the history (audit.h): appended under the write lock,
 * walked in storage order, and a run's starts and stops read from it. Only
 * store*.c and userdb.c talk to SQLite.
 */
#include "store-int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "redact.h"
#include "util.h"

/* ---- the audit chain ---- */

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
	/*
	 * UTF-8 by lib/json.c's rule (the hash is over UTF-8 text, and the
	 * evidence bundle carries it as JSON), then redacted before hashing, so
	 * the chain covers what is stored.
	 */
	size_t n;
	char *op_utf8 = operator ? utf8_fix(operator, strlen(operator), &n) : NULL;
	char *detail_utf8 = detail ? utf8_fix(detail, strlen(detail), &n) : NULL;
	if (op_utf8)
		operator = op_utf8;
	if (detail_utf8)
		detail = detail_utf8;
	char *red_op = store_secrets ? redact_string(store_secrets, operator) : NULL;
	char *red_detail = store_secrets ? redact_string(store_secrets, detail) : NULL;
	if (store_secrets) {
		operator = red_op;
		detail = red_detail;
	}
	int rc = audit_append(st, at_ms, run_id, event, operator, uid, detail);
	free(red_op);
	free(red_detail);
	free(op_utf8);
	free(detail_utf8);
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
