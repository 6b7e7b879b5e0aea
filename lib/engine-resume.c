/*
 * Resume (SPEC 3): a run interrupted by a crash, or one that failed or was
 * aborted, goes on in a new process. What finished stays finished; the step
 * in flight gets its attempt recorded as interrupted and runs again;
 * ctx.state and services are restored before the first step runs.
 */
#include "engine-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "proc.h"
#include "runlock.h"

/* ------------------------------------------------------------------------ */
/* phases */

/* A step record made ready to run again; its attempts stay in the history. */
void step_reset(struct step_rec *r)
{
	r->status = ST_PENDING;
	r->started_ms = TS_NONE;
	r->ended_ms = TS_NONE;
	r->duration_s = NAN;
	r->waiting = WAIT_NONE;
}

/*
 * A step of the phase a crash interrupted: finished ones are kept, the one
 * in flight gets its attempt recorded as interrupted and runs again (its
 * attempt count goes on).
 */
void resume_task(struct task *t)
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
		r->waiting = WAIT_NONE;	/* whoever it waited for, nobody is asked any more */
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

/* Latest ctx.state, services to start again, the gap: what a resumed run needs first. */
void resume_prepare(struct engine *e)
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
