/*
 * The history's channels between processes: requests from other terminals
 * (`lifeboat confirm`, the console, ...) picked up by the process that runs,
 * and the webhook outbox notify.c's sender drains. Only store*.c and
 * userdb.c talk to SQLite.
 */
#include "store-int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

/* ---- requests from other terminals ---- */

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

static void request_read(sqlite3_stmt *s, void *elem)
{
	struct request *r = elem;
	r->id = (long)sqlite3_column_int64(s, 0);
	r->run_id = col_text(s, 1);
	r->kind = col_text(s, 2);
	r->step = col_text(s, 3);
	r->operator = col_text(s, 4);
	r->uid = (long)col_int(s, 5, -1);
	r->text = col_text(s, 6);
	r->created_ms = col_ts(s, 7);
}

int store_requests_pending(struct store *st, const char *run_id, struct request **out, size_t *n)
{
	void *v;
	int rc = q_rows_into(st, Q_REQUESTS_PENDING, run_id, &v, n, sizeof(**out), request_read,
			     "read requests");
	*out = v;
	return rc;
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

static void outbox_read(sqlite3_stmt *s, void *elem)
{
	struct outbox_item *it = elem;
	it->id = (long)sqlite3_column_int64(s, 0);
	it->url = col_text(s, 1);
	it->body = col_text(s, 2);
	it->attempts = sqlite3_column_int(s, 3);
	it->next_ms = sqlite3_column_int64(s, 4);
}

int store_outbox_pending(struct store *st, const char *owner, struct outbox_item **out, size_t *n)
{
	void *v;
	int rc = q_rows_into(st, Q_OUTBOX_PENDING, owner, &v, n, sizeof(**out), outbox_read,
			     "read the webhook outbox");
	*out = v;
	return rc;
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
