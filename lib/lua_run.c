/*
 * The runbook API that acts through the engine (struct lua_engine_ops):
 * sh, ssh, log, sleep, secret, mask, notify, recovery_point, and the
 * clock helpers now and seconds. Each is a thin binding: the engine runs
 * the command, writes the log, sends the notification.
 */
#include "lua_libs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "clock.h"
#include "config.h"
#include "lua_api.h"
#include "lua_engine.h"
#include "util.h"

struct sh_box {
	char *out, *err;	/* sh()'s captured streams, xmalloc'd; NULL once copied */
};

static void sh_box_release(void *p)
{
	struct sh_box *b = p;
	free(b->out);
	free(b->err);
}

/* sh(cmd [, opts]) and ssh(host, cmd [, opts]): the same options, the same result. */
static int sh_or_ssh(lua_State *L, const char *remote_host)
{
	const char *what = remote_host ? "ssh" : "sh";
	int a = remote_host ? 2 : 1;
	const char *cmd = luaL_checkstring(L, a);
	luahost_need_running(L, what);
	void *eng;
	const struct lua_engine_ops *ops = luahost_engine(L, &eng);
	int check = 1;
	double timeout = 0;
	if (!lua_isnoneornil(L, a + 1)) {
		luaL_checktype(L, a + 1, LUA_TTABLE);
		if (lua_getfield(L, a + 1, "check") != LUA_TNIL)
			check = lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (lua_getfield(L, a + 1, "timeout") != LUA_TNIL) {
			if (lua_type(L, -1) == LUA_TNUMBER) {
				timeout = lua_tonumber(L, -1);
			} else if (duration_parse(lua_tostring(L, -1), &timeout)) {
				return luaL_error(L, "%s: timeout %s is not a duration", what, lua_tostring(L, -1));
			}
		}
		lua_pop(L, 1);
	}
	/* never run past the step's own deadline */
	double left = luahost_deadline_left(L);
	if (left < INFINITY) {
		if (left <= 0)
			left = 0.001;
		if (timeout <= 0 || timeout > left)
			timeout = left;
	}
	/*
	 * The captured streams stay in a to-be-closed box until they are Lua
	 * strings: when copying them raises (the memory cap), closing the box
	 * frees them at once instead of leaking up to twice 16 MiB.
	 */
	struct sh_box *box = lua_api_scratch(L, sizeof(*box), sh_box_release);
	struct lua_sh_result r = { 0 };
	char *errmsg = NULL;
	int rc = remote_host ? (ops->ssh ? ops->ssh(eng, remote_host, cmd, timeout, &r, &errmsg) :
				(errmsg = xstrdup("not available here"), -1)) :
		 ops->sh(eng, cmd, timeout, &r, &errmsg);
	if (rc) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", what, errmsg ? errmsg : "cannot run");
		free(errmsg);
		lua_pushstring(L, msg);
		return lua_error(L);
	}
	box->out = r.out;
	box->err = r.err;
	lua_createtable(L, 0, 5);
	lua_pushinteger(L, r.code);
	lua_setfield(L, -2, "code");
	lua_pushlstring(L, r.out ? r.out : "", r.out_len);
	lua_setfield(L, -2, "stdout");
	lua_pushlstring(L, r.err ? r.err : "", r.err_len);
	lua_setfield(L, -2, "stderr");
	lua_pushnumber(L, r.duration_s);
	lua_setfield(L, -2, "duration");
	if (r.truncated) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "truncated");
	}
	free(box->out);
	free(box->err);
	box->out = box->err = NULL;
	if (remote_host && r.status) {
		lua_pushstring(L, r.status);
		lua_setfield(L, -2, "status");
	}
	if (check && remote_host && r.status && strcmp(r.status, "succeeded") && strcmp(r.status, "failed")) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "ssh: '%s' on %s: %s: %s", cmd, remote_host, r.status,
			 r.error ? r.error : "");
		free(r.status);
		free(r.error);
		lua_pushstring(L, msg);
		return lua_error(L);
	}
	free(r.status);
	free(r.error);
	if (check && r.code != 0) {
		if (r.timed_out)
			return luaL_error(L, "%s: '%s' timed out after %fs", what, cmd, (lua_Number)timeout);
		if (remote_host)
			return luaL_error(L, "ssh: '%s' on %s exited with %d", cmd, remote_host, r.code);
		return luaL_error(L, "sh: '%s' exited with %d", cmd, r.code);
	}
	return 1;
}

static int api_sh(lua_State *L)
{
	return sh_or_ssh(L, NULL);
}

static int api_ssh(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	return sh_or_ssh(L, host);
}

static int api_log(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_checkstring(L, 1);
	/* log(fmt, ...) is string.format: reuse Lua's own */
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "format");
	lua_remove(L, -2);
	lua_insert(L, 1);
	lua_call(L, n, 1);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	void *eng;
	const struct lua_engine_ops *ops = luahost_engine(L, &eng);
	if (!ops)
		return 0;	/* logging has no effect to avoid while loading */
	ops->log(eng, s, len);
	return 0;
}

static int api_recovery_point(lua_State *L)
{
	luahost_need_running(L, "recovery_point");
	void *eng;
	const struct lua_engine_ops *ops = luahost_engine(L, &eng);
	int64_t ms;
	if (lua_api_wall_ms(L, 1, &ms))
		return luaL_argerror(L, 1, "unix seconds or an ISO-8601 time expected");
	char *errmsg = NULL;
	if (ops->recovery_point(eng, ms, &errmsg)) {
		lua_pushfstring(L, "recovery_point: %s", errmsg);
		free(errmsg);
		return lua_error(L);
	}
	return 0;
}

static int api_now(lua_State *L)
{
	lua_pushnumber(L, (double)clock_wall_ms() / 1000.0);
	return 1;
}

static int api_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	luahost_need_running(L, "sleep");
	void *eng;
	const struct lua_engine_ops *ops = luahost_engine(L, &eng);
	double left = luahost_deadline_left(L);
	if (s > left)
		s = left > 0 ? left : 0;
	if (ops->sleep(eng, s))
		return luaL_error(L, "sleep: aborted");
	return 0;
}

static int api_seconds(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TNUMBER) {
		lua_pushnumber(L, lua_tonumber(L, 1));
		return 1;
	}
	double s;
	const char *v = luaL_checkstring(L, 1);
	if (duration_parse(v, &s))
		return luaL_error(L, "%s: '%s' is not a duration", luaL_optstring(L, 2, "value"), v);
	lua_pushnumber(L, s);
	return 1;
}

/* Only a secret the config lists: its value is redacted wherever it would be shown or stored. */
static int api_secret(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	luahost_need_running(L, "secret");
	const struct config *cfg = luahost_config(L);
	int listed = 0;
	for (size_t i = 0; cfg && i < cfg->nsecrets && !listed; i++)
		listed = !strcmp(cfg->secrets[i].name, name);
	const char *v = listed ? config_secret(cfg, name) : NULL;
	if (!v) {
		luaL_pushfail(L);
		if (listed)
			lua_pushfstring(L, "secret '%s' is not set in the environment", name);
		else
			lua_pushfstring(L, "'%s' is not a secret: list it under secrets: in %s so its value is redacted",
					name, cfg ? cfg->path : "the config file (lifeboat.yaml)");
		return 2;
	}
	lua_pushstring(L, v);
	return 1;
}

/*
 * mask(value) -> value: a token obtained at run time is redacted from now on
 * wherever output, the history, reports or webhooks would show it (SPEC 3).
 */
static int api_mask(lua_State *L)
{
	const char *value = luaL_checkstring(L, 1);
	luahost_need_running(L, "mask");
	void *eng;
	const struct lua_engine_ops *ops = luahost_engine(L, &eng);
	char *err = NULL;
	if (!ops->mask || ops->mask(eng, value, &err)) {
		lua_pushfstring(L, "mask: %s", err ? err : "not available here");
		free(err);
		return lua_error(L);
	}
	lua_settop(L, 1);
	return 1;
}

static int api_notify(lua_State *L)
{
	const char *target = luaL_checkstring(L, 1);
	const char *message = luaL_checkstring(L, 2);
	luahost_need_running(L, "notify");
	void *eng;
	const struct lua_engine_ops *ops = luahost_engine(L, &eng);
	char *err = NULL;
	if (!ops->notify || ops->notify(eng, target, message, &err)) {
		luaL_pushfail(L);
		lua_pushfstring(L, "notify: %s", err ? err : "webhooks are not available here");
		free(err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg run_funcs[] = {
	{ "sh", api_sh },
	{ "ssh", api_ssh },
	{ "log", api_log },
	{ "recovery_point", api_recovery_point },
	{ "now", api_now },
	{ "sleep", api_sleep },
	{ "secret", api_secret },
	{ "notify", api_notify },
	{ "mask", api_mask },
	{ "seconds", api_seconds },
	{ NULL, NULL }
};

void lua_run_register(lua_State *L)
{
	luaL_setfuncs(L, run_funcs, 0);
}
