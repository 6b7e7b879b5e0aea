/*
 * Step attempts by kind: the environment and command line of a step, the
 * start and end of an attempt (retries, the history writes, the audit
 * entries), sh steps (asynchronous, served by the run's poll loop), and the
 * inline kinds: run, http, manual and service. Lua steps keep their output
 * in a bounded buffer (headtail.h), as processes do.
 */
#include "engine-int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "redact.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* step environment and commands */

char **step_env(struct engine *e, struct task *t)
{
	char **env = xcalloc(e->nenv_base + 6, sizeof(char *));
	memcpy(env, e->env_base, e->nenv_base * sizeof(char *));
	size_t n = e->nenv_base;
	env[n++] = xasprintf("LIFEBOAT_PHASE=%s", e->run->phases[t->pi].name);
	env[n++] = xasprintf("LIFEBOAT_STEP=%s", t->def->name);
	env[n] = NULL;
	return env;
}

void step_env_free(struct engine *e, char **env)
{
	for (size_t i = e->nenv_base; env[i]; i++)
		free(env[i]);
	free(env);
}

static int env_name_overridden(struct engine *e, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
	if (len >= 9 && !strncmp(entry, "LIFEBOAT_", 9) && strncmp(entry, "LIFEBOAT_USER=", 14))
		return 1;
	for (size_t i = 0; i < e->o->nparams; i++)
		if (strlen(e->o->params[i].name) == len && !strncmp(e->o->params[i].name, entry, len))
			return 1;
	return 0;
}

void env_base_build(struct engine *e)
{
	size_t n = 0;
	for (char **p = environ; p && *p; p++)
		n++;
	e->env_base = xcalloc(n + e->o->nparams + 5, sizeof(char *));
	size_t k = 0;
	for (char **p = environ; p && *p; p++)
		if (!env_name_overridden(e, *p))
			e->env_base[k++] = xstrdup(*p);
	for (size_t i = 0; i < e->o->nparams; i++)
		e->env_base[k++] = xasprintf("%s=%s", e->o->params[i].name, e->o->params[i].value);
	e->env_base[k++] = xasprintf("LIFEBOAT_RUN_ID=%s", e->run->id);
	e->env_base[k++] = xasprintf("LIFEBOAT_RUNBOOK=%s", e->rb->name);
	e->env_base[k++] = xasprintf("LIFEBOAT_MODE=%s", e->run->mode);
	e->nenv_base = k;
}

char **shell_argv(struct engine *e, const struct rb_step *def, const char *cmd)
{
	char **shell = def && def->shell ? def->shell : e->rb->shell;
	size_t n = 0;
	while (shell[n])
		n++;
	char **argv = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		argv[i] = shell[i];
	argv[n] = (char *)(uintptr_t)cmd;	/* not modified by posix_spawn */
	return argv;
}

void on_output(void *ud, enum proc_stream stream, const char *data, size_t len)
{
	struct task *t = ud;
	struct engine *e = t->e;
	if (!e->hk || !e->hk->event)
		return;
	struct engine_event ev = { .type = EV_STEP_OUTPUT, .run = e->run, .phase = t->pi,
				   .step = t->si, .attempt = t->attempt, .stream = (int)stream,
				   .data = data, .len = len };
	e->hk->event(e->hk->ud, &ev);
}

/*
 * What a Lua step produced, into its recorded output: redacted before it is
 * kept, so cutting the middle can never leave half a secret on each side.
 * (Lua itself gets sh()'s text raw: runbook code may use a secret.)
 */
void keep_lua_output(struct engine *e, struct task *t, const char *data, size_t len)
{
	if (!e->o->redactor) {
		headtail_add(&t->out, data, len);
		return;
	}
	size_t n;
	char *red = redact_bytes(e->o->redactor, data, len, &n);
	headtail_add(&t->out, red, n);
	free(red);
}

double step_timeout(struct engine *e, const struct rb_step *def)
{
	if (!isnan(def->timeout_s))
		return def->timeout_s;
	return def->kind == STEP_MANUAL ? 0 : e->rb->step_timeout_s;
}

/* ------------------------------------------------------------------------ */
/* attempts and step results */

static int is_async(const struct rb_step *d);

/* The audit entry for the start of t's attempt, stamped with when it started. */
static void audit_step_started(struct task *t)
{
	struct engine *e = t->e;
	char *detail = lbjson_dump(json_pack("{s:o, s:o, s:i}", "phase", lbjson_string(e->run->phases[t->pi].name),
					     "step", lbjson_string(t->def->name), "attempt", t->attempt));
	stored(e, store_audit_append_at(e->st, t->att.started_ms, e->run->id, "step_started",
					e->o->operator, (long)getuid(), detail));
	free(detail);
}

/*
 * Who the step waits for, into its record and at once into the history,
 * where show, --watch and the console read it.
 */
void step_wait_set(struct task *t, enum step_wait w)
{
	struct engine *e = t->e;
	if (t->rec->waiting == w)
		return;
	t->rec->waiting = w;
	stored(e, store_step_save(e->st, e->run->id, t->pi, t->si, t->rec));
}

/* The start of t's attempt into the history, in the caller's unit if one is open. */
static void start_write(struct task *t)
{
	struct engine *e = t->e;
	t->start_pending = 0;
	stored(e, store_step_save(e->st, e->run->id, t->pi, t->si, t->rec));
	audit_step_started(t);
}

/* Commits the start of t's attempt if it is still waiting (START_COMMIT_NS). */
void start_commit(struct task *t)
{
	if (!t->start_pending)
		return;
	store_unit_begin(t->e->st);
	start_write(t);
	stored(t->e, store_unit_end(t->e->st));
}

void attempt_begin(struct task *t)
{
	struct engine *e = t->e;
	crash_point("before_step");
	int64_t now = clock_mono_ns();
	t->attempt++;
	attempt_rec_release(&t->att);
	memset(&t->att, 0, sizeof(t->att));
	t->att.attempt = t->attempt;
	t->att.status = ST_RUNNING;
	t->att.started_ms = mono_to_wall(e, now);
	t->att.ended_ms = TS_NONE;
	t->att.duration_s = NAN;
	t->att.exit_code = -1;
	t->attempt_mono = now;
	if (t->attempt == 1 || !t->first_mono) {
		if (t->attempt > 1 && t->rec->started_ms != TS_NONE) {
			/* resumed: the step's clock started before the crash, the gap included */
			t->first_mono = e->start_mono - (e->start_wall - t->rec->started_ms) * 1000000;
		} else {
			t->first_mono = now;
			t->rec->started_ms = t->att.started_ms;
		}
	}
	t->rec->status = ST_RUNNING;
	t->rec->attempts = t->attempt;
	t->state = T_RUNNING;
	luahost_ctx_where(e->host, e->run->phases[t->pi].name, t->def->name);
	t->start_pending = 1;
	if (is_async(t->def) && t->def->idempotent)
		t->start_due = now + START_COMMIT_NS;
	else
		start_commit(t);
	struct engine_event ev = { .type = EV_STEP_STARTED, .run = e->run, .phase = t->pi,
				   .step = t->si, .attempt = t->attempt };
	if (e->hk && e->hk->event)
		e->hk->event(e->hk->ud, &ev);
}

/* Final state of the step; with att, its last attempt is committed with it. */
static void step_done_with(struct task *t, enum status st, const struct attempt_rec *att)
{
	struct engine *e = t->e;
	int64_t now = clock_mono_ns();
	struct step_rec *r = t->rec;
	r->status = st;
	r->ended_ms = mono_to_wall(e, now);
	r->duration_s = (double)(now - t->first_mono) / 1e9;
	r->exit_code = t->att.exit_code;
	free(r->error);
	r->error = xstrdup(t->att.error);
	free(r->output);
	r->output = xstrdup(t->att.output);
	r->output_cut = t->att.output_cut;
	free(r->state_json);
	if (!e->state_json || e->state_gen != luahost_generation(e->host)) {
		free(e->state_json);
		e->state_json = hide_secrets(e, luahost_state_json(e->host));
		e->state_gen = luahost_generation(e->host);
	}
	r->state_json = xstrdup(e->state_json);
	store_unit_begin(e->st);	/* the result, its last attempt and its audit entry: one commit */
	if (t->start_pending) {
		/* the step row is written below, as it ends: only the start's audit entry */
		t->start_pending = 0;
		audit_step_started(t);
	}
	if (att)
		stored(e, store_step_finish(e->st, e->run->id, t->pi, t->si, r, att));
	else
		stored(e, store_step_save(e->st, e->run->id, t->pi, t->si, r));
	audit(e, "step_result", NULL, json_pack("{s:o, s:o, s:s, s:i}", "phase", lbjson_string(e->run->phases[t->pi].name),
						 "step", lbjson_string(t->def->name), "status", status_name(st),
						 "attempts", r->attempts));
	stored(e, store_unit_end(e->st));
	if (st == ST_FAILED || st == ST_TIMED_OUT || st == ST_DECLINED)
		notify(e, CONFIG_EVENT_STEP_FAILED, t->pi, t->si, "step '%s' in phase '%s' %s%s%s",
		       t->def->name, e->run->phases[t->pi].name,
		       st == ST_TIMED_OUT ? "timed out" : st == ST_DECLINED ? "was declined" : "failed",
		       r->error ? ": " : "", r->error ? r->error : "");
	/*
	 * The history has them now; in memory only what the end-of-run reports
	 * use stays (the output of steps that did not succeed), so a run of
	 * 10 000 steps does not hold 10 000 outputs and state snapshots.
	 */
	free(r->state_json);
	r->state_json = NULL;
	if (st == ST_SUCCEEDED) {
		free(r->output);
		r->output = NULL;
	}
	t->state = T_DONE;
	emit(e, EV_STEP_FINISHED, t->pi, t->si);
}

void step_done(struct task *t, enum status st)
{
	step_done_with(t, st, NULL);
}

/*
 * Ends the current attempt. Returns 1 when another attempt should follow
 * (the task then waits for its retry delay), 0 when the step is finished.
 */
int attempt_end(struct task *t, enum status st, int exit_code, char *error,
		char *output, int64_t cut)
{
	struct engine *e = t->e;
	int64_t now = clock_mono_ns();
	t->att.status = st;
	t->att.ended_ms = mono_to_wall(e, now);
	t->att.duration_s = (double)(now - t->attempt_mono) / 1e9;
	t->att.exit_code = exit_code;
	free(t->att.error);
	t->att.error = scrub(e, error);
	free(t->att.output);
	t->att.output = scrub(e, output);
	t->att.output_cut = cut;
	int retry = st != ST_SUCCEEDED && st != ST_DECLINED && st != ST_INTERRUPTED &&
		    t->attempt - t->attempt_base <= t->def->retries && !(abort_signal && !e->in_cleanup);
	if (!retry && st != ST_SUCCEEDED && st != ST_INTERRUPTED && st != ST_DECLINED &&
	    e->o->pause_on_failure &&
	    !t->def->continue_on_error && !e->in_cleanup && !abort_signal) {
		switch (pause_for_decision(t)) {
		case PAUSE_RETRY:
			retry = 1;
			break;
		case PAUSE_SKIP:
			free(t->att.error);
			t->att.error = xasprintf("skipped by %s after it failed", e->pause_who);
			st = ST_SKIPPED;
			break;
		default:
			break;
		}
	}
	if (!retry) {
		step_done_with(t, st, &t->att);
		return 0;
	}
	store_unit_begin(e->st);	/* a start still waiting goes in before the attempt */
	if (t->start_pending)
		start_write(t);
	stored(e, store_attempt_save(e->st, e->run->id, t->pi, t->si, &t->att));
	stored(e, store_unit_end(e->st));
	t->state = T_WAIT_RETRY;
	t->retry_at_mono = now + (int64_t)(t->def->retry_delay_s * 1e9);
	t->rec->status = ST_RUNNING;
	struct engine_event ev = { .type = EV_STEP_RETRYING, .run = e->run, .phase = t->pi,
				   .step = t->si, .attempt = t->attempt,
				   .data = t->att.error, .len = t->att.error ? strlen(t->att.error) : 0,
				   .retry_in_s = t->def->retry_delay_s };
	if (e->hk && e->hk->event)
		e->hk->event(e->hk->ud, &ev);
	return 1;
}

/* ------------------------------------------------------------------------ */
/* sh steps: asynchronous */

/* An sh step's command, evaluated; NULL when that failed, and then the attempt has ended. */
char *sh_command(struct task *t)
{
	char *cmd = NULL, *err = NULL;
	if (luahost_eval(t->e->host, &t->def->value, 0, step_timeout(t->e, t->def), &cmd, &err)) {
		attempt_end(t, ST_FAILED, -1, xasprintf("sh: %s", err), NULL, 0);
		free(err);
		return NULL;
	}
	return cmd;
}

static int sh_start(struct task *t)
{
	struct engine *e = t->e;
	if (RB_STEP_REMOTE(t->def))
		return remote_start(t);
	attempt_begin(t);
	char *cmd = sh_command(t);
	if (!cmd)
		return -1;
	char **argv = shell_argv(e, t->def, cmd);
	char **env = step_env(e, t);
	double timeout = step_timeout(e, t->def);
	struct proc_opts po = {
		.argv = argv, .envp = env, .cwd = e->rb->workdir,
		.timeout_ms = t->def->service ? 0 : (int64_t)(timeout * 1000),
		.keep_head = KEEP_HEAD, .keep_tail = KEEP_TAIL, .merge_stderr = 1,
		.on_output = on_output, .ud = t, .redact = e->o->redactor,
	};
	int rc = proc_spawn(e->ps, &po, &t->proc);
	int saved = errno;
	free(argv);
	step_env_free(e, env);
	free(cmd);
	if (!rc)
		crash_point("after_spawn");
	if (rc) {
		t->proc = NULL;
		attempt_end(t, ST_FAILED, -1, xasprintf("cannot start '%s': %s", e->rb->shell[0],
							strerror(saved)), NULL, 0);
		return -1;
	}
	return 0;
}

/* The process of an sh step is done: record the attempt. */
void sh_finish(struct task *t)
{
	struct engine *e = t->e;
	int early_service = t->def->service;	/* finished before it was ready */
	crash_point("after_exit");
	const struct proc_result *r = proc_result(t->proc);
	int64_t cut = 0;
	char *out = proc_output(t->proc, &cut);
	enum status st = ST_SUCCEEDED;
	char *error = NULL;
	if (t->stopped_for_abort || (r->killed && abort_signal)) {
		st = ST_INTERRUPTED;
		error = xstrdup("stopped: the run was aborted");
	} else if (r->timed_out) {
		st = ST_TIMED_OUT;
		error = xasprintf("timed out after %gs (the whole process group was stopped)",
				  step_timeout(e, t->def));
	} else if (!r->exited) {
		st = ST_FAILED;
		error = xasprintf("killed by signal %d", r->signal);
	} else if (r->code != 0) {
		st = ST_FAILED;
		error = xasprintf("exited with code %d", r->code);
	} else if (early_service) {
		st = ST_FAILED;
		error = xasprintf("the service exited before it was ready (after %gs): a service must keep running",
				  t->def->ready_after_s);
	}
	int code = r->code;
	proc_free(t->proc);
	t->proc = NULL;
	attempt_end(t, st, code, error, out, cut);
}

/* ------------------------------------------------------------------------ */
/* inline steps: run, http, manual, service */

static void run_attempt(struct task *t)
{
	struct engine *e = t->e;
	char *err = NULL, *trace = NULL;
	int timed_out = 0;
	e->lua_task = t;
	int rc = luahost_call_run(e->host, t->def->value.fn_ref, step_timeout(e, t->def), &err,
				  &trace, &timed_out);
	e->lua_task = NULL;
	enum status st = ST_SUCCEEDED;
	char *error = NULL;
	if (rc) {
		st = timed_out ? ST_TIMED_OUT : (abort_signal && !e->in_cleanup) ? ST_INTERRUPTED : ST_FAILED;
		error = xstrdup(err);
		if (trace) {
			headtail_add(&t->out, "\n", 1);
			keep_lua_output(e, t, err, strlen(err));
			headtail_add(&t->out, "\n", 1);
			keep_lua_output(e, t, trace, strlen(trace));
			headtail_add(&t->out, "\n", 1);
		}
	}
	free(err);
	free(trace);
	int64_t cut;
	char *out = headtail_text(&t->out, &cut);
	headtail_release(&t->out);
	attempt_end(t, st, -1, error, out, cut);
}

/* Seconds until the monotonic time until, at least a millisecond; 0 for no limit (until 0). */
static double time_left(int64_t until)
{
	if (!until)
		return 0;
	double left = (double)(until - clock_mono_ns()) / 1e9;
	return left > 0.001 ? left : 0.001;
}

static void http_attempt(struct task *t)
{
	struct engine *e = t->e;
	const struct rb_step *d = t->def;
	char *url = NULL, *body = NULL, *err = NULL;
	char **headers = NULL;
	/* the fields' functions share the step's timeout */
	double timeout = step_timeout(e, d);
	int64_t until = timeout > 0 ? clock_mono_ns() + (int64_t)(timeout * 1e9) : 0;
	if (luahost_eval(e->host, &d->value, 1, timeout, &url, &err) ||
	    luahost_eval(e->host, &d->body, 1, time_left(until), &body, &err) ||
	    luahost_eval_headers(e->host, d->headers_ref, time_left(until), &headers, &err)) {
		attempt_end(t, ST_FAILED, -1, xasprintf("http: %s", err), NULL, 0);
		free(err);
		free(url);
		free(body);
		return;
	}
	timeout = time_left(until);
	struct http_request rq = {
		.url = url, .method = d->method, .body = body, .body_len = body ? strlen(body) : 0,
		.headers = headers, .timeout_s = timeout < HTTP_TIMEOUT_S ? timeout : HTTP_TIMEOUT_S,
		.follow_redirects = d->redirects,
		.abort_flag = e->in_cleanup ? NULL : engine_abort_flag(),
	};
	struct http_response rs;
	enum status st = ST_SUCCEEDED;
	char *error = NULL;
	struct strbuf out = STRBUF_INIT;
	strbuf_init(&out, 0);
	if (http_perform(&rq, &rs, &err)) {
		st = ST_FAILED;
		error = err;
	} else {
		strbuf_addf(&out, "%s %s -> %ld in %.0fms\n", d->method ? d->method : body ? "POST" : "GET",
			    url, rs.status, rs.duration_s * 1000);
		size_t show = rs.body_len < 2048 ? rs.body_len : 2048;
		strbuf_add_output(&out, rs.body, show);
		if (show < rs.body_len)
			strbuf_addf(&out, "\n[... %zu more bytes]", rs.body_len - show);
		if (rs.status != d->expect) {
			st = ST_FAILED;
			error = xasprintf("%s returned %ld, expected %d", url, rs.status, d->expect);
		} else if (d->contains && !strstr(rs.body, d->contains)) {
			st = ST_FAILED;
			error = xasprintf("%s: the response does not contain '%s'", url, d->contains);
		}
		if (e->o->redactor) {
			size_t n;
			char *red = redact_bytes(e->o->redactor, out.buf, out.len, &n);
			strbuf_release(&out);
			out.buf = red;
			out.len = n;
			out.alloc = n + 1;
		}
		on_output(t, PROC_STDOUT, out.buf, out.len);
		http_response_release(&rs);
	}
	for (size_t i = 0; headers && headers[i]; i++)
		free(headers[i]);
	free(headers);
	free(url);
	free(body);
	attempt_end(t, st, -1, error, strbuf_detach(&out), 0);
}

/*
 * A manual step's attempt as answered (a): its status, and its error and
 * output (both owned by the caller, the error NULL when there is none).
 */
static enum status manual_result(struct task *t, enum manual_answer a, const char *who, const char *why,
				 const char *text, double waited, int timed_out, char **error, char **out)
{
	struct engine *e = t->e;
	switch (a) {
	case MANUAL_CONFIRMED:
		free(t->rec->confirmed_by);
		t->rec->confirmed_by = xstrdup(who ? who : e->o->operator);
		*out = xasprintf("%s\nconfirmed by %s after %.1fs\n", text, t->rec->confirmed_by, waited);
		return ST_SUCCEEDED;
	case MANUAL_DECLINED:
		*error = xasprintf("declined by %s%s%s", who ? who : e->o->operator, why ? ": " : "",
				   why ? why : "");
		*out = xasprintf("%s\n%s\n", text, *error);
		return ST_DECLINED;
	case MANUAL_ABORTED:
		*error = xstrdup("stopped: the run was aborted");
		*out = xstrdup(text);
		return ST_INTERRUPTED;
	default:
		*error = why ? xstrdup(why) :
			xstrdup("this manual step needs a person: run with --yes to confirm it automatically, or use `lifeboat console`");
		*out = xasprintf("%s\n%s\n", text, *error);
		return timed_out ? ST_TIMED_OUT : ST_FAILED;
	}
}

static void manual_attempt(struct task *t)
{
	struct engine *e = t->e;
	char *text = NULL, *err = NULL;
	if (luahost_eval(e->host, &t->def->value, 1, step_timeout(e, t->def), &text, &err)) {
		attempt_end(t, ST_FAILED, -1, xasprintf("manual: %s", err), NULL, 0);
		free(err);
		return;
	}
	text = scrub(e, text);
	if (e->o->yes) {
		free(t->rec->confirmed_by);
		t->rec->confirmed_by = xstrdup(e->o->operator);
		t->rec->auto_confirmed = 1;
		char *out = xasprintf("%s\nconfirmed automatically (--yes) as %s\n", text, e->o->operator);
		free(text);
		attempt_end(t, ST_SUCCEEDED, -1, NULL, out, 0);
		return;
	}
	step_wait_set(t, WAIT_PERSON);
	emit(e, EV_MANUAL_WAITING, t->pi, t->si);
	notify(e, CONFIG_EVENT_MANUAL_WAITING, t->pi, t->si,
	       "step '%s' waits for %s%s to confirm: %s (lifeboat confirm %s '%s')", t->def->name,
	       t->def->role ? "a member of role " : "someone", t->def->role ? t->def->role : "", text,
	       e->run->id, t->def->name);
	double timeout = step_timeout(e, t->def);
	struct manual_request req = {
		.run = e->run, .phase = t->pi, .step = t->si, .text = text, .role = t->def->role,
		.deadline_mono_ns = timeout > 0 ? clock_mono_ns() + (int64_t)(timeout * 1e9) : 0,
	};
	char *who = NULL, *why = NULL;
	int64_t waited_from = clock_mono_ns();
	enum manual_answer a = MANUAL_PENDING;
	e->manual_task = t;
	e->remote_answer = MANUAL_PENDING;
	int first = 1;
	/*
	 * Whoever answers first wins: the terminal (polled through the hook,
	 * never blocking) or a `lifeboat confirm` from elsewhere (a request
	 * read by serve()). Processes keep being served meanwhile.
	 */
	for (;;) {
		if (e->hk && e->hk->manual) {
			a = e->hk->manual(e->hk->ud, &req, first, &who, &why);
			first = 0;
		} else {
			a = MANUAL_PENDING;
		}
		if (a == MANUAL_CONFIRMED || a == MANUAL_DECLINED) {
			char *deny = NULL;
			const char *action = a == MANUAL_CONFIRMED ? "confirm" : "decline";
			if (allowed(e, action, t->def->role, who ? who : e->o->operator, &deny))
				break;
			message(e, 1, t->pi, t->si, "%s may not %s '%s': %s", who ? who : e->o->operator,
				action, t->def->name, deny ? deny : "not allowed");
			audit(e, "refused", who, json_pack("{s:s, s:o}", "action", action, "step", lbjson_string(t->def->name)));
			free(deny);
			free(who);
			who = NULL;
			first = 1;	/* ask again */
			a = MANUAL_PENDING;
		}
		if (a != MANUAL_PENDING)
			break;
		if (e->remote_answer != MANUAL_PENDING) {
			a = e->remote_answer;
			who = xstrdup(e->remote_who);
			break;
		}
		if (req.deadline_mono_ns && clock_mono_ns() >= req.deadline_mono_ns) {
			a = MANUAL_UNAVAILABLE;
			free(why);
			why = xasprintf("nobody confirmed within the step's timeout of %gs", timeout);
			break;
		}
		if (serve(e, 100) < 0) {
			a = MANUAL_ABORTED;
			break;
		}
	}
	e->manual_task = NULL;
	step_wait_set(t, WAIT_NONE);
	if (a == MANUAL_CONFIRMED || a == MANUAL_DECLINED) {
		audit(e, a == MANUAL_CONFIRMED ? "confirm" : "decline", who,
		      json_pack("{s:o}", "step", lbjson_string(t->def->name)));
	}
	double waited = (double)(clock_mono_ns() - waited_from) / 1e9;
	t->rec->human_wait_s += waited;
	int timed_out = timeout > 0 && clock_mono_ns() >= req.deadline_mono_ns;
	char *error = NULL, *out;
	enum status st = manual_result(t, a, who, why, text, waited, timed_out, &error, &out);
	free(who);
	free(why);
	free(text);
	attempt_end(t, st, -1, error, out, 0);
}

/* A service step succeeds once its process is still alive after ready_after. */
void service_attempt(struct task *t)
{
	struct engine *e = t->e;
	if (sh_start(t))
		return;
	int64_t ready = clock_mono_ns() + (int64_t)(t->def->ready_after_s * 1e9);
	while (proc_state(t->proc) != PROC_DONE) {
		int64_t left = (ready - clock_mono_ns()) / 1000000;
		if (left <= 0)
			break;
		if (serve(e, (int)left) < 0) {
			proc_stop(t->proc, 0);
			t->stopped_for_abort = 1;
			while (proc_state(t->proc) != PROC_DONE)
				procset_poll(e->ps, -1);
			break;
		}
	}
	if (proc_state(t->proc) == PROC_DONE) {
		sh_finish(t);	/* an exit before ready_after fails the attempt (and may retry) */
		return;
	}
	/* running: the process outlives the phase; a heap copy of the task receives its output */
	struct task *svc = xcalloc(1, sizeof(*svc));
	svc->e = e;
	svc->pi = t->pi;
	svc->si = t->si;
	svc->def = t->def;
	svc->rec = t->rec;
	svc->proc = t->proc;
	svc->attempt = t->attempt;
	svc->state = T_RUNNING;
	t->proc = NULL;
	proc_set_ud(svc->proc, svc);
	e->services = xrealloc(e->services, (e->nservices + 1) * sizeof(*e->services));
	e->services[e->nservices++] = svc;
	int64_t cut = 0;
	char *out = proc_output(svc->proc, &cut);
	attempt_end(t, ST_SUCCEEDED, -1, NULL, out, cut);
}

/* Runs an inline step's attempts until it is done or waits for a retry. */
static void inline_attempt(struct task *t)
{
	if (t->def->kind == STEP_SH && t->def->service) {
		service_attempt(t);
		return;
	}
	attempt_begin(t);
	switch (t->def->kind) {
	case STEP_RUN: run_attempt(t); break;
	case STEP_HTTP: http_attempt(t); break;
	case STEP_MANUAL: manual_attempt(t); break;
	case STEP_SH: break;
	}
}

static int is_async(const struct rb_step *d)
{
	return d->kind == STEP_SH && !d->service;
}

void task_attempt(struct task *t)
{
	if (is_async(t->def))
		sh_start(t);
	else
		inline_attempt(t);
}
