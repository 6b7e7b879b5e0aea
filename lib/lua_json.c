/*
 * json: JSON <-> Lua, for json.encode/decode and for ctx.state snapshots
 * (luahost-ctx.c saves and restores them with lua_json_from_lua and
 * lua_json_push).
 */
#include "lua_libs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "lua_api.h"
#include "util.h"

#define JSON_MAX_DEPTH 64

/*
 * Where an encoding failed: the message and the path to the value that
 * caused it (".a[3].b"), both xmalloc'd. The path is built as the
 * recursion unwinds, so the success path never pays for it.
 */
struct json_fail {
	char *msg;
	char *path;
};

static void json_fail_key(lua_State *L, int key, struct json_fail *f)
{
	char *seg;
	if (lua_type(L, key) == LUA_TSTRING) {
		const char *k = lua_tostring(L, key);
		int ident = (isalpha((unsigned char)*k) || *k == '_');
		for (const char *c = k; ident && *c; c++)
			ident = isalnum((unsigned char)*c) || *c == '_';
		if (ident)
			seg = xasprintf(".%s", k);
		else if (strlen(k) < 40 && !strpbrk(k, "\"\\\n\r\033"))
			seg = xasprintf("[\"%s\"]", k);
		else
			seg = xstrdup("[(a long or unprintable key)]");
	} else if (lua_isinteger(L, key)) {
		seg = xasprintf("[%lld]", (long long)lua_tointeger(L, key));
	} else {
		seg = xasprintf("[%.17g]", lua_tonumber(L, key));
	}
	char *p = xasprintf("%s%s", seg, f->path ? f->path : "");
	free(seg);
	free(f->path);
	f->path = p;
}

/*
 * Raw access only (lua_next, lua_rawgeti): no metamethod of the runbook's
 * runs here, so this is safe to call from C between steps. Each level takes
 * a few stack slots: lua_checkstack makes room or fails cleanly, since a C
 * function gets only LUA_MINSTACK of them.
 */
static json_t *lua_to_json(lua_State *L, int idx, int depth, struct json_fail *f)
{
	idx = lua_absindex(L, idx);
	if (depth > JSON_MAX_DEPTH) {
		f->msg = xasprintf("nested too deeply (more than %d levels, or a cycle)", JSON_MAX_DEPTH);
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return json_null();
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		else {
			double d = lua_tonumber(L, idx);
			if (!isfinite(d)) {
				f->msg = xstrdup("NaN and infinity cannot be encoded");
				return NULL;
			}
			return json_real(d);
		}
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		json_t *j = json_stringn(s, len);
		if (!j)
			f->msg = xstrdup("a string is not valid UTF-8");
		return j;
	}
	case LUA_TTABLE: {
		if (!lua_checkstack(L, 4)) {
			f->msg = xstrdup("nested too deeply (no room on the Lua stack)");
			return NULL;
		}
		lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
		size_t count = 0;
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			count++;
			lua_pop(L, 1);
		}
		if (n > 0 && (size_t)n == count) {
			json_t *arr = json_array();
			for (lua_Integer i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, i);
				json_t *v = lua_to_json(L, -1, depth + 1, f);
				lua_pop(L, 1);
				if (!v) {
					lua_pushinteger(L, i);
					json_fail_key(L, -1, f);
					lua_pop(L, 1);
					json_decref(arr);
					return NULL;
				}
				json_array_append_new(arr, v);
			}
			return arr;
		}
		json_t *obj = json_object();
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			char keybuf[64];
			const char *key;
			if (lua_type(L, -2) == LUA_TSTRING) {
				key = lua_tostring(L, -2);
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				if (lua_isinteger(L, -2))
					snprintf(keybuf, sizeof(keybuf), "%lld", (long long)lua_tointeger(L, -2));
				else
					snprintf(keybuf, sizeof(keybuf), "%.17g", lua_tonumber(L, -2));
				key = keybuf;
			} else {
				f->msg = xasprintf("table keys must be strings or numbers, not %s",
						   luaL_typename(L, -2));
				lua_pop(L, 2);
				json_decref(obj);
				return NULL;
			}
			json_t *v = lua_to_json(L, -1, depth + 1, f);
			lua_pop(L, 1);
			if (!v) {
				json_fail_key(L, -1, f);
				lua_pop(L, 1);
				json_decref(obj);
				return NULL;
			}
			if (json_object_set_new(obj, key, v)) {	/* a key that is not UTF-8 */
				f->msg = xstrdup("a key is not valid UTF-8");
				json_fail_key(L, -1, f);
				lua_pop(L, 1);
				json_decref(obj);
				return NULL;
			}
		}
		return obj;
	}
	default:
		f->msg = xasprintf("a %s cannot be encoded", luaL_typename(L, idx));
		return NULL;
	}
}

/* "root.a.b: why", or "why" when the value itself failed: xmalloc'd; f is released. */
static char *json_fail_take(struct json_fail *f, const char *root)
{
	const char *why = f->msg ? f->msg : "cannot be encoded";
	char *s = f->path ? xasprintf("%s%s: %s", root, f->path, why) : xstrdup(why);
	free(f->msg);
	free(f->path);
	f->msg = f->path = NULL;
	return s;
}

void lua_json_push(lua_State *L, json_t *j)
{
	luaL_checkstack(L, 4, "json too deep");
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(j));
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			lua_json_push(L, v);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(j), 0);
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			lua_json_push(L, v);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(j));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(j));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_NULL:
		lua_pushnil(L);
		break;
	}
}

/*
 * What json.encode/decode hold in C while they copy into Lua: in a
 * to-be-closed box (lua_api_scratch), so when the copy raises (the memory
 * cap) closing the box frees it instead of leaking it, call after call (as
 * sh() does).
 */
struct json_box {
	json_t *j;
	char *s;
};

static void json_box_release(void *p)
{
	struct json_box *b = p;
	json_decref(b->j);
	free(b->s);
}

static struct json_box *json_box_push(lua_State *L)
{
	return lua_api_scratch(L, sizeof(struct json_box), json_box_release);
}

static int api_json_encode(lua_State *L)
{
	luaL_checkany(L, 1);
	lua_settop(L, 1);
	struct json_box *box = json_box_push(L);
	struct json_fail f = { 0 };
	json_t *j = lua_to_json(L, 1, 0, &f);
	if (!j) {
		/* freed before anything that can raise (the message is bounded) */
		char *err = json_fail_take(&f, "value");
		char msg[512];
		snprintf(msg, sizeof(msg), "json.encode: %s", err);
		free(err);
		lua_pushstring(L, msg);
		return lua_error(L);
	}
	box->s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	lua_pushstring(L, box->s);
	free(box->s);
	box->s = NULL;
	return 1;
}

static int api_json_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_settop(L, 1);
	struct json_box *box = json_box_push(L);
	json_error_t e;
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!j) {
		luaL_pushfail(L);
		lua_pushfstring(L, "json.decode: %s at line %d column %d", e.text, e.line, e.column);
		return 2;
	}
	box->j = j;
	lua_json_push(L, j);
	box->j = NULL;
	json_decref(j);
	return 1;
}

json_t *lua_json_from_lua(lua_State *L, int idx, const char *root, char **err)
{
	struct json_fail f = { 0 };
	json_t *j = lua_to_json(L, idx, 0, &f);
	if (!j)
		*err = json_fail_take(&f, root);
	return j;
}

static const luaL_Reg json_funcs[] = {
	{ "encode", api_json_encode },
	{ "decode", api_json_decode },
	{ NULL, NULL }
};

void lua_json_register(lua_State *L)
{
	luaL_newlib(L, json_funcs);
}
