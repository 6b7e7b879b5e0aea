/*
 * The callbacks the Lua host calls while a step's Lua code runs (luahost.h's
 * lua_engine_ops): sh(), log(), recovery_point(), sleep(), notify() and
 * mask(). ssh() is in engine-remote.c.
 */
#include "engine-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redact.h"

/* ------------------------------------------------------------------------ */
/* Lua API callbacks */

static int lua_sh(void *eng, const char *cmd, double timeout_s, struct lua_sh_result *res,
		  char **errmsg)
{
	struct engine *e = eng;
	struct task *t = e->lua_task;
	char **argv = shell_argv(e, NULL, cmd);
	char **env = t ? step_env(e, t) : NULL;
	struct proc_opts po = {
		.argv = argv, .envp = env ? env : e->env_base, .cwd = e->rb->workdir,
		.timeout_ms = timeout_s > 0 ? (int64_t)(timeout_s * 1000) : 0,
		.keep_head = 1, .keep_tail = 1,
		.capture_split = 1, .split_limit = LUA_SH_LIMIT,
		.on_output = t ? on_output : NULL, .ud = t, .redact = e->o->redactor,
	};
	struct proc *p;
	int rc = proc_spawn(e->ps, &po, &p);
	int saved = errno;
	free(argv);
	if (env)
		step_env_free(e, env);
	if (rc) {
		*errmsg = xasprintf("cannot start the shell: %s", strerror(saved));
		return -1;
	}
	int stopped = 0, how;
	while (proc_state(p) != PROC_DONE)
		if ((how = serve_stopping(e, -1, &stopped)))
			proc_stop(p, how == 2);
	const struct proc_result *r = proc_result(p);
	size_t len;
	const char *s = proc_stream_text(p, PROC_STDOUT, &len);
	res->out = xstrndup(s ? s : "", s ? len : 0);
	res->out_len = s ? len : 0;
	if (t)
		keep_lua_output(e, t, res->out, res->out_len);
	s = proc_stream_text(p, PROC_STDERR, &len);
	res->err = xstrndup(s ? s : "", s ? len : 0);
	res->err_len = s ? len : 0;
	if (t)
		keep_lua_output(e, t, res->err, res->err_len);
	res->code = r->code;
	res->timed_out = r->timed_out;
	res->truncated = proc_stream_cut(p, PROC_STDOUT) > 0 || proc_stream_cut(p, PROC_STDERR) > 0;
	res->duration_s = (double)r->duration_ns / 1e9;
	proc_free(p);
	return 0;
}

static void lua_log(void *eng, const char *text, size_t len)
{
	struct engine *e = eng;
	struct task *t = e->lua_task;
	if (!t)
		return;
	char *red = NULL;
	if (e->o->redactor)
		text = red = redact_bytes(e->o->redactor, text, len, &len);
	headtail_add(&t->out, text, len);
	headtail_add(&t->out, "\n", 1);
	on_output(t, PROC_STDOUT, text, len);
	on_output(t, PROC_STDOUT, "\n", 1);
	free(red);
}

int lua_recovery_point(void *eng, int64_t ms, char **errmsg)
{
	struct engine *e = eng;
	int64_t now = wall_now(e);
	if (ms > now + RECOVERY_POINT_FUTURE_MS) {
		char iso[32];
		*errmsg = xasprintf("%s is more than a day in the future (milliseconds instead of seconds?)",
				    clock_iso8601(ms, iso));
		return -1;
	}
	e->run->recovery_point_ms = ms;
	e->rp_set = 1;
	stored(e, store_run_save(e->st, e->run));
	return 0;
}

static int lua_sleep(void *eng, double secs)
{
	struct engine *e = eng;
	int64_t until = clock_mono_ns() + (int64_t)(secs * 1e9);
	for (;;) {
		int64_t left = (until - clock_mono_ns()) / 1000000;
		if (left <= 0)
			return 0;
		if (serve(e, left > 1000 ? 1000 : (int)left) < 0)
			return -1;
	}
}

static int lua_notify(void *eng, const char *target, const char *text, char **errmsg)
{
	struct engine *e = eng;
	struct task *t = e->lua_task;
	if (!e->o->notifier) {
		*errmsg = xstrdup("no webhook is configured (notify: and roles' notify: in lifeboat.yaml)");
		return -1;
	}
	return notify_message(e->o->notifier, e->st, e->run, t ? t->pi : -1, t ? t->si : -1, target,
			      text, errmsg);
}

static int lua_mask(void *eng, const char *value, char **errmsg)
{
	struct engine *e = eng;
	if (!e->o->redactor) {
		*errmsg = xstrdup("no redactor for this run");
		return -1;
	}
	if (redact_add(e->o->redactor, value, errmsg))
		return -1;
	e->masked = xrealloc(e->masked, (e->nmasked + 1) * sizeof(*e->masked));
	e->masked[e->nmasked++] = xstrdup(value);
	free(e->state_json);	/* ctx.state may hold it already: encode it again */
	e->state_json = NULL;
	return 0;
}

const struct lua_engine_ops lua_ops = {
	.sh = lua_sh, .ssh = lua_ssh, .log = lua_log, .recovery_point = lua_recovery_point, .sleep = lua_sleep,
	.notify = lua_notify, .mask = lua_mask,
};
