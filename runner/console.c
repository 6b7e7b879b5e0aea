/*
 * `lifeboat console FILE [--drill] [run options]` and `lifeboat console
 * --watch RUN_ID`: the live ncurses screen for drills and incidents
 * (SPEC 6), drawn in console-view.c.
 *
 * Threads. ncurses is not thread-safe, so every curses call is made on the
 * main thread, the UI thread. A run started here executes on a second
 * thread: engine_execute with its own history connection and the Lua host
 * the runbook was loaded into (loaded on the main thread before the engine
 * thread exists, used by that thread only from then on). The engine
 * thread's hooks copy what the screen needs into a small model under a
 * mutex and write a byte to a pipe; the UI thread poll()s the terminal and
 * that pipe, with a timeout only while a clock on screen moves, so a screen
 * that waits for a person costs no CPU to speak of. A step that computes in
 * Lua, blocks in sh(), http or SQLite keeps only the engine thread busy:
 * keys are still read and drawn at once.
 *
 * One channel for actions. A key never calls into the engine: it writes a
 * request into the history through the UI thread's own connection
 * (store_request_add) and nudges the engine with SIGUSR1 -- exactly what
 * `lifeboat confirm` does from another terminal. The engine checks roles,
 * records the operator and answers; the UI shows the answer. So a key press
 * here and a command from elsewhere are one code path, and the manual hook
 * always answers MANUAL_PENDING. --watch runs no engine: it reloads the run
 * from the history twice a second and sends its requests the same way
 * (act_request, which nudges the executing process).
 *
 * Signals and the terminal. SIGINT, SIGTERM and SIGHUP are blocked in the
 * engine thread, so they land on the UI thread, whose handler only asks the
 * engine to abort (engine_request_abort, async-signal-safe) and wakes the
 * loop; the loop leaves once the run has ended and restores the terminal
 * (endwin) before the summary is printed. SIGUSR1 is the other way round:
 * only the engine thread takes it, so engine_wake runs on the thread whose
 * flag it sets (a key sends it with pthread_kill). A crash restores the
 * terminal in its handler and re-raises; atexit covers every other exit.
 *
 * The loop, htop style: the key handlers return flags (H_HANDLED, H_REDRAW,
 * H_BREAK) to one loop that decides when to draw and when to leave.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "act.h"
#include "clock.h"
#include "console.h"
#include "run-setup.h"

#define TICK_MS 250			/* clocks on screen move at this pace */
#define WATCH_RELOAD_MS 500		/* --watch reads the history twice a second */
#define PENDING_POLL_MS 100		/* how often an unanswered request is looked at */
#define ANSWER_WAIT_NS (5 * 1000000000LL)
#define TAIL_KEEP 8192			/* bytes of live output kept per step */
#define MAX_TAILS 16			/* steps whose live output is kept */

enum { H_IGNORED = 0, H_HANDLED = 1, H_REDRAW = 2, H_CLEAR = 4, H_BREAK = 8 };

struct pending {
	long id;
	char *what;			/* "confirm 'sign off'", owned */
	int64_t sent_ns;
};

struct console {
	struct model m;
	int watch;			/* following a run executed elsewhere */
	char *watch_id;			/* its full id, owned */
	struct store *ui_st;		/* the UI thread's own history connection */
	int pipe_r, pipe_w;		/* engine events and signals wake the loop */

	/* a run executed here */
	struct run_setup setup;
	struct engine_hooks hooks;
	pthread_t engine;

	/* --watch: the watched run's runbook, for manual texts and retries */
	struct luahost *wl_host;
	struct runbook *wl_rb;
	int64_t reloaded_ns;
	int wait_text_pi, wait_text_si;	/* what m.wait_text was computed for */

	struct ui ui;
	struct pending pend[8];
	size_t npend;
	int term_gone;			/* the terminal hung up: no more keys */
};

/* ------------------------------------------------------------------------ */
/* signals and restoring the terminal */

/*
 * A process-directed signal lands on whichever thread does not block it, the
 * engine's or the UI's, so these are C11 atomics (lock-free, so safe in a
 * handler) rather than volatile sig_atomic_t. The UI loop's pipe is made once
 * and never closed: a handler that loaded its descriptor can never write into
 * a descriptor that was closed and reused meanwhile.
 */
static atomic_int got_signal;		/* the first SIGINT/SIGTERM/SIGHUP */
static atomic_int signal_watching;	/* --watch: a signal only quits */
static atomic_int curses_active;
static int ui_pipe[2] = { -1, -1 };	/* made by ui_pipe_make, never closed */
static int ui_pipe_errno;
static pthread_once_t ui_pipe_once = PTHREAD_ONCE_INIT;
static atomic_int signal_pipe_w = -1;	/* ui_pipe[1] once the console is open */

static void ui_pipe_make(void)
{
	if (pipe2(ui_pipe, O_CLOEXEC | O_NONBLOCK))
		ui_pipe_errno = errno;
}

static void restore_terminal(void)
{
	if (atomic_exchange(&curses_active, 0))
		console_screen_end();
}

static void on_signal(int sig)
{
	int saved = errno, none = 0;
	atomic_compare_exchange_strong(&got_signal, &none, sig);
	if (!atomic_load(&signal_watching))
		engine_request_abort(sig);
	int fd = atomic_load(&signal_pipe_w);
	if (fd >= 0 && write(fd, "s", 1) < 0) {
		/* full: the loop is awake anyway */
	}
	errno = saved;
}

/* `lifeboat confirm` and friends on this host nudge us so the answer is immediate. */
static void on_wake(int sig)
{
	(void)sig;
	engine_wake();
}

/* A crash must not leave the terminal raw: restore it, then die of the same signal. */
static void on_crash(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(int watching)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	atomic_store(&signal_watching, watching);
	install_stop_signals(on_signal, on_wake);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
#ifdef LIFEBOAT_SANITIZE
	static const int fatal[] = { SIGABRT };	/* the sanitizers report the others */
#else
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#endif
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
}

/* ------------------------------------------------------------------------ */
/* the model: copies of the run record the screen reads */

static void copy_top(struct run_rec *d, const struct run_rec *s)
{
	d->status = s->status;
	d->started_ms = s->started_ms;
	d->ended_ms = s->ended_ms;
	d->incident_ms = s->incident_ms;
	d->restored_ms = s->restored_ms;
	d->rto_target_s = s->rto_target_s;
	d->rto_achieved_s = s->rto_achieved_s;
	d->rto_met = s->rto_met;
	d->rpo_target_s = s->rpo_target_s;
	d->rpo_achieved_s = s->rpo_achieved_s;
	d->rpo_met = s->rpo_met;
	d->recovery_point_ms = s->recovery_point_ms;
	d->human_wait_s = s->human_wait_s;
	d->exit_code = s->exit_code;
	if (!d->rpo_status || !s->rpo_status || strcmp(d->rpo_status, s->rpo_status)) {
		free(d->rpo_status);
		d->rpo_status = xstrdup(s->rpo_status);
	}
	if (!d->error || !s->error || strcmp(d->error, s->error)) {
		free(d->error);
		d->error = xstrdup(s->error);
	}
}

static void copy_step(struct step_rec *d, const struct step_rec *s)
{
	d->status = s->status;
	d->attempts = s->attempts;
	d->started_ms = s->started_ms;
	d->ended_ms = s->ended_ms;
	d->duration_s = s->duration_s;
	d->human_wait_s = s->human_wait_s;
	d->exit_code = s->exit_code;
	free(d->confirmed_by);
	d->confirmed_by = xstrdup(s->confirmed_by);
	d->auto_confirmed = s->auto_confirmed;
	free(d->error);
	d->error = xstrdup(s->error);
	/* a remote step's hosts as the engine records them (SPEC 8), without their output */
	for (size_t k = 0; k < d->nhosts; k++)
		host_rec_release(&d->hosts[k]);
	free(d->hosts);
	d->hosts = NULL;
	d->nhosts = s->nhosts;
	if (s->nhosts)
		d->hosts = xcalloc(s->nhosts, sizeof(*d->hosts));
	for (size_t k = 0; k < s->nhosts; k++) {
		struct host_rec *h = &d->hosts[k];
		h->host = xstrdup(s->hosts[k].host);
		h->status = xstrdup(s->hosts[k].status);
		h->exit_code = s->hosts[k].exit_code;
		h->duration_s = s->hosts[k].duration_s;
		h->attempts = s->hosts[k].attempts;
		h->error = xstrdup(s->hosts[k].error);
	}
}

static void copy_phase(struct phase_rec *d, const struct phase_rec *s)
{
	d->status = s->status;
	d->started_ms = s->started_ms;
	d->ended_ms = s->ended_ms;
	d->duration_s = s->duration_s;
	d->human_wait_s = s->human_wait_s;
	d->over_budget = s->over_budget;
	for (size_t j = 0; j < d->nsteps && j < s->nsteps; j++)
		copy_step(&d->steps[j], &s->steps[j]);
}

static void copy_notes(struct run_rec *d, const struct run_rec *s)
{
	for (size_t i = d->nnotes; i < s->nnotes; i++)
		run_rec_add_note(d, s->notes[i].at_ms, s->notes[i].operator, s->notes[i].text);
}

/* A copy of what the screen shows: no outputs, no state. */
static struct run_rec *run_dup(const struct run_rec *s)
{
	struct run_rec *d = xmalloc(sizeof(*d));
	run_rec_init(d);
	d->id = xstrdup(s->id);
	d->runbook = xstrdup(s->runbook);
	d->file = xstrdup(s->file);
	d->mode = xstrdup(s->mode);
	d->trigger = xstrdup(s->trigger);
	d->env = xstrdup(s->env);
	d->operator = xstrdup(s->operator);
	d->host = xstrdup(s->host);
	d->pid = s->pid;
	d->uid = s->uid;
	d->strict_budgets = s->strict_budgets;
	copy_top(d, s);
	d->nphases = s->nphases;
	d->phases = xcalloc(s->nphases ? s->nphases : 1, sizeof(*d->phases));
	for (size_t i = 0; i < s->nphases; i++) {
		const struct phase_rec *sp = &s->phases[i];
		struct phase_rec *dp = &d->phases[i];
		phase_rec_init(dp);
		dp->name = xstrdup(sp->name);
		dp->role = xstrdup(sp->role);
		dp->budget_s = sp->budget_s;
		dp->fault = sp->fault;
		dp->cleanup = sp->cleanup;
		dp->restores_service = sp->restores_service;
		dp->parallel = sp->parallel;
		dp->nsteps = sp->nsteps;
		dp->steps = xcalloc(sp->nsteps ? sp->nsteps : 1, sizeof(*dp->steps));
		for (size_t j = 0; j < sp->nsteps; j++) {
			const struct step_rec *ss = &sp->steps[j];
			struct step_rec *ds = &dp->steps[j];
			step_rec_init(ds);
			ds->name = xstrdup(ss->name);
			ds->kind = xstrdup(ss->kind);
			ds->role = xstrdup(ss->role);
			ds->section = ss->section;
			ds->idempotent = ss->idempotent;
		}
		copy_phase(dp, sp);
	}
	copy_notes(d, s);
	return d;
}

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

static void model_release(struct model *m)
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
static void model_notify(struct model *m)
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

static void on_event(void *ud, const struct engine_event *ev)
{
	struct console *c = ud;
	struct model *m = &c->m;
	const struct run_rec *r = ev->run;
	pthread_mutex_lock(&m->mu);
	if (!m->run || ev->type == EV_RUN_STARTED) {
		run_rec_free(m->run);
		m->run = run_dup(r);
	}
	copy_top(m->run, r);
	int pi = ev->phase, si = ev->step;
	struct step_rec *s = pi >= 0 && si >= 0 ? &m->run->phases[pi].steps[si] : NULL;
	switch (ev->type) {
	case EV_RUN_STARTED:
		break;
	case EV_PHASE_STARTED:
		m->cur_phase = pi;
		/* fall through */
	case EV_PHASE_FINISHED:
		copy_phase(&m->run->phases[pi], &r->phases[pi]);
		break;
	case EV_STEP_STARTED: {
		copy_step(s, &r->phases[pi].steps[si]);
		copy_phase(&m->run->phases[pi], &r->phases[pi]);
		struct tail *t = tail_of(m, pi, si, 1);
		if (ev->attempt > 1) {
			char line[64];
			int n = snprintf(line, sizeof(line), "--- attempt %d ---\n", ev->attempt);
			tail_add(t, line, (size_t)n);
		} else {
			strbuf_reset(&t->text);
		}
		if (m->pause_pi == pi && m->pause_si == si)
			m->pause_pi = m->pause_si = -1;
		break;
	}
	case EV_STEP_OUTPUT:
		tail_add(tail_of(m, pi, si, 1), ev->data, ev->len);
		break;
	case EV_STEP_RETRYING:
		copy_step(s, &r->phases[pi].steps[si]);
		if (m->pause_pi == pi && m->pause_si == si)
			m->pause_pi = m->pause_si = -1;
		model_message(m, 1, "%s: %.*s; retrying in %.1fs", s->name, (int)ev->len,
			      ev->data ? ev->data : "", ev->retry_in_s);
		break;
	case EV_STEP_FINISHED:
		copy_step(s, &r->phases[pi].steps[si]);
		if (s->status != ST_SUCCEEDED && s->status != ST_SKIPPED)
			tail_add_error(tail_of(m, pi, si, 1), r->phases[pi].steps[si].error);
		if (m->wait_pi == pi && m->wait_si == si) {
			m->wait_pi = m->wait_si = -1;
			free(m->wait_text);
			m->wait_text = NULL;
		}
		if (m->pause_pi == pi && m->pause_si == si)
			m->pause_pi = m->pause_si = -1;
		m->last_pi = pi;
		m->last_si = si;
		break;
	case EV_MANUAL_WAITING:
		copy_step(s, &r->phases[pi].steps[si]);
		m->wait_pi = pi;
		m->wait_si = si;
		m->wait_since_ms = clock_wall_ms();
		break;
	case EV_STEP_PAUSED:
		copy_step(s, &r->phases[pi].steps[si]);
		free(m->pause_error);
		m->pause_error = xstrdup(r->phases[pi].steps[si].error);
		m->pause_pi = pi;
		m->pause_si = si;
		m->pause_attempt = r->phases[pi].steps[si].attempts;
		/* the pane shows this step now, with its error, not the one that finished before */
		tail_add_error(tail_of(m, pi, si, 1), m->pause_error);
		m->last_pi = pi;
		m->last_si = si;
		break;
	case EV_MESSAGE:
		model_message(m, ev->level, "%.*s", (int)ev->len, ev->data);
		break;
	case EV_NOTE:
		copy_notes(m->run, r);
		if (r->nnotes)
			model_message(m, 0, "note by %s: %s", r->notes[r->nnotes - 1].operator,
				      r->notes[r->nnotes - 1].text);
		break;
	case EV_RUN_FINISHED:
		/* the engine reads no more requests: stop waking it */
		m->ended = 1;
		for (size_t i = 0; i < r->nphases; i++)
			copy_phase(&m->run->phases[i], &r->phases[i]);
		copy_notes(m->run, r);
		focus_outcome(m);
		break;
	}
	model_notify(m);
	pthread_mutex_unlock(&m->mu);
}

/*
 * The console answers nothing itself: its keys arrive as requests, like a
 * `lifeboat confirm` from elsewhere. The first call hands the instruction
 * text to the screen.
 */
static enum manual_answer on_manual(void *ud, const struct manual_request *rq, int first,
				   char **who, char **why)
{
	struct console *c = ud;
	(void)who;
	(void)why;
	if (first) {
		pthread_mutex_lock(&c->m.mu);
		free(c->m.wait_text);
		c->m.wait_text = xstrdup(rq->text);
		c->m.wait_pi = rq->phase;
		c->m.wait_si = rq->step;
		model_notify(&c->m);
		pthread_mutex_unlock(&c->m.mu);
	}
	return MANUAL_PENDING;
}

static void *engine_main(void *arg)
{
	struct console *c = arg;
	struct run_rec *r = NULL;
	int rc = engine_execute(c->setup.host, c->setup.rb, c->setup.st, &c->setup.o, &c->hooks, &r);
	pthread_mutex_lock(&c->m.mu);
	if (!c->m.run)
		c->m.run = run_dup(r);
	copy_top(c->m.run, r);
	c->m.final = r;
	c->m.rc = rc;
	c->m.ended = 1;
	c->m.finished = 1;
	model_notify(&c->m);
	pthread_mutex_unlock(&c->m.mu);
	return NULL;
}

/*
 * The asynchronous signals. console_run blocks them before any thread is
 * started (the engine's, and those lib/ starts, such as the webhook
 * sender), so every thread inherits that and they all reach the UI thread
 * -- all but SIGUSR1, the nudge that makes the engine read requests now:
 * only the engine thread takes that one, so engine_wake runs on the thread
 * whose flag it sets, whether the nudge comes from `lifeboat confirm`
 * elsewhere or from a key here (pthread_kill).
 */
static void async_signals(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP,
				    SIGCONT, SIGQUIT, SIGALRM, SIGCHLD, SIGPIPE };
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(set, sigs[i]);
}

/* Starts the engine thread; the caller has blocked the asynchronous signals. */
static int engine_start(struct console *c)
{
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	int err = pthread_create(&c->engine, NULL, engine_main, c);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (err)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* --watch: the model from the history */

/*
 * The watched run's runbook, loaded (side-effect free, SPEC 1) only to show
 * a waiting manual step's instruction and to tell a paused step from one
 * between retries. Best effort: a moved or changed file only costs those.
 */
static void watch_load_runbook(struct console *c, const struct run_rec *r)
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
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
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

static int failed_status(enum status st)
{
	return st == ST_FAILED || st == ST_TIMED_OUT || st == ST_DECLINED;
}

/* What the history does not say outright: the current phase, who waits, what paused. */
static void watch_derive(struct console *c)
{
	struct model *m = &c->m;
	const struct run_rec *r = m->run;
	m->cur_phase = -1;
	m->wait_pi = m->wait_si = m->pause_pi = m->pause_si = -1;
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
			if (s->status == ST_RUNNING && s->kind && !strcmp(s->kind, "manual") &&
			    r->status == ST_RUNNING && m->wait_pi < 0) {
				m->wait_pi = (int)i;
				m->wait_si = (int)j;
				m->wait_since_ms = s->started_ms;
			}
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
	/* the instruction, computed once per waiting step */
	if (m->wait_pi != c->wait_text_pi || m->wait_si != c->wait_text_si) {
		free(m->wait_text);
		m->wait_text = NULL;
		c->wait_text_pi = m->wait_pi;
		c->wait_text_si = m->wait_si;
		const struct rb_step *d = watch_step_def(c, m->wait_pi, m->wait_si);
		if (d && d->value.str)
			m->wait_text = luahost_expand(c->wl_host, d->value.str);
	}
	/* a running step whose last attempt failed: paused (console runs) or between retries */
	if (r->status != ST_RUNNING || m->cur_phase < 0)
		return;
	const struct phase_rec *p = &r->phases[m->cur_phase];
	for (size_t j = 0; j < p->nsteps && m->pause_pi < 0; j++) {
		const struct step_rec *s = &p->steps[j];
		if (s->status != ST_RUNNING || (s->kind && !strcmp(s->kind, "manual")))
			continue;
		struct attempt_rec *a = NULL;
		size_t n = 0;
		if (store_attempts_load(c->ui_st, r->id, m->cur_phase, (int)j, &a, &n))
			continue;
		if (n && a[n - 1].ended_ms != TS_NONE && failed_status(a[n - 1].status)) {
			const struct rb_step *d = watch_step_def(c, m->cur_phase, (int)j);
			int paused = r->trigger && !strcmp(r->trigger, "console") &&
				     (!d || a[n - 1].attempt > d->retries);
			if (paused) {
				m->pause_pi = m->cur_phase;
				m->pause_si = (int)j;
				m->pause_attempt = a[n - 1].attempt;
				free(m->pause_error);
				m->pause_error = xstrdup(a[n - 1].error);
			}
		}
		for (size_t k = 0; k < n; k++)
			attempt_rec_release(&a[k]);
		free(a);
	}
}

static int watch_reload(struct console *c)
{
	struct run_rec *r = NULL;
	int lr = store_run_load(c->ui_st, c->watch_id, &r);
	c->reloaded_ns = clock_mono_ns();
	pthread_mutex_lock(&c->m.mu);
	if (lr) {
		model_message(&c->m, 2, "cannot read run %s from the history: %s", c->watch_id,
			      lr < 0 ? store_error(c->ui_st) : "it is gone");
	} else {
		run_rec_free(c->m.run);
		c->m.run = r;
		c->m.ended = r->status != ST_RUNNING;
		watch_derive(c);
	}
	pthread_mutex_unlock(&c->m.mu);
	return lr;
}

/* ------------------------------------------------------------------------ */
/* actions: requests through the history, answered by the executing process */

static void set_message(struct console *c, int level, const char *fmt, ...) LB_PRINTF(3, 4);
static void set_message(struct console *c, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = xvasprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->m.mu);
	free(c->m.message);
	c->m.message = text;
	c->m.message_level = level;
	pthread_mutex_unlock(&c->m.mu);
}

static void send_request(struct console *c, const char *kind, const char *step, const char *text)
{
	long id = 0;
	int rc;
	char *what = step ? xasprintf("%s '%s'", kind, step) : xstrdup(kind);
	if (c->watch) {
		rc = act_request(c->ui_st, c->m.run, kind, step, text, &id);
	} else {
		pthread_mutex_lock(&c->m.mu);
		char *run_id = xstrdup(c->m.run->id);
		pthread_mutex_unlock(&c->m.mu);
		rc = store_request_add(c->ui_st, run_id, kind, step, g_opts.operator,
				       (long)getuid(), text, &id);
		free(run_id);
		if (!rc) {
			/* under the lock: once the run has ended, the engine thread is leaving */
			pthread_mutex_lock(&c->m.mu);
			if (!c->m.ended)
				pthread_kill(c->engine, SIGUSR1);
			pthread_mutex_unlock(&c->m.mu);
		}
	}
	if (rc) {
		set_message(c, 2, "%s: cannot write the request into the history: %s", what,
			    store_error(c->ui_st));
		free(what);
		return;
	}
	if (c->npend == ARRAY_SIZE(c->pend)) {
		free(c->pend[0].what);
		memmove(&c->pend[0], &c->pend[1], (c->npend - 1) * sizeof(c->pend[0]));
		c->npend--;
	}
	c->pend[c->npend++] = (struct pending){ .id = id, .what = what, .sent_ns = clock_mono_ns() };
	set_message(c, 0, "%s: sent as %s, waiting for the run to answer", what, g_opts.operator);
}

/* Shows the answers that arrived; returns 1 when something changed. */
static int check_pending(struct console *c)
{
	int changed = 0;
	int64_t now = clock_mono_ns();
	for (size_t i = 0; i < c->npend;) {
		struct pending *p = &c->pend[i];
		char *answer = NULL;
		int got = store_request_result(c->ui_st, p->id, &answer);
		if (got == 0 && now - p->sent_ns < ANSWER_WAIT_NS) {
			i++;
			continue;
		}
		if (got == 1)
			set_message(c, !strncmp(answer, "refused", 7) ? 2 : 0, "%s (as %s)", answer,
				    g_opts.operator);
		else if (got == 0)
			set_message(c, 1, "%s: no answer within %d s: the run's process may be gone; the request stays queued",
				    p->what, (int)(ANSWER_WAIT_NS / 1000000000LL));
		else
			set_message(c, 2, "%s: cannot read the answer: %s", p->what,
				    store_error(c->ui_st));
		free(answer);
		free(p->what);
		memmove(p, p + 1, (c->npend - i - 1) * sizeof(*p));
		c->npend--;
		changed = 1;
	}
	return changed;
}

/* ------------------------------------------------------------------------ */
/* keys */

/* The model's state flags, read under the lock (the engine thread writes them). */
static void model_state(struct console *c, int *started, int *ended, int *finished)
{
	pthread_mutex_lock(&c->m.mu);
	*started = c->m.run != NULL;
	*ended = c->m.ended;
	*finished = c->m.finished;
	pthread_mutex_unlock(&c->m.mu);
}

static int can_act(struct console *c, const char *what)
{
	int started, ended, finished;
	model_state(c, &started, &ended, &finished);
	if (!started) {
		set_message(c, 1, "the run has not started yet: nothing to %s", what);
		return 0;
	}
	if (ended) {
		set_message(c, 1, "the run has ended: nothing to %s (q quits)", what);
		return 0;
	}
	return 1;
}

/* y, n, r, s, f: acts on the waiting or paused step shown, by name, so a stale screen cannot hit another one. */
static int key_step_action(struct console *c, const char *kind)
{
	int manual = !strcmp(kind, "confirm") || !strcmp(kind, "decline");
	pthread_mutex_lock(&c->m.mu);
	int pi = manual ? c->m.wait_pi : c->m.pause_pi;
	int si = manual ? c->m.wait_si : c->m.pause_si;
	char *step = pi >= 0 && c->m.run ? xstrdup(c->m.run->phases[pi].steps[si].name) : NULL;
	pthread_mutex_unlock(&c->m.mu);
	if (!can_act(c, kind)) {
		free(step);
		return H_REDRAW;
	}
	if (!step)
		set_message(c, 1, manual ? "no manual step is waiting for a confirmation" :
			    "no failed step is waiting for a decision (r, s and f act on one)");
	else
		send_request(c, kind, step, NULL);
	free(step);
	return H_REDRAW;
}

static int key_prompt(struct console *c, enum console_key k, wint_t ch)
{
	struct ui *u = &c->ui;
	if (u->prompt == PROMPT_ABORT) {
		u->prompt = PROMPT_NONE;
		if (k == CK_CHAR && (ch == 'y' || ch == 'Y')) {
			if (can_act(c, "abort"))
				send_request(c, "abort", NULL, NULL);
		} else {
			set_message(c, 0, "abort cancelled");
		}
		return H_REDRAW;
	}
	/* PROMPT_NOTE: a one-line editor */
	if (k == CK_ENTER) {
		u->prompt = PROMPT_NONE;
		u->input[u->input_len] = L'\0';
		char text[sizeof(u->input) / sizeof(u->input[0]) * 4 + 1];
		size_t n = wcstombs(text, u->input, sizeof(text) - 1);
		if (n == (size_t)-1)
			n = 0;
		text[n] = '\0';
		u->input_len = 0;
		if (!n)
			set_message(c, 0, "empty note not sent");
		else if (can_act(c, "note"))
			send_request(c, "note", NULL, text);
		return H_REDRAW;
	}
	if (k == CK_CHAR && ch == 27) {
		u->prompt = PROMPT_NONE;
		u->input_len = 0;
		set_message(c, 0, "note cancelled");
		return H_REDRAW;
	}
	if (k == CK_BACKSPACE) {
		if (u->input_len)
			u->input_len--;
		return H_REDRAW;
	}
	if (k == CK_CHAR && ch == 21) {	/* ^U */
		u->input_len = 0;
		return H_REDRAW;
	}
	if (k == CK_CHAR && ch >= 32 &&
	    u->input_len + 1 < sizeof(u->input) / sizeof(u->input[0]))
		u->input[u->input_len++] = (wchar_t)ch;
	return H_REDRAW;
}

static int handle_key(struct console *c, enum console_key k, wint_t ch)
{
	if (k == CK_RESIZE)
		return H_REDRAW | H_CLEAR;
	if (c->ui.prompt != PROMPT_NONE)
		return key_prompt(c, k, ch);
	if (k != CK_CHAR)
		return H_IGNORED;
	switch (ch) {
	case 'y':
		return key_step_action(c, "confirm");
	case 'n':
		return key_step_action(c, "decline");
	case 'r':
		return key_step_action(c, "retry");
	case 's':
		return key_step_action(c, "skip");
	case 'f':
		return key_step_action(c, "fail");
	case 'm':
		if (!can_act(c, "note"))
			return H_REDRAW;
		c->ui.prompt = PROMPT_NOTE;
		c->ui.input_len = 0;
		return H_REDRAW;
	case 'a':
		if (!can_act(c, "abort"))
			return H_REDRAW;
		c->ui.prompt = PROMPT_ABORT;
		return H_REDRAW;
	case 'q': {
		int started, ended, finished;
		model_state(c, &started, &ended, &finished);
		if (c->watch || finished)
			return H_BREAK;
		set_message(c, 1, "the run is still going: q quits once it has ended (a aborts it)");
		return H_REDRAW;
	}
	case 12:	/* ^L */
		return H_REDRAW | H_CLEAR;
	default:
		return H_IGNORED;
	}
}

/* ------------------------------------------------------------------------ */
/* the loop */

static int64_t poll_timeout(struct console *c)
{
	int64_t t = -1;
	int started, ended, finished;
	model_state(c, &started, &ended, &finished);
	if (c->npend)
		t = PENDING_POLL_MS;
	if (!ended && (t < 0 || t > TICK_MS))
		t = TICK_MS - (clock_wall_ms() % TICK_MS);	/* on the tick, so seconds turn evenly */
	if (c->watch && !ended) {
		int64_t due = WATCH_RELOAD_MS - (clock_mono_ns() - c->reloaded_ns) / 1000000;
		if (due < 0)
			due = 0;
		if (t < 0 || due < t)
			t = due;
	}
	return t;
}

static void drain(int fd)
{
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int loop(struct console *c)
{
	int flags = H_REDRAW, silent = 0;
	for (;;) {
		if (flags & H_BREAK)
			return 0;
		pthread_mutex_lock(&c->m.mu);
		int finished = c->m.finished, refused = finished && c->m.final &&
			       c->m.final->status == ST_REFUSED;
		pthread_mutex_unlock(&c->m.mu);
		/* a signal or a lost terminal ends the console once the run has ended; a refused start at once */
		if (refused || (finished && (got_signal || c->term_gone)) ||
		    (c->watch && got_signal))
			return 0;
		if (flags & (H_REDRAW | H_CLEAR)) {
			pthread_mutex_lock(&c->m.mu);
			console_draw(&c->m, &c->ui, c->watch);
			pthread_mutex_unlock(&c->m.mu);
			console_screen_flush(flags & H_CLEAR);
		}
		flags = 0;
		struct pollfd pfd[2] = { { c->pipe_r, POLLIN, 0 }, { c->term_gone ? -1 : 0, POLLIN, 0 } };
		int n = poll(pfd, 2, (int)poll_timeout(c));
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			pthread_mutex_lock(&c->m.mu);
			drain(c->pipe_r);
			c->m.notified = 0;
			pthread_mutex_unlock(&c->m.mu);
			flags |= H_REDRAW;
		}
		if (n > 0 && (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL)))
			c->term_gone = 1;
		/* keys, and KEY_RESIZE after a SIGWINCH interrupted poll */
		if (!c->term_gone && (n < 0 || (n > 0 && (pfd[1].revents & POLLIN)))) {
			wint_t ch;
			enum console_key k;
			int got = 0;
			while (!(flags & H_BREAK) && (k = console_get_key(&ch)) != CK_NONE) {
				flags |= handle_key(c, k, ch);
				got = 1;
			}
			/* readable yet no key, again and again: end of file, the terminal is gone */
			silent = got || n < 0 ? 0 : silent + 1;
			if (silent > 100)
				c->term_gone = 1;
		}
		if (c->npend && check_pending(c))
			flags |= H_REDRAW;
		if (c->watch && !c->m.ended &&
		    clock_mono_ns() - c->reloaded_ns >= (int64_t)WATCH_RELOAD_MS * 1000000)
			watch_reload(c);
		if (n == 0 || c->watch)
			flags |= H_REDRAW;	/* the clocks */
	}
}

/* ------------------------------------------------------------------------ */

static int console_open(struct console *c)
{
	pthread_once(&ui_pipe_once, ui_pipe_make);
	if (ui_pipe[0] < 0) {
		errorf("cannot start the console: %s", strerror(ui_pipe_errno));
		return 1;
	}
	c->pipe_r = ui_pipe[0];
	c->pipe_w = ui_pipe[1];
	c->m.wake_fd = ui_pipe[1];
	atomic_store(&signal_pipe_w, ui_pipe[1]);
	pthread_mutex_init(&c->m.mu, NULL);
	c->m.cur_phase = c->m.wait_pi = c->m.wait_si = c->m.pause_pi = c->m.pause_si = -1;
	c->m.last_pi = c->m.last_si = -1;
	c->wait_text_pi = c->wait_text_si = -1;
	return 0;
}

static void console_close(struct console *c)
{
	for (size_t i = 0; i < c->npend; i++)
		free(c->pend[i].what);
	pthread_mutex_destroy(&c->m.mu);
	model_release(&c->m);
	free(c->watch_id);
	/* the pipe stays open (see ui_pipe): a late signal writes into it harmlessly */
	atomic_store(&signal_pipe_w, -1);
	if (c->ui_st)
		store_close(c->ui_st);
	if (c->wl_rb)
		runbook_free(c->wl_rb);
	if (c->wl_host)
		luahost_free(c->wl_host);
}

static int screen_start(void)
{
	if (console_screen_begin(g_opts.color)) {
		errorf("cannot start the console on this terminal (TERM=%s): check TERM, or use `lifeboat run`",
		       getenv("TERM") ? getenv("TERM") : "unset");
		return EXIT_USAGE;
	}
	atomic_store(&curses_active, 1);
	return 0;
}

static int console_watch(struct console *c)
{
	struct run_rec *r = NULL;
	int lr = store_run_load(c->ui_st, c->watch_id, &r);
	if (lr) {
		if (lr == 1)
			errorf("no run '%s' in %s (see `lifeboat history`)", c->watch_id, db_path());
		else if (lr == 2)
			errorf("'%s' matches several runs: give more of the id", c->watch_id);
		else
			errorf("cannot read the history '%s': %s", db_path(), store_error(c->ui_st));
		return lr == -1 ? 1 : EXIT_USAGE;
	}
	watch_load_runbook(c, r);
	free(c->watch_id);
	c->watch_id = xstrdup(r->id);	/* the full id from now on */
	c->m.run = r;
	c->m.ended = r->status != ST_RUNNING;
	c->reloaded_ns = clock_mono_ns();
	watch_derive(c);
	int rc = screen_start();
	if (rc)
		return rc;
	install_signals(1);
	loop(c);
	restore_terminal();
	pthread_mutex_lock(&c->m.mu);
	const struct run_rec *w = c->m.run;
	if (w->status == ST_RUNNING)
		printf("run %s is still running (process %ld on %s) · lifeboat show %s\n", w->id,
		       w->pid, w->host ? w->host : "?", w->id);
	char verdict[160];
	if (w->status != ST_RUNNING)
		printf("run %s %s · exit %d · lifeboat show %s\n", w->id,
		       verdict_text(w, verdict, sizeof(verdict)), w->exit_code, w->id);
	pthread_mutex_unlock(&c->m.mu);
	return got_signal == SIGINT ? EXIT_ABORTED : got_signal ? EXIT_TERMINATED : 0;
}

static int console_run(struct console *c, const struct run_args *a)
{
	sigset_t async, old;
	async_signals(&async);
	pthread_sigmask(SIG_BLOCK, &async, &old);
	int rc = run_setup_init(&c->setup, a, a->drill ? "drill" : "run", "console");
	if (!rc) {
		c->setup.o.pause_on_failure = 1;
		c->hooks = (struct engine_hooks){ .event = on_event, .manual = on_manual, .ud = c };
		rc = screen_start();
	}
	if (!rc) {
		install_signals(0);
		if (engine_start(c)) {
			restore_terminal();
			errorf("cannot start the engine thread: %s", strerror(errno));
			rc = 1;
		}
	}
	if (rc) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	/* the UI thread takes them all now, but the engine's nudge */
	sigdelset(&async, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &async, NULL);
	loop(c);
	/*
	 * The loop leaves only once the run has ended, except when poll itself
	 * failed: then abort the run, and wait for its cleanup to end it.
	 */
	pthread_mutex_lock(&c->m.mu);
	int finished = c->m.finished;
	pthread_mutex_unlock(&c->m.mu);
	restore_terminal();
	if (!finished) {
		engine_request_abort(SIGTERM);
		fprintf(stderr, "lifeboat: the console failed: aborting the run, waiting for its cleanup\n");
	}
	pthread_join(c->engine, NULL);
	return run_finish(c->m.final, c->m.rc, a->report, a->junit);
}

static int cmd_console(const struct cmd_args *ca)
{
	struct run_args a = { 0 };
	int rc = run_args_parse(ca, &a);
	if (rc) {
		run_args_release(&a);
		return rc;
	}
	if (!isatty(0) || !isatty(1)) {
		run_args_release(&a);
		errorf("the console needs a terminal; `lifeboat run` works without one (and `lifeboat confirm` answers its manual steps from anywhere)");
		return EXIT_USAGE;
	}
	struct console c;
	memset(&c, 0, sizeof(c));
	c.watch = a.watch != NULL;
	c.watch_id = xstrdup(a.watch);
	atexit(restore_terminal);
	if (console_open(&c)) {
		run_args_release(&a);
		return 1;
	}
	rc = c.watch ? open_history(&c.ui_st) : open_store(&c.ui_st);
	if (!rc)
		rc = c.watch ? console_watch(&c) : console_run(&c, &a);
	restore_terminal();
	console_screen_release();
	console_close(&c);
	run_setup_release(&c.setup);
	run_args_release(&a);
	return rc;
}

static const struct opt console_options[] = {
	{ RUN_OPT_DRILL, "drill", NULL, "run the fault phases too: a drill" },
	{ RUN_OPT_WATCH, "watch", "RUN_ID", "follow and act on a run another process executes (no FILE then)" },
	RUN_OPTIONS,
	OPT_END
};

const struct cmd cmd_console_entry = {
	"console", cmd_console, "FILE",
	"run a runbook in the live console, or follow a run (--watch)",
	console_options,
	"console --drill --env staging failover.lua\n"
	"console --watch 3f9c2a",
};
