/*
 * The console's model: what the screen shows (struct model, console.h),
 * built from the engine's events for a run executed here, or from the
 * history for --watch. The engine thread's hooks only copy into the model,
 * under its mutex, and wake the UI thread; --watch reloads the stored run.
 * Who waits (a manual step for a person, a failed step paused for a
 * decision) is read from the record in both cases: the engine writes it
 * there (step_rec.waiting). Nothing here calls curses: console-view.c draws the
 * model, console-loop.c reads the keys and acts, cmd-console.c starts it all.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"

#define TAIL_KEEP 8192			/* bytes of live output kept per step */
#define MAX_TAILS 16			/* steps whose live output is kept */

/*
 * Once the run has ended, the phase worth looking at: the first that went
 * wrong (recovery before cleanup), else the last recovery phase that ran.
 */
static void focus_outcome(struct model *m)
{
	int last = -1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->run->nphases; i++) {
			const struct phase_rec *p = &m->run->phases[i];
			if (p->cleanup != pass)
				continue;
			if (p->status != ST_SUCCEEDED && p->status != ST_SKIPPED &&
			    p->status != ST_PENDING) {
				m->cur_phase = (int)i;
				return;
			}
			if (!pass && p->status == ST_SUCCEEDED)
				last = (int)i;
		}
	if (last >= 0)
		m->cur_phase = last;
}

static void model_message(struct model *m, int level, const char *fmt, ...) LB_PRINTF(3, 4);
static void model_message(struct model *m, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(m->message);
	m->message = xvasprintf(fmt, ap);
	m->message_level = level;
	va_end(ap);
}

static struct tail *tail_of(struct model *m, int pi, int si, int create)
{
	for (size_t i = 0; i < m->ntails; i++)
		if (m->tails[i].pi == pi && m->tails[i].si == si)
			return &m->tails[i];
	if (!create)
		return NULL;
	if (!m->tails)
		m->tails = xcalloc(MAX_TAILS, sizeof(*m->tails));
	if (m->ntails == MAX_TAILS) {
		/* forget the oldest one that is not running */
		size_t k = 0;
		for (size_t i = 0; i < m->ntails; i++) {
			const struct tail *t = &m->tails[i];
			if (m->run->phases[t->pi].steps[t->si].status != ST_RUNNING) {
				k = i;
				break;
			}
		}
		strbuf_release(&m->tails[k].text);
		memmove(&m->tails[k], &m->tails[k + 1], (m->ntails - k - 1) * sizeof(*m->tails));
		m->ntails--;
	}
	struct tail *t = &m->tails[m->ntails++];
	t->pi = pi;
	t->si = si;
	strbuf_init(&t->text, 0);
	return t;
}

static void tail_add(struct tail *t, const char *data, size_t len)
{
	strbuf_add_output(&t->text, data, len);	/* a NUL reads ^@, as in the history */
	if (t->text.len > 2 * TAIL_KEEP) {
		/* keep the last TAIL_KEEP bytes, from a line start when there is one */
		const char *from = t->text.buf + t->text.len - TAIL_KEEP;
		const char *nl = memchr(from, '\n', TAIL_KEEP);
		if (nl && nl + 1 < t->text.buf + t->text.len)
			from = nl + 1;
		size_t keep = (size_t)(t->text.buf + t->text.len - from);
		memmove(t->text.buf, from, keep);
		t->text.len = keep;
		t->text.buf[keep] = '\0';
	}
}

/*
 * A failed step's error, whole, at the end of its output pane: the pane of
 * the step that failed must say why (a Lua error says nothing on stdout),
 * wrapped to fit the 80 columns the console promises instead of cut.
 */
static void tail_add_error(struct tail *t, const char *error)
{
	if (!error || !*error)
		return;
	if (t->text.len && strstr(t->text.buf, error))
		return;	/* shown already (a paused step that then failed) */
	if (t->text.len && t->text.buf[t->text.len - 1] != '\n')
		tail_add(t, "\n", 1);
	const size_t width = 74;
	tail_add(t, "error: ", 7);
	size_t col = 7;
	for (const char *p = error; *p;) {
		size_t w = strcspn(p, " \n");
		if (col > 2 && col + w > width) {
			tail_add(t, "\n  ", 3);
			col = 2;
		}
		tail_add(t, p, w);
		col += w;
		p += w;
		if (*p == '\n') {
			tail_add(t, "\n  ", 3);
			col = 2;
			p++;
		} else if (*p == ' ') {
			tail_add(t, " ", 1);
			col++;
			p++;
		}
	}
	tail_add(t, "\n", 1);
}

/*
 * Who waits, as the engine wrote it into the record: the manual step
 * waiting for a person, the failed step paused for a decision (only while
 * the run runs: a run that died while waiting asks nobody any more).
 */
static void model_waits(struct model *m)
{
	const struct run_rec *r = m->run;
	int wpi = -1, wsi = -1, ppi = -1, psi = -1;
	for (size_t i = 0; r->status == ST_RUNNING && i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++) {
			enum step_wait w = r->phases[i].steps[j].waiting;
			if (w == WAIT_PERSON && wpi < 0) {
				wpi = (int)i;
				wsi = (int)j;
			} else if (w == WAIT_DECISION && ppi < 0) {
				ppi = (int)i;
				psi = (int)j;
			}
		}
	if (wpi != m->wait_pi || wsi != m->wait_si) {
		free(m->wait_text);	/* the instruction comes with the new wait */
		m->wait_text = NULL;
		m->wait_since_ms = wpi >= 0 ? r->phases[wpi].steps[wsi].started_ms : TS_NONE;
	}
	m->wait_pi = wpi;
	m->wait_si = wsi;
	m->pause_pi = ppi;
	m->pause_si = psi;
	if (ppi >= 0) {
		/* the engine made the failed attempt's error the step's while it waits */
		const struct step_rec *s = &r->phases[ppi].steps[psi];
		m->pause_attempt = s->attempts;
		free(m->pause_error);
		m->pause_error = xstrdup(s->error);
	}
}

void console_model_release(struct model *m)
{
	run_rec_free(m->run);
	run_rec_free(m->final);
	free(m->wait_text);
	free(m->pause_error);
	free(m->message);
	for (size_t i = 0; i < m->ntails; i++)
		strbuf_release(&m->tails[i].text);
	free(m->tails);
	memset(m, 0, sizeof(*m));
}

/* Wakes the UI thread; called with the model locked. */
void console_model_notify(struct model *m)
{
	if (m->notified)
		return;
	m->notified = 1;
	if (write(m->wake_fd, "e", 1) < 0) {
		/* full: the loop is awake anyway */
	}
}

/* ------------------------------------------------------------------------ */
/* the engine thread's hooks: they only copy into the model */

void console_on_event(void *ud, const struct engine_event *ev)
{
	struct console *c = ud;
	struct model *m = &c->m;
	const struct run_rec *r = ev->run;
	pthread_mutex_lock(&m->mu);
	if (!m->run || ev->type != EV_STEP_OUTPUT) {
		/* the engine's record as it is now, without outputs: the tails hold those */
		run_rec_free(m->run);
		m->run = run_rec_dup(r, RUN_DUP_NO_OUTPUT);
		model_waits(m);
	}
	int pi = ev->phase, si = ev->step;
	struct step_rec *s = pi >= 0 && si >= 0 ? &m->run->phases[pi].steps[si] : NULL;
	switch (ev->type) {
	case EV_RUN_STARTED:
		break;
	case EV_PHASE_STARTED:
		m->cur_phase = pi;
		break;
	case EV_PHASE_FINISHED:
		break;
	case EV_STEP_STARTED: {
		struct tail *t = tail_of(m, pi, si, 1);
		if (ev->attempt > 1) {
			char line[64];
			int n = snprintf(line, sizeof(line), "--- attempt %d ---\n", ev->attempt);
			tail_add(t, line, (size_t)n);
		} else {
			strbuf_reset(&t->text);
		}
		break;
	}
	case EV_STEP_OUTPUT:
		tail_add(tail_of(m, pi, si, 1), ev->data, ev->len);
		break;
	case EV_STEP_RETRYING:
		model_message(m, 1, "%s: %.*s; retrying in %.1fs", s->name, (int)ev->len,
			      ev->data ? ev->data : "", ev->retry_in_s);
		break;
	case EV_STEP_FINISHED:
		if (s->status != ST_SUCCEEDED && s->status != ST_SKIPPED)
			tail_add_error(tail_of(m, pi, si, 1), r->phases[pi].steps[si].error);
		m->last_pi = pi;
		m->last_si = si;
		break;
	case EV_MANUAL_WAITING:
		m->wait_since_ms = clock_wall_ms();	/* this attempt's wait, not the step's first start */
		break;
	case EV_STEP_PAUSED:
		/* the pane shows this step now, with its error, not the one that finished before */
		tail_add_error(tail_of(m, pi, si, 1), m->pause_error);
		m->last_pi = pi;
		m->last_si = si;
		break;
	case EV_MESSAGE:
		model_message(m, ev->level, "%.*s", (int)ev->len, ev->data);
		break;
	case EV_NOTE:
		if (r->nnotes)
			model_message(m, 0, "note by %s: %s", r->notes[r->nnotes - 1].operator,
				      r->notes[r->nnotes - 1].text);
		break;
	case EV_RUN_FINISHED:
		/* the engine reads no more requests: stop waking it */
		m->ended = 1;
		focus_outcome(m);
		break;
	}
	console_model_notify(m);
	pthread_mutex_unlock(&m->mu);
}

/*
 * The console answers nothing itself: its keys arrive as requests, like a
 * `lifeboat confirm` from elsewhere. The first call hands the instruction
 * text to the screen.
 */
enum manual_answer console_on_manual(void *ud, const struct manual_request *rq, int first,
				     char **who, char **why)
{
	struct console *c = ud;
	(void)who;
	(void)why;
	if (first) {
		pthread_mutex_lock(&c->m.mu);
		free(c->m.wait_text);
		c->m.wait_text = xstrdup(rq->text);	/* the step is the record's WAIT_PERSON one */
		console_model_notify(&c->m);
		pthread_mutex_unlock(&c->m.mu);
	}
	return MANUAL_PENDING;
}

/* ------------------------------------------------------------------------ */
/* --watch: the model from the history */

/*
 * The watched run's runbook, loaded (side-effect free, SPEC 1) only to show
 * a waiting manual step's instruction. Best effort: a moved or changed file
 * only costs that.
 */
void console_watch_load_runbook(struct console *c, const struct run_rec *r)
{
	char *err = NULL;
	if (!r->file || luahost_new(0, &c->wl_host))
		return;
	if (luahost_load(c->wl_host, r->file, &c->wl_rb, &err) ||
	    strcmp(c->wl_rb->sha256, r->sha256 ? r->sha256 : "")) {
		free(err);
		if (c->wl_rb)
			runbook_free(c->wl_rb);
		c->wl_rb = NULL;
		luahost_free(c->wl_host);
		c->wl_host = NULL;
		return;
	}
	struct rb_param *p = NULL;
	size_t n = 0;
	params_from_json(r->params_json, &p, &n);
	luahost_ctx_init(c->wl_host, p, n, r->id, r->env, r->operator, r->mode);
	params_free(p, n);
}

static const struct rb_step *watch_step_def(struct console *c, int pi, int si)
{
	if (!c->wl_rb || pi < 0 || (size_t)pi >= c->wl_rb->nphases)
		return NULL;
	const struct rb_phase *p = &c->wl_rb->phases[pi];
	if ((size_t)si < p->nsteps)
		return &p->steps[si];
	if ((size_t)si - p->nsteps < p->nrollback)
		return &p->rollback[si - (int)p->nsteps];
	return NULL;
}

/* What the screen shows of a reloaded run: the current phase, the last step with output, who waits. */
void console_watch_focus(struct console *c)
{
	struct model *m = &c->m;
	const struct run_rec *r = m->run;
	m->cur_phase = -1;
	m->last_pi = m->last_si = -1;
	int64_t newest = TS_NONE, last_end = TS_NONE;
	int running = -1, latest = -1;
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->status == ST_RUNNING && running < 0)
			running = (int)i;
		if (p->started_ms != TS_NONE && p->started_ms >= newest) {
			newest = p->started_ms;
			latest = (int)i;
		}
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			if (s->ended_ms != TS_NONE && s->output && *s->output && s->ended_ms >= last_end) {
				last_end = s->ended_ms;
				m->last_pi = (int)i;
				m->last_si = (int)j;
			}
		}
	}
	m->cur_phase = running >= 0 ? running : latest;
	if (r->status != ST_RUNNING)
		focus_outcome(m);
	model_waits(m);
	/* the instruction, computed once per waiting step */
	if (m->wait_pi != c->wait_text_pi || m->wait_si != c->wait_text_si) {
		c->wait_text_pi = m->wait_pi;
		c->wait_text_si = m->wait_si;
		const struct rb_step *d = watch_step_def(c, m->wait_pi, m->wait_si);
		if (d && d->value.str)
			m->wait_text = luahost_expand(c->wl_host, d->value.str);
	}
}

int console_watch_reload(struct console *c)
{
	struct run_rec *r = NULL;
	enum store_found lr = store_run_load(c->ui_st, c->watch_id, &r);
	c->reloaded_ns = clock_mono_ns();
	pthread_mutex_lock(&c->m.mu);
	if (lr != STORE_FOUND) {
		model_message(&c->m, 2, "cannot read run %s from the history: %s", c->watch_id,
			      lr == STORE_FAILED ? store_error(c->ui_st) : "it is gone");
	} else {
		run_rec_free(c->m.run);
		c->m.run = r;
		c->m.ended = r->status != ST_RUNNING;
		console_watch_focus(c);
	}
	pthread_mutex_unlock(&c->m.mu);
	return lr;
}

/* engine_execute has returned: the final record (owned from now on) and the exit code. */
void console_model_finish(struct model *m, struct run_rec *r, int rc)
{
	pthread_mutex_lock(&m->mu);
	run_rec_free(m->run);
	m->run = run_rec_dup(r, RUN_DUP_NO_OUTPUT);
	m->final = r;
	m->rc = rc;
	m->ended = 1;
	m->finished = 1;
	console_model_notify(m);
	pthread_mutex_unlock(&m->mu);
}
