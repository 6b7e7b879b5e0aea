/*
 * The runbook API's bindings, registered by luahost.c while it builds a
 * runbook's environment (as lualib.h's luaopen_* for Lua's own libraries).
 * The bindings depend only on lua_api.h (lua_run.c also on lua_engine.h,
 * what it asks of the engine) and their C wrappers; luahost.c depends on
 * them here: a tree, no binding includes luahost.h.
 *   lua_run.c     sh, ssh, log, sleep, secret, mask, notify, ... (the engine)
 *   lua_json.c    json
 *   lua_fs.c      fs (and lua_immutable.c: fs.refuses_writes)
 *   lua_sql.c     sql (over userdb.c)
 *   lua_http.c    http (over http.c)
 *   lua_crypto.c  crypto (over minisign.c)
 */
#ifndef LB_LUA_LIBS_H
#define LB_LUA_LIBS_H
#include <lua.h>

/* Adds sh, ssh, log, ... to the table on top of the stack. */
void lua_run_register(lua_State *L);
/* Each pushes its table. */
void lua_json_register(lua_State *L);
void lua_fs_register(lua_State *L);
void lua_sql_register(lua_State *L);
void lua_http_register(lua_State *L);
void lua_crypto_register(lua_State *L);
/* Adds refuses_writes to the fs table on top of the stack (lua_fs_register calls it). */
void lua_immutable_register(lua_State *L);

/*
 * ctx.state's JSON (luahost-ctx.c). from_lua: the Lua value at idx as JSON (a
 * new reference), or NULL with *err "ROOT.path: why" (xmalloc'd), say
 * "ctx.state.a[3]: a function cannot be encoded". push: j as a Lua value.
 */
struct json_t;
struct json_t *lua_json_from_lua(lua_State *L, int idx, const char *root, char **err);
void lua_json_push(lua_State *L, struct json_t *j);

#endif
