/*
 * The central queue in the history (store-central.h). Triggers, not calls
 * in the writers: every place that records something queues it, in its own
 * transaction, with no code of its own and no extra commit, and a writer
 * added later is covered as soon as its table has the triggers.
 */
#include "store-central.h"

#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "clock.h"
#include "json.h"
#include "store-int.h"
#include "util.h"

/*
 * The queue's tbl is enum central_table: 0 runs, 1 phases, 2 steps,
 * 3 attempts, 4 host_instances, 5 notes, 6 audit, 7 run_sources, 8 texts
 * (the local table sources). Nothing is queued until central_source has
 * its row (store_central_source).
 */
#define Q_ON "WHEN EXISTS (SELECT 1 FROM central_source)"
#define TRIGGERS(name, table, cols, vals) \
	"CREATE TRIGGER IF NOT EXISTS central_" name "_ins AFTER INSERT ON " table " " Q_ON \
	" BEGIN INSERT INTO central_queue (tbl, " cols ") VALUES (" vals "); END;" \
	"CREATE TRIGGER IF NOT EXISTS central_" name "_upd AFTER UPDATE ON " table " " Q_ON \
	" BEGIN INSERT INTO central_queue (tbl, " cols ") VALUES (" vals "); END;"

const char store_central_migration[] =
	"CREATE TABLE IF NOT EXISTS central_source ("
	" id TEXT NOT NULL, dev INTEGER, ino INTEGER, btime INTEGER, path TEXT, created_at TEXT,"
	" server_id TEXT);"
	"CREATE TABLE IF NOT EXISTS central_queue ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl INTEGER NOT NULL,"
	" run_id TEXT, a INTEGER, b INTEGER, c INTEGER, d TEXT);"
	TRIGGERS("runs", "runs", "run_id", "0, NEW.id")
	TRIGGERS("phases", "phases", "run_id, a", "1, NEW.run_id, NEW.idx")
	TRIGGERS("steps", "steps", "run_id, a, b", "2, NEW.run_id, NEW.phase_idx, NEW.idx")
	TRIGGERS("attempts", "attempts", "run_id, a, b, c",
		 "3, NEW.run_id, NEW.phase_idx, NEW.step_idx, NEW.attempt")
	TRIGGERS("instances", "host_instances", "run_id, a, b, c, d",
		 "4, NEW.run_id, NEW.phase_idx, NEW.step_idx, NEW.attempt, NEW.host")
	TRIGGERS("notes", "notes", "run_id, a", "5, NEW.run_id, NEW.seq")
	TRIGGERS("audit", "audit", "run_id, a", "6, NEW.run_id, NEW.seq")
	TRIGGERS("run_sources", "run_sources", "run_id, a", "7, NEW.run_id, NEW.idx")
	TRIGGERS("texts", "sources", "d", "8, NEW.sha256");

/* Every row again, for a new source id (the same columns as the triggers). */
static const char requeue_sql[] =
	"DELETE FROM central_queue;"
	"INSERT INTO central_queue (tbl, run_id) SELECT 0, id FROM runs ORDER BY started_at;"
	"INSERT INTO central_queue (tbl, run_id, a) SELECT 1, run_id, idx FROM phases;"
	"INSERT INTO central_queue (tbl, run_id, a, b) SELECT 2, run_id, phase_idx, idx FROM steps;"
	"INSERT INTO central_queue (tbl, run_id, a, b, c)"
	" SELECT 3, run_id, phase_idx, step_idx, attempt FROM attempts;"
	"INSERT INTO central_queue (tbl, run_id, a, b, c, d)"
	" SELECT 4, run_id, phase_idx, step_idx, attempt, host FROM host_instances;"
	"INSERT INTO central_queue (tbl, run_id, a) SELECT 5, run_id, seq FROM notes ORDER BY seq;"
	"INSERT INTO central_queue (tbl, run_id, a) SELECT 6, run_id, seq FROM audit ORDER BY seq;"
	"INSERT INTO central_queue (tbl, run_id, a) SELECT 7, run_id, idx FROM run_sources;"
	"INSERT INTO central_queue (tbl, d) SELECT 8, sha256 FROM sources;";

/* Each table's local name and how its rows match their queue entries (v). */
static const struct {
	const char *table;
	const char *on;
} local[CENTRAL__COUNT] = {
	[CENTRAL_RUNS] = { "runs", "t.id = v.run_id" },
	[CENTRAL_PHASES] = { "phases", "t.run_id = v.run_id AND t.idx = v.a" },
	[CENTRAL_STEPS] = { "steps", "t.run_id = v.run_id AND t.phase_idx = v.a AND t.idx = v.b" },
	[CENTRAL_ATTEMPTS] = { "attempts", "t.run_id = v.run_id AND t.phase_idx = v.a"
				" AND t.step_idx = v.b AND t.attempt = v.c" },
	[CENTRAL_INSTANCES] = { "host_instances", "t.run_id = v.run_id AND t.phase_idx = v.a"
				 " AND t.step_idx = v.b AND t.attempt = v.c AND t.host = v.d" },
	[CENTRAL_NOTES] = { "notes", "t.seq = v.a" },
	[CENTRAL_AUDIT] = { "audit", "t.seq = v.a" },
	[CENTRAL_RUN_SOURCES] = { "run_sources", "t.run_id = v.run_id AND t.idx = v.a" },
	[CENTRAL_TEXTS] = { "sources", "t.sha256 = v.d" },
};

struct store_central {
	struct store *st;	/* migrates the file; owned */
	sqlite3 *db;		/* st's connection, borrowed */
	char *path;		/* owned */
	int64_t data_version;
	sqlite3_stmt *read[CENTRAL__COUNT];	/* prepared on first use */
	int64_t after;		/* store_central_begin's */
	unsigned tables;	/* bit t: table t has entries after it */
	int table;		/* the table store_central_chunk reads now */
	int stepping;		/* read[table] is part way through its rows */
};

#define CHUNK_ROWS 1000
#define CHUNK_BYTES (4 << 20)

static int fail(struct store_central *q, char **err, const char *what)
{
	*err = xasprintf("cannot %s in the history '%s': %s", what, q->path, sqlite3_errmsg(q->db));
	return -1;
}

int store_central_open(const char *path, struct store_central **out, char **err)
{
	*out = NULL;
	struct store *st;
	if (store_open(path, 0, &st, err))
		return -1;
	struct store_central *q = xcalloc(1, sizeof(*q));
	q->st = st;
	q->db = st->db;
	q->path = xstrdup(path);
	q->data_version = -1;
	*out = q;
	return 0;
}

void store_central_close(struct store_central *q)
{
	if (!q)
		return;
	for (int i = 0; i < CENTRAL__COUNT; i++)
		sqlite3_finalize(q->read[i]);
	store_close(q->st);
	free(q->path);
	free(q);
}

/* The file's identity: device, inode and, where the file system keeps it, its birth time. */
static void file_identity(const char *path, int64_t *dev, int64_t *ino, int64_t *btime)
{
	struct statx sx;
	*dev = *ino = *btime = 0;
	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &sx))
		return;
	*dev = (int64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
	*ino = (int64_t)sx.stx_ino;
	if (sx.stx_mask & STATX_BTIME)
		*btime = sx.stx_btime.tv_sec * 1000000000LL + sx.stx_btime.tv_nsec;
}

static int exec(struct store_central *q, const char *sql, char **err, const char *what)
{
	return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(q, err, what);
}

/* 1 with id when the stored source id was made for this file, 0 when not, -1 on error. */
static int source_valid(struct store_central *q, int64_t dev, int64_t ino, int64_t btime, char id[33])
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT id, dev, ino, btime FROM central_source", -1, &s, NULL))
		return -1;
	int found = 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(s, 0);
		found = old && strlen(old) == 32 && sqlite3_column_int64(s, 1) == dev &&
			sqlite3_column_int64(s, 2) == ino && sqlite3_column_int64(s, 3) == btime;
		if (found)
			memcpy(id, old, 33);
	}
	sqlite3_finalize(s);
	return found;
}

int store_central_source(struct store_central *q, char id[33], int *renewed, char **err)
{
	*renewed = 0;
	int64_t dev, ino, btime;
	file_identity(q->path, &dev, &ino, &btime);
	/* the usual case, without the write lock (the engine may be writing) */
	int found = source_valid(q, dev, ino, btime, id);
	if (found > 0)
		return 0;
	if (exec(q, "BEGIN IMMEDIATE", err, "begin a transaction"))
		return -1;
	sqlite3_stmt *s = NULL;
	if ((found = source_valid(q, dev, ino, btime, id)) < 0)
		goto fail;
	if (!found) {
		random_hex(id, 32);
		char now[32];
		clock_iso8601(clock_wall_ms(), now);
		if (exec(q, "DELETE FROM central_source", err, "renew the source id") ||
		    sqlite3_prepare_v2(q->db, "INSERT INTO central_source (id, dev, ino, btime, path, created_at)"
				       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &s, NULL))
			goto fail;
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, dev);
		sqlite3_bind_int64(s, 3, ino);
		sqlite3_bind_int64(s, 4, btime);
		sqlite3_bind_text(s, 5, q->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		s = NULL;
		if (exec(q, requeue_sql, err, "queue the history for the central server"))
			goto rollback;
		*renewed = 1;
	}
	return exec(q, "COMMIT", err, "commit the source id");
fail:
	fail(q, err, "record the source id");
	sqlite3_finalize(s);
rollback:
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int store_central_server(struct store_central *q, const char *server_id, int *requeued, char **err)
{
	*requeued = 0;
	if (exec(q, "BEGIN IMMEDIATE", err, "begin a transaction"))
		return -1;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT server_id FROM central_source", -1, &s, NULL))
		goto fail;
	const char *old = sqlite3_step(s) == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	int same = old && !strcmp(old, server_id);
	*requeued = old && !same;
	sqlite3_finalize(s);
	s = NULL;
	if (same)
		return exec(q, "COMMIT", err, "commit");
	if (*requeued && exec(q, requeue_sql, err, "queue the history for the central server"))
		goto rollback;
	if (sqlite3_prepare_v2(q->db, "UPDATE central_source SET server_id = ?1", -1, &s, NULL))
		goto fail;
	sqlite3_bind_text(s, 1, server_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	return exec(q, "COMMIT", err, "commit the central server's id");
fail:
	fail(q, err, "record the central server's id");
	sqlite3_finalize(s);
rollback:
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int store_central_requeue(struct store_central *q, char **err)
{
	if (exec(q, "BEGIN IMMEDIATE", err, "begin a transaction"))
		return -1;
	if (exec(q, requeue_sql, err, "queue the history for the central server")) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(q, "COMMIT", err, "commit");
}

/* ---- batches ---- */

/*
 * A text value as a JSON string: NUL bytes (which PostgreSQL text refuses) become
 * U+FFFD, the rest by lib/json.c's rule. Printable ASCII without quotes or
 * backslashes (most values: names, statuses, times, hashes) goes as it is.
 */
static void add_text(struct strbuf *sb, const char *s, size_t len)
{
	size_t plain = 0;
	while (plain < len && s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\')
		plain++;
	if (plain == len) {
		strbuf_grow(sb, len + 2);
		strbuf_addch(sb, '"');
		strbuf_add(sb, s, len);
		strbuf_addch(sb, '"');
		return;
	}
	char *copy = NULL;
	if (memchr(s, '\0', len)) {
		struct strbuf c;
		strbuf_init(&c, len + 16);
		for (size_t i = 0; i < len; i++)
			if (s[i])
				strbuf_addch(&c, s[i]);
			else
				strbuf_addstr(&c, "\xef\xbf\xbd");
		copy = strbuf_detach(&c);
		s = copy;
	}
	char *quoted = lbjson_quote(s);
	strbuf_addstr(sb, quoted);
	free(quoted);
	free(copy);
}

/* A BLOB as bytea's hex input, "\\x..." in JSON. */
static void add_blob(struct strbuf *sb, const unsigned char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	strbuf_grow(sb, 2 * len + 8);
	strbuf_addstr(sb, "\"\\\\x");
	for (size_t i = 0; i < len; i++) {
		strbuf_addch(sb, hex[p[i] >> 4]);
		strbuf_addch(sb, hex[p[i] & 15]);
	}
	strbuf_addch(sb, '"');
}

/* An integer in decimal, without printf (the sender writes thousands a second). */
static void add_int(struct strbuf *sb, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	strbuf_add(sb, p, (size_t)(buf + sizeof(buf) - p));
}

/* One row (column 0: its version, then the local columns) as a JSON object. */
static void add_row(struct strbuf *sb, sqlite3_stmt *s, const char *source_id)
{
	strbuf_addstr(sb, "{\"source_id\":\"");
	strbuf_addstr(sb, source_id);
	strbuf_addstr(sb, "\",\"version\":");
	add_int(sb, sqlite3_column_int64(s, 0));
	for (int i = 1; i < sqlite3_column_count(s); i++) {
		strbuf_add(sb, ",\"", 2);
		strbuf_addstr(sb, sqlite3_column_name(s, i));
		strbuf_add(sb, "\":", 2);
		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER:
			add_int(sb, sqlite3_column_int64(s, i));
			break;
		case SQLITE_FLOAT: {
			double d = sqlite3_column_double(s, i);
			if (isfinite(d))
				strbuf_addf(sb, "%.17g", d);
			else
				strbuf_addstr(sb, "null");
			break;
		}
		case SQLITE_TEXT:
			add_text(sb, (const char *)sqlite3_column_text(s, i),
				 (size_t)sqlite3_column_bytes(s, i));
			break;
		case SQLITE_BLOB:
			add_blob(sb, sqlite3_column_blob(s, i), (size_t)sqlite3_column_bytes(s, i));
			break;
		default:
			strbuf_addstr(sb, "null");
		}
	}
	strbuf_addch(sb, '}');
}

/*
 * The rows of table t with an entry after ?1, each with its version: the
 * newest entry of its key in the snapshot, so that a version always goes
 * with the content it wrote (entries up to ?1 were sent and are older).
 */
static sqlite3_stmt *read_stmt(struct store_central *q, enum central_table t)
{
	if (q->read[t])
		return q->read[t];
	char *sql = xasprintf("SELECT v.ver, t.* FROM (SELECT run_id, a, b, c, d, max(seq) AS ver"
			      " FROM central_queue WHERE seq > ?1 AND tbl = %d GROUP BY run_id, a, b, c, d)"
			      " v JOIN %s t ON %s", (int)t, local[t].table, local[t].on);
	if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->read[t], NULL))
		q->read[t] = NULL;
	free(sql);
	return q->read[t];
}

int store_central_begin(struct store_central *q, int64_t after, int64_t *hi, char **err)
{
	*hi = 0;
	if (exec(q, "BEGIN", err, "read the central queue"))
		return -1;
	/* which tables have entries, in one scan: most passes touch three or four of nine */
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(q->db, "SELECT tbl, max(seq) FROM central_queue WHERE seq > ?1 GROUP BY tbl",
			       -1, &s, NULL)) {
		fail(q, err, "read the central queue");
		store_central_end(q);
		return -1;
	}
	sqlite3_bind_int64(s, 1, after);
	q->tables = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int t = sqlite3_column_int(s, 0);
		int64_t max = sqlite3_column_int64(s, 1);
		if (t >= 0 && t < CENTRAL__COUNT)
			q->tables |= 1u << t;
		if (max > *hi)
			*hi = max;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		/* a part read must not move the mark past tables never read */
		*hi = 0;
		fail(q, err, "read the central queue");
		store_central_end(q);
		return -1;
	}
	q->after = after;
	q->table = 0;
	q->stepping = 0;
	return 0;
}

int store_central_chunk(struct store_central *q, const char *source_id, enum central_table *t,
			char **json, long *n, char **err)
{
	*json = NULL;
	*n = 0;
	struct strbuf sb;
	strbuf_init(&sb, 4096);
	for (; q->table < CENTRAL__COUNT; q->table++) {
		if (!(q->tables & (1u << q->table)))
			continue;
		sqlite3_stmt *s = read_stmt(q, (enum central_table)q->table);
		if (!s) {
			strbuf_release(&sb);
			return fail(q, err, "read the central queue");
		}
		if (!q->stepping) {
			sqlite3_bind_int64(s, 1, q->after);
			q->stepping = 1;
		}
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			strbuf_addch(&sb, (*n)++ ? ',' : '[');
			add_row(&sb, s, source_id);
			if (*n >= CHUNK_ROWS || sb.len >= CHUNK_BYTES)
				break;
		}
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			q->stepping = 0;
			if (rc != SQLITE_DONE) {
				strbuf_release(&sb);
				return fail(q, err, "read the central queue");
			}
		}
		if (*n) {
			*t = (enum central_table)q->table;
			if (!q->stepping)
				q->table++;
			strbuf_addch(&sb, ']');
			*json = strbuf_detach(&sb);
			return 1;
		}
	}
	strbuf_release(&sb);
	return 0;
}

void store_central_end(struct store_central *q)
{
	for (int t = 0; t < CENTRAL__COUNT; t++)
		if (q->read[t])
			sqlite3_reset(q->read[t]);
	q->stepping = 0;
	sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
}

int store_central_sent(struct store_central *q, int64_t hi, char **err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(q->db, "DELETE FROM central_queue WHERE seq <= ?1", -1, &s, NULL))
		return fail(q, err, "empty the central queue");
	sqlite3_bind_int64(s, 1, hi);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "empty the central queue");
}

static int64_t one_int(struct store_central *q, const char *sql, int *ok)
{
	sqlite3_stmt *s;
	int64_t v = 0;
	*ok = 0;
	if (sqlite3_prepare_v2(q->db, sql, -1, &s, NULL))
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW) {
		v = sqlite3_column_int64(s, 0);
		*ok = 1;
	}
	sqlite3_finalize(s);
	return v;
}

int store_central_pending(struct store_central *q, long *n, char **err)
{
	int ok;
	*n = (long)one_int(q, "SELECT count(*) FROM central_queue", &ok);
	return ok ? 0 : fail(q, err, "count the central queue");
}

int store_central_changed(struct store_central *q)
{
	int ok;
	int64_t v = one_int(q, "PRAGMA data_version", &ok);
	int changed = !ok || v != q->data_version;
	q->data_version = v;
	return changed;
}

int store_central_running(struct store_central *q, long pid, char **ids, char **err)
{
	*ids = NULL;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(q->db, "SELECT id FROM runs WHERE status = 'running' AND pid = ?1", -1, &s, NULL))
		return fail(q, err, "read the runs going");
	sqlite3_bind_int64(s, 1, pid);
	struct strbuf sb;
	strbuf_init(&sb, 64);
	int rc, n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		/* run ids are hex; anything else would need quoting in the literal */
		if (!id || strspn(id, "0123456789abcdef") != strlen(id))
			continue;
		strbuf_addch(&sb, n++ ? ',' : '{');
		strbuf_addstr(&sb, id);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		strbuf_release(&sb);
		return fail(q, err, "read the runs going");
	}
	if (!n) {
		strbuf_release(&sb);
		return 0;
	}
	strbuf_addch(&sb, '}');
	*ids = strbuf_detach(&sb);
	return 0;
}
