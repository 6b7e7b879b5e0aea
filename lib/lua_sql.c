/*
 * sql: SQLite databases for runbooks, over userdb.c's API (only store*.c
 * and userdb.c talk to SQLite). sql.open returns a handle made the way liolib
 * makes files: a userdata created closed, then opened, with __gc and
 * __close, so a handle is closed however the runbook lets go of it.
 *
 * Values go in as bound parameters only (`?`), never spliced into SQL.
 * Results are bounded (rows and bytes) so a forgotten WHERE cannot take the
 * host's memory, and running SQL stops at the step's deadline.
 *
 * Errors raise: a database that cannot be opened or SQL that fails is a
 * broken step, and `sql.open(p):scalar(...)` (SPEC 1's recovery_point) must
 * say why rather than index a nil.
 */
#include "lua_libs.h"

#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "clock.h"
#include "lua_api.h"
#include "userdb.h"

#define SQL_DB_MT "lifeboat.sql.db"
#define SQL_MAX_ROWS 100000
#define SQL_MAX_BYTES (64 * 1024 * 1024)
#define SQL_ROW_OVERHEAD 64		/* what a row table costs beyond its values, roughly */

struct sql_handle {
	struct userdb *db;	/* from userdb_open, owned; NULL once closed */
};

static struct userdb *check_db(lua_State *L)
{
	struct sql_handle *h = luaL_checkudata(L, 1, SQL_DB_MT);
	if (!h->db)
		luaL_error(L, "sql: attempt to use a closed database");
	return h->db;
}

/*
 * Raises "file:line: sql: <why>" (with the start of the SQL when given)
 * after finishing the statement.
 */
static int sql_raise(lua_State *L, struct userdb *db, const char *sql, size_t len)
{
	luaL_where(L, 1);
	if (sql) {
		const char *head = lua_pushlstring(L, sql, len > 60 ? 60 : len);
		lua_pushfstring(L, "sql: %s (in \"%s%s\")", userdb_error(db), head,
				len > 60 ? "..." : "");
		lua_remove(L, -2);
	} else {
		lua_pushfstring(L, "sql: %s", userdb_error(db));
	}
	userdb_finish(db);
	lua_concat(L, 2);
	return lua_error(L);
}

/* 1 when s[0..len) holds only blanks, semicolons and SQL comments. */
static int blank_sql(const char *s, size_t len)
{
	const char *end = s + len;
	while (s < end) {
		if (strchr(" \t\n\r\f\v;", *s) && *s) {
			s++;
		} else if (end - s >= 2 && s[0] == '-' && s[1] == '-') {
			while (s < end && *s != '\n')
				s++;
		} else if (end - s >= 2 && s[0] == '/' && s[1] == '*') {
			const char *close = NULL;
			for (const char *p = s + 2; p + 1 < end && !close; p++)
				if (p[0] == '*' && p[1] == '/')
					close = p;
			if (!close)
				return 1;	/* an unterminated comment runs to the end */
			s = close + 2;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Binds the Lua values at first..first+n-1 to the prepared statement. */
static void bind_args(lua_State *L, struct userdb *db, int first, int n, const char *sql,
		      size_t len)
{
	int want = userdb_param_count(db);
	if (want != n) {
		userdb_finish(db);
		luaL_error(L, "sql: the statement has %d parameter%s, %d value%s given", want,
			   want == 1 ? "" : "s", n, n == 1 ? "" : "s");
	}
	for (int i = 0; i < n; i++) {
		int arg = first + i;
		struct userdb_value v = { .type = USERDB_NULL };
		switch (lua_type(L, arg)) {
		case LUA_TNIL:
			break;
		case LUA_TBOOLEAN:
			v.type = USERDB_INTEGER;
			v.i = lua_toboolean(L, arg);
			break;
		case LUA_TNUMBER:
			if (lua_isinteger(L, arg)) {
				v.type = USERDB_INTEGER;
				v.i = (int64_t)lua_tointeger(L, arg);
			} else {
				v.type = USERDB_REAL;
				v.d = (double)lua_tonumber(L, arg);
			}
			break;
		case LUA_TSTRING:
			v.type = USERDB_TEXT;
			v.p = lua_tolstring(L, arg, &v.len);
			break;
		default:
			userdb_finish(db);
			luaL_typeerror(L, arg, "nil, boolean, number or string");
		}
		if (userdb_bind(db, i + 1, &v))
			sql_raise(L, db, sql, len);
	}
}

/* The step's deadline, so SQL that runs away stops with the step. */
static void set_deadline(lua_State *L, struct userdb *db)
{
	double left = luahost_time_left(L);
	userdb_set_deadline(db, left > 0 ? clock_mono_ns() + (int64_t)(left * 1e9) : 0);
}

/*
 * The start of db:query and db:scalar (what): the handle at index 1, only
 * during a run, the step's deadline, and the one statement in the SQL at
 * index 2 prepared with the values from index 3 on; raises on an error or
 * when more statements follow.
 */
static struct userdb *prepare_one(lua_State *L, const char *what, const char **sqlp,
				  size_t *lenp)
{
	struct userdb *db = check_db(L);
	luahost_need_running(L, what);
	set_deadline(L, db);
	size_t len, used;
	const char *sql = luaL_checklstring(L, 2, &len);
	*sqlp = sql;
	*lenp = len;
	int rc = userdb_prepare(db, sql, len, &used);
	if (rc < 0)
		sql_raise(L, db, sql, len);
	if (rc > 0)
		luaL_argerror(L, 2, "no SQL statement");
	if (!blank_sql(sql + used, len - used)) {
		userdb_finish(db);
		luaL_argerror(L, 2, "one statement at a time (db:exec runs several without values)");
	}
	bind_args(L, db, 3, lua_gettop(L) - 2, sql, len);
	return db;
}

static void push_value(lua_State *L, const struct userdb_value *v)
{
	switch (v->type) {
	case USERDB_INTEGER:
		lua_pushinteger(L, (lua_Integer)v->i);
		break;
	case USERDB_REAL:
		lua_pushnumber(L, (lua_Number)v->d);
		break;
	case USERDB_TEXT:
	case USERDB_BLOB:
		lua_pushlstring(L, v->p ? v->p : "", v->len);
		break;
	case USERDB_NULL:
	default:
		lua_pushnil(L);
		break;
	}
}

/* db:query(sql, ...) -> { {col = value, ...}, ... } */
static int db_query(lua_State *L)
{
	const char *sql;
	size_t len;
	struct userdb *db = prepare_one(L, "db:query", &sql, &len);
	int ncols = userdb_column_count(db);
	luaL_checkstack(L, 8, "sql");
	lua_createtable(L, ncols, 0);	/* the column names, pushed once */
	int names = lua_gettop(L);
	for (int i = 0; i < ncols; i++) {
		lua_pushstring(L, userdb_column_name(db, i));
		lua_rawseti(L, names, i + 1);
	}
	lua_newtable(L);
	int rows = lua_gettop(L);
	lua_Integer n = 0;
	size_t bytes = 0;
	int rc;
	while ((rc = userdb_step(db)) > 0) {
		if (++n > SQL_MAX_ROWS) {
			userdb_finish(db);
			return luaL_error(L, "sql: the query returned more than %d rows "
					  "(add a LIMIT, or aggregate in SQL)", SQL_MAX_ROWS);
		}
		lua_createtable(L, 0, ncols);
		bytes += SQL_ROW_OVERHEAD;
		for (int i = 0; i < ncols; i++) {
			struct userdb_value v;
			userdb_column(db, i, &v);
			if (v.type == USERDB_NULL)
				continue;	/* a missing key is nil already */
			bytes += v.len + 16;
			lua_rawgeti(L, names, i + 1);
			push_value(L, &v);
			lua_rawset(L, -3);
		}
		if (bytes > SQL_MAX_BYTES) {
			userdb_finish(db);
			return luaL_error(L, "sql: the query returned more than %d MiB "
					  "(select fewer rows or columns)", SQL_MAX_BYTES >> 20);
		}
		lua_rawseti(L, rows, n);
	}
	if (rc < 0)
		return sql_raise(L, db, sql, len);
	userdb_finish(db);
	return 1;
}

/* db:scalar(sql, ...) -> the first column of the first row, or nil */
static int db_scalar(lua_State *L)
{
	const char *sql;
	size_t len;
	struct userdb *db = prepare_one(L, "db:scalar", &sql, &len);
	int rc = userdb_step(db);
	if (rc < 0)
		return sql_raise(L, db, sql, len);
	if (rc > 0 && userdb_column_count(db) > 0) {
		struct userdb_value v;
		userdb_column(db, 0, &v);
		push_value(L, &v);
	} else {
		lua_pushnil(L);
	}
	userdb_finish(db);
	return 1;
}

/* Steps the prepared statement to its end, dropping any rows; raises on an error. */
static void run_to_end(lua_State *L, struct userdb *db, const char *sql, size_t len)
{
	int rc;
	while ((rc = userdb_step(db)) > 0)
		;
	if (rc < 0)
		sql_raise(L, db, sql, len);
	userdb_finish(db);
}

/*
 * db:exec(sql, ...) -> the number of rows changed (by triggers too). Without
 * values it runs every statement in the text (a schema, a migration); with
 * values the text must be one statement.
 */
static int db_exec(lua_State *L)
{
	struct userdb *db = check_db(L);
	luahost_need_running(L, "db:exec");
	size_t len, used;
	const char *sql = luaL_checklstring(L, 2, &len);
	int64_t before = userdb_total_changes(db);
	set_deadline(L, db);
	if (lua_gettop(L) > 2) {
		prepare_one(L, "db:exec", &sql, &len);	/* checks again, harmlessly */
		run_to_end(L, db, sql, len);
	} else {
		int ran = 0;
		for (size_t off = 0; off < len; off += used) {
			int rc = userdb_prepare(db, sql + off, len - off, &used);
			if (rc < 0)
				sql_raise(L, db, sql + off, len - off);
			if (rc > 0)
				break;
			bind_args(L, db, 3, 0, sql + off, used);
			run_to_end(L, db, sql + off, used);
			ran = 1;
		}
		if (!ran)
			luaL_argerror(L, 2, "no SQL statement");
	}
	lua_pushinteger(L, (lua_Integer)(userdb_total_changes(db) - before));
	return 1;
}

static int db_close(lua_State *L)
{
	struct sql_handle *h = luaL_checkudata(L, 1, SQL_DB_MT);
	userdb_close(h->db);
	h->db = NULL;
	return 0;
}

static int db_tostring(lua_State *L)
{
	struct sql_handle *h = luaL_checkudata(L, 1, SQL_DB_MT);
	if (h->db)
		lua_pushfstring(L, "sql database (%p)", (void *)h);
	else
		lua_pushliteral(L, "sql database (closed)");
	return 1;
}

static const char *const open_opts[] = { "readonly", "create", NULL };

/* sql.open(path [, {readonly=, create=}]) -> db */
static int sql_open(lua_State *L)
{
	luahost_need_running(L, "sql.open");
	size_t plen;
	const char *given = luaL_checklstring(L, 1, &plen);
	const char *path = !strcmp(given, ":memory:") ? given : lua_api_path(L, 1);
	int flags = 0;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_api_check_keys(L, 2, open_opts);
		lua_getfield(L, 2, "readonly");
		if (lua_toboolean(L, -1))
			flags |= USERDB_READONLY;
		lua_getfield(L, 2, "create");
		if (lua_toboolean(L, -1))
			flags |= USERDB_CREATE;
		lua_pop(L, 2);
		if ((flags & USERDB_READONLY) && (flags & USERDB_CREATE))
			luaL_argerror(L, 2, "readonly and create exclude each other");
	}
	struct sql_handle *h = lua_newuserdatauv(L, sizeof(*h), 0);
	h->db = NULL;
	luaL_setmetatable(L, SQL_DB_MT);
	if (userdb_open(path, flags, &h->db)) {
		luaL_where(L, 1);
		lua_pushfstring(L, "sql.open: %s", userdb_error(h->db));
		lua_concat(L, 2);
		userdb_close(h->db);
		h->db = NULL;
		return lua_error(L);
	}
	userdb_set_memory_limit(h->db, luahost_memory_limit(L));
	return 1;
}

static const luaL_Reg db_methods[] = {
	{ "query", db_query },
	{ "scalar", db_scalar },
	{ "exec", db_exec },
	{ "close", db_close },
	{ NULL, NULL }
};

static const luaL_Reg db_meta[] = {
	{ "__index", NULL },	/* the methods, below */
	{ "__gc", db_close },
	{ "__close", db_close },
	{ "__tostring", db_tostring },
	{ NULL, NULL }
};

static const luaL_Reg sql_funcs[] = {
	{ "open", sql_open },
	{ NULL, NULL }
};

void lua_sql_register(lua_State *L)
{
	if (luaL_newmetatable(L, SQL_DB_MT)) {
		luaL_setfuncs(L, db_meta, 0);
		luaL_newlib(L, db_methods);
		lua_setfield(L, -2, "__index");
		lua_pushboolean(L, 0);
		/* getmetatable(db) cannot reach the methods */
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
	luaL_newlib(L, sql_funcs);
}
