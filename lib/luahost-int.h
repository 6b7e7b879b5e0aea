/*
 * What luahost*.c share, private to them: the host's state and its call
 * machinery. luahost.c makes states, loads runbooks and runs chunks;
 * luahost-read.c reads a validated runbook table into C; luahost-ctx.c calls
 * into a runbook during a run.
 */
#ifndef LB_LUAHOST_INT_H
#define LB_LUAHOST_INT_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "luahost.h"

#define LUAHOST_EVAL_TIMEOUT 30.0	/* a field's function, when its step has no timeout */

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

/* The host of a state (its allocator's userdata). */
struct luahost *host_of(lua_State *L);
/*
 * Runs the function at the top of the stack below its nargs arguments with
 * the message handler. On error *err (and *trace when given) are owned copies.
 */
int docall(struct luahost *h, int nargs, int nres, char **err, char **trace);
/* Arms the hook for a call of at most secs (0: none) and clears what tripped before. */
void deadline_set(struct luahost *h, double secs);
/* A timeout as people write it: "1s", "2.5s", "600s" (not "0.999997146s" or "1.0s"). */
const char *secs_text(double secs, char buf[32]);
/* The validated runbook table at idx as a struct runbook (caller frees with runbook_free). */
struct runbook *luahost_read_runbook(lua_State *L, int idx);

#endif
