/*
 * The runbook standard library beyond the core (fs, sql, http): each
 * function is a thin binding over one C wrapper (store.c for SQLite, http.c
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

#endif
