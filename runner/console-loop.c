/*
 * The console's loop, keys and actions (the UI thread).
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
 * The loop, htop style: the key handlers return flags (H_HANDLED, H_REDRAW,
 * H_BREAK) to one loop that decides when to draw and when to leave. It
 * poll()s the terminal and the wake-up pipe, with a timeout only while a
 * clock on screen moves, so a screen that waits for a person costs no CPU
 * to speak of.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "clock.h"
#include "console.h"

#define TICK_MS 250			/* clocks on screen move at this pace */
#define WATCH_RELOAD_MS 500		/* --watch reads the history twice a second */
#define PENDING_POLL_MS 100		/* how often an unanswered request is looked at */
#define ANSWER_WAIT_NS (5 * 1000000000LL)

enum { H_IGNORED = 0, H_HANDLED = 1, H_REDRAW = 2, H_CLEAR = 4, H_BREAK = 8 };

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

int console_loop(struct console *c)
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
		int sig = console_got_signal();
		if (refused || (finished && (sig || c->term_gone)) || (c->watch && sig))
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
			console_watch_reload(c);
		if (n == 0 || c->watch)
			flags |= H_REDRAW;	/* the clocks */
	}
}
