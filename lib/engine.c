/*
 * The engine: one run of one runbook.
 *
 * Shape of a run: fault phases (drill mode only), the recovery phases in
 * order, then the cleanup phases whatever happened. Within a phase, a small
 * scheduler keeps up to `parallel` steps going: sh steps run as processes
 * served by one poll loop (procset_poll); run, http, manual and service
 * steps run inline, but every wait they do (Lua's sh(), sleep, a manual
 * prompt, a service's ready_after) goes through the same loop, so running
 * siblings and services always have their output drained.
 *
 * Time: every timestamp is derived from one wall-clock reading at the start
 * plus the monotonic clock, so durations, t0, t1 and the achieved RTO cannot
 * be bent by a wall-clock jump in the middle of a recovery.
 *
 * History: the run, each phase and each step attempt is committed as it
 * changes (store.c), so a crash loses at most the step in flight.
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "probe.h"
#include "redact.h"
#include "secretref.h"
#include "remote.h"
#include "runlock.h"
#include "util.h"

extern char **environ;

#define KEEP_HEAD (32 * 1024)
#define KEEP_TAIL (32 * 1024)
#define LUA_SH_LIMIT (16u * 1024 * 1024)
#define RECOVERY_POINT_FUTURE_MS (24LL * 3600 * 1000)

/*
 * Set from signal handlers that may run on any thread (the console's UI thread
 * takes Ctrl-C while the engine runs on its own), and read by the engine thread:
 * C11 atomics, which are lock-free here and so async-signal-safe, instead of
 * volatile sig_atomic_t, which is safe against a handler on the same thread
 * only. The handlers wake the engine through proc.c's process-wide wake pipe,
 * never through a procset pointer that execute() frees.
 */
static atomic_int abort_signal;		/* the first abort signal, 0 when none */
static atomic_int abort_count;
static atomic_int lua_abort;		/* what the Lua hook and http see */
static atomic_int wake_requested;	/* look for requests now */
static atomic_int abort_remote;		/* the abort came from `lifeboat abort` */

#define REQUEST_POLL_NS 1000000000LL	/* requests are picked up within a second */
/*
 * How long an sh step runs before its start is committed on its own. Most
 * steps end sooner, and then the start goes into the history with the
 * result, in one commit instead of two (a commit costs as much as starting
 * a process). A crash in that window loses only the start of the step in
 * flight, which resume runs again like any step in flight; the result of
 * every finished step is committed before the next one starts. A step that
 * is not idempotent has its start committed at once (resume asks about it).
 */
#define START_COMMIT_NS (20 * 1000000LL)

void engine_request_abort(int sig)
{
	int none = 0;
	atomic_compare_exchange_strong(&abort_signal, &none, sig);
	atomic_fetch_add(&abort_count, 1);
	atomic_store(&lua_abort, 1);
	proc_wake_all();
}

static void (*crash_hook)(const char *point);

void engine_set_crash_hook(void (*hook)(const char *point))
{
	crash_hook = hook;
}

/* Named places where a test build may kill the process, to prove resume works from each. */
static void crash_point(const char *point)
{
	if (crash_hook)
		crash_hook(point);
}

void engine_wake(void)
{
	atomic_store(&wake_requested, 1);
	proc_wake_all();
}

const atomic_int *engine_abort_flag(void)
{
	return &lua_abort;
}

int exit_code_precedence(int a, int b)
{
	static const int order[] = { 2, 5, 7, 143, 130, 1, 3, 4, 6, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a ? a : b;
}

/* Bounded text: head and tail kept, the middle counted. */
struct boundbuf {
	struct strbuf head, tail;
	int64_t cut;
};

static void boundbuf_add(struct boundbuf *b, const char *data, size_t len)
{
	if (!b->head.buf) {
		strbuf_init(&b->head, 256);
		strbuf_init(&b->tail, 256);
	}
	size_t room = b->head.len < KEEP_HEAD ? KEEP_HEAD - b->head.len : 0;
	size_t take = len < room ? len : room;
	strbuf_add(&b->head, data, take);
	data += take;
	len -= take;
	if (!len)
		return;
	strbuf_add(&b->tail, data, len);
	if (b->tail.len > 2 * KEEP_TAIL) {
		size_t drop = b->tail.len - KEEP_TAIL;
		memmove(b->tail.buf, b->tail.buf + drop, KEEP_TAIL);
		b->tail.len = KEEP_TAIL;
		b->tail.buf[b->tail.len] = '\0';
		b->cut += (int64_t)drop;
	}
}

static char *boundbuf_take(struct boundbuf *b, int64_t *cut)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 0);
	if (b->head.buf) {
		strbuf_add_output(&sb, b->head.buf, b->head.len);
		size_t tlen = b->tail.len, skip = 0;
		if (tlen > KEEP_TAIL) {
			skip = tlen - KEEP_TAIL;
			b->cut += (int64_t)skip;
		}
		if (b->cut)
			strbuf_addf(&sb, "\n[... %lld bytes cut ...]\n", (long long)b->cut);
		strbuf_add_output(&sb, b->tail.buf + skip, tlen - skip);
	}
	*cut = b->cut;
	strbuf_release(&b->head);
	strbuf_release(&b->tail);
	b->cut = 0;
	return strbuf_detach(&sb);
}

enum task_state { T_IDLE, T_RUNNING, T_WAIT_RETRY, T_DONE };

struct engine;

struct task {
	struct engine *e;
	int pi, si;			/* phase index, index into the phase's step records */
	const struct rb_step *def;
	struct step_rec *rec;
	enum task_state state;
	int attempt;
	int attempt_base;		/* attempts before this resume: retries count from here */
	struct attempt_rec att;
	struct proc *proc;		/* the attempt's process (sh steps), owned */
	int64_t first_mono, attempt_mono, retry_at_mono;
	struct boundbuf out;		/* Lua steps: log() and sh() output */
	int stopped_for_abort;
	int start_pending;		/* the attempt's start is not in the history yet */
	int64_t start_due;		/* mono ns: commit it then if still running */
	struct rstep *rstep;		/* a remote step's attempt in flight (SPEC 8), owned */
	size_t *rhost;			/* its hosts' indexes into rec->hosts, owned */
};

struct engine {
	struct luahost *host;
	struct runbook *rb;
	struct store *st;
	const struct engine_opts *o;
	const struct engine_hooks *hk;
	struct procset *ps;
	struct run_rec *run;
	int64_t start_mono, start_wall;
	char **env_base;		/* environ without overridden names, plus params */
	size_t nenv_base;
	struct task *lua_task;		/* the step whose Lua code runs now */
	struct task **services;		/* running service steps, heap allocated */
	size_t nservices;
	int in_cleanup;			/* cleanup/rollback-on-abort: aborts do not stop steps */
	int rp_set;
	int failed;			/* a step finally failed */
	int aborted;			/* signal number once the abort was acted on */
	int store_failed;
	char *state_json;		/* ctx.state as last encoded, owned */
	int64_t requests_checked_ns;	/* when pending requests were last read */
	struct task *manual_task;	/* the manual step waiting for a person */
	enum manual_answer remote_answer;
	char *remote_who;		/* who answered from elsewhere, owned */
	struct task *paused_task;	/* a failed step waiting for retry/skip/fail */
	char *pause_decision;		/* "retry", "skip" or "fail", owned */
	char *pause_who;
	unsigned long state_gen;	/* luahost_generation() when it was */
	int lock_fd;
	int run_lock_fd;		/* runlock: says we are alive */
	int resuming;			/* continuing an interrupted run: keep what finished */
	char *run_lock_dir;
	int cur_phase;			/* the phase running now (for its live budget), -1 */
	int64_t cur_phase_mono;		/* when its clock started */
	unsigned char *over_alerted;	/* per phase: phase_over_budget was sent */
	int rto_alerted;		/* rto_at_risk was sent */
	enum status resumed_from;	/* the run's status before this resume */
	int resumed_exit;		/* and its exit code then */
	unsigned char *rolled_back;	/* per phase: its rollback ran before this resume */
	char **masked;			/* values given to mask(), owned */
	size_t nmasked;
	struct remote *remote;		/* ssh connections, made at the first remote step */
};

static int64_t wall_now(struct engine *e)
{
	return e->start_wall + (clock_mono_ns() - e->start_mono) / 1000000;
}

static int64_t mono_to_wall(struct engine *e, int64_t mono)
{
	return e->start_wall + (mono - e->start_mono) / 1000000;
}

static void emit(struct engine *e, enum engine_event_type type, int pi, int si)
{
	if (!e->hk || !e->hk->event)
		return;
	struct engine_event ev = { .type = type, .run = e->run, .phase = pi, .step = si };
	e->hk->event(e->hk->ud, &ev);
}

/*
 * Secrets out of a string the run keeps or shows (s is consumed). Without
 * secrets this costs a test, so the hot path stays as it was.
 */
static char *scrub(struct engine *e, char *s)
{
	if (!e->o->redactor || !s)
		return s;
	char *r = redact_string(e->o->redactor, s);
	free(s);
	return r;
}

/* Queues a webhook event (notify.h): an insert, never a wait. */
/* The secrets by name and the masked values, for the placeholders resume needs. */
static struct secretref secret_refs(struct engine *e)
{
	struct secretref r = { e->o->secret_names, e->o->secret_values, e->o->nsecret_names,
			       (const char *const *)e->masked, e->nmasked };
	return r;
}

/* JSON the history keeps for resume (params, ctx.state): secrets as named placeholders. */
static char *hide_secrets(struct engine *e, char *json)
{
	if (!json || (!e->o->nsecret_names && !e->nmasked))
		return json;
	struct secretref refs = secret_refs(e);
	char *hidden = secretref_hide(&refs, json);
	free(json);
	return hidden;
}

static void notify(struct engine *e, enum config_event ev, int pi, int si, const char *fmt, ...)
	LB_PRINTF(5, 6);
static void notify(struct engine *e, enum config_event ev, int pi, int si, const char *fmt, ...)
{
	if (!e->o->notifier)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *text = xvasprintf(fmt, ap);
	va_end(ap);
	notify_event(e->o->notifier, e->st, ev, e->run, pi, si, text);
	free(text);
}

static void message(struct engine *e, int level, int pi, int si, const char *fmt, ...)
	LB_PRINTF(5, 6);
static void message(struct engine *e, int level, int pi, int si, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = scrub(e, xvasprintf(fmt, ap));
	va_end(ap);
	if (e->hk && e->hk->event) {
		struct engine_event ev = { .type = EV_MESSAGE, .run = e->run, .phase = pi, .step = si,
					   .data = text, .len = strlen(text), .level = level };
		e->hk->event(e->hk->ud, &ev);
	}
	free(text);
}

/*
 * A failed history write is reported once; the run goes on (the recovery
 * matters more), and ends with exit 7 saying it was not recorded.
 */
static void stored(struct engine *e, int rc)
{
	if (rc && !e->store_failed) {
		e->store_failed = 1;
		message(e, 2, -1, -1, "cannot write the history: %s", store_error(e->st));
		if (e->run && !e->run->unrecorded)
			e->run->unrecorded = xstrdup(store_error(e->st));
	}
}

/*
 * An audit entry for what just happened; detail (taken over, NULL: none) is
 * built with jansson, text from outside through lbjson_string (lib/json.h).
 */
static void audit(struct engine *e, const char *event, const char *who, json_t *detail)
{
	char *text = detail ? lbjson_dump(detail) : NULL;
	stored(e, store_audit_append(e->st, e->run->id, event, who ? who : e->o->operator,
				     (long)getuid(), text));
	free(text);
}

/* A JSON string literal of s, for audit details. */
static char *jstr(const char *s)
{
	return lbjson_quote(s);
}

static int allowed(struct engine *e, const char *action, const char *role, const char *who,
		   char **why)
{
	*why = NULL;
	if (!e->o->authorize)
		return 1;
	return e->o->authorize(e->o->authorize_ud, action, role, who, why);
}

static int step_matches(struct task *t, const char *name)
{
	return !name || !*name || !strcmp(name, t->def->name);
}

/* Answers what other terminals asked for: notes, aborts, confirmations, retry/skip. */
static void handle_requests(struct engine *e)
{
	struct request *rq = NULL;
	size_t n = 0;
	if (store_requests_pending(e->st, e->run->id, &rq, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct request *q = &rq[i];
		const char *who = q->operator ? q->operator : "unknown";
		char *result = NULL, *why = NULL;
		if (!strcmp(q->kind, "note")) {
			if (!q->text || !*q->text) {
				result = xstrdup("refused: the note is empty");
			} else {
				int64_t now = wall_now(e);
				q->text = scrub(e, q->text);
				run_rec_add_note(e->run, now, who, q->text);
				stored(e, store_note_add(e->st, e->run->id, &e->run->notes[e->run->nnotes - 1]));
				audit(e, "note", who, json_pack("{s:o}", "text", lbjson_string(q->text)));
				struct engine_event ev = { .type = EV_NOTE, .run = e->run, .phase = -1,
							   .step = -1, .data = q->text,
							   .len = strlen(q->text) };
				if (e->hk && e->hk->event)
					e->hk->event(e->hk->ud, &ev);
				result = xstrdup("noted");
			}
		} else if (!strcmp(q->kind, "abort")) {
			if (!allowed(e, "abort", NULL, who, &why)) {
				result = xasprintf("refused: %s", why);
			} else {
				audit(e, "abort", who, NULL);
				message(e, 1, -1, -1, "abort requested by %s", who);
				abort_remote = 1;
				engine_request_abort(SIGINT);
				result = xstrdup("aborting");
			}
		} else if (!strcmp(q->kind, "confirm") || !strcmp(q->kind, "decline")) {
			struct task *t = e->manual_task;
			int confirm = !strcmp(q->kind, "confirm");
			if (!t || e->remote_answer != MANUAL_PENDING) {
				result = xstrdup("refused: no manual step is waiting");
			} else if (!step_matches(t, q->step)) {
				result = xasprintf("refused: step '%s' is not waiting; '%s' is", q->step,
						   t->def->name);
			} else if (!allowed(e, q->kind, t->def->role, who, &why)) {
				result = xasprintf("refused: %s", why);
				audit(e, "refused", who, json_pack("{s:o, s:o}", "action", lbjson_string(q->kind),
								   "step", lbjson_string(t->def->name)));
			} else {
				e->remote_answer = confirm ? MANUAL_CONFIRMED : MANUAL_DECLINED;
				free(e->remote_who);
				e->remote_who = xstrdup(who);
				result = xasprintf("%s '%s'", confirm ? "confirmed" : "declined", t->def->name);
			}
		} else if (!strcmp(q->kind, "retry") || !strcmp(q->kind, "skip") ||
			   !strcmp(q->kind, "fail")) {
			struct task *t = e->paused_task;
			if (!t || e->pause_decision) {
				result = xstrdup("refused: no failed step is waiting for a decision");
			} else if (!step_matches(t, q->step)) {
				result = xasprintf("refused: step '%s' is not waiting; '%s' is", q->step,
						   t->def->name);
			} else if (!allowed(e, q->kind, t->def->role, who, &why)) {
				result = xasprintf("refused: %s", why);
			} else {
				e->pause_decision = xstrdup(q->kind);
				free(e->pause_who);
				e->pause_who = xstrdup(who);
				result = xasprintf("%s '%s'", q->kind, t->def->name);
			}
		} else {
			result = xasprintf("refused: unknown request '%s'", q->kind);
		}
		stored(e, store_request_done(e->st, q->id, result));
		free(result);
		free(why);
		request_release(q);
	}
	free(rq);
}

/* Acts on an abort signal once: stops every running step (not during cleanup). */
static void check_abort(struct engine *e, struct task *tasks, size_t n)
{
	if (!abort_signal)
		return;
	if (!e->aborted) {
		e->aborted = abort_signal;
		message(e, 1, -1, -1, "%s received: stopping the run",
			abort_signal == SIGINT ? "SIGINT" : abort_signal == SIGTERM ? "SIGTERM" :
			abort_signal == SIGHUP ? "SIGHUP" : "abort");
	}
	int hard = e->in_cleanup ? abort_count >= 3 : abort_count >= 2;
	if (e->in_cleanup && !hard)
		return;
	for (size_t i = 0; i < n; i++)
		if (tasks[i].proc && proc_state(tasks[i].proc) != PROC_DONE &&
		    (!tasks[i].stopped_for_abort || hard)) {
			tasks[i].stopped_for_abort = 1;
			proc_stop(tasks[i].proc, hard);
		}
	for (size_t i = 0; i < n; i++)
		if (tasks[i].rstep && (!tasks[i].stopped_for_abort || hard)) {
			tasks[i].stopped_for_abort = 1;
			rstep_stop(tasks[i].rstep, hard);
		}
}

static void over_budget_alert(struct engine *e, int pi, double elapsed);

/* Serves processes for up to ms; -1 when the run has been aborted (outside cleanup). */
static int serve(struct engine *e, int ms)
{
	if (ms < 0 || ms > 1000)
		ms = 1000;	/* requests are read at least once a second */
	procset_poll(e->ps, ms);
	int64_t now = clock_mono_ns();
	if (atomic_exchange(&wake_requested, 0) || now - e->requests_checked_ns >= REQUEST_POLL_NS) {
		e->requests_checked_ns = now;
		handle_requests(e);
		}
	for (size_t i = 0; i < e->nservices; i++) {
		struct task *t = e->services[i];
		if (t->state == T_RUNNING && proc_state(t->proc) == PROC_DONE) {
			t->state = T_DONE;
			const struct proc_result *r = proc_result(t->proc);
			if (!e->in_cleanup)	/* a cleanup step stopping it is what cleanup is for */
				message(e, 1, t->pi, t->si,
					"service '%s' exited with code %d while the run went on",
					t->def->name, r->code);
		}
	}
	if (e->o->notifier && e->cur_phase >= 0) {
		double budget = e->run->phases[e->cur_phase].budget_s;
		double elapsed = (double)(now - e->cur_phase_mono) / 1e9;
		if (!isnan(budget) && elapsed > budget)
			over_budget_alert(e, e->cur_phase, elapsed);
	}
	if (abort_signal && !e->aborted)
		check_abort(e, NULL, 0);
	return abort_signal && !e->in_cleanup ? -1 : 0;
}


/* ------------------------------------------------------------------------ */
/* step environment and commands */

static char **step_env(struct engine *e, struct task *t)
{
	char **env = xcalloc(e->nenv_base + 6, sizeof(char *));
	memcpy(env, e->env_base, e->nenv_base * sizeof(char *));
	size_t n = e->nenv_base;
	env[n++] = xasprintf("LIFEBOAT_PHASE=%s", e->run->phases[t->pi].name);
	env[n++] = xasprintf("LIFEBOAT_STEP=%s", t->def->name);
	env[n] = NULL;
	return env;
}

static void step_env_free(struct engine *e, char **env)
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

static void env_base_build(struct engine *e)
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

static char **shell_argv(struct engine *e, const struct rb_step *def, const char *cmd)
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

static void on_output(void *ud, enum proc_stream stream, const char *data, size_t len)
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
static void keep_lua_output(struct engine *e, struct task *t, const char *data, size_t len)
{
	if (!e->o->redactor) {
		boundbuf_add(&t->out, data, len);
		return;
	}
	size_t n;
	char *red = redact_bytes(e->o->redactor, data, len, &n);
	boundbuf_add(&t->out, red, n);
	free(red);
}

static double step_timeout(struct engine *e, const struct rb_step *def)
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
	char *jn = jstr(t->def->name), *jp = jstr(e->run->phases[t->pi].name);
	char *detail = xasprintf("{\"phase\":%s,\"step\":%s,\"attempt\":%d}", jp, jn,
				 t->attempt);
	stored(e, store_audit_append_at(e->st, t->att.started_ms, e->run->id, "step_started",
					e->o->operator, (long)getuid(), detail));
	free(detail);
	free(jn);
	free(jp);
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
static void start_commit(struct task *t)
{
	if (!t->start_pending)
		return;
	store_unit_begin(t->e->st);
	start_write(t);
	stored(t->e, store_unit_end(t->e->st));
}

static void attempt_begin(struct task *t)
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

static void step_done(struct task *t, enum status st)
{
	step_done_with(t, st, NULL);
}

/*
 * A failed step in the console: wait for a person to retry it, skip it or
 * let it fail. Returns 1 retry, 2 skip, 0 fail (or aborted).
 */
static int pause_for_decision(struct task *t)
{
	struct engine *e = t->e;
	start_commit(t);
	stored(e, store_attempt_save(e->st, e->run->id, t->pi, t->si, &t->att));
	/* whoever shows the pause shows why: the attempt's error is the step's for now */
	free(t->rec->error);
	t->rec->error = xstrdup(t->att.error);
	e->paused_task = t;
	free(e->pause_decision);
	e->pause_decision = NULL;
	emit(e, EV_STEP_PAUSED, t->pi, t->si);
	while (!e->pause_decision)
		if (serve(e, 100) < 0)
			break;
	e->paused_task = NULL;
	int r = 0;
	if (e->pause_decision) {
		const char *d = e->pause_decision;
		audit(e, d, e->pause_who, json_pack("{s:o}", "step", lbjson_string(t->def->name)));
		r = !strcmp(d, "retry") ? 1 : !strcmp(d, "skip") ? 2 : 0;
		if (r)
			message(e, 0, t->pi, t->si, "%s: %s by %s", t->def->name,
				r == 1 ? "retried" : "skipped", e->pause_who);
	}
	return r;
}

/*
 * Ends the current attempt. Returns 1 when another attempt should follow
 * (the task then waits for its retry delay), 0 when the step is finished.
 */
static int attempt_end(struct task *t, enum status st, int exit_code, char *error,
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
		case 1:
			retry = 1;
			break;
		case 2:
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

static int remote_start(struct task *t);

static int sh_start(struct task *t)
{
	struct engine *e = t->e;
	if (RB_STEP_REMOTE(t->def))
		return remote_start(t);
	attempt_begin(t);
	char *cmd = NULL, *err = NULL;
	if (luahost_eval(e->host, &t->def->value, 0, step_timeout(e, t->def), &cmd, &err)) {
		attempt_end(t, ST_FAILED, -1, xasprintf("sh: %s", err), NULL, 0);
		free(err);
		return -1;
	}
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
static void sh_finish(struct task *t)
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

static int remote_start(struct task *t)
{
	struct engine *e = t->e;
	attempt_begin(t);
	char *cmd = NULL, *err = NULL;
	if (luahost_eval(e->host, &t->def->value, 0, step_timeout(e, t->def), &cmd, &err)) {
		attempt_end(t, ST_FAILED, -1, xasprintf("sh: %s", err), NULL, 0);
		free(err);
		return -1;
	}
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
static int remote_progress(struct task *t)
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
static void remote_finish(struct task *t)
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
static int lua_ssh(void *eng, const char *host, const char *cmd, double timeout_s, struct lua_sh_result *res,
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
	int stopped = 0;
	while (!rinst_poll(in)) {
		if (serve(e, 200) < 0) {
			int want = abort_count >= 2 ? 2 : 1;
			if (want > stopped) {
				rinst_stop(in, want == 2);
				stopped = want;
			}
		}
	}
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
			boundbuf_add(&t->out, "\n", 1);
			keep_lua_output(e, t, err, strlen(err));
			boundbuf_add(&t->out, "\n", 1);
			keep_lua_output(e, t, trace, strlen(trace));
			boundbuf_add(&t->out, "\n", 1);
		}
	}
	free(err);
	free(trace);
	int64_t cut;
	char *out = boundbuf_take(&t->out, &cut);
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
	if (a == MANUAL_CONFIRMED || a == MANUAL_DECLINED) {
		audit(e, a == MANUAL_CONFIRMED ? "confirm" : "decline", who,
		      json_pack("{s:o}", "step", lbjson_string(t->def->name)));
	}
	double waited = (double)(clock_mono_ns() - waited_from) / 1e9;
	t->rec->human_wait_s += waited;
	enum status st;
	char *error = NULL, *out;
	switch (a) {
	case MANUAL_CONFIRMED:
		st = ST_SUCCEEDED;
		free(t->rec->confirmed_by);
		t->rec->confirmed_by = xstrdup(who ? who : e->o->operator);
		out = xasprintf("%s\nconfirmed by %s after %.1fs\n", text, t->rec->confirmed_by, waited);
		break;
	case MANUAL_DECLINED:
		st = ST_DECLINED;
		error = xasprintf("declined by %s%s%s", who ? who : e->o->operator, why ? ": " : "",
				  why ? why : "");
		out = xasprintf("%s\n%s\n", text, error);
		break;
	case MANUAL_ABORTED:
		st = ST_INTERRUPTED;
		error = xstrdup("stopped: the run was aborted");
		out = xstrdup(text);
		break;
	default:
		st = timeout > 0 && clock_mono_ns() >= req.deadline_mono_ns ? ST_TIMED_OUT : ST_FAILED;
		error = why ? xstrdup(why) :
			xstrdup("this manual step needs a person: run with --yes to confirm it automatically, or use `lifeboat console`");
		out = xasprintf("%s\n%s\n", text, error);
		break;
	}
	free(who);
	free(why);
	free(text);
	attempt_end(t, st, -1, error, out, 0);
}

/* A service step succeeds once its process is still alive after ready_after. */
static void service_attempt(struct task *t)
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

static void task_attempt(struct task *t)
{
	if (is_async(t->def))
		sh_start(t);
	else
		inline_attempt(t);
}

/* ------------------------------------------------------------------------ */
/* phases */

/* A step record made ready to run again; its attempts stay in the history. */
static void step_reset(struct step_rec *r)
{
	r->status = ST_PENDING;
	r->started_ms = TS_NONE;
	r->ended_ms = TS_NONE;
	r->duration_s = NAN;
}

/*
 * A step of the phase a crash interrupted: finished ones are kept, the one
 * in flight gets its attempt recorded as interrupted and runs again (its
 * attempt count goes on).
 */
static void resume_task(struct task *t)
{
	struct engine *e = t->e;
	struct step_rec *r = t->rec;
	switch (r->status) {
	case ST_SUCCEEDED:
	case ST_SKIPPED:
	case ST_FAILED:
	case ST_TIMED_OUT:
	case ST_DECLINED:
		t->state = T_DONE;
		break;
	case ST_RUNNING:
	case ST_INTERRUPTED: {
		struct attempt_rec a = { 0 };
		a.attempt = r->attempts > 0 ? r->attempts : 1;
		a.status = ST_INTERRUPTED;
		a.started_ms = r->started_ms;
		a.ended_ms = wall_now(e);
		a.duration_s = NAN;
		a.exit_code = -1;
		a.error = "interrupted: lifeboat stopped while the step ran; resumed";
		stored(e, store_attempt_save(e->st, e->run->id, t->pi, t->si, &a));
		r->status = ST_INTERRUPTED;
		stored(e, store_step_save(e->st, e->run->id, t->pi, t->si, r));
		t->attempt = r->attempts;
		message(e, 1, t->pi, t->si, "step '%s' was in flight when lifeboat stopped: running it again",
			t->def->name);
		break;
	}
	default:
		/* to run again after a failure or an abort: its earlier attempts stay, numbered on */
		t->attempt = t->attempt_base = r->attempts;
		break;
	}
}

/*
 * Runs steps [0, n) of phase pi whose records start at rec_offset, up to
 * `parallel` at once. Returns 0 when all succeeded (or failed with
 * continue_on_error), 1 when one finally failed, 2 when aborted.
 */
static int run_steps(struct engine *e, int pi, const struct rb_step *defs, size_t n,
		     size_t rec_offset, int parallel, int keep_going)
{
	struct task *tasks = xcalloc(n ? n : 1, sizeof(*tasks));
	for (size_t i = 0; i < n; i++) {
		tasks[i].e = e;
		tasks[i].pi = pi;
		tasks[i].si = (int)(rec_offset + i);
		tasks[i].def = &defs[i];
		tasks[i].rec = &e->run->phases[pi].steps[rec_offset + i];
		tasks[i].state = T_IDLE;
		if (e->resuming)
			resume_task(&tasks[i]);
	}
	size_t next = 0, lo = 0;	/* tasks before lo are done: the scan stays O(active) */
	int failed = 0, aborted = 0;
	for (;;) {
		if (abort_signal && !e->in_cleanup) {
			aborted = 1;
			check_abort(e, tasks, n);
		} else if (abort_signal) {
			check_abort(e, tasks, n);
		}
		int active = 0;
		int64_t now = clock_mono_ns(), wake = 0;
		while (lo < next && tasks[lo].state == T_DONE)
			lo++;
		for (size_t i = lo; i < next; i++) {
			struct task *t = &tasks[i];
			if (t->state == T_RUNNING && t->proc && proc_state(t->proc) == PROC_DONE)
				sh_finish(t);
			if (t->state == T_RUNNING && t->start_pending) {
				if (now >= t->start_due)
					start_commit(t);
				else if (!wake || t->start_due < wake)
					wake = t->start_due;
			}
			if (t->state == T_RUNNING && t->rstep && remote_progress(t))
				remote_finish(t);
			if (t->state == T_WAIT_RETRY) {
				if (aborted) {
					step_done(t, ST_INTERRUPTED);
				} else if (now >= t->retry_at_mono) {
					task_attempt(t);
				}
				/* an inline step may have failed again at once: wait for its next try */
				if (t->state == T_WAIT_RETRY && (!wake || t->retry_at_mono < wake))
					wake = t->retry_at_mono;
			}
			if (t->state == T_DONE && !t->def->continue_on_error && !keep_going &&
			    t->rec->status != ST_SUCCEEDED && t->rec->status != ST_INTERRUPTED &&
			    t->rec->status != ST_SKIPPED)
				failed = 1;
			if (t->state == T_RUNNING || t->state == T_WAIT_RETRY)
				active++;
		}
		while (!failed && !aborted && next < n && active < parallel) {
			struct task *t = &tasks[next++];
			if (t->state == T_DONE) {
				/* finished before the crash that this run resumes from */
				if (!t->def->continue_on_error && !keep_going &&
				    t->rec->status != ST_SUCCEEDED && t->rec->status != ST_SKIPPED)
					failed = 1;
				continue;
			}
			if (keep_going && rec_offset)
				crash_point("during_rollback");
			task_attempt(t);
			if (t->state == T_RUNNING && t->start_pending &&
			    (!wake || t->start_due < wake))
				wake = t->start_due;
			if (t->state == T_RUNNING || t->state == T_WAIT_RETRY)
				active++;
			else if (!t->def->continue_on_error && !keep_going &&
				 t->rec->status != ST_SUCCEEDED && t->rec->status != ST_SKIPPED)
				failed = 1;
			if (t->state == T_WAIT_RETRY && (!wake || t->retry_at_mono < wake))
				wake = t->retry_at_mono;
		}
		if (!active && (failed || aborted || next >= n))
			break;
		int ms = -1;
		if (wake) {
			int64_t d = (wake - clock_mono_ns()) / 1000000;
			ms = d < 0 ? 0 : d > 1000 ? 1000 : (int)d + 1;
		}
		if (active)
			serve(e, ms);
	}
	/* steps never started stay pending; the caller marks them skipped */
	for (size_t i = 0; i < n; i++) {
		attempt_rec_release(&tasks[i].att);
		rstep_free(tasks[i].rstep);
		free(tasks[i].rhost);
	}
	free(tasks);
	if (aborted || (abort_signal && !e->in_cleanup))
		return 2;
	return failed ? 1 : 0;
}

/*
 * rto_at_risk (SPEC 4), judged at phase boundaries until service is
 * restored: the time since t0 plus the budgets of the recovery phases still
 * to run (from `from`, up to the restoring one) no longer fits in the RTO.
 * Sent once per run.
 */
static void check_rto_risk(struct engine *e, size_t from)
{
	struct run_rec *r = e->run;
	if (!e->o->notifier || e->rto_alerted || isnan(r->rto_target_s) ||
	    r->incident_ms == TS_NONE || r->restored_ms != TS_NONE || e->rb->restoring < 0)
		return;
	double elapsed = (double)(wall_now(e) - r->incident_ms) / 1000.0, left = 0;
	for (size_t i = from; i <= (size_t)e->rb->restoring && i < e->rb->nphases; i++) {
		const struct rb_phase *d = &e->rb->phases[i];
		if (RB_PHASE_RECOVERY(d) && !isnan(d->budget_s))
			left += d->budget_s;
	}
	if (elapsed + left <= r->rto_target_s)
		return;
	e->rto_alerted = 1;
	char a[32], b[32], c[32];
	if (elapsed > r->rto_target_s)
		notify(e, CONFIG_EVENT_RTO_AT_RISK, -1, -1,
		       "the RTO of %s is missed: %s since the incident and service is not restored yet",
		       duration_format(r->rto_target_s, a, sizeof(a)), duration_format(elapsed, b, sizeof(b)));
	else
		notify(e, CONFIG_EVENT_RTO_AT_RISK, -1, -1,
		       "the RTO is at risk: the remaining phases' budgets (%s) no longer fit in the %s left before the RTO of %s",
		       duration_format(left, a, sizeof(a)),
		       duration_format(r->rto_target_s - elapsed, b, sizeof(b)),
		       duration_format(r->rto_target_s, c, sizeof(c)));
}

/* phase_over_budget, once per phase: as soon as serve() sees it, or at the latest at its end. */
static void over_budget_alert(struct engine *e, int pi, double elapsed)
{
	struct phase_rec *p = &e->run->phases[pi];
	if (!e->o->notifier || e->over_alerted[pi])
		return;
	e->over_alerted[pi] = 1;
	char a[32], b[32];
	notify(e, CONFIG_EVENT_PHASE_OVER_BUDGET, pi, -1, "phase '%s' is over its budget of %s (%s so far)",
	       p->name, duration_format(p->budget_s, a, sizeof(a)), duration_format(elapsed, b, sizeof(b)));
}

static void phase_begin(struct engine *e, int pi)
{
	struct phase_rec *p = &e->run->phases[pi];
	p->status = ST_RUNNING;
	p->started_ms = wall_now(e);
	stored(e, store_phase_save(e->st, e->run->id, pi, p));
	emit(e, EV_PHASE_STARTED, pi, -1);
	e->cur_phase = pi;
	e->cur_phase_mono = clock_mono_ns();
	if (e->o->notifier) {
		char b[32];
		notify(e, CONFIG_EVENT_PHASE_STARTED, pi, -1, "phase '%s' started (role %s, budget %s)",
		       p->name, p->role ? p->role : "-",
		       isnan(p->budget_s) ? "none" : duration_format(p->budget_s, b, sizeof(b)));
		if (!p->fault && !p->cleanup && !p->probe)
			check_rto_risk(e, (size_t)pi);
	}
}

static void phase_end(struct engine *e, int pi, enum status st, int64_t started_mono)
{
	struct phase_rec *p = &e->run->phases[pi];
	int64_t now = clock_mono_ns();
	p->status = st;
	p->ended_ms = mono_to_wall(e, now);
	p->duration_s = (double)(now - started_mono) / 1e9;
	p->human_wait_s = 0;
	for (size_t i = 0; i < p->nsteps; i++) {
		p->human_wait_s += p->steps[i].human_wait_s;
		if (p->steps[i].status == ST_PENDING)
			p->steps[i].status = ST_SKIPPED;
	}
	p->over_budget = !isnan(p->budget_s) && p->duration_s > p->budget_s;
	store_unit_begin(e->st);
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].status == ST_SKIPPED && p->steps[i].started_ms == TS_NONE)
			stored(e, store_step_save(e->st, e->run->id, pi, (int)i, &p->steps[i]));
	stored(e, store_phase_save(e->st, e->run->id, pi, p));
	stored(e, store_unit_end(e->st));
	emit(e, EV_PHASE_FINISHED, pi, -1);
	e->cur_phase = -1;
	if (p->over_budget)
		over_budget_alert(e, pi, p->duration_s);
	if (!p->fault && !p->cleanup && !p->probe && st == ST_SUCCEEDED)
		check_rto_risk(e, (size_t)pi + 1);
}

static void phase_skip(struct engine *e, int pi)
{
	struct phase_rec *p = &e->run->phases[pi];
	p->status = ST_SKIPPED;
	store_unit_begin(e->st);	/* the phase and its steps, as the final report says */
	for (size_t i = 0; i < p->nsteps; i++) {
		p->steps[i].status = ST_SKIPPED;
		stored(e, store_step_save(e->st, e->run->id, pi, (int)i, &p->steps[i]));
	}
	stored(e, store_phase_save(e->st, e->run->id, pi, p));
	stored(e, store_unit_end(e->st));
	emit(e, EV_PHASE_FINISHED, pi, -1);
}

/* Runs phase pi fully (steps, and the rollback when a step finally fails). */
static int run_phase(struct engine *e, int pi)
{
	const struct rb_phase *def = &e->rb->phases[pi];
	int64_t started = clock_mono_ns();
	struct phase_rec *pr = &e->run->phases[pi];
	if (e->resuming && pr->started_ms != TS_NONE) {
		/* resumed mid-phase: its clock started before the crash, the gap included */
		started = e->start_mono - (e->start_wall - pr->started_ms) * 1000000;
		pr->status = ST_RUNNING;
		stored(e, store_phase_save(e->st, e->run->id, pi, pr));
		emit(e, EV_PHASE_STARTED, pi, -1);
		e->cur_phase = pi;
		e->cur_phase_mono = started;
	} else {
		phase_begin(e, pi);
	}
	int rc = run_steps(e, pi, def->steps, def->nsteps, 0, def->parallel, 0);
	enum status st = rc == 0 ? ST_SUCCEEDED : rc == 2 ? ST_INTERRUPTED : ST_FAILED;
	int rollback = def->nrollback && (rc == 1 || (rc == 2 && def->rollback_on_abort));
	if (rollback) {
		message(e, 1, pi, -1, "phase '%s' %s: running its rollback", def->name,
			rc == 2 ? "was aborted" : "failed");
		int was = e->in_cleanup;
		e->in_cleanup = 1;
		luahost_set_abort_flag(e->host, NULL);
		if (e->rolled_back && e->rolled_back[pi]) {
			/* the rollback of the earlier stop is history: this failure gets its own */
			for (size_t j = 0; j < def->nrollback; j++)
				step_reset(&pr->steps[def->nsteps + j]);
			e->rolled_back[pi] = 0;
		}
		run_steps(e, pi, def->rollback, def->nrollback, def->nsteps, 1, 1);
		e->in_cleanup = was;
		luahost_set_abort_flag(e->host, engine_abort_flag());
		st = ST_ROLLED_BACK;
	}
	phase_end(e, pi, st, started);
	crash_point("between_phases");
	return rc;
}

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
	int stopped = 0;	/* 1: TERM sent, 2: KILL sent (a second Ctrl-C) */
	while (proc_state(p) != PROC_DONE) {
		if (serve(e, -1) < 0) {
			int want = abort_count >= 2 ? 2 : 1;
			if (want > stopped) {
				proc_stop(p, want == 2);
				stopped = want;
			}
		}
	}
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
	boundbuf_add(&t->out, text, len);
	boundbuf_add(&t->out, "\n", 1);
	on_output(t, PROC_STDOUT, text, len);
	on_output(t, PROC_STDOUT, "\n", 1);
	free(red);
}

static int lua_recovery_point(void *eng, int64_t ms, char **errmsg)
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

static const struct lua_engine_ops lua_ops = {
	.sh = lua_sh, .ssh = lua_ssh, .log = lua_log, .recovery_point = lua_recovery_point, .sleep = lua_sleep,
	.notify = lua_notify, .mask = lua_mask,
};

/* ------------------------------------------------------------------------ */
/* the run */

static struct run_rec *record_new(struct engine *e)
{
	const struct runbook *rb = e->rb;
	const struct engine_opts *o = e->o;
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	char id[17];
	random_hex(id, 12);
	r->id = xstrdup(id);
	r->runbook = xstrdup(rb->name);
	r->file = xstrdup(rb->abspath);
	r->sha256 = xstrdup(rb->sha256);
	r->signed_by = rb->signed_by[0] ? xstrdup(rb->signed_by) : NULL;
	r->mode = xstrdup(o->mode);
	r->trigger = xstrdup(o->trigger ? o->trigger : "cli");
	r->env = xstrdup(o->env);
	r->operator = xstrdup(o->operator);
	r->uid = (long)getuid();
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	r->host = xstrdup(host);
	r->pid = (long)getpid();
	json_t *params = json_object();
	for (size_t i = 0; i < o->nparams; i++)
		json_object_set_new(params, o->params[i].name, json_string(o->params[i].value));
	r->params_json = scrub(e, hide_secrets(e, json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER)));
	json_decref(params);
	r->status = ST_RUNNING;
	r->started_ms = e->start_wall;
	r->rto_target_s = !isnan(o->rto_s) ? o->rto_s : rb->rto_s;
	r->rpo_target_s = !isnan(o->rpo_s) ? o->rpo_s : rb->rpo_s;
	r->strict_budgets = o->strict_budgets;
	r->nphases = rb->nphases;
	r->phases = xcalloc(rb->nphases, sizeof(*r->phases));
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *d = &rb->phases[i];
		struct phase_rec *p = &r->phases[i];
		phase_rec_init(p);
		p->name = xstrdup(d->name);
		p->role = xstrdup(d->role);
		p->budget_s = d->budget_s;
		p->fault = d->fault;
		p->cleanup = d->cleanup;
		p->probe = d->probe;
		p->restores_service = (int)i == rb->restoring;
		p->parallel = d->parallel;
		p->nsteps = d->nsteps + d->nrollback;
		p->steps = xcalloc(p->nsteps ? p->nsteps : 1, sizeof(*p->steps));
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct rb_step *sd = j < d->nsteps ? &d->steps[j] : &d->rollback[j - d->nsteps];
			struct step_rec *s = &p->steps[j];
			step_rec_init(s);
			s->name = xstrdup(sd->name);
			s->kind = xstrdup(step_kind_name(sd->kind));
			s->role = xstrdup(sd->role);
			s->section = j < d->nsteps ? SEC_MAIN : SEC_ROLLBACK;
			s->idempotent = sd->idempotent;
		}
	}
	return r;
}

/*
 * The lock file's name: NAME@ENV.lock, or, when that would not fit in a file
 * name (NAME_MAX is 255 bytes), its first 64 bytes and a hash of the whole, so
 * two long names sharing a prefix still get two locks.
 */
#define LOCK_NAME_MAX 200

static char *lock_file_path(const char *dir, const char *rb_name, const char *env)
{
	struct strbuf name = STRBUF_INIT;
	for (const char *p = rb_name; *p; p++)
		strbuf_addch(&name, (*p == '/' || *p == '.') ? '_' : *p);
	strbuf_addf(&name, "@%s", env ? env : "-");
	if (name.len > LOCK_NAME_MAX) {
		char hex[65];
		sha256_hex(name.buf, name.len, hex);
		name.len = 64;
		name.buf[64] = '\0';
		strbuf_addf(&name, "~%.32s", hex);
	}
	char *path = xasprintf("%s/%s.lock", dir, name.buf);
	strbuf_release(&name);
	return path;
}

/*
 * flock-based exclusive lock per runbook name and environment: the kernel drops
 * it when we die. Returns 0 (locked, or not exclusive), -1 busy (*holder: the
 * run holding it), -2 the lock could not be taken at all (*holder: why): an
 * exclusive runbook never runs unlocked.
 */
static int lock_acquire(struct engine *e, char **holder)
{
	if (!e->rb->exclusive || !e->o->lock_dir)
		return 0;
	if (mkdir(e->o->lock_dir, 0755) && errno != EEXIST) {
		*holder = xasprintf("cannot create the lock folder '%s': %s", e->o->lock_dir, strerror(errno));
		return -2;
	}
	char *path = lock_file_path(e->o->lock_dir, e->rb->name, e->o->env);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		*holder = xasprintf("cannot open the lock file '%s': %s", path, strerror(errno));
		free(path);
		return -2;
	}
	free(path);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			*holder = xasprintf("cannot lock: %s", strerror(errno));
			close(fd);
			return -2;
		}
		char buf[64] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		*holder = xstrdup(buf[0] ? buf : "(unknown)");
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		char line[64];
		int len = snprintf(line, sizeof(line), "%s\n", e->run->id);
		if (pwrite(fd, line, (size_t)len, 0) < 0) {
			/* the lock holds anyway; only the name in it is missing */
		}
	}
	e->lock_fd = fd;
	return 0;
}

static void stop_services(struct engine *e)
{
	for (size_t i = 0; i < e->nservices; i++) {
		struct task *t = e->services[i];
		if (proc_state(t->proc) != PROC_DONE)
			proc_stop(t->proc, 0);
	}
	for (size_t i = 0; i < e->nservices; i++) {
		struct task *t = e->services[i];
		while (proc_state(t->proc) != PROC_DONE)
			procset_poll(e->ps, abort_count >= 2 ? 0 : -1);
		if (t->state == T_RUNNING)
			message(e, 0, t->pi, t->si, "service '%s' stopped", t->def->name);
		/* what the service printed after its step succeeded belongs to the step too */
		int64_t cut = 0;
		char *out = scrub(e, proc_output(t->proc, &cut));
		if (out && (!t->rec->output || strcmp(out, t->rec->output))) {
			free(t->rec->output);
			t->rec->output = out;
			t->rec->output_cut = cut;
			stored(e, store_step_save(e->st, e->run->id, t->pi, t->si, t->rec));
			if (t->rec->status == ST_SUCCEEDED) {
				free(t->rec->output);	/* as for every succeeded step: the history has it */
				t->rec->output = NULL;
			}
		} else {
			free(out);
		}
		proc_free(t->proc);
		attempt_rec_release(&t->att);
		free(t);
	}
	free(e->services);
	e->services = NULL;
	e->nservices = 0;
}

static void judge(struct engine *e)
{
	struct run_rec *r = e->run;
	if (!strcmp(r->mode, "probe")) {
		/* nothing was recovered: the exposure (take_exposure) is this run's RPO verdict */
		free(r->rpo_status);
		r->rpo_status = xstrdup("none");
		for (size_t i = 0; i < r->nphases; i++)
			r->human_wait_s += r->phases[i].human_wait_s;
		return;
	}
	if (r->restored_ms != TS_NONE && r->incident_ms != TS_NONE)
		r->rto_achieved_s = (double)(r->restored_ms - r->incident_ms) / 1000.0;
	if (!isnan(r->rto_target_s))
		r->rto_met = !isnan(r->rto_achieved_s) && r->rto_achieved_s <= r->rto_target_s + 1e-9;
	if (r->recovery_point_ms != TS_NONE && r->incident_ms != TS_NONE)
		/* data newer than t0 (writes went on after the incident) means nothing was lost */
		r->rpo_achieved_s = r->recovery_point_ms >= r->incident_ms ? 0.0 :
				    (double)(r->incident_ms - r->recovery_point_ms) / 1000.0;
	free(r->rpo_status);
	if (isnan(r->rpo_target_s)) {
		r->rpo_status = xstrdup("none");
		r->rpo_met = -1;
	} else if (isnan(r->rpo_achieved_s)) {
		r->rpo_status = xstrdup("unmeasured");
		r->rpo_met = 0;
	} else {
		r->rpo_met = r->rpo_achieved_s <= r->rpo_target_s + 1e-9;
		r->rpo_status = xstrdup(r->rpo_met ? "met" : "missed");
	}
	r->human_wait_s = 0;
	for (size_t i = 0; i < r->nphases; i++)
		r->human_wait_s += r->phases[i].human_wait_s;
}

static int exit_code_of(struct engine *e)
{
	struct run_rec *r = e->run;
	int code = EXIT_OK;
	if (e->aborted)
		code = exit_code_precedence(code, e->aborted == SIGINT ? EXIT_ABORTED : EXIT_TERMINATED);
	if (e->failed)
		code = exit_code_precedence(code, EXIT_STEP_FAILED);
	if (r->rto_met == 0)
		code = exit_code_precedence(code, EXIT_RTO_MISSED);
	if (r->rpo_met == 0 || r->exposure == EXPOSURE_MISSED || r->exposure == EXPOSURE_UNMEASURED)
		code = exit_code_precedence(code, EXIT_RPO_MISSED);
	if (r->strict_budgets)
		for (size_t i = 0; i < r->nphases; i++)
			if (r->phases[i].over_budget && !r->phases[i].cleanup)
				code = exit_code_precedence(code, EXIT_OVER_BUDGET);
	return code;
}

static void take_recovery_point(struct engine *e, int pi)
{
	if (e->rp_set || e->rb->recovery_point_ref == RB_NOREF)
		return;
	int64_t ms;
	char *err = NULL;
	luahost_ctx_where(e->host, e->run->phases[pi].name, NULL);
	if (luahost_recovery_point(e->host, e->rb->recovery_point_ref, &ms, &err)) {
		message(e, 1, pi, -1, "recovery_point: %s; the RPO is unmeasured", err);
		free(err);
		return;
	}
	if (lua_recovery_point(e, ms, &err)) {
		message(e, 1, pi, -1, "recovery_point: %s; the RPO is unmeasured", err);
		free(err);
	}
}

/* A probe run's RPO exposure (SPEC 10): measured, recorded, and sent when over the RPO. */
static void take_exposure(struct engine *e)
{
	struct run_rec *r = e->run;
	char *err = NULL;
	luahost_ctx_where(e->host, NULL, NULL);
	if (probe_exposure_measure(e->host, e->rb, r, wall_now(e), &err)) {
		err = scrub(e, err);
		message(e, 1, -1, -1, "newest_recoverable: %s; the RPO exposure is unmeasured", err);
	}
	stored(e, store_run_save(e->st, r));
	if (r->exposure == EXPOSURE_MISSED || r->exposure == EXPOSURE_UNMEASURED) {
		char a[32], b[32];
		if (r->exposure == EXPOSURE_MISSED)
			notify(e, CONFIG_EVENT_RPO_EXPOSED, -1, -1,
			       "RPO exposed: the newest recoverable backup is %s old, over the RPO of %s",
			       duration_format(r->exposure_s, a, sizeof(a)),
			       duration_format(r->rpo_target_s, b, sizeof(b)));
		else
			notify(e, CONFIG_EVENT_RPO_EXPOSED, -1, -1,
			       "RPO exposure unmeasured (RPO %s): newest_recoverable failed: %s",
			       duration_format(r->rpo_target_s, b, sizeof(b)), err ? err : "no time");
	}
	free(err);
}

static void resume_prepare(struct engine *e);

/* Executes (or continues, when resuming) the run in e->run to the end. */
static int execute(struct engine *e)
{
	struct runbook *rb = e->rb;
	struct store *st = e->st;
	const struct engine_opts *o = e->o;
	struct luahost *host = e->host;
	struct run_rec *r = e->run;
	e->ps = procset_new();
	e->requests_checked_ns = clock_mono_ns();
	env_base_build(e);
	luahost_ctx_init(host, o->params, o->nparams, r->id, o->env, o->operator, r->mode);
	luahost_set_engine(host, &lua_ops, e);
	luahost_set_abort_flag(host, engine_abort_flag());
	e->cur_phase = -1;
	e->over_alerted = xcalloc(rb->nphases + 1, 1);
	if (e->resuming)
		resume_prepare(e);
	emit(e, EV_RUN_STARTED, -1, -1);
	notify(e, CONFIG_EVENT_RUN_STARTED, -1, -1, "%s by %s (trigger %s)",
	       e->resuming ? "run resumed" : !strcmp(r->mode, "drill") ? "drill started" : "run started",
	       o->operator, r->trigger ? r->trigger : "cli");

	int drill = !strcmp(r->mode, "drill"), probe = !strcmp(r->mode, "probe");
	int stop = 0;
	int t0_set = r->incident_ms != TS_NONE;
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *def = &rb->phases[i];
		struct phase_rec *p = &r->phases[i];
		if (def->cleanup)
			continue;
		if (p->status != ST_PENDING && p->status != ST_RUNNING && p->status != ST_INTERRUPTED) {
			/* finished before the crash this run resumes from */
			if (p->status == ST_FAILED || p->status == ST_ROLLED_BACK) {
				e->failed = 1;
				stop = 1;
			}
			continue;
		}
		/* probes before the fault: in a drill (the system must be healthy before we break it) */
		if (((def->fault || def->probe == PROBE_BEFORE) && !drill && !probe) || stop) {
			phase_skip(e, (int)i);
			continue;
		}
		if (!def->fault && def->probe != PROBE_BEFORE && !t0_set) {
			/* t0: the end of the last fault phase in a drill, else the run's start */
			r->incident_ms = drill && i > 0 ? wall_now(e) : r->started_ms;
			t0_set = 1;
			stored(e, store_run_save(st, r));
		}
		int rc = run_phase(e, (int)i);
		if (rc == 1) {
			e->failed = 1;
			stop = 1;
			free(r->error);
			r->error = def->probe == PROBE_BEFORE && drill ?
				   xstrdup("a probe failed before the fault phases: nothing was injected") :
				   def->probe == PROBE_BEFORE ? xstrdup("a probe failed") :
				   def->probe == PROBE_AFTER ? xstrdup("a probe failed after the recovery") :
				   xasprintf("phase '%s' failed", def->name);
		} else if (rc == 2) {
			stop = 1;
		} else if ((int)i == rb->restoring) {
			r->restored_ms = r->phases[i].ended_ms;
			take_recovery_point(e, (int)i);
			stored(e, store_run_save(st, r));
		}
	}
	if (!t0_set)
		r->incident_ms = r->started_ms;
	if (probe && !e->aborted && !abort_signal)
		take_exposure(e);

	/* cleanup phases run whatever happened, outside the RTO */
	e->in_cleanup = 1;
	luahost_set_abort_flag(host, NULL);
	for (size_t i = 0; i < rb->nphases; i++) {
		if (!rb->phases[i].cleanup)
			continue;
		struct phase_rec *p = &r->phases[i];
		if (p->status != ST_PENDING && p->status != ST_RUNNING && p->status != ST_INTERRUPTED)
			continue;
		int64_t started = clock_mono_ns();
		if (e->resuming && p->started_ms != TS_NONE)
			started = e->start_mono - (e->start_wall - p->started_ms) * 1000000;
		phase_begin(e, (int)i);
		int rc = run_steps(e, (int)i, rb->phases[i].steps, rb->phases[i].nsteps, 0,
				   rb->phases[i].parallel, 1);
		int any_failed = 0;
		for (size_t j = 0; j < rb->phases[i].nsteps; j++)
			if (r->phases[i].steps[j].status != ST_SUCCEEDED)
				any_failed = 1;
		if (any_failed)
			message(e, 1, (int)i, -1, "cleanup phase '%s' had failures (the run's verdict does not change)",
				rb->phases[i].name);
		phase_end(e, (int)i, rc == 0 && !any_failed ? ST_SUCCEEDED : ST_FAILED, started);
	}
	stop_services(e);
	/*
	 * A step may have moved a process out of its group (setsid, a daemon);
	 * every step process carries the run's id in its environment, so
	 * nothing of the run outlives it.
	 */
	char *tag = xasprintf("LIFEBOAT_RUN_ID=%s", r->id);
	int escaped = proc_kill_tagged(tag, 1000);
	free(tag);
	if (escaped)
		message(e, 1, -1, -1, "stopped %d process%s a step had left running outside its process group",
			escaped, escaped == 1 ? "" : "es");
	if (abort_signal && !e->aborted)
		e->aborted = abort_signal;

	r->ended_ms = wall_now(e);
	judge(e);
	if (e->aborted)
		r->status = ST_ABORTED;
	else if (e->failed)
		r->status = ST_FAILED;
	else
		r->status = ST_SUCCEEDED;
	if (r->strict_budgets && r->status == ST_SUCCEEDED)
		for (size_t i = 0; i < r->nphases; i++)
			if (r->phases[i].over_budget && !r->phases[i].cleanup) {
				r->status = ST_FAILED;
				free(r->error);
				r->error = xasprintf("phase '%s' went over its budget (--strict-budgets)",
						     r->phases[i].name);
				break;
			}
	if (e->aborted && !r->error)
		r->error = xasprintf("aborted by %s", abort_remote ? "`lifeboat abort`" : e->aborted == SIGINT ? "SIGINT" :
				     e->aborted == SIGTERM ? "SIGTERM" : e->aborted == SIGHUP ? "SIGHUP" : "request");
	r->exit_code = exit_code_of(e);
	r->error = scrub(e, r->error);
	/* SQLite writes on into a deleted file without a word: look for that before the last write */
	stored(e, store_check_file(st));
	stored(e, store_run_save(st, r));
	audit(e, "run_finished", NULL, json_pack("{s:s, s:i}", "status", status_name(r->status),
						  "exit_code", r->exit_code));
	if (e->store_failed)
		r->exit_code = exit_code_precedence(r->exit_code, EXIT_UNRECORDED);
	handle_requests(e);	/* answer what arrived too late, so nobody waits in vain */
	emit(e, EV_RUN_FINISHED, -1, -1);
	if (o->notifier) {
		char a[32], b[32], c[32], d[32];
		notify(e, CONFIG_EVENT_RUN_FINISHED, -1, -1,
		       "%s, exit %d · RTO achieved %s, target %s%s · RPO achieved %s, target %s (%s)",
		       status_name(r->status), r->exit_code,
		       duration_format(r->rto_achieved_s, a, sizeof(a)),
		       duration_format(r->rto_target_s, b, sizeof(b)),
		       r->rto_met == 1 ? " (met)" : r->rto_met == 0 ? " (MISSED)" : "",
		       duration_format(r->rpo_achieved_s, c, sizeof(c)),
		       duration_format(r->rpo_target_s, d, sizeof(d)), r->rpo_status ? r->rpo_status : "none");
	}
	free(e->over_alerted);
	free(e->rolled_back);
	for (size_t i = 0; i < e->nmasked; i++)
		free(e->masked[i]);
	free(e->masked);

	luahost_set_engine(host, NULL, NULL);
	remote_free(e->remote);	/* ssh -O exit: no master outlives the run */
	e->remote = NULL;
	procset_free(e->ps);
	for (size_t i = 0; i < e->nenv_base; i++)
		free(e->env_base[i]);
	free(e->env_base);
	free(e->state_json);
	free(e->remote_who);
	free(e->pause_decision);
	free(e->pause_who);
	runlock_release(e->run_lock_dir, r->id, e->run_lock_fd);
	free(e->run_lock_dir);
	if (e->lock_fd >= 0)
		close(e->lock_fd);
	return r->exit_code;
}

/*
 * Stores the files the runbook's load read (the runbook, its modules) in
 * the history, and returns them as a JSON array for the audit entry (owned).
 */
static char *sources_store(struct engine *e)
{
	size_t n = 0;
	const struct luahost_source *ls = luahost_sources(e->host, &n);
	struct store_source *src = xcalloc(n + 1, sizeof(*src));
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		src[i].path = ls[i].path;
		memcpy(src[i].sha256, ls[i].sha256, sizeof(src[i].sha256));
		src[i].text = ls[i].text;
		src[i].len = ls[i].len;
		src[i].signed_by = ls[i].signed_by[0] ? xstrdup(ls[i].signed_by) : NULL;
		src[i].signature = ls[i].signature;
		json_t *o = json_pack("{s:s, s:s, s:s?}", "path", ls[i].path, "sha256", ls[i].sha256,
				      "signed_by", src[i].signed_by);
		json_array_append_new(arr, o);
	}
	stored(e, store_sources_save(e->st, e->run->id, src, n));
	for (size_t i = 0; i < n; i++)
		free(src[i].signed_by);
	free(src);
	char *text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

int engine_execute(struct luahost *host, struct runbook *rb, struct store *st,
		   const struct engine_opts *o, const struct engine_hooks *hooks,
		   struct run_rec **out)
{
	struct engine eng = { .host = host, .rb = rb, .st = st, .o = o, .hk = hooks, .lock_fd = -1 };
	struct engine *e = &eng;
	e->start_mono = clock_mono_ns();
	e->start_wall = clock_wall_ms();
	e->run = record_new(e);
	struct run_rec *r = e->run;
	*out = r;
	r->incident_ms = o->incident_ms;

	char *holder = NULL;
	int lk = lock_acquire(e, &holder);
	if (lk == -2) {
		r->status = ST_REFUSED;
		r->error = xasprintf("runbook '%s' is exclusive and its lock cannot be taken (%s); fix that, or set exclusive = false to run it unlocked",
				     rb->name, holder);
		r->ended_ms = r->started_ms;
		r->exit_code = EXIT_REFUSED;
		stored(e, store_run_insert(st, r));
		audit(e, "refused", NULL, json_pack("{s:s}", "reason", "lock"));
		free(holder);
		return EXIT_REFUSED;
	}
	if (lk) {
		r->status = ST_REFUSED;
		r->error = xasprintf("runbook '%s' is already running as run %s%s%s; wait for it to finish or stop it with `lifeboat abort %s`",
				     rb->name, holder, o->env ? " in environment " : "",
				     o->env ? o->env : "", holder);
		r->ended_ms = r->started_ms;
		r->exit_code = EXIT_REFUSED;
		stored(e, store_run_insert(st, r));
		audit(e, "refused", NULL, json_pack("{s:s, s:o}", "reason", "busy", "holder", lbjson_string(holder)));
		free(holder);
		return EXIT_REFUSED;
	}
	e->run_lock_dir = runlock_dir(store_path(st));
	e->run_lock_fd = runlock_acquire(e->run_lock_dir, r->id);
	if (store_run_insert(st, r) || store_check_file(st)) {
		/* nothing runs that the history cannot keep (SPEC 3: exit 7) */
		r->status = ST_FAILED;
		r->error = xasprintf("cannot record the run in the history, so nothing ran: %s", store_error(st));
		r->unrecorded = xstrdup(store_error(st));
		r->ended_ms = r->started_ms;
		r->exit_code = EXIT_UNRECORDED;
		runlock_release(e->run_lock_dir, r->id, e->run_lock_fd);
		free(e->run_lock_dir);
		if (e->lock_fd >= 0)
			close(e->lock_fd);
		return EXIT_UNRECORDED;
	}
	char *sources = sources_store(e);
	audit(e, "run_started", NULL,
	      json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "runbook", lbjson_string(rb->name),
			"file", lbjson_string(rb->abspath), "sha256", lbjson_string(rb->sha256),
			"mode", lbjson_string(r->mode), "trigger", lbjson_string(r->trigger),
			"params", r->params_json ? lbjson_parse(r->params_json) : json_object(),
			"signed_by", lbjson_string(r->signed_by), "description", lbjson_string(rb->description),
			"sources", lbjson_parse(sources)));
	free(sources);
	return execute(e);
}

int engine_refuse(struct runbook *rb, struct store *st, const struct engine_opts *o,
		  const char *reason, const char *why, struct run_rec **out)
{
	struct engine eng = { .rb = rb, .st = st, .o = o, .lock_fd = -1 };
	struct engine *e = &eng;
	e->start_mono = clock_mono_ns();
	e->start_wall = clock_wall_ms();
	struct run_rec *r = record_new(e);
	e->run = r;
	*out = r;
	r->incident_ms = o->incident_ms;
	r->status = ST_REFUSED;
	r->error = scrub(e, xstrdup(why));
	r->ended_ms = r->started_ms;
	r->exit_code = EXIT_REFUSED;
	stored(e, store_run_insert(st, r));
	audit(e, "refused", NULL, json_pack("{s:o, s:o, s:o}", "reason", lbjson_string(reason),
					     "env", lbjson_string(o->env ? o->env : ""), "why", lbjson_string(r->error)));
	return EXIT_REFUSED;
}

/* Latest ctx.state, services to start again, the gap: what a resumed run needs first. */
static void resume_prepare(struct engine *e)
{
	struct run_rec *r = e->run;
	const char *state = NULL;
	int64_t newest = TS_NONE, last_activity = r->started_ms;
	for (size_t i = 0; i < r->nphases; i++) {
		struct phase_rec *p = &r->phases[i];
		if (p->started_ms != TS_NONE && p->started_ms > last_activity)
			last_activity = p->started_ms;
		if (p->ended_ms != TS_NONE && p->ended_ms > last_activity)
			last_activity = p->ended_ms;
		for (size_t j = 0; j < p->nsteps; j++) {
			struct step_rec *sr = &p->steps[j];
			if (sr->started_ms != TS_NONE && sr->started_ms > last_activity)
				last_activity = sr->started_ms;
			if (sr->ended_ms == TS_NONE)
				continue;
			if (sr->ended_ms > last_activity)
				last_activity = sr->ended_ms;
			if (sr->state_json && (newest == TS_NONE || sr->ended_ms >= newest)) {
				newest = sr->ended_ms;
				state = sr->state_json;
			}
		}
	}
	char *err = NULL, *missing = NULL;
	struct secretref refs = secret_refs(e);
	char *filled = secretref_fill(&refs, state, &missing);
	if (missing) {
		message(e, 1, -1, -1, "ctx.state kept secret '%s', which is not set now: the state is restored without it",
			missing);
		free(missing);
	}
	if (state && strstr(state, "\"" SECRETREF_MASKED "\""))
		message(e, 1, -1, -1, "ctx.state held values given to mask(): they are never kept, so the resumed run sees \"%s\" in their place",
			SECRETREF_MASKED);
	if ((filled || state) && luahost_state_restore(e->host, filled ? filled : state, &err)) {
		message(e, 1, -1, -1, "cannot restore ctx.state: %s", err);
		free(err);
	}
	free(filled);
	e->rp_set = r->recovery_point_ms != TS_NONE;
	double gap = (double)(e->start_wall - last_activity) / 1000.0;
	char *text = e->resumed_from == ST_FAILED || e->resumed_from == ST_ABORTED ?
		xasprintf("resumed by %s after the run had %s (exit %d): a pause of %.1fs since its last activity",
			  e->o->operator, e->resumed_from == ST_FAILED ? "failed" : "been aborted",
			  e->resumed_exit, gap) :
		xasprintf("resumed by %s after a gap of %.1fs with nothing running (last activity %s)",
			  e->o->operator, gap, "before the interruption");
	run_rec_add_note(r, e->start_wall, e->o->operator, text);
	stored(e, store_note_add(e->st, r->id, &r->notes[r->nnotes - 1]));
	free(text);
	audit(e, "resume", NULL, json_pack("{s:s, s:f}", "was", status_name(e->resumed_from), "gap_s",
					   round(gap * 1000) / 1000));
	/* services a finished step had started died with the old process: start them again */
	for (size_t i = 0; i < e->rb->nphases; i++) {
		const struct rb_phase *d = &e->rb->phases[i];
		for (size_t j = 0; j < d->nsteps; j++) {
			struct step_rec *sr = &r->phases[i].steps[j];
			if (!d->steps[j].service || sr->status != ST_SUCCEEDED)
				continue;
			struct task t = { .e = e, .pi = (int)i, .si = (int)j, .def = &d->steps[j],
					  .rec = sr, .attempt = sr->attempts };
			message(e, 0, (int)i, (int)j, "starting service '%s' again", d->steps[j].name);
			service_attempt(&t);
			attempt_rec_release(&t.att);
		}
	}
}

/*
 * A failed or aborted run made ready to go on (SPEC 3): the phase where it
 * stopped runs again from the step that failed or was stopped (from its
 * first step when its rollback ran, which undid its work), what was skipped
 * because of the stop runs, and so do the cleanup phases. What finished
 * stays finished, a failed continue_on_error step included, and every
 * earlier attempt stays in the history.
 */
static void resume_reset(struct engine *e)
{
	struct run_rec *r = e->run;
	const struct runbook *rb = e->rb;
	e->rolled_back = xcalloc(rb->nphases + 1, 1);
	int stopped = 0;	/* the phase where the run stopped has been seen */
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *d = &rb->phases[i];
		struct phase_rec *p = &r->phases[i];
		if (d->cleanup) {
			p->status = ST_PENDING;
			p->started_ms = TS_NONE;
			for (size_t j = 0; j < p->nsteps; j++)
				step_reset(&p->steps[j]);
			continue;
		}
		if (stopped || p->status == ST_PENDING) {
			/* skipped because of the stop (or never reached): runs now */
			if (p->status == ST_SKIPPED || p->status == ST_PENDING) {
				p->status = ST_PENDING;
				p->started_ms = TS_NONE;
				for (size_t j = 0; j < p->nsteps; j++)
					step_reset(&p->steps[j]);
			}
			continue;
		}
		if (p->status != ST_FAILED && p->status != ST_ROLLED_BACK && p->status != ST_INTERRUPTED &&
		    p->status != ST_RUNNING)
			continue;	/* finished (or a fault phase skipped in run mode) */
		stopped = 1;
		if (p->status == ST_ROLLED_BACK) {
			e->rolled_back[i] = 1;
			for (size_t j = 0; j < d->nsteps; j++)
				step_reset(&p->steps[j]);
		} else {
			for (size_t j = 0; j < d->nsteps; j++) {
				struct step_rec *sr = &p->steps[j];
				int failed = sr->status == ST_FAILED || sr->status == ST_TIMED_OUT ||
					     sr->status == ST_DECLINED;
				if ((failed && !d->steps[j].continue_on_error) || sr->status == ST_INTERRUPTED ||
				    sr->status == ST_RUNNING ||
				    (sr->status == ST_SKIPPED && sr->started_ms == TS_NONE))
					step_reset(sr);
			}
		}
		p->status = ST_INTERRUPTED;	/* goes on, its clock from its first start */
		p->over_budget = 0;
	}
	r->ended_ms = TS_NONE;
	/* the history says what is to run again, should this process die before it does */
	store_unit_begin(e->st);
	for (size_t i = 0; i < r->nphases; i++) {
		stored(e, store_phase_save(e->st, r->id, (int)i, &r->phases[i]));
		for (size_t j = 0; j < r->phases[i].nsteps; j++)
			if (r->phases[i].steps[j].status == ST_PENDING)
				stored(e, store_step_save(e->st, r->id, (int)i, (int)j, &r->phases[i].steps[j]));
	}
	stored(e, store_unit_end(e->st));
}

int engine_resume(struct luahost *host, struct runbook *rb, struct store *st,
		  const struct engine_opts *o, const struct engine_hooks *hooks,
		  struct run_rec *run, char **refusal)
{
	struct engine eng = { .host = host, .rb = rb, .st = st, .o = o, .hk = hooks, .lock_fd = -1 };
	struct engine *e = &eng;
	*refusal = NULL;
	if (run->nphases != rb->nphases) {
		*refusal = xasprintf("the runbook now has %zu phases, the run had %zu: it cannot be resumed",
				     rb->nphases, run->nphases);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < rb->nphases; i++)
		if (run->phases[i].nsteps != rb->phases[i].nsteps + rb->phases[i].nrollback) {
			*refusal = xasprintf("phase '%s' now has other steps than the run had: it cannot be resumed",
					     rb->phases[i].name);
			return EXIT_REFUSED;
		}
	e->run_lock_dir = runlock_dir(store_path(st));
	e->run_lock_fd = runlock_acquire(e->run_lock_dir, run->id);
	if (e->run_lock_fd < 0) {
		*refusal = xasprintf("run %s is being executed by another process", run->id);
		free(e->run_lock_dir);
		return EXIT_REFUSED;
	}
	e->run = run;
	char *holder = NULL;
	int lk = lock_acquire(e, &holder);
	if (lk) {
		*refusal = lk == -2 ? xasprintf("runbook '%s' is exclusive and its lock cannot be taken (%s)", rb->name, holder)
				    : xasprintf("runbook '%s' is already running as run %s", rb->name, holder);
		free(holder);
		runlock_release(e->run_lock_dir, run->id, e->run_lock_fd);
		free(e->run_lock_dir);
		return EXIT_REFUSED;
	}
	/* whatever the dead process left running: stop it before anything runs again */
	char *tag = xasprintf("LIFEBOAT_RUN_ID=%s", run->id);
	int left = proc_kill_tagged(tag, PROC_DEFAULT_GRACE_MS);
	free(tag);
	e->start_mono = clock_mono_ns();
	e->start_wall = clock_wall_ms();
	e->resuming = 1;
	e->resumed_from = run->status;
	e->resumed_exit = run->exit_code;
	if (run->status == ST_FAILED || run->status == ST_ABORTED)
		resume_reset(e);
	run->status = ST_RUNNING;
	run->pid = (long)getpid();
	free(run->error);
	run->error = NULL;
	run->exit_code = -1;
	char host_name[256] = "";
	gethostname(host_name, sizeof(host_name) - 1);
	free(run->host);
	run->host = xstrdup(host_name);
	stored(e, store_run_save(st, run));
	if (left)
		message(e, 1, -1, -1, "stopped %d process%s the interrupted run had left behind", left,
			left == 1 ? "" : "es");
	return execute(e);
}
