/*
 * Calling into a runbook during a run: the ctx table (params, where, state),
 * step functions with a deadline, expansions of ${params}, fields given as
 * functions, and ctx.state saved to and restored from JSON.
 */
#include "luahost-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "clock.h"
#include "lua_api.h"
#include "lua_libs.h"
#include "util.h"

/*
 * ctx.params' __index: reading a param the runbook does not declare is a
 * typo, and a typo must not become nil and then an empty path (SPEC 1).
 * Declared params are plain fields, so this runs only for missing ones.
 */
static int params_index(lua_State *L)
{
	const char *want = luaL_tolstring(L, 2, NULL);
	struct strbuf names = STRBUF_INIT;
	strbuf_init(&names, 0);
	const char **cands = NULL;	/* the keys: strings the table holds */
	size_t n = 0;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			continue;
		const char *k = lua_tostring(L, -1);
		cands = xrealloc(cands, (n + 1) * sizeof(*cands));
		cands[n++] = k;
		if (n <= 20)
			strbuf_addf(&names, "%s%s", n > 1 ? ", " : "", k);
	}
	/* the same "did you mean" as -p and params files */
	const char *best = suggest_word(want, cands, n);
	if (best)
		lua_pushfstring(L, "no param '%s' (did you mean '%s'?)", want, best);
	else
		lua_pushfstring(L, "no param '%s' (the runbook declares %s; add it to params)", want,
				names.len ? names.buf : "none");
	free(cands);	/* freed before raising */
	strbuf_release(&names);
	luaL_where(L, 1);
	lua_insert(L, -2);
	lua_concat(L, 2);
	return lua_error(L);
}

/*
 * The C side of a run touches tables runbook code can reach and change (ctx,
 * ctx.params, ctx.state, a headers table): setmetatable(ctx.params, ...) is
 * one line away. So it reads and writes them raw — no metamethod of the
 * runbook's ever runs outside a step's deadline — and in protected mode, so
 * a raise (the memory cap, a value of the wrong type) fails the step
 * instead of Lua's panic aborting the process. protect() runs fn with ud as
 * its first argument and the nargs values on top of the stack after it
 * (a protected function sees only its own frame); on error *err (when
 * given) is an owned message.
 */
static int protect(struct luahost *h, lua_CFunction fn, void *ud, int nargs, char **err)
{
	lua_State *L = h->L;
	if (!lua_checkstack(L, 4)) {
		if (err)
			*err = xstrdup("not enough memory");
		lua_pop(L, nargs);
		return -1;
	}
	lua_pushcfunction(L, fn);
	lua_pushlightuserdata(L, ud);
	lua_rotate(L, -2 - nargs, 2);	/* below the arguments on the stack */
	return docall(h, nargs + 1, 0, err, NULL);
}

/* Pushes ctx.field (raw); raises unless it is a table (nil allowed when may_be_nil). */
static int push_ctx_field(lua_State *L, struct luahost *h, const char *field, int may_be_nil)
{
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, h->ctx_ref) != LUA_TTABLE)
		return luaL_error(L, "ctx: no run is in progress");
	lua_pushstring(L, field);
	int t = lua_rawget(L, -2);
	lua_remove(L, -2);
	if (t != LUA_TTABLE && !(may_be_nil && t == LUA_TNIL))
		return luaL_error(L, "ctx.%s is %s, not a table: a step replaced it", field,
				  luaL_typename(L, -1));
	return t;
}

struct ctx_init_args {
	struct luahost *h;
	const struct rb_param *params;
	size_t nparams;
	const char *run_id, *env, *operator, *mode;
};

static int ctx_init_k(lua_State *L)
{
	struct ctx_init_args *a = lua_touserdata(L, 1);
	struct luahost *h = a->h;
	lua_createtable(L, 0, 10);
	lua_createtable(L, 0, (int)a->nparams);
	for (size_t i = 0; i < a->nparams; i++) {
		lua_pushstring(L, a->params[i].value);
		lua_setfield(L, -2, a->params[i].name);
	}
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, params_index);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_setfield(L, -2, "params");
	lua_pushstring(L, a->run_id);
	lua_setfield(L, -2, "run_id");
	lua_pushstring(L, a->env);
	lua_setfield(L, -2, "env");
	lua_pushstring(L, a->operator);
	lua_setfield(L, -2, "operator");
	lua_pushstring(L, a->mode);
	lua_setfield(L, -2, "mode");
	lua_newtable(L);
	lua_setfield(L, -2, "state");
	if (h->ctx_ref != LUA_NOREF)
		luaL_unref(L, LUA_REGISTRYINDEX, h->ctx_ref);
	h->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

void luahost_ctx_init(struct luahost *h, const struct rb_param *params, size_t nparams,
		      const char *run_id, const char *env, const char *operator, const char *mode)
{
	struct ctx_init_args a = { h, params, nparams, run_id, env, operator, mode };
	char *err = NULL;
	if (protect(h, ctx_init_k, &a, 0, &err))
		free(err);	/* out of memory before the first step: push_ctx_field says so later */
	free(h->state_json);
	h->state_json = NULL;
}

struct where_args {
	struct luahost *h;
	const char *phase, *step;
};

static int ctx_where_k(lua_State *L)
{
	struct where_args *a = lua_touserdata(L, 1);
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, a->h->ctx_ref) != LUA_TTABLE)
		return 0;
	lua_pushliteral(L, "phase");
	lua_pushstring(L, a->phase);
	lua_rawset(L, -3);
	lua_pushliteral(L, "step");
	lua_pushstring(L, a->step);
	lua_rawset(L, -3);
	return 0;
}

void luahost_ctx_where(struct luahost *h, const char *phase, const char *step)
{
	struct where_args a = { h, phase, step };
	char *err = NULL;
	if (protect(h, ctx_where_k, &a, 0, &err))
		free(err);	/* only out of memory: ctx keeps the previous names */
}

/* ctx.state as JSON into h->state_json, or *err naming the key that cannot be saved. */
struct state_args {
	struct luahost *h;
	char *err;		/* xmalloc'd */
};

static int state_encode_k(lua_State *L)
{
	struct state_args *a = lua_touserdata(L, 1);
	struct luahost *h = a->h;
	json_t *j;
	if (push_ctx_field(L, h, "state", 1) == LUA_TNIL) {
		j = json_object();
	} else {
		char *why = NULL;
		j = lua_json_from_lua(L, -1, "ctx.state", &why);
		if (!j) {
			a->err = xasprintf("%s (ctx.state is saved as JSON: strings, numbers, booleans and tables of them)",
					   why);
			free(why);
			return 0;
		}
	}
	if (json_is_array(j) && json_array_size(j) == 0) {
		json_decref(j);
		j = json_object();
	}
	free(h->state_json);
	h->state_json = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	h->state_gen = h->generation;
	json_decref(j);
	return 0;
}

static int state_encode(struct luahost *h, char **err)
{
	if (h->state_json && h->state_gen == h->generation)
		return 0;
	free(h->state_json);
	h->state_json = NULL;
	struct state_args a = { h, NULL };
	char *perr = NULL;
	if (protect(h, state_encode_k, &a, 0, &perr)) {
		*err = perr;
		return -1;
	}
	if (a.err) {
		*err = a.err;
		return -1;
	}
	return 0;
}

/*
 * Calls registry function fn_ref(ctx) with a deadline, leaving 1 result on
 * success. A run that tripped the deadline or the memory cap fails whatever
 * the function returned: code that caught the error (a coroutine, a pcall
 * around coroutine.wrap, a __close) must not turn a timeout into a success.
 * A run that left ctx.state unsaveable fails too, naming the key, so the
 * step that stored it is the one that fails.
 */
static int call_with_ctx(struct luahost *h, int fn_ref, double timeout_s, char **err,
			 char **trace, int *timed_out)
{
	lua_State *L = h->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->ctx_ref);
	h->generation++;
	deadline_set(h, timeout_s);
	char *e = NULL;
	int rc = docall(h, 1, 1, &e, trace);
	/* an error past the deadline is a timeout, also one that came from C (http, sql, sh) */
	if (rc && h->deadline_ns && clock_mono_ns() >= h->deadline_ns)
		h->deadline_tripped = 1;
	if (!rc && (h->deadline_tripped || h->mem_tripped)) {
		lua_pop(L, 1);
		rc = -1;
		char secs[32];
		e = xasprintf("timed out after %s", secs_text(h->deadline_s, secs));
	}
	if (rc && (h->mem_tripped || h->mem_refused)) {
		free(e);
		e = xasprintf("the runbook's Lua memory limit (%d MiB) was reached",
			      (int)(h->mem_limit >> 20));
	}
	if (timed_out)
		*timed_out = h->deadline_tripped;
	if (!rc && state_encode(h, &e)) {
		lua_pop(L, 1);
		rc = -1;
	}
	deadline_set(h, 0);
	if (err)
		*err = e;
	else
		free(e);
	return rc;
}

int luahost_call_run(struct luahost *h, int fn_ref, double timeout_s, char **err, char **trace,
		     int *timed_out)
{
	int top = lua_gettop(h->L);
	int rc = call_with_ctx(h, fn_ref, timeout_s, err, trace, timed_out);
	lua_settop(h->L, top);
	return rc;
}

/* ${name} from the table at params (raw lookups), appended to sb. */
static void expand_into(lua_State *L, int params, const char *s, struct strbuf *sb)
{
	const char *p = s;
	while (*p) {
		const char *open = strstr(p, "${");
		const char *close = open ? strchr(open + 2, '}') : NULL;
		if (!open || !close) {
			strbuf_addstr(sb, p);
			break;
		}
		strbuf_add(sb, p, (size_t)(open - p));
		lua_pushlstring(L, open + 2, (size_t)(close - open - 2));
		if (lua_rawget(L, params) == LUA_TSTRING)
			strbuf_addstr(sb, lua_tostring(L, -1));
		else
			strbuf_add(sb, open, (size_t)(close - open + 1));
		lua_pop(L, 1);
		p = close + 1;
	}
}

struct expand_args {
	struct luahost *h;
	const char *s;
	struct strbuf *sb;
};

static int expand_k(lua_State *L)
{
	struct expand_args *a = lua_touserdata(L, 1);
	push_ctx_field(L, a->h, "params", 0);
	expand_into(L, lua_gettop(L), a->s, a->sb);
	return 0;
}

static int expand(struct luahost *h, const char *s, char **out, char **err)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, strlen(s));
	struct expand_args a = { h, s, &sb };
	if (protect(h, expand_k, &a, 0, err)) {
		strbuf_release(&sb);
		return -1;
	}
	*out = strbuf_detach(&sb);
	return 0;
}

char *luahost_expand(struct luahost *h, const char *s)
{
	char *out = NULL, *err = NULL;
	if (expand(h, s, &out, &err)) {
		free(err);
		return xstrdup(s);
	}
	return out;
}

/* A string or number at idx as an owned C string, converted without touching the stack. */
static char *value_text(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING)
		return xstrdup(lua_tostring(L, idx));
	if (lua_isinteger(L, idx))
		return xasprintf("%lld", (long long)lua_tointeger(L, idx));
	return xasprintf("%.14g", lua_tonumber(L, idx));
}

int luahost_eval(struct luahost *h, const struct rb_value *v, int expand_params,
		 double timeout_s, char **out, char **err)
{
	if (v->str) {
		if (!expand_params) {
			*out = xstrdup(v->str);
			return 0;
		}
		return expand(h, v->str, out, err);
	}
	if (v->fn_ref == RB_NOREF) {
		*out = NULL;
		return 0;
	}
	int top = lua_gettop(h->L);
	if (call_with_ctx(h, v->fn_ref, timeout_s > 0 ? timeout_s : LUAHOST_EVAL_TIMEOUT, err,
			  NULL, NULL))
		return -1;
	if (lua_type(h->L, -1) != LUA_TSTRING && lua_type(h->L, -1) != LUA_TNUMBER) {
		*err = xasprintf("the function returned %s, not a string", luaL_typename(h->L, -1));
		lua_settop(h->L, top);
		return -1;
	}
	char *s = value_text(h->L, -1);
	lua_settop(h->L, top);
	int rc = 0;
	if (expand_params) {
		rc = expand(h, s, out, err);
		free(s);
	} else {
		*out = s;
	}
	return rc;
}

struct headers_args {
	struct luahost *h;
	char **v;		/* NULL-terminated, xmalloc'd */
	size_t n;
	struct strbuf cur;	/* the header being built, should an expansion raise */
};

static int headers_k(lua_State *L)
{
	struct headers_args *a = lua_touserdata(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);	/* the headers */
	push_ctx_field(L, a->h, "params", 0);
	int params = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
			strbuf_init(&a->cur, 0);
			strbuf_addf(&a->cur, "%s: ", lua_tostring(L, -2));
			expand_into(L, params, lua_tostring(L, -1), &a->cur);
			a->v = xrealloc(a->v, (a->n + 2) * sizeof(char *));
			a->v[a->n++] = strbuf_detach(&a->cur);
			a->v[a->n] = NULL;
		}
		lua_pop(L, 1);
	}
	return 0;
}

int luahost_eval_names(struct luahost *h, int ref, char ***out, char **err)
{
	lua_State *L = h->L;
	*out = NULL;
	int top = lua_gettop(L);
	if (call_with_ctx(h, ref, LUAHOST_EVAL_TIMEOUT, err, NULL, NULL))
		return -1;
	size_t n = 0;
	char **v = xcalloc(1, sizeof(char *));
	if (lua_type(L, -1) == LUA_TSTRING) {
		v = xrealloc(v, 2 * sizeof(char *));
		v[n++] = xstrdup(lua_tostring(L, -1));
		v[n] = NULL;
	} else if (lua_type(L, -1) == LUA_TTABLE) {
		size_t len = lua_rawlen(L, -1);
		for (size_t i = 1; i <= len; i++) {
			if (lua_rawgeti(L, -1, (lua_Integer)i) != LUA_TSTRING) {
				*err = xasprintf("on: the function returned a list whose entry %zu is not a name", i);
				goto bad;
			}
			v = xrealloc(v, (n + 2) * sizeof(char *));
			v[n++] = xstrdup(lua_tostring(L, -1));
			v[n] = NULL;
			lua_pop(L, 1);
		}
	}
	if (!n) {
		*err = xasprintf("on: the function returned %s, not a group or host name or a non-empty list of them",
				 luaL_typename(L, -1));
		goto bad;
	}
	lua_settop(L, top);
	*out = v;
	return 0;
bad:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	lua_settop(L, top);
	return -1;
}

int luahost_eval_headers(struct luahost *h, int ref, double timeout_s, char ***out, char **err)
{
	lua_State *L = h->L;
	*out = NULL;
	if (ref == RB_NOREF)
		return 0;
	int top = lua_gettop(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	if (lua_type(L, -1) == LUA_TFUNCTION) {
		lua_pop(L, 1);
		if (call_with_ctx(h, ref, timeout_s > 0 ? timeout_s : LUAHOST_EVAL_TIMEOUT, err,
				  NULL, NULL))
			return -1;
		if (lua_type(L, -1) != LUA_TTABLE) {
			*err = xstrdup("headers: the function must return a table");
			lua_settop(L, top);
			return -1;
		}
	}
	struct headers_args a = { h, xcalloc(1, sizeof(char *)), 0, STRBUF_INIT };
	int rc = protect(h, headers_k, &a, 1, err);
	lua_settop(L, top);
	if (rc) {
		strbuf_release(&a.cur);
		for (size_t i = 0; i < a.n; i++)
			free(a.v[i]);
		free(a.v);
		return -1;
	}
	*out = a.v;
	return 0;
}

int luahost_recovery_point(struct luahost *h, int fn_ref, int64_t *wall_ms, char **err)
{
	return luahost_call_time(h, fn_ref, "recovery_point", wall_ms, err);
}

int luahost_call_time(struct luahost *h, int fn_ref, const char *what, int64_t *wall_ms, char **err)
{
	int top = lua_gettop(h->L);
	if (call_with_ctx(h, fn_ref, 60, err, NULL, NULL))
		return -1;
	int rc = 0;
	if (lua_isnil(h->L, -1)) {
		*err = xasprintf("%s returned nil (no data?)", what);
		rc = -1;
	} else if (lua_api_wall_ms(h->L, -1, wall_ms)) {
		int t = lua_type(h->L, -1);
		char *v = t == LUA_TSTRING || t == LUA_TNUMBER ? value_text(h->L, -1)
							      : xstrdup(luaL_typename(h->L, -1));
		*err = xasprintf("%s returned %s, not unix seconds or an ISO-8601 time", what, v);
		free(v);
		rc = -1;
	}
	lua_settop(h->L, top);
	return rc;
}

char *luahost_state_json(struct luahost *h)
{
	char *err = NULL;
	if (state_encode(h, &err)) {
		free(err);
		return NULL;
	}
	return xstrdup(h->state_json);
}

unsigned long luahost_generation(const struct luahost *h)
{
	return h->generation;
}

struct restore_args {
	struct luahost *h;
	json_t *j;
};

static int state_restore_k(lua_State *L)
{
	struct restore_args *a = lua_touserdata(L, 1);
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, a->h->ctx_ref) != LUA_TTABLE)
		return luaL_error(L, "no run is in progress");
	lua_pushliteral(L, "state");
	lua_json_push(L, a->j);
	lua_rawset(L, -3);
	return 0;
}

int luahost_state_restore(struct luahost *h, const char *text, char **err)
{
	h->generation++;
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j) {
		*err = xasprintf("ctx.state: %s", e.text);
		return -1;
	}
	struct restore_args a = { h, j };
	char *perr = NULL;
	int rc = protect(h, state_restore_k, &a, 0, &perr);
	json_decref(j);
	if (rc) {
		*err = xasprintf("ctx.state: %s", perr);
		free(perr);
	}
	return rc;
}
