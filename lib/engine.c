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
 *
 * This file holds the run loop: the phases in order, the steps of a phase
 * (run_steps), the end of the run (verdict.c judges it), and the helpers
 * every engine file uses (events, messages, the audit log, history
 * writes). The rest, behind
 * the private engine-int.h: engine-step.c (step attempts by kind),
 * engine-remote.c (remote steps over ssh), engine-request.c (requests from
 * other terminals, aborts, pauses), engine-lua.c (the Lua callbacks),
 * engine-start.c (a run's record, lock and start), engine-resume.c (resume).
 */
#include "engine-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "redact.h"
#include "runlock.h"

/*
 * Set from signal handlers that may run on any thread (the console's UI thread
 * takes Ctrl-C while the engine runs on its own), and read by the engine thread:
 * C11 atomics, which are lock-free here and so async-signal-safe, instead of
 * volatile sig_atomic_t, which is safe against a handler on the same thread
 * only. The handlers wake the engine through proc.c's process-wide wake pipe,
 * never through a procset pointer that execute() frees.
 */
atomic_int abort_signal;		/* the first abort signal, 0 when none */
atomic_int abort_count;
static atomic_int lua_abort;		/* what the Lua hook and http see */
atomic_int wake_requested;	/* look for requests now */
atomic_int abort_remote;		/* the abort came from `lifeboat abort` */

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
void crash_point(const char *point)
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

int64_t wall_now(struct engine *e)
{
	return e->start_wall + (clock_mono_ns() - e->start_mono) / 1000000;
}

int64_t mono_to_wall(struct engine *e, int64_t mono)
{
	return e->start_wall + (mono - e->start_mono) / 1000000;
}

void emit(struct engine *e, enum engine_event_type type, int pi, int si)
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
char *scrub(struct engine *e, char *s)
{
	if (!e->o->redactor || !s)
		return s;
	char *r = redact_string(e->o->redactor, s);
	free(s);
	return r;
}

/* The secrets by name and the masked values, for the placeholders resume needs. */
struct secretref secret_refs(struct engine *e)
{
	struct secretref r = { e->o->secret_names, e->o->secret_values, e->o->nsecret_names,
			       (const char *const *)e->masked, e->nmasked };
	return r;
}

/* JSON the history keeps for resume (params, ctx.state): secrets as named placeholders. */
char *hide_secrets(struct engine *e, char *json)
{
	if (!json || (!e->o->nsecret_names && !e->nmasked))
		return json;
	struct secretref refs = secret_refs(e);
	char *hidden = secretref_hide(&refs, json);
	free(json);
	return hidden;
}

/* Queues a webhook event (notify.h): an insert, never a wait. */
void notify(struct engine *e, enum config_event ev, int pi, int si, const char *fmt, ...)
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

void message(struct engine *e, int level, int pi, int si, const char *fmt, ...)
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
void stored(struct engine *e, int rc)
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
void audit(struct engine *e, const char *event, const char *who, json_t *detail)
{
	char *text = detail ? lbjson_dump(detail) : NULL;
	stored(e, store_audit_append(e->st, e->run->id, event, who ? who : e->o->operator,
				     (long)getuid(), text));
	free(text);
}

/*
 * Runs steps [0, n) of phase pi whose records start at rec_offset, up to
 * `parallel` at once.
 */
static enum steps_result run_steps(struct engine *e, int pi, const struct rb_step *defs, size_t n,
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
		headtail_init(&tasks[i].out, KEEP_HEAD, KEEP_TAIL);
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
		headtail_release(&tasks[i].out);
		rstep_free(tasks[i].rstep);
		free(tasks[i].rhost);
	}
	free(tasks);
	if (aborted || (abort_signal && !e->in_cleanup))
		return STEPS_ABORTED;
	return failed ? STEPS_FAILED : STEPS_OK;
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
void over_budget_alert(struct engine *e, int pi, double elapsed)
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
static enum steps_result run_phase(struct engine *e, int pi)
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
	enum steps_result rc = run_steps(e, pi, def->steps, def->nsteps, 0, def->parallel, 0);
	enum status st = rc == STEPS_OK ? ST_SUCCEEDED : rc == STEPS_ABORTED ? ST_INTERRUPTED : ST_FAILED;
	int rollback = def->nrollback && (rc == STEPS_FAILED || (rc == STEPS_ABORTED && def->rollback_on_abort));
	if (rollback) {
		message(e, 1, pi, -1, "phase '%s' %s: running its rollback", def->name,
			rc == STEPS_ABORTED ? "was aborted" : "failed");
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
			       isnan(r->rpo_target_s) ? "none" : duration_format(r->rpo_target_s, b, sizeof(b)),
			       err ? err : "no time");
	}
	free(err);
}

/* The recovery phases (and fault phases in a drill) in order, until one fails or the run is aborted. */
static void run_recovery(struct engine *e)
{
	const struct runbook *rb = e->rb;
	struct store *st = e->st;
	const struct engine_opts *o = e->o;
	struct run_rec *r = e->run;
	int drill = o->mode == MODE_DRILL, probe = o->mode == MODE_PROBE;
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
		enum steps_result rc = run_phase(e, (int)i);
		if (rc == STEPS_FAILED) {
			e->failed = 1;
			stop = 1;
			free(r->error);
			r->error = def->probe == PROBE_BEFORE && drill ?
				   xstrdup("a probe failed before the fault phases: nothing was injected") :
				   def->probe == PROBE_BEFORE ? xstrdup("a probe failed") :
				   def->probe == PROBE_AFTER ? xstrdup("a probe failed after the recovery") :
				   xasprintf("phase '%s' failed", def->name);
		} else if (rc == STEPS_ABORTED) {
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
}

/* The cleanup phases, whatever happened, outside the RTO. */
static void run_cleanup(struct engine *e)
{
	const struct runbook *rb = e->rb;
	struct run_rec *r = e->run;
	e->in_cleanup = 1;
	luahost_set_abort_flag(e->host, NULL);
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
		enum steps_result rc = run_steps(e, (int)i, rb->phases[i].steps, rb->phases[i].nsteps, 0,
				   rb->phases[i].parallel, 1);
		int any_failed = 0;
		for (size_t j = 0; j < rb->phases[i].nsteps; j++)
			if (r->phases[i].steps[j].status != ST_SUCCEEDED)
				any_failed = 1;
		if (any_failed)
			message(e, 1, (int)i, -1, "cleanup phase '%s' had failures (the run's verdict does not change)",
				rb->phases[i].name);
		phase_end(e, (int)i, rc == STEPS_OK && !any_failed ? ST_SUCCEEDED : ST_FAILED, started);
	}
}

/* Nothing of the run left running; its verdict, final record, audit entry and webhook. */
static void run_end(struct engine *e)
{
	struct store *st = e->st;
	const struct engine_opts *o = e->o;
	struct run_rec *r = e->run;
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
	struct verdict_facts vf = { .aborted = e->aborted, .failed = e->failed };
	int over;
	verdict_judge(r);
	r->status = verdict_status(r, &vf, &over);
	if (over >= 0) {
		free(r->error);
		r->error = xasprintf("phase '%s' went over its budget (--strict-budgets)", r->phases[over].name);
	}
	if (e->aborted && !r->error)
		r->error = xasprintf("aborted by %s", abort_remote ? "`lifeboat abort`" : e->aborted == SIGINT ? "SIGINT" :
				     e->aborted == SIGTERM ? "SIGTERM" : e->aborted == SIGHUP ? "SIGHUP" : "request");
	r->exit_code = verdict_exit_code(r, &vf);
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
}

/* What execute() set up, released; the locks go. */
static void run_release(struct engine *e)
{
	struct run_rec *r = e->run;
	free(e->over_alerted);
	free(e->rolled_back);
	for (size_t i = 0; i < e->nmasked; i++)
		free(e->masked[i]);
	free(e->masked);

	luahost_set_engine(e->host, NULL, NULL);
	remote_free(e->remote);	/* ssh -O exit: no master outlives the run */
	e->remote = NULL;
	procset_free(e->ps);
	for (size_t i = 0; i < e->nenv_base; i++)
		free(e->env_base[i]);
	free(e->env_base);
	free(e->state_json);
	free(e->remote_who);
	free(e->pause_who);
	runlock_release(e->run_lock_dir, r->id, e->run_lock_fd);
	free(e->run_lock_dir);
	lock_release(e);
}

/* Executes (or continues, when resuming) the run in e->run to the end. */
int execute(struct engine *e)
{
	struct runbook *rb = e->rb;
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
	       e->resuming ? "run resumed" : o->mode == MODE_DRILL ? "drill started" : "run started",
	       o->operator, r->trigger ? r->trigger : "cli");

	run_recovery(e);
	run_cleanup(e);
	run_end(e);
	run_release(e);
	return r->exit_code;
}
