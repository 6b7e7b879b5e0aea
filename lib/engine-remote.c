/*
 * Remote sh steps (SPEC 8): a step's command on every host of its `on`,
 * through remote.c, with a row per host per attempt in the history; and
 * Lua's ssh(), one command on one host, waited for like sh().
 */
#include "engine-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* ------------------------------------------------------------------------ */
/* remote sh steps (SPEC 8): the command on every host of `on`, through remote.c */

static struct remote *remote_of(struct engine *e, char **err)
{
	if (e->remote)
		return e->remote;
	const struct config *cfg = e->o->inventory;
	struct remote_conf c = {
		.ssh_config = cfg ? cfg->ssh.config : NULL,
		.connect_timeout_s = cfg ? cfg->ssh.connect_timeout_s : CONFIG_SSH_CONNECT_TIMEOUT_DEFAULT,
		.options = cfg ? cfg->ssh.options : NULL, .tag = e->run->id,
	};
	if (remote_new(&c, &e->remote, err))
		return NULL;
	return e->remote;
}

/* The variables a remote command gets: the params and LIFEBOAT_* (never lifeboat's own environment). */
static char **remote_env(struct engine *e, const char *phase, const char *step, const char *host)
{
	const struct config *cfg = e->o->inventory;
	size_t nsec = cfg ? cfg->nsecrets : 0;
	char **env = xcalloc(e->o->nparams + nsec + 8, sizeof(char *));
	size_t n = 0;
	/* the config's secrets, as a local step sees them in its environment (redacted in output) */
	for (size_t i = 0; i < nsec; i++)
		if (cfg->secrets[i].value)
			env[n++] = xasprintf("%s=%s", cfg->secrets[i].name, cfg->secrets[i].value);
	for (size_t i = 0; i < e->o->nparams; i++)
		env[n++] = xasprintf("%s=%s", e->o->params[i].name, e->o->params[i].value);
	env[n++] = xasprintf("LIFEBOAT_RUN_ID=%s", e->run->id);
	env[n++] = xasprintf("LIFEBOAT_RUNBOOK=%s", e->rb->name);
	env[n++] = xasprintf("LIFEBOAT_MODE=%s", e->run->mode);
	if (phase)
		env[n++] = xasprintf("LIFEBOAT_PHASE=%s", phase);
	if (step)
		env[n++] = xasprintf("LIFEBOAT_STEP=%s", step);
	if (host)
		env[n++] = xasprintf("LIFEBOAT_HOST=%s", host);
	env[n] = NULL;
	return env;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* The destinations of the step's `on`, in order, duplicates dropped: 0, or -1 with *err. */
static int remote_targets(struct engine *e, struct task *t, const char ***hosts, size_t *n, char **err)
{
	char **names = t->def->on;
	char **owned = NULL;
	if (t->def->on_ref != RB_NOREF) {
		if (luahost_eval_names(e->host, t->def->on_ref, &owned, err))
			return -1;
		names = owned;
	}
	int rc = 0;
	for (char **on = names; on && *on && !rc; on++)
		rc = config_resolve_target(e->o->inventory, e->o->env, *on, 0, hosts, n, err);
	/* the strings belong to the config; the names may go */
	free_strv(owned);
	return rc;
}

static void host_set(struct host_rec *h, const char *status, int code, double dur, const char *error,
		     const char *output)
{
	free(h->status);
	h->status = xstrdup(status);
	h->exit_code = code;
	h->duration_s = dur;
	free(h->error);
	h->error = error ? xstrdup(error) : NULL;
	free(h->output);
	h->output = output ? xstrdup(output) : NULL;
}

int remote_start(struct task *t)
{
	struct engine *e = t->e;
	attempt_begin(t);
	char *cmd = sh_command(t), *err = NULL;
	if (!cmd)
		return -1;
	struct step_rec *rec = t->rec;
	/*
	 * The target, resolved at each attempt; hosts already known (an
	 * earlier attempt, or the history when resuming) keep what they had.
	 */
	{
		const char **hosts = NULL;
		size_t n = 0;
		if (remote_targets(e, t, &hosts, &n, &err)) {
			free(hosts);
			free(cmd);
			attempt_end(t, ST_FAILED, -1, err, NULL, 0);
			return -1;
		}
		struct host_rec *nh = xcalloc(n + 1, sizeof(*nh));
		for (size_t k = 0; k < n; k++) {
			struct host_rec *old = NULL;
			for (size_t j = 0; j < rec->nhosts && !old; j++)
				if (rec->hosts[j].host && !strcmp(rec->hosts[j].host, hosts[k]))
					old = &rec->hosts[j];
			if (old) {
				nh[k] = *old;
				memset(old, 0, sizeof(*old));
				if (!strcmp(nh[k].status, "running") && t->attempt > 1) {
					/* in flight when lifeboat stopped (resume): say so in its row */
					host_set(&nh[k], "interrupted", -1, NAN,
						 "interrupted: lifeboat stopped while it ran; resumed", NULL);
					stored(e, store_instance_save(e->st, e->run->id, t->pi, t->si,
								      t->attempt - 1, (int)k, &nh[k]));
				}
				continue;
			}
			nh[k].host = xstrdup(hosts[k]);
			nh[k].status = xstrdup("pending");
			nh[k].exit_code = -1;
			nh[k].duration_s = NAN;
		}
		for (size_t j = 0; j < rec->nhosts; j++)
			host_rec_release(&rec->hosts[j]);
		free(rec->hosts);
		rec->hosts = nh;
		rec->nhosts = n;
		free(hosts);
	}
	struct remote *r = remote_of(e, &err);
	if (!r) {
		free(cmd);
		attempt_end(t, ST_FAILED, -1, err, NULL, 0);
		return -1;
	}
	/* retries and resume run again only the hosts that did not succeed */
	const char **todo = xcalloc(rec->nhosts + 1, sizeof(*todo));
	free(t->rhost);
	t->rhost = xcalloc(rec->nhosts + 1, sizeof(*t->rhost));
	size_t n = 0;
	for (size_t k = 0; k < rec->nhosts; k++)
		if (strcmp(rec->hosts[k].status, "succeeded")) {
			t->rhost[n] = k;
			todo[n++] = rec->hosts[k].host;
		}
	const char *phase = e->run->phases[t->pi].name;
	char **env = remote_env(e, phase, t->def->name, NULL);
	char *lock = xasprintf("%s\n%s\n%s", e->run->id, phase, t->def->name);
	const char *wd = t->def->remote_workdir ? t->def->remote_workdir : e->rb->remote_workdir;
	struct rstep_spec sp = {
		.hosts = todo, .nhosts = n,
		.parallel = e->o->inventory ? e->o->inventory->ssh.parallel : CONFIG_SSH_PARALLEL_DEFAULT,
		.max_failed = t->def->max_failed_hosts,
		.inst = { .cmd = cmd, .env = env, .workdir = wd, .lock = lock,
			  .timeout_s = step_timeout(e, t->def), .on_output = on_output, .ud = t,
			  .redact = e->o->redactor },
	};
	t->rstep = rstep_start(r, e->ps, &sp);
	free(lock);
	free_strv(env);
	free(todo);
	free(cmd);
	crash_point("after_spawn");
	return 0;
}

/*
 * Records each host whose instance started or ended since the last look
 * (a row per host per attempt, so a crash keeps the hosts that finished);
 * 1 once the attempt is over.
 */
int remote_progress(struct task *t)
{
	struct engine *e = t->e;
	struct rstep *rs = t->rstep;
	int done = rstep_poll(rs);
	size_t k;
	int started;
	while (rstep_next_event(rs, &k, &started)) {
		struct host_rec *h = &t->rec->hosts[t->rhost[k]];
		const struct rinst *in = rstep_inst(rs, k);
		if (started) {
			h->attempts++;
			host_set(h, "running", -1, NAN, NULL, NULL);
		} else {
			const struct rinst_result *res = rinst_result(in);
			char *red = scrub(e, xstrdup(rinst_output(in)));
			host_set(h, rstatus_name(res->status), res->exit_code, res->duration_s, res->error, red);
			h->error = scrub(e, h->error);
			free(red);
		}
		stored(e, store_instance_save(e->st, e->run->id, t->pi, t->si, t->attempt, (int)t->rhost[k], h));
	}
	return done;
}

/* Every instance of the attempt has ended (or will not start): record hosts and the attempt. */
void remote_finish(struct task *t)
{
	struct engine *e = t->e;
	struct step_rec *rec = t->rec;
	struct rstep *rs = t->rstep;
	struct strbuf out, why;
	strbuf_init(&out, 1024);
	strbuf_init(&why, 128);
	int code = 0, first_code = -1, any_timeout = 0, any_abort = 0;
	remote_progress(t);
	store_unit_begin(e->st);
	for (size_t k = 0; k < rstep_count(rs); k++) {
		struct host_rec *h = &rec->hosts[t->rhost[k]];
		const struct rinst *in = rstep_inst(rs, k);
		if (!in) {
			host_set(h, "skipped", -1, NAN, "not started: more hosts than max_failed_hosts had failed",
				 NULL);
			stored(e, store_instance_save(e->st, e->run->id, t->pi, t->si, t->attempt,
						      (int)t->rhost[k], h));
			continue;
		}
		const struct rinst_result *res = rinst_result(in);
		if (h->output)
			strbuf_addstr(&out, h->output);
		any_timeout |= res->status == RS_TIMED_OUT;
		any_abort |= res->status == RS_INTERRUPTED;
		if (res->status != RS_SUCCEEDED && first_code < 0)
			first_code = res->exit_code;
	}
	stored(e, store_unit_end(e->st));
	int bad = 0;
	for (size_t k = 0; k < rec->nhosts; k++) {
		struct host_rec *h = &rec->hosts[k];
		if (!strcmp(h->status, "succeeded"))
			continue;
		bad++;
		if (why.len < 600)
			strbuf_addf(&why, "%s%s %s%s%s", why.len ? "; " : "", h->host, h->status,
				    h->error ? ": " : "", h->error ? h->error : "");
	}
	enum status st = ST_SUCCEEDED;
	char *error = NULL;
	if (bad > t->def->max_failed_hosts) {
		st = t->stopped_for_abort || any_abort ? ST_INTERRUPTED : any_timeout && bad == 1 ? ST_TIMED_OUT :
		     ST_FAILED;
		error = xasprintf("%d of %zu host%s did not succeed (max_failed_hosts %d): %s", bad, rec->nhosts,
				  rec->nhosts == 1 ? "" : "s", t->def->max_failed_hosts, why.buf);
		code = first_code;
	} else if (bad) {
		message(e, 1, t->pi, t->si, "%s: %d host%s did not succeed, tolerated (max_failed_hosts %d): %s",
			t->def->name, bad, bad == 1 ? "" : "s", t->def->max_failed_hosts, why.buf);
	}
	strbuf_release(&why);
	rstep_free(rs);
	t->rstep = NULL;
	int64_t cut = 0;
	char *text = strbuf_detach(&out);
	if (strlen(text) > KEEP_HEAD + KEEP_TAIL) {
		size_t len = strlen(text);
		cut = (int64_t)(len - KEEP_TAIL);
		char *tail = xasprintf("[... %lld bytes cut ...]\n%s", (long long)cut, text + len - KEEP_TAIL);
		free(text);
		text = tail;
	}
	attempt_end(t, st, code, error, text, cut);
}

/* Lua's ssh(host, cmd [, opts]): one instance, waited for like sh(). */
int lua_ssh(void *eng, const char *host, const char *cmd, double timeout_s, struct lua_sh_result *res,
	    char **errmsg)
{
	struct engine *e = eng;
	struct task *t = e->lua_task;
	const char **hosts = NULL;
	size_t n = 0;
	if (config_resolve_target(e->o->inventory, e->o->env, host, 0, &hosts, &n, errmsg))
		return -1;
	if (n != 1) {
		free(hosts);
		*errmsg = xasprintf("'%s' is a group of %zu hosts; ssh() runs on one host (use a step with on = for a group)",
				    host, n);
		return -1;
	}
	const char *dest = hosts[0];
	free(hosts);
	struct remote *r = remote_of(e, errmsg);
	if (!r)
		return -1;
	const char *phase = t ? e->run->phases[t->pi].name : NULL;
	char **env = remote_env(e, phase, t ? t->def->name : NULL, NULL);
	char *lock = xasprintf("%s\n%s\n%s\nssh()%lld", e->run->id, phase ? phase : "", t ? t->def->name : "",
			       (long long)clock_mono_ns());
	struct rinst_spec sp = {
		.dest = dest, .cmd = cmd, .env = env, .workdir = e->rb->remote_workdir, .lock = lock,
		.timeout_s = timeout_s, .on_output = t ? on_output : NULL, .ud = t,
		.redact = e->o->redactor, .capture = 1,
	};
	struct rinst *in = rinst_start(r, e->ps, &sp);
	free(lock);
	free_strv(env);
	int stopped = 0, how;
	while (!rinst_poll(in))
		if ((how = serve_stopping(e, 200, &stopped)))
			rinst_stop(in, how == 2);
	const struct rinst_result *rr = rinst_result(in);
	size_t len;
	const char *s = rinst_stream(in, 1, &len);
	res->out = xstrndup(s, len);
	res->out_len = len;
	s = rinst_stream(in, 2, &len);
	res->err = xstrndup(s, len);
	res->err_len = len;
	if (t) {
		const char *o = rinst_output(in);
		keep_lua_output(e, t, o, strlen(o));
	}
	res->code = rr->exit_code;
	res->timed_out = rr->status == RS_TIMED_OUT;
	res->duration_s = rr->duration_s;
	res->status = xstrdup(rstatus_name(rr->status));
	res->error = rr->error ? xstrdup(rr->error) : NULL;
	rinst_free(in);
	return 0;
}
