/*
 * The Lua host: one lua_State per loaded runbook, the sandboxed environment
 * it runs in, loading and validating runbook files, and calling into the
 * runbook (run steps, function-valued fields, recovery_point) with a
 * deadline that a count hook enforces even through pcall and coroutines.
 *
 * The API functions that act on the world (sh, log, sleep, recovery_point)
 * call back into whoever executes the run through struct lua_engine_ops
 * (lua_engine.h), so the host itself never starts a process or touches the
 * history.
 */
#ifndef LB_LUAHOST_H
#define LB_LUAHOST_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lua_engine.h"
#include "runbook.h"

struct luahost;

#define LUAHOST_DEFAULT_MEMORY (256u * 1024 * 1024)

int luahost_new(size_t memory_limit, struct luahost **out);
void luahost_free(struct luahost *h);
/* Aborts set this flag (from a signal handler); the count hook checks it. */
void luahost_set_abort_flag(struct luahost *h, const atomic_int *flag);
void luahost_set_engine(struct luahost *h, const struct lua_engine_ops *ops, void *eng);
/*
 * The config whose `secrets:` secret(name) may return (borrowed; NULL when
 * there is none: then no name is a secret). Only listed names are given
 * out, because only their values are redacted.
 */
struct config;
void luahost_set_config(struct luahost *h, const struct config *cfg);

/*
 * The files a load read from disk (the runbook first, then each module
 * `require`d), with their exact bytes: what the run stores in its history,
 * and what a verifier checked.
 */
struct luahost_source {
	char *path;		/* absolute; owned by the host */
	char sha256[65];
	char *text;		/* the bytes, owned by the host */
	size_t len;
	char signed_by[17];	/* the verifier's key id, "" when none */
	char *signature;	/* the FILE.minisig text that counted, owned; NULL when none */
};
/*
 * Called with the exact bytes of the runbook and of every module read from
 * disk, before any of it runs: 0 to go on (signed_by and *signature, the
 * signature's text (owned), set; "" and NULL when unsigned), or -1 with
 * *why (owned) to refuse the load. data is NULL for a file that is there
 * but is not a regular file (a FIFO, a device): -1 refuses it, 0 leaves it
 * a load error. With
 * toplevel_only, `require` works only while the runbook loads, never inside
 * a step, so every line of code is verified before anything runs.
 */
typedef int (*luahost_verify_fn)(void *ud, const char *path, const char *data, size_t len,
				 char signed_by[17], char **signature, char **why);
void luahost_set_verifier(struct luahost *h, luahost_verify_fn fn, void *ud, int toplevel_only);
const struct luahost_source *luahost_sources(const struct luahost *h, size_t *n);
/* Whether the last load failed because the verifier refused a file. */
int luahost_refused(const struct luahost *h);

/*
 * Loads and validates a runbook. On error returns -1 and *err is a message
 * "file:line: what is wrong" (caller frees). Loading has no side effects:
 * the API functions that act raise "not available while loading".
 */
int luahost_load(struct luahost *h, const char *path, struct runbook **out, char **err);

/*
 * The ctx table passed to run functions: params (name/value pairs), run id,
 * env, operator, mode, and an empty state table.
 */
void luahost_ctx_init(struct luahost *h, const struct rb_param *params, size_t nparams,
		      const char *run_id, const char *env, const char *operator, const char *mode);
void luahost_ctx_where(struct luahost *h, const char *phase, const char *step);

/*
 * Calls a run function fn(ctx) with a deadline (secs <= 0: none). 0 on
 * success; -1 with *err = "file:line: message" and *trace (traceback), both
 * owned by the caller; *timed_out set when the deadline tripped. A call
 * that tripped the deadline or the memory cap fails even when the code
 * caught the error, and so does one that left ctx.state unsaveable.
 */
int luahost_call_run(struct luahost *h, int fn_ref, double timeout_s, char **err, char **trace,
		     int *timed_out);
/*
 * A string-or-function field: *out is the string (owned), with ${name}
 * expanded when expand. A function runs under timeout_s (the step's
 * timeout; <= 0: 30 s).
 */
int luahost_eval(struct luahost *h, const struct rb_value *v, int expand, double timeout_s,
		 char **out, char **err);
/* Headers (table or function) as "Name: value" strings, NULL-terminated, owned. */
/*
 * A function(ctx) returning a name or a list of names (`on`): 0 with *out a
 * NULL-terminated array (owned), or -1 with *err.
 */
int luahost_eval_names(struct luahost *h, int ref, char ***out, char **err);
int luahost_eval_headers(struct luahost *h, int ref, double timeout_s, char ***out, char **err);
/* Calls recovery_point(ctx): unix seconds or ISO-8601 into *wall_ms. */
int luahost_recovery_point(struct luahost *h, int fn_ref, int64_t *wall_ms, char **err);
/* The same for any function(ctx) returning a time; what names it in errors ("newest_recoverable"). */
int luahost_call_time(struct luahost *h, int fn_ref, const char *what, int64_t *wall_ms, char **err);
/*
 * ${name} expansion from ctx.params; unknown names are left as they are (and
 * so is all of s when ctx.params is no longer a table).
 */
char *luahost_expand(struct luahost *h, const char *s);
/*
 * Changes whenever runbook code may have run (and so may have changed
 * ctx.state): a caller can skip re-encoding the state when it did not.
 */
unsigned long luahost_generation(const struct luahost *h);
/*
 * ctx.state as JSON (owned; NULL when it holds what JSON cannot: the step
 * that stored it failed already), and back.
 */
char *luahost_state_json(struct luahost *h);
int luahost_state_restore(struct luahost *h, const char *json, char **err);

#endif
