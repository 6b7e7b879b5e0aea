/*
 * What the runbook API's bindings (lua_libs.h) share: paths relative to the
 * runbook's workdir, option checking, times, sorted folder listings, and a
 * to-be-closed "scratch" slot that owns a C resource while results are
 * pushed, so a memory error halfway leaks nothing (the liolib pattern of
 * creating the owner first and acquiring second).
 */
#include "lua_api.h"

#include <dirent.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "clock.h"
#include "util.h"

#define SCRATCH_MT "lifeboat.scratch"
#define LUA_API_MAX_SECONDS (30 * 24 * 3600)	/* a month: beyond is a mistake, and overflows */

union scratch_unit {			/* aligned as Lua aligns userdata */
	void *p;
	double d;
	long long ll;
};

struct scratch {
	void (*release)(void *);	/* NULL once released */
	union scratch_unit data[];
};

static int scratch_close(lua_State *L)
{
	struct scratch *s = luaL_checkudata(L, 1, SCRATCH_MT);
	void (*release)(void *) = s->release;
	s->release = NULL;
	if (release)
		release(s->data);
	return 0;
}

void *lua_api_scratch(lua_State *L, size_t size, void (*release)(void *))
{
	size_t bytes = sizeof(struct scratch) +
		       (size + sizeof(union scratch_unit) - 1) / sizeof(union scratch_unit) *
		       sizeof(union scratch_unit);
	struct scratch *s = lua_newuserdatauv(L, bytes, 0);
	memset(s, 0, bytes);
	if (luaL_newmetatable(L, SCRATCH_MT)) {
		lua_pushcfunction(L, scratch_close);
		lua_setfield(L, -2, "__close");
		lua_pushcfunction(L, scratch_close);
		lua_setfield(L, -2, "__gc");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
	}
	lua_setmetatable(L, -2);
	s->release = release;
	lua_toclose(L, -1);
	return s->data;
}

const char *lua_api_path(lua_State *L, int arg)
{
	size_t len;
	const char *p = luaL_checklstring(L, arg, &len);
	if (len == 0)
		luaL_argerror(L, arg, "empty path");
	if (strlen(p) != len)
		luaL_argerror(L, arg, "the path contains a NUL byte");
	if (p[0] == '/')
		return p;
	lua_pushfstring(L, "%s/%s", luahost_workdir(L), p);
	lua_replace(L, arg);
	return lua_tostring(L, arg);
}

double lua_api_opt_seconds(lua_State *L, const char *what, int idx, const char *key,
			   double dflt)
{
	double s = dflt;
	int t = lua_getfield(L, idx, key);
	if (t == LUA_TNUMBER) {
		s = lua_tonumber(L, -1);
		if (!(s > 0) || s > LUA_API_MAX_SECONDS)
			luaL_error(L, "%s: %s must be between 0 and %d seconds, not %s", what, key,
				   LUA_API_MAX_SECONDS, lua_tostring(L, -1));
	} else if (t == LUA_TSTRING) {
		if (duration_parse(lua_tostring(L, -1), &s) || !(s > 0) || s > LUA_API_MAX_SECONDS)
			luaL_error(L, "%s: %s '%s' is not a duration (as in \"500ms\" or \"2m\")",
				   what, key, lua_tostring(L, -1));
	} else if (t != LUA_TNIL) {
		luaL_error(L, "%s: %s must be a duration, not a %s", what, key,
			   luaL_typename(L, -1));
	}
	lua_pop(L, 1);
	return s;
}

void lua_api_check_keys(lua_State *L, int arg, const char *const known[])
{
	lua_pushnil(L);
	while (lua_next(L, arg)) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		size_t i = 0;
		while (k && known[i] && strcmp(known[i], k))
			i++;
		if (!k || !known[i]) {
			int key = lua_gettop(L);
			luaL_Buffer b;
			luaL_buffinit(L, &b);
			for (i = 0; known[i]; i++) {
				luaL_addstring(&b, i ? ", " : "");
				luaL_addstring(&b, known[i]);
			}
			luaL_pushresult(&b);
			const char *known_s = lua_tostring(L, -1);
			const char *msg = k ?
				lua_pushfstring(L, "unknown option '%s' (known: %s)", k, known_s) :
				lua_pushfstring(L, "options are named (%s), not a %s key", known_s,
						luaL_typename(L, key));
			luaL_argerror(L, arg, msg);
		}
	}
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int lua_api_wall_ms(lua_State *L, int idx, int64_t *ms)
{
	if (lua_type(L, idx) == LUA_TNUMBER) {
		double v = lua_tonumber(L, idx);
		if (!isfinite(v))
			return -1;
		*ms = (int64_t)llround(v * 1000.0);
		return 0;
	}
	if (lua_type(L, idx) != LUA_TSTRING)
		return -1;
	/* a time read from a file (fs.read of `date +%s >stamp`) ends in a newline */
	size_t len;
	const char *s = lua_tolstring(L, idx, &len);
	while (len && is_blank(s[len - 1]))
		len--;
	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	if (memchr(s, '\0', len))
		return -1;
	char *text = xstrndup(s, len);
	int rc = clock_parse(text, 0, ms);
	free(text);
	return rc;
}

static int not_dots(const struct dirent *e)
{
	return strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
}

/* byte order, not the locale's: the same on every machine */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int lua_api_scandir(const char *path, struct dirent ***names)
{
	return scandir(path, names, not_dots, by_name);
}
