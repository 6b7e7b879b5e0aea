/*
 * The Lua host. Each runbook gets its own lua_State whose libraries are
 * opened one by one (never luaL_openlibs) and whose runbook code sees only
 * the environment sandbox.lua builds from an allow list.
 *
 * Runaway code: a count hook is installed before anything of the runbook
 * runs (coroutines inherit it). It checks the current deadline and the abort
 * flag; once either trips it raises at every check, so a pcall in the
 * runbook can catch the first error but not get any further. The allocator
 * enforces the memory cap, keeping a reserve so the error path (traceback,
 * rollback, cleanup) can still allocate after the cap tripped.
 */
#include "luahost.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "clock.h"
#include "embedded.h"
#include "lua_api.h"
#include "lua_libs.h"
#include "util.h"

#define HOOK_EVERY 1000			/* instructions between deadline checks */
#define LOAD_TIMEOUT_S 10.0		/* loading a runbook is never allowed to loop */
#define LUAHOST_EVAL_TIMEOUT 30.0	/* a field's function, when its step has no timeout */
#define MEMORY_RESERVE (8u * 1024 * 1024)	/* for error handling after the cap trips */

struct luahost {
	lua_State *L;
	size_t mem_used;
	size_t mem_limit;
	int mem_tripped;		/* the cap was hit in the current call */
	int mem_refused;		/* a refused allocation not retried yet */
	void *refused_ptr;		/* which one, to know its retry */
	size_t refused_size;
	int in_reserve;			/* allocations may use the reserve (error paths) */
	int64_t deadline_ns;		/* 0: none */
	int deadline_tripped;
	double deadline_s;
	const atomic_int *abort_flag;
	int loading;			/* side-effecting API functions refuse */
	int env_ref;			/* the runbook's environment */
	int dsl_ref;			/* the prelude's table (validate) */
	int ctx_ref;			/* the ctx table, once a run starts */
	const struct lua_engine_ops *ops;
	void *eng;
	const struct config *cfg;	/* borrowed: secret() looks names up here; NULL: none */
	char *dir;			/* runbook folder, for require */
	char *workdir;			/* where relative paths resolve */
	unsigned long generation;	/* bumped whenever runbook code may have run */
	luahost_verify_fn verify;	/* NULL: files are loaded unchecked */
	void *verify_ud;
	int toplevel_only;		/* require only while loading */
	int refused;			/* the verifier refused a file of the current load */
	char *refusal;			/* the first refusal's reason, xmalloc'd */
	struct luahost_source *sources;	/* xrealloc'd; what the load read */
	size_t nsources;
	char *state_json;		/* ctx.state encoded, xmalloc'd; NULL: not yet */
	unsigned long state_gen;	/* the generation state_json is of */
};

/* ------------------------------------------------------------------------ */
/* memory */

static void host_hook(lua_State *L, lua_Debug *ar);
static char *absolute(const char *path);

static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct luahost *h = ud;
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		h->mem_used -= osize;
		return NULL;
	}
	size_t limit = h->mem_limit + (h->in_reserve ? MEMORY_RESERVE : 0);
	if (nsize > osize && h->mem_used - osize + nsize > limit) {
		/*
		 * Lua answers a refusal with an emergency full collection and the
		 * same request again: garbage waiting for the collector must not
		 * fail a step, so only a refusal that the retry does not cure
		 * trips the cap. lauxlib's buffers (string.rep, table.concat)
		 * call here directly and never retry: their refusal stays
		 * pending and the hook trips it at its next check.
		 */
		if (h->mem_refused)
			h->mem_tripped = 1;
		h->mem_refused = 1;
		h->refused_ptr = ptr;
		h->refused_size = nsize;
		/* check at the next instruction, not up to HOOK_EVERY later (as lua.c's laction) */
		if (h->L)
			lua_sethook(h->L, host_hook, LUA_MASKCOUNT, 1);
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	if (h->mem_refused && ptr == h->refused_ptr && nsize == h->refused_size)
		h->mem_refused = 0;	/* the retry after the collection fitted */
	h->mem_used = h->mem_used - osize + nsize;
	return p;
}

/* ------------------------------------------------------------------------ */
/* the hook */

/*
 * Once tripped, the hook fires on every instruction of the thread that hit
 * it: with a count of 1000 the error would always land inside the inner
 * function of `while true do pcall(function() while true do end end) end`
 * and the outer loop would never get far enough to see it. (Redis switches
 * its hook the same way.) deadline_set puts the main thread back to normal.
 */
/* A timeout as people write it: "1s", "2.5s", "600s" (not "0.999997146s" or "1.0s"). */
static const char *secs_text(double secs, char buf[32])
{
	snprintf(buf, 32, secs >= 100 ? "%.0fs" : "%.3gs", secs);
	return buf;
}

static void host_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct luahost *h;
	lua_getallocf(L, (void **)&h);
	if (h->mem_refused)
		h->mem_tripped = 1;	/* refused, and no collection made room (see host_alloc) */
	int tripped = (h->abort_flag && atomic_load_explicit(h->abort_flag, memory_order_relaxed)) ||
		      h->mem_tripped;
	if (!tripped && h->deadline_ns &&
	    (h->deadline_tripped || clock_mono_ns() > h->deadline_ns)) {
		h->deadline_tripped = 1;
		tripped = 1;
	}
	if (!tripped) {
		if (lua_gethookcount(L) != HOOK_EVERY)	/* host_alloc's refusal was cured */
			lua_sethook(L, host_hook, LUA_MASKCOUNT, HOOK_EVERY);
		return;
	}
	lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
	if (h->abort_flag && atomic_load(h->abort_flag))
		luaL_error(L, "aborted");
	if (h->mem_tripped)
		luaL_error(L, "the runbook's Lua memory limit (%d MiB) was reached",
			   (int)(h->mem_limit >> 20));
	char secs[32];
	luaL_error(L, "timed out after %s", secs_text(h->deadline_s, secs));
}

static void deadline_set(struct luahost *h, double secs)
{
	lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOOK_EVERY);
	h->deadline_tripped = 0;
	h->mem_tripped = 0;
	h->mem_refused = 0;
	h->deadline_s = secs;
	h->deadline_ns = secs > 0 ? clock_mono_ns() + (int64_t)(secs * 1e9) : 0;
}

/* ------------------------------------------------------------------------ */
/* helpers */

static struct luahost *host_of(lua_State *L)
{
	struct luahost *h;
	lua_getallocf(L, (void **)&h);
	return h;
}

void luahost_need_running(lua_State *L, const char *what)
{
	struct luahost *h = host_of(L);
	if (h->loading)
		luaL_error(L, "%s: not available while loading (loading a runbook never changes anything; call it inside a step)", what);
	if (!h->ops)
		luaL_error(L, "%s: not available outside a run", what);
}

const char *luahost_workdir(lua_State *L)
{
	struct luahost *h = host_of(L);
	return h->workdir ? h->workdir : h->dir ? h->dir : ".";
}

double luahost_time_left(lua_State *L)
{
	struct luahost *h = host_of(L);
	if (!h->deadline_ns)
		return 0;
	double left = (double)(h->deadline_ns - clock_mono_ns()) / 1e9;
	return left > 0.001 ? left : 0.001;
}

size_t luahost_memory_limit(lua_State *L)
{
	return host_of(L)->mem_limit;
}

const struct lua_engine_ops *luahost_engine(lua_State *L, void **eng)
{
	struct luahost *h = host_of(L);
	*eng = h->eng;
	return h->loading ? NULL : h->ops;
}

const struct config *luahost_config(lua_State *L)
{
	return host_of(L)->cfg;
}

double luahost_deadline_left(lua_State *L)
{
	struct luahost *h = host_of(L);
	return h->deadline_ns ? (double)(h->deadline_ns - clock_mono_ns()) / 1e9 : INFINITY;
}

/* Message handler: keep the message, add a traceback as a second value in the registry. */
static int msgh(lua_State *L)
{
	host_of(L)->in_reserve = 1;	/* the traceback must fit after the cap tripped */
	int at = 1;	/* the message as a Lua string: it may hold NUL bytes */
	if (!lua_tostring(L, 1)) {
		if (!luaL_callmeta(L, 1, "__tostring") || lua_type(L, -1) != LUA_TSTRING)
			lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
		at = lua_gettop(L);
	}
	luaL_traceback(L, L, NULL, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "lifeboat.traceback");
	lua_pushvalue(L, at);
	return 1;
}

/*
 * Runs the function at the top of the stack below its nargs arguments with
 * the message handler. On error *err (and *trace when given) are owned copies.
 */
static int docall(struct luahost *h, int nargs, int nres, char **err, char **trace)
{
	lua_State *L = h->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, msgh);
	lua_insert(L, base);
	int rc = lua_pcall(L, nargs, nres, base);
	lua_remove(L, base);
	if (rc == LUA_OK)
		return 0;
	h->in_reserve = 1;
	size_t len = 0;
	const char *msg = lua_tolstring(L, -1, &len);
	if (rc == LUA_ERRMEM || !msg) {
		msg = rc == LUA_ERRMEM ? "not enough memory" : "unknown error";
		len = strlen(msg);
	}
	if (err) {	/* a NUL in the message reads ^@, so what follows is kept */
		struct strbuf sb = STRBUF_INIT;
		strbuf_init(&sb, len);
		strbuf_add_output(&sb, msg, len);
		*err = strbuf_detach(&sb);
	}
	if (trace) {
		lua_getfield(L, LUA_REGISTRYINDEX, "lifeboat.traceback");
		*trace = xstrdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "lifeboat.traceback");
	h->in_reserve = 0;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* require's loader */

/*
 * Checks the exact bytes of a file read from disk with the verifier and
 * keeps them as a source of the load: 0, or -1 with *why (owned).
 */
static int take_source(struct luahost *h, const char *path, const char *text, size_t len,
		       char signed_by[17], char **why)
{
	signed_by[0] = '\0';
	char *signature = NULL;
	if (h->verify && h->verify(h->verify_ud, path, text, len, signed_by, &signature, why)) {
		if (!h->refused)
			h->refusal = xstrdup(*why);
		h->refused = 1;
		return -1;
	}
	h->sources = xrealloc(h->sources, (h->nsources + 1) * sizeof(*h->sources));
	struct luahost_source *src = &h->sources[h->nsources++];
	src->path = absolute(path);
	sha256_hex(text, len, src->sha256);
	src->text = xmalloc(len + 1);
	memcpy(src->text, text, len);
	src->text[len] = '\0';
	src->len = len;
	memcpy(src->signed_by, signed_by, 17);
	src->signature = signature;
	return 0;
}

/* require's loader: the source of a module from the runbook folder or the shipped library. */
static int api_module_source(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct luahost *h = host_of(L);
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/", dir);
	for (const char *p = name; *p; p++)
		strbuf_addch(&path, *p == '.' ? '/' : *p);
	strbuf_addstr(&path, ".lua");
	size_t len;
	char *text = read_file(path.buf, &len);
	if (text && h->toplevel_only && !h->loading) {
		/* the shipped library is part of the binary; files from disk are checked at load only */
		free(text);
		strbuf_release(&path);
		return luaL_error(L, "require '%s': with require_signed, modules are loaded only at the runbook's top level (while it loads), so every line is verified before anything runs; move the require there", name);
	}
	if (text) {
		char signed_by[17], *why = NULL;
		if (take_source(h, path.buf, text, len, signed_by, &why)) {
			free(text);
			strbuf_release(&path);
			lua_pushstring(L, why);
			free(why);
			return lua_error(L);
		}
		lua_pushlstring(L, text, len);
		lua_pushfstring(L, "@%s", path.buf);
		free(text);
		strbuf_release(&path);
		return 2;
	}
	strbuf_release(&path);
	struct strbuf lib = STRBUF_INIT;
	strbuf_addf(&lib, "lib_%s", name);
	const struct embedded_file *f = embedded_find(lib.buf);
	strbuf_release(&lib);
	if (f) {
		lua_pushlstring(L, f->data, f->len);
		lua_pushfstring(L, "=[lifeboat %s]", name);
		return 2;
	}
	return 0;
}

static const luaL_Reg host_funcs[] = {
	{ "module_source", api_module_source },
	{ NULL, NULL }
};

/* ------------------------------------------------------------------------ */
/* setting up a state */

static int host_duration(lua_State *L)
{
	double s;
	if (lua_type(L, 1) != LUA_TSTRING || duration_parse(lua_tostring(L, 1), &s))
		return 0;
	lua_pushnumber(L, s);
	return 1;
}

static int load_embedded(struct luahost *h, const char *name)
{
	const struct embedded_file *f = embedded_find(name);
	if (!f)
		return luaL_error(h->L, "embedded Lua '%s' missing", name);
	char chunk[64];
	snprintf(chunk, sizeof(chunk), "=[lifeboat %s]", name);
	return luaL_loadbufferx(h->L, f->data, f->len, chunk, "t");
}

/* Runs in protected mode: opens the allowed libraries and the prelude. */
static int host_setup(lua_State *L)
{
	struct luahost *h = host_of(L);
	static const luaL_Reg libs[] = {
		{ LUA_GNAME, luaopen_base },	{ LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_COLIBNAME, luaopen_coroutine },
		{ LUA_OSLIBNAME, luaopen_os },
	};
	for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}

	/* debug stays private: the prelude needs getinfo for line numbers */
	luaL_requiref(L, LUA_DBLIBNAME, luaopen_debug, 0);
	lua_getfield(L, -1, "getinfo");
	int getinfo = lua_gettop(L);

	/* string.dump is gone from the real table, so ("").dump is gone too */
	lua_getglobal(L, "string");
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	/* and the string metatable is hidden from getmetatable("") */
	lua_pushliteral(L, "");
	if (lua_getmetatable(L, -1)) {
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);

	if (load_embedded(h, "prelude") != LUA_OK)
		return lua_error(L);
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, getinfo);
	lua_setfield(L, -2, "getinfo");
	lua_pushcfunction(L, host_duration);
	lua_setfield(L, -2, "duration");
	lua_call(L, 1, 1);
	h->dsl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

/*
 * LIFEBOAT_LUA_MEMORY ("32MiB", "512KiB", "1GiB" or bytes): the cap when the
 * caller gives none (no config file, whose lua_memory the runner passes);
 * the tests use it to trip the cap in a second. 0 when unset or not a size of 8 MiB or more.
 */
static size_t memory_from_env(void)
{
	const char *v = getenv("LIFEBOAT_LUA_MEMORY");
	if (!v || !*v)
		return 0;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	unsigned shift = 0;
	if (!strcmp(end, "KiB") || !strcmp(end, "K"))
		shift = 10;
	else if (!strcmp(end, "MiB") || !strcmp(end, "M"))
		shift = 20;
	else if (!strcmp(end, "GiB") || !strcmp(end, "G"))
		shift = 30;
	else if (*end)
		return 0;
	if (errno || end == v || n > (SIZE_MAX >> shift) || (n << shift) < (8u << 20))
		return 0;
	return (size_t)(n << shift);
}

int luahost_new(size_t memory_limit, struct luahost **out)
{
	struct luahost *h = xcalloc(1, sizeof(*h));
	if (!memory_limit)
		memory_limit = memory_from_env();
	h->mem_limit = memory_limit ? memory_limit : LUAHOST_DEFAULT_MEMORY;
	h->env_ref = h->dsl_ref = h->ctx_ref = LUA_NOREF;
	h->L = lua_newstate(host_alloc, h);
	if (!h->L) {
		free(h);
		return -1;
	}
	lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOOK_EVERY);
	lua_pushcfunction(h->L, host_setup);
	char *err = NULL;
	if (docall(h, 0, 0, &err, NULL)) {
		free(err);
		luahost_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

static void sources_clear(struct luahost *h)
{
	for (size_t i = 0; i < h->nsources; i++) {
		free(h->sources[i].path);
		free(h->sources[i].text);
		free(h->sources[i].signature);
	}
	free(h->sources);
	h->sources = NULL;
	h->nsources = 0;
}

void luahost_set_verifier(struct luahost *h, luahost_verify_fn fn, void *ud, int toplevel_only)
{
	h->verify = fn;
	h->verify_ud = ud;
	h->toplevel_only = toplevel_only;
}

const struct luahost_source *luahost_sources(const struct luahost *h, size_t *n)
{
	*n = h->nsources;
	return h->sources;
}

int luahost_refused(const struct luahost *h)
{
	return h->refused;
}

void luahost_free(struct luahost *h)
{
	if (!h)
		return;
	if (h->L)
		lua_close(h->L);
	sources_clear(h);
	free(h->refusal);
	free(h->dir);
	free(h->workdir);
	free(h->state_json);
	free(h);
}

void luahost_set_abort_flag(struct luahost *h, const atomic_int *flag)
{
	h->abort_flag = flag;
}

void luahost_set_config(struct luahost *h, const struct config *cfg)
{
	h->cfg = cfg;
}

void luahost_set_engine(struct luahost *h, const struct lua_engine_ops *ops, void *eng)
{
	h->ops = ops;
	h->eng = eng;
}

/* The runbook API's tables (lua_libs.h), each pushed by its binding. */
static const struct {
	const char *name;
	void (*push)(lua_State *L);
} libs[] = {
	{ "json", lua_json_register }, { "fs", lua_fs_register }, { "sql", lua_sql_register },
	{ "http", lua_http_register }, { "crypto", lua_crypto_register },
};

/* Builds the sandboxed environment for a runbook in dir; leaves it on the stack. */
static int build_env(struct luahost *h, const char *dir, char **err)
{
	lua_State *L = h->L;
	if (load_embedded(h, "sandbox") != LUA_OK) {
		*err = xstrdup(lua_tostring(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	lua_pushglobaltable(L);
	luaL_newlib(L, host_funcs);
	lua_run_register(L);
	for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
		libs[i].push(L);
		lua_setfield(L, -2, libs[i].name);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, h->dsl_ref);
	lua_pushstring(L, dir);
	return docall(h, 4, 1, err, NULL);
}

/* ------------------------------------------------------------------------ */
/* reading the validated table into C */

static char *field_str(lua_State *L, int idx, const char *key)
{
	char *s = NULL;
	if (lua_getfield(L, idx, key) == LUA_TSTRING)
		s = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	return s;
}

static double field_num(lua_State *L, int idx, const char *key, double dflt)
{
	double v = dflt;
	if (lua_getfield(L, idx, key) == LUA_TNUMBER)
		v = lua_tonumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static int field_bool(lua_State *L, int idx, const char *key)
{
	lua_getfield(L, idx, key);
	int v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static int field_bool_default(lua_State *L, int idx, const char *key, int dflt)
{
	int v = dflt;
	if (lua_getfield(L, idx, key) == LUA_TBOOLEAN)
		v = lua_toboolean(L, -1);
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
		s->kind = !strcmp(kind, "sh") ? STEP_SH : !strcmp(kind, "run") ? STEP_RUN :
			  !strcmp(kind, "http") ? STEP_HTTP : STEP_MANUAL;
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

static struct runbook *read_runbook(lua_State *L, int idx)
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
		read_steps(L, pi, "steps", &p->steps, &p->nsteps);
		read_steps(L, pi, "rollback", &p->rollback, &p->nrollback);
		if (p->restores_service)
			rb->restoring = (int)i;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	/* default: the last phase that is neither fault nor cleanup */
	for (size_t i = rb->nphases; rb->restoring < 0 && i-- > 0;)
		if (!rb->phases[i].fault && !rb->phases[i].cleanup)
			rb->restoring = (int)i;
	if (!rb->shell) {
		rb->shell = xcalloc(3, sizeof(char *));
		rb->shell[0] = xstrdup("/bin/sh");
		rb->shell[1] = xstrdup("-c");
	}
	return rb;
}

static char *dirname_of(const char *abspath)
{
	const char *slash = strrchr(abspath, '/');
	if (!slash || slash == abspath)
		return xstrdup("/");
	return xstrndup(abspath, (size_t)(slash - abspath));
}

static char *absolute(const char *path)
{
	char *r = realpath(path, NULL);
	if (r) {
		char *x = xstrdup(r);
		free(r);
		return x;
	}
	return xstrdup(path);
}

int luahost_load(struct luahost *h, const char *path, struct runbook **out, char **err)
{
	lua_State *L = h->L;
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = errno == EISDIR ? xasprintf("%s: is a folder, not a runbook file", path)
				       : xasprintf("%s: cannot read the runbook: %s", path,
						   read_file_strerror(errno, READ_FILE_MAX));
		return -1;
	}
	char *abspath = absolute(path);
	free(h->dir);
	h->dir = dirname_of(abspath);
	int top = lua_gettop(L);
	int rc = -1;
	sources_clear(h);
	h->refused = 0;
	free(h->refusal);
	h->refusal = NULL;
	char signed_by[17];
	if (take_source(h, path, text, len, signed_by, err)) {
		free(abspath);
		free(text);
		return -1;
	}
	h->loading = 1;
	deadline_set(h, LOAD_TIMEOUT_S);

	if (build_env(h, h->dir, err))
		goto out;
	lua_pushvalue(L, -1);
	h->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	int env = lua_gettop(L);

	char *chunkname = xasprintf("@%s", path);
	int lrc = luaL_loadbufferx(L, text, len, chunkname, "t");
	free(chunkname);
	if (lrc != LUA_OK) {
		*err = xstrdup(lua_tostring(L, -1));
		goto out;
	}
	lua_pushvalue(L, env);
	lua_setupvalue(L, -2, 1);
	if (docall(h, 0, 1, err, NULL))
		goto out;
	lua_gc(L, LUA_GCCOLLECT);	/* building the runbook left garbage: keep the peak low */
	int result = lua_gettop(L);

	lua_rawgeti(L, LUA_REGISTRYINDEX, h->dsl_ref);
	lua_getfield(L, -1, "validate");
	lua_remove(L, -2);
	lua_pushvalue(L, result);
	lua_pushstring(L, path);
	lua_pushlstring(L, text, len);
	if (docall(h, 3, 1, err, NULL))
		goto out;
	if (h->refused) {
		/* a module was refused and the runbook caught the error: the refusal stands */
		*err = xstrdup(h->refusal);	/* even when the runbook caught the error */
		goto out;
	}
	struct runbook *rb = read_runbook(L, lua_gettop(L));
	memcpy(rb->signed_by, signed_by, sizeof(rb->signed_by));
	rb->path = xstrdup(path);
	rb->abspath = abspath;
	abspath = NULL;
	rb->dir = xstrdup(h->dir);
	sha256_hex(text, len, rb->sha256);
	if (!rb->workdir) {
		rb->workdir = xstrdup(rb->dir);
	} else if (rb->workdir[0] != '/') {
		char *w = xasprintf("%s/%s", rb->dir, rb->workdir);
		free(rb->workdir);
		rb->workdir = w;
	}
	free(h->workdir);
	h->workdir = xstrdup(rb->workdir);
	*out = rb;
	rc = 0;
	lua_settop(L, top);
	lua_gc(L, LUA_GCCOLLECT);	/* the validation's tables are garbage now */
	/*
	 * ...and their pages go back to the system, so what the run allocates
	 * next (a record per step) does not stack on top of the load's peak.
	 */
	malloc_trim(0);
out:
	if (rc && h->refused && h->refusal) {
		/* the refusal, not the error it raised on its way out of the runbook */
		free(*err);
		*err = xstrdup(h->refusal);
	}
	h->loading = 0;
	deadline_set(h, 0);
	lua_settop(L, top);
	free(abspath);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* calling into a runbook during a run */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t c = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t d = prev[j] + 1 < cur[j - 1] + 1 ? prev[j] + 1 : cur[j - 1] + 1;
			cur[j] = c < d ? c : d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(*prev));
	}
	return prev[lb];
}

/*
 * ctx.params' __index: reading a param the runbook does not declare is a
 * typo, and a typo must not become nil and then an empty path (SPEC 1).
 * Declared params are plain fields, so this runs only for missing ones.
 */
static int params_index(lua_State *L)
{
	const char *want = luaL_tolstring(L, 2, NULL);
	char best[128] = "";
	size_t bestd = 3;
	struct strbuf names = STRBUF_INIT;
	strbuf_init(&names, 0);
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			continue;
		const char *k = lua_tostring(L, -1);
		size_t d = edit_distance(want, k);
		if (d < bestd) {
			bestd = d;
			snprintf(best, sizeof(best), "%s", k);
		}
		if (n++ < 20)
			strbuf_addf(&names, "%s%s", n > 1 ? ", " : "", k);
	}
	if (best[0])
		lua_pushfstring(L, "no param '%s' (did you mean '%s'?)", want, best);
	else
		lua_pushfstring(L, "no param '%s' (the runbook declares %s; add it to params)", want,
				names.len ? names.buf : "none");
	strbuf_release(&names);	/* freed before raising */
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
	int top = lua_gettop(h->L);
	if (call_with_ctx(h, fn_ref, 60, err, NULL, NULL))
		return -1;
	int rc = 0;
	if (lua_isnil(h->L, -1)) {
		*err = xstrdup("recovery_point returned nil (no data?)");
		rc = -1;
	} else if (lua_api_wall_ms(h->L, -1, wall_ms)) {
		int t = lua_type(h->L, -1);
		char *v = t == LUA_TSTRING || t == LUA_TNUMBER ? value_text(h->L, -1)
							      : xstrdup(luaL_typename(h->L, -1));
		*err = xasprintf("recovery_point returned %s, not unix seconds or an ISO-8601 time", v);
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
