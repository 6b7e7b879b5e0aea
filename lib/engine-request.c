/*
 * What other terminals ask of a running run and how the run waits: notes,
 * `lifeboat abort`, confirm/decline of a manual step, retry/skip/fail of a
 * step paused after a failure (all read from the history's request table),
 * acting on abort signals, and serve(), the wait every step kind goes
 * through so processes are drained and requests answered meanwhile.
 */
#include "engine-int.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

int allowed(struct engine *e, const char *action, const char *role, const char *who,
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

static const char *const decision_names[] = {
	[PAUSE_RETRY] = "retry", [PAUSE_SKIP] = "skip", [PAUSE_FAIL] = "fail",
};

/* The decision a request kind asks for, PAUSE_NONE when it is no decision. */
static enum pause_decision decision_parse(const char *kind)
{
	for (int d = PAUSE_RETRY; d <= PAUSE_FAIL; d++)
		if (!strcmp(kind, decision_names[d]))
			return (enum pause_decision)d;
	return PAUSE_NONE;
}

/* Answers what other terminals asked for: notes, aborts, confirmations, retry/skip. */
void handle_requests(struct engine *e)
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
		} else if (decision_parse(q->kind) != PAUSE_NONE) {
			struct task *t = e->paused_task;
			if (!t || e->pause_decision) {
				result = xstrdup("refused: no failed step is waiting for a decision");
			} else if (!step_matches(t, q->step)) {
				result = xasprintf("refused: step '%s' is not waiting; '%s' is", q->step,
						   t->def->name);
			} else if (!allowed(e, q->kind, t->def->role, who, &why)) {
				result = xasprintf("refused: %s", why);
			} else {
				e->pause_decision = decision_parse(q->kind);
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
void check_abort(struct engine *e, struct task *tasks, size_t n)
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

/* Serves processes for up to ms; -1 when the run has been aborted (outside cleanup). */
int serve(struct engine *e, int ms)
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

/*
 * serve() for a Lua call waiting for its process (sh(), ssh()): what an
 * abort asks of that process now: 0 nothing new, 1 stop it (TERM), 2 kill
 * it (a second Ctrl-C). *stopped (0 at first) keeps what was asked before.
 */
int serve_stopping(struct engine *e, int ms, int *stopped)
{
	if (serve(e, ms) >= 0)
		return 0;
	int want = abort_count >= 2 ? 2 : 1;
	if (want <= *stopped)
		return 0;
	*stopped = want;
	return want;
}

/*
 * A failed step in the console: wait for a person to retry it, skip it or
 * let it fail. PAUSE_NONE when the run was aborted meanwhile.
 */
enum pause_decision pause_for_decision(struct task *t)
{
	struct engine *e = t->e;
	start_commit(t);
	/* whoever shows the pause shows why: the attempt's error is the step's for now */
	free(t->rec->error);
	t->rec->error = xstrdup(t->att.error);
	t->rec->waiting = WAIT_DECISION;
	store_unit_begin(e->st);
	stored(e, store_attempt_save(e->st, e->run->id, t->pi, t->si, &t->att));
	stored(e, store_step_save(e->st, e->run->id, t->pi, t->si, t->rec));
	stored(e, store_unit_end(e->st));
	e->paused_task = t;
	e->pause_decision = PAUSE_NONE;
	emit(e, EV_STEP_PAUSED, t->pi, t->si);
	while (!e->pause_decision)
		if (serve(e, 100) < 0)
			break;
	e->paused_task = NULL;
	step_wait_set(t, WAIT_NONE);
	enum pause_decision d = e->pause_decision;
	if (d != PAUSE_NONE) {
		audit(e, decision_names[d], e->pause_who, json_pack("{s:o}", "step", lbjson_string(t->def->name)));
		if (d != PAUSE_FAIL)
			message(e, 0, t->pi, t->si, "%s: %s by %s", t->def->name,
				d == PAUSE_RETRY ? "retried" : "skipped", e->pause_who);
	}
	return d;
}
