/*
 * The Lua host. Each runbook gets its own lua_State whose libraries are
 * opened one by one (never luaL_openlibs) and whose runbook code sees only
 * the environment sandbox.lua builds from an allow list, with the runbook
 * API the bindings of lua_libs.h register. This file makes states, runs
 * chunks, loads runbooks (require's loader included); luahost-read.c reads
 * the validated runbook into C, luahost-ctx.c calls into it during a run
 * (they share luahost-int.h).
 *
 * Runaway code: a count hook is installed before anything of the runbook
 * runs (coroutines inherit it). It checks the current deadline and the abort
 * flag; once either trips it raises at every check, so a pcall in the
 * runbook can catch the first error but not get any further. The allocator
 * enforces the memory cap, keeping a reserve so the error path (traceback,
 * rollback, cleanup) can still allocate after the cap tripped.
 */
#include "luahost-int.h"

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
#define MEMORY_RESERVE (8u * 1024 * 1024)	/* for error handling after the cap trips */


/* ------------------------------------------------------------------------ */
/* memory */

static void host_hook(lua_State *L, lua_Debug *ar);

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
const char *secs_text(double secs, char buf[32])
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

void deadline_set(struct luahost *h, double secs)
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

struct luahost *host_of(lua_State *L)
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
int docall(struct luahost *h, int nargs, int nres, char **err, char **trace)
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
	src->path = path_absolute(path);
	sha256_hex(text, len, src->sha256);
	src->text = xmalloc(len + 1);
	memcpy(src->text, text, len);
	src->text[len] = '\0';
	src->len = len;
	memcpy(src->signed_by, signed_by, 17);
	src->signature = signature;
	return 0;
}

/*
 * A runbook or module that is there but is not a regular file (a FIFO, a
 * device, a socket): its bytes cannot be checked, so a verifier that
 * requires signatures refuses it (data NULL): 0 and *why (owned) then, -1
 * when it is only a load error.
 */
static int refuse_unreadable(struct luahost *h, const char *path, int err, char **why)
{
	char signed_by[17], *signature = NULL;
	if (err != EINVAL || !h->verify ||
	    !h->verify(h->verify_ud, path, NULL, 0, signed_by, &signature, why))
		return -1;
	free(signature);
	if (!h->refused)
		h->refusal = xstrdup(*why);
	h->refused = 1;
	return 0;
}

/* The source and chunk name of a module of the shipped library (lib/lua/lifeboat/), or nothing. */
static int shipped_source(lua_State *L, const char *name)
{
	struct strbuf lib = STRBUF_INIT;
	strbuf_addf(&lib, "lib_%s", name);
	const struct embedded_file *f = embedded_find(lib.buf);
	strbuf_release(&lib);
	if (!f)
		return 0;
	lua_pushlstring(L, f->data, f->len);
	lua_pushfstring(L, "=[lifeboat %s]", name);
	return 2;
}

/* require's loader: the source of a module from the runbook folder or the shipped library. */
static int api_module_source(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct luahost *h = host_of(L);
	/* lifeboat.* names the shipped library: a file in the runbook's folder cannot stand in */
	if (!strncmp(name, "lifeboat.", 9))
		return shipped_source(L, name);
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/", dir);
	for (const char *p = name; *p; p++)
		strbuf_addch(&path, *p == '.' ? '/' : *p);
	strbuf_addstr(&path, ".lua");
	size_t len;
	char *text = read_file(path.buf, &len);
	if (!text && errno != ENOENT && errno != ENOTDIR) {
		/* there, but not a file to read (a FIFO, a device, a folder): never the shipped one instead */
		int err = errno;
		char *why = NULL;
		if (!refuse_unreadable(h, path.buf, err, &why)) {
			lua_pushstring(L, why);
			free(why);
		} else {
			lua_pushfstring(L, "require '%s': %s: cannot read the module: %s", name, path.buf,
					read_file_strerror(err, READ_FILE_MAX));
		}
		strbuf_release(&path);
		return lua_error(L);
	}
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
	return shipped_source(L, name);
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

int luahost_load(struct luahost *h, const char *path, struct runbook **out, char **err)
{
	lua_State *L = h->L;
	size_t len;
	char *text = read_file(path, &len);
	h->refused = 0;
	free(h->refusal);
	h->refusal = NULL;
	if (!text) {
		int e = errno;
		if (!refuse_unreadable(h, path, e, err))
			return -1;
		*err = e == EISDIR ? xasprintf("%s: is a folder, not a runbook file", path)
				   : xasprintf("%s: cannot read the runbook: %s", path,
					       read_file_strerror(e, READ_FILE_MAX));
		return -1;
	}
	char *abspath = path_absolute(path);
	free(h->dir);
	h->dir = path_dirname(abspath);
	int top = lua_gettop(L);
	int rc = -1;
	sources_clear(h);
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
	struct runbook *rb = luahost_read_runbook(L, lua_gettop(L));
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

