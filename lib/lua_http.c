/*
 * http: requests for runbooks over http.c (the only file that talks to
 * libcurl). Each call returns { status, body, headers, duration, truncated }
 * whatever the status: judging it is the runbook's business (an http step
 * has `expect` for that). Only a transport error raises, naming the method,
 * the URL and curl's reason. No request outlives the step: its total time
 * is cut to what is left before the step's deadline.
 */
#include "lua_libs.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "http.h"
#include "lua_api.h"

#define HTTP_MAX_HEADERS 100

/* What http_perform hands over, owned by a scratch slot while results are pushed. */
struct http_call {
	struct http_response rs;	/* filled by http_perform */
	char *err;			/* from http_perform, xmalloc'd */
};

static void http_call_release(void *p)
{
	struct http_call *c = p;
	http_response_release(&c->rs);
	free(c->err);
	c->err = NULL;
}

static int is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * The headers table at field "headers" of the options at opts, as "Name:
 * value" lines left on the stack, and a NULL-terminated array of them (all
 * userdata on the stack, collected with it). NULL when there are none.
 */
static char **read_headers(lua_State *L, const char *what, int opts)
{
	if (!opts || lua_getfield(L, opts, "headers") == LUA_TNIL) {
		if (opts)
			lua_pop(L, 1);
		return NULL;
	}
	if (!lua_istable(L, -1))
		luaL_error(L, "%s: headers: a table of name = value expected, got %s", what,
			   luaL_typename(L, -1));
	int t = lua_gettop(L);
	size_t n = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		n++;
	}
	if (n > HTTP_MAX_HEADERS)
		luaL_error(L, "%s: headers: more than %d", what, HTTP_MAX_HEADERS);
	char **v = lua_newuserdatauv(L, (n + 1) * sizeof(*v), 0);
	luaL_checkstack(L, (int)n + 4, "headers");
	size_t i = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		size_t klen, vlen;
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: headers: names must be strings, not %s", what,
				   luaL_typename(L, -2));
		const char *name = lua_tolstring(L, -2, &klen);
		if (!is_token(name, klen))
			luaL_error(L, "%s: headers: '%s' is not a valid header name", what, name);
		if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
			luaL_error(L, "%s: headers: the value of %s must be a string, not %s", what,
				   name, luaL_typename(L, -1));
		const char *val = lua_tolstring(L, -1, &vlen);
		if (strlen(val) != vlen || strpbrk(val, "\r\n"))
			luaL_error(L, "%s: headers: the value of %s has a line break or NUL byte",
				   what, name);
		/* a userdata, not a string: http_request wants mutable lines */
		char *line = lua_newuserdatauv(L, klen + 2 + vlen + 1, 0);
		memcpy(line, name, klen);
		memcpy(line + klen, ": ", 2);
		memcpy(line + klen + 2, val, vlen + 1);
		/* keep the line on the stack below the key, where lua_next will not see it */
		lua_insert(L, -3);
		lua_pop(L, 1);
		v[i++] = line;
	}
	v[i] = NULL;
	return v;
}

/*
 * Runs the request described by rq plus the options at index opts (0: none)
 * and pushes the result table. what names the Lua function in errors.
 */
static int perform(lua_State *L, const char *what, struct http_request *rq, int opts)
{
	luaL_checkstack(L, 10, "http");
	if (opts) {
		rq->timeout_s = lua_api_opt_seconds(L, what, opts, "timeout", HTTP_TIMEOUT_S);
		rq->connect_timeout_s = lua_api_opt_seconds(L, what, opts, "connect_timeout",
							    HTTP_CONNECT_TIMEOUT_S);
		lua_getfield(L, opts, "redirects");
		rq->follow_redirects = lua_toboolean(L, -1);
		lua_pop(L, 1);
	} else {
		rq->timeout_s = HTTP_TIMEOUT_S;
		rq->connect_timeout_s = HTTP_CONNECT_TIMEOUT_S;
	}
	double left = luahost_time_left(L);
	if (left > 0 && left < rq->timeout_s)
		rq->timeout_s = left;
	if (rq->connect_timeout_s > rq->timeout_s)
		rq->connect_timeout_s = rq->timeout_s;
	rq->headers = read_headers(L, what, opts);

	struct http_call *c = lua_api_scratch(L, sizeof(*c), http_call_release);
	if (http_perform(rq, &c->rs, &c->err))
		return luaL_error(L, "%s: %s", what, c->err);
	struct http_response *rs = &c->rs;
	lua_createtable(L, 0, 5);
	lua_pushinteger(L, (lua_Integer)rs->status);
	lua_setfield(L, -2, "status");
	lua_pushlstring(L, rs->body ? rs->body : "", rs->body_len);
	lua_setfield(L, -2, "body");
	lua_createtable(L, 0, (int)rs->nheaders);
	for (size_t i = 0; i < rs->nheaders; i++) {
		/* a repeated header is one value, comma-separated (RFC 9110 5.3) */
		if (lua_getfield(L, -1, rs->headers[i].name) == LUA_TSTRING)
			lua_pushfstring(L, "%s, %s", lua_tostring(L, -1), rs->headers[i].value);
		else
			lua_pushstring(L, rs->headers[i].value);
		lua_setfield(L, -3, rs->headers[i].name);
		lua_pop(L, 1);
	}
	lua_setfield(L, -2, "headers");
	lua_pushnumber(L, rs->duration_s);
	lua_setfield(L, -2, "duration");
	lua_pushboolean(L, rs->body_truncated);
	lua_setfield(L, -2, "truncated");
	return 1;
}

static const char *check_url(lua_State *L, int arg)
{
	size_t len;
	const char *url = luaL_checklstring(L, arg, &len);
	if (len == 0 || strlen(url) != len)
		luaL_argerror(L, arg, "a URL expected");
	return url;
}

/* the options table at arg, or 0 when absent */
static int opt_table(lua_State *L, int arg, const char *const known[])
{
	if (lua_isnoneornil(L, arg))
		return 0;
	luaL_checktype(L, arg, LUA_TTABLE);
	lua_api_check_keys(L, arg, known);
	return arg;
}

static const char *const call_opts[] = { "headers", "timeout", "connect_timeout", "redirects",
					 NULL };
static const char *const request_opts[] = { "method", "url", "body", "headers", "timeout",
					    "connect_timeout", "redirects", NULL };

/* http.get(url [, opts]) */
static int http_get(lua_State *L)
{
	luahost_need_running(L, "http.get");
	struct http_request rq = { .url = check_url(L, 1), .method = "GET" };
	return perform(L, "http.get", &rq, opt_table(L, 2, call_opts));
}

/* http.post(url, body [, opts]) */
static int http_post(lua_State *L)
{
	luahost_need_running(L, "http.post");
	struct http_request rq = { .url = check_url(L, 1), .method = "POST" };
	rq.body = luaL_checklstring(L, 2, &rq.body_len);
	return perform(L, "http.post", &rq, opt_table(L, 3, call_opts));
}

/* http.request { url =, method =, body =, headers =, timeout =, ... } */
static int http_request(lua_State *L)
{
	luahost_need_running(L, "http.request");
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_api_check_keys(L, 1, request_opts);
	struct http_request rq = { 0 };
	size_t len;
	if (lua_getfield(L, 1, "url") != LUA_TSTRING)
		luaL_argerror(L, 1, "url = \"http://...\" expected");
	rq.url = lua_tolstring(L, -1, &len);
	if (len == 0 || strlen(rq.url) != len)
		luaL_argerror(L, 1, "url = \"http://...\" expected");
	if (lua_getfield(L, 1, "method") != LUA_TNIL) {
		rq.method = lua_tolstring(L, -1, &len);
		if (!rq.method || !is_token(rq.method, len))
			luaL_argerror(L, 1, "method must be a word such as \"PUT\"");
	}
	if (lua_getfield(L, 1, "body") != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_argerror(L, 1, "body must be a string");
		rq.body = lua_tolstring(L, -1, &rq.body_len);
	}
	return perform(L, "http.request", &rq, 1);
}

static const luaL_Reg http_funcs[] = {
	{ "get", http_get },
	{ "post", http_post },
	{ "request", http_request },
	{ NULL, NULL }
};

void lua_http_register(lua_State *L)
{
	luaL_newlib(L, http_funcs);
}
