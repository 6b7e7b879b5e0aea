/*
 * What the runbook API's bindings (lua_libs.h) use: the host's state
 * (implemented in luahost.c) and helpers they share (lua_api.c). Each
 * binding is a thin layer over one C wrapper (userdb.c for SQLite, http.c
 * for libcurl, the engine for commands); this header knows none of them.
 */
#ifndef LB_LUA_API_H
#define LB_LUA_API_H
#include <stdint.h>

#include <lua.h>

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
 * The engine the run acts through (luahost_set_engine) and its *eng; NULL
 * while loading and outside a run.
 */
struct lua_engine_ops;
const struct lua_engine_ops *luahost_engine(lua_State *L, void **eng);
/* The config secret() looks names up in (luahost_set_config); NULL: none. */
struct config;
const struct config *luahost_config(lua_State *L);
/* Seconds until the current step's deadline (negative once past); INFINITY when none. */
double luahost_deadline_left(lua_State *L);

/* Shared by the bindings (lua_api.c). */
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

/*
 * The entries of a folder without . and .., sorted in byte order (the same on
 * every machine), as scandir returns them (each and the array malloc'd, the
 * caller's); -1 with errno.
 */
struct dirent;
int lua_api_scandir(const char *path, struct dirent ***names);

/*
 * The time at idx (unix seconds or an ISO-8601 string, white space around it
 * ignored) as unix ms: 0, or -1 when it is neither.
 */
int lua_api_wall_ms(lua_State *L, int idx, int64_t *ms);

#endif
