/*
 * Runbook databases (the Lua sql API, lua_sql.c): any SQLite file a runbook
 * opens, unrelated to the history. Only store*.c and userdb.c talk to
 * SQLite.
 */
#include "userdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "util.h"

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
