/*
 * The runbook standard library beyond the core (fs, sql, http): each
 * function is a thin binding over one C wrapper (userdb.c for SQLite, http.c
 * for libcurl). luahost.c calls lua_api_register while it builds a
 * runbook's environment.
 */
#ifndef LB_LUA_API_H
#define LB_LUA_API_H
#include <lua.h>

/* Adds the fs, sql and http tables to the API table at index idx. */
void lua_api_register(lua_State *L, int idx);

/*
 * For bindings: raises "NAME: not available while loading" during a load,
 * and when no run is in progress. Implemented in luahost.c.
 */
void luahost_need_running(lua_State *L, const char *what);
/* The folder relative paths resolve against (the runbook's workdir). */
const char *luahost_workdir(lua_State *L);
/* Seconds left before the current step's deadline, or 0 when none. */
double luahost_time_left(lua_State *L);
/* The runbook's Lua memory cap in bytes (lua_memory): the sql API caps its databases with it. */
size_t luahost_memory_limit(lua_State *L);

/*
 * Shared by the bindings (lua_fs.c, lua_sql.c, lua_http.c), registered by
 * lua_api_register.
 */
void lua_fs_register(lua_State *L);	/* each pushes its table */
void lua_sql_register(lua_State *L);
void lua_http_register(lua_State *L);
void lua_crypto_register(lua_State *L);

/*
 * Argument arg as a path: checked (a string without NUL bytes), resolved
 * against luahost_workdir when relative; the result replaces the argument
 * (so the stack keeps its shape) and is returned.
 */
const char *lua_api_path(lua_State *L, int arg);

/*
 * Pushes a to-be-closed userdata of size zeroed bytes and returns them:
 * release(bytes) runs once when the calling C function returns or raises
 * (or at the latest when the value is collected). For C resources held
 * while pushing results that may raise: create it first, then acquire.
 */
void *lua_api_scratch(lua_State *L, size_t size, void (*release)(void *));

/*
 * Optional duration in the table at idx, field key: a number of seconds or
 * a duration string; > 0. Returns dflt when absent; raises "what: key: ..."
 * on a bad value.
 */
double lua_api_opt_seconds(lua_State *L, const char *what, int idx, const char *key,
			   double dflt);

/*
 * Raises a bad argument error unless every key of the table at arg is one of
 * known (NULL-terminated): an option with a typo must not pass silently.
 */
void lua_api_check_keys(lua_State *L, int arg, const char *const known[]);

#endif
