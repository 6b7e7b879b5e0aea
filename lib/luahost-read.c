/*
 * The runbook table the prelude validated, read into C (struct runbook,
 * runbook.h): by then every field has its type, so a missing or odd one
 * simply reads as its default.
 */
#include "luahost-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "util.h"

/* Pushes t[key] (the caller pops it); 1 when it has type want. */
static int field_is(lua_State *L, int idx, const char *key, int want)
{
	return lua_getfield(L, idx, key) == want;
}

static char *field_str(lua_State *L, int idx, const char *key)
{
	char *s = field_is(L, idx, key, LUA_TSTRING) ? xstrdup(lua_tostring(L, -1)) : NULL;
	lua_pop(L, 1);
	return s;
}

static double field_num(lua_State *L, int idx, const char *key, double dflt)
{
	double v = field_is(L, idx, key, LUA_TNUMBER) ? lua_tonumber(L, -1) : dflt;
	lua_pop(L, 1);
	return v;
}

static int field_bool_default(lua_State *L, int idx, const char *key, int dflt)
{
	int v = field_is(L, idx, key, LUA_TBOOLEAN) ? lua_toboolean(L, -1) : dflt;
	lua_pop(L, 1);
	return v;
}

/* Any value, as Lua tests it (nil and false: 0). */
static int field_bool(lua_State *L, int idx, const char *key)
{
	lua_getfield(L, idx, key);
	int v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static int field_ref(lua_State *L, int idx, const char *key)
{
	if (lua_getfield(L, idx, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return RB_NOREF;
	}
	return luaL_ref(L, LUA_REGISTRYINDEX);
}

static struct rb_value field_value(lua_State *L, int idx, const char *key)
{
	struct rb_value v = { NULL, RB_NOREF };
	int t = lua_getfield(L, idx, key);
	if (t == LUA_TSTRING) {
		v.str = xstrdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	} else if (t == LUA_TFUNCTION) {
		v.fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	} else {
		lua_pop(L, 1);
	}
	return v;
}

static char **field_argv(lua_State *L, int idx, const char *key)
{
	char **argv = NULL;
	if (lua_getfield(L, idx, key) == LUA_TTABLE) {
		size_t n = lua_rawlen(L, -1);
		argv = xcalloc(n + 1, sizeof(*argv));
		for (size_t i = 0; i < n; i++) {
			lua_rawgeti(L, -1, (lua_Integer)i + 1);
			argv[i] = xstrdup(lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return argv;
}

static void read_steps(lua_State *L, int idx, const char *key, struct rb_step **out, size_t *n)
{
	lua_getfield(L, idx, key);
	int t = lua_gettop(L);
	*n = lua_rawlen(L, t);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		struct rb_step *s = &(*out)[i];
		lua_rawgeti(L, t, (lua_Integer)i + 1);
		int si = lua_gettop(L);
		s->name = field_str(L, si, "name");
		s->line = (int)field_num(L, si, "line", 0);
		char *kind = field_str(L, si, "kind");
		if (step_kind_parse(kind, &s->kind))
			s->kind = STEP_MANUAL;
		free(kind);
		s->value = field_value(L, si, "value");
		s->method = field_str(L, si, "method");
		s->body = field_value(L, si, "body");
		s->headers_ref = field_ref(L, si, "headers");
		s->expect = (int)field_num(L, si, "expect", 200);
		s->contains = field_str(L, si, "contains");
		s->redirects = field_bool(L, si, "redirects");
		s->timeout_s = field_num(L, si, "timeout", NAN);
		s->retries = (int)field_num(L, si, "retries", 0);
		s->retry_delay_s = field_num(L, si, "retry_delay", 1);
		s->role = field_str(L, si, "role");
		s->continue_on_error = field_bool(L, si, "continue_on_error");
		s->idempotent = field_bool_default(L, si, "idempotent", 1);
		s->service = field_bool(L, si, "service");
		s->ready_after_s = field_num(L, si, "ready_after", 0.2);
		s->shell = field_argv(L, si, "shell");
		s->on = NULL;
		s->on_ref = RB_NOREF;
		if (lua_getfield(L, si, "on") == LUA_TFUNCTION) {
			s->on_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		} else {
			lua_pop(L, 1);
			s->on = field_argv(L, si, "on");
		}
		s->max_failed_hosts = (int)field_num(L, si, "max_failed_hosts", 0);
		s->remote_workdir = field_str(L, si, "remote_workdir");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

struct runbook *luahost_read_runbook(lua_State *L, int idx)
{
	struct runbook *rb = xcalloc(1, sizeof(*rb));
	rb->name = field_str(L, idx, "name");
	rb->description = field_str(L, idx, "description");
	rb->rto_s = field_num(L, idx, "rto", NAN);
	rb->rpo_s = field_num(L, idx, "rpo", NAN);
	rb->step_timeout_s = field_num(L, idx, "step_timeout", 600);
	rb->workdir = field_str(L, idx, "workdir");
	rb->shell = field_argv(L, idx, "shell");
	rb->exclusive = field_bool(L, idx, "exclusive");
	rb->remote_workdir = field_str(L, idx, "remote_workdir");
	rb->recovery_point_ref = field_ref(L, idx, "recovery_point");
	rb->newest_recoverable_ref = field_ref(L, idx, "newest_recoverable");
	rb->roles = field_argv(L, idx, "roles");

	lua_getfield(L, idx, "params");
	rb->nparams = lua_rawlen(L, -1);
	rb->params = xcalloc(rb->nparams ? rb->nparams : 1, sizeof(*rb->params));
	for (size_t i = 0; i < rb->nparams; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		lua_rawgeti(L, -1, 1);
		rb->params[i].name = xstrdup(lua_tostring(L, -1));
		lua_rawgeti(L, -2, 2);
		rb->params[i].value = xstrdup(lua_tostring(L, -1));
		lua_pop(L, 3);
	}
	lua_pop(L, 1);

	lua_getfield(L, idx, "phases");
	int pt = lua_gettop(L);
	rb->nphases = lua_rawlen(L, pt);
	rb->phases = xcalloc(rb->nphases, sizeof(*rb->phases));
	rb->restoring = -1;
	for (size_t i = 0; i < rb->nphases; i++) {
		struct rb_phase *p = &rb->phases[i];
		lua_rawgeti(L, pt, (lua_Integer)i + 1);
		int pi = lua_gettop(L);
		p->name = field_str(L, pi, "name");
		p->line = (int)field_num(L, pi, "line", 0);
		p->role = field_str(L, pi, "role");
		p->budget_s = field_num(L, pi, "budget", NAN);
		p->fault = field_bool(L, pi, "fault");
		p->cleanup = field_bool(L, pi, "cleanup");
		p->restores_service = field_bool(L, pi, "restores_service");
		p->rollback_on_abort = field_bool(L, pi, "rollback_on_abort");
		p->parallel = (int)field_num(L, pi, "parallel", 1);
		char *probe = field_str(L, pi, "probe");
		p->probe = probe_when_parse(probe);
		free(probe);
		read_steps(L, pi, "steps", &p->steps, &p->nsteps);
		read_steps(L, pi, "rollback", &p->rollback, &p->nrollback);
		if (p->restores_service)
			rb->restoring = (int)i;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	/* default: the last phase that is neither fault nor cleanup */
	for (size_t i = rb->nphases; rb->restoring < 0 && i-- > 0;)
		if (RB_PHASE_RECOVERY(&rb->phases[i]))
			rb->restoring = (int)i;
	if (!rb->shell) {
		rb->shell = xcalloc(3, sizeof(char *));
		rb->shell[0] = xstrdup("/bin/sh");
		rb->shell[1] = xstrdup("-c");
	}
	return rb;
}

