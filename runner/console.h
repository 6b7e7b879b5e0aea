/*
 * The console, one header for its four files: cmd-console.c (the command,
 * the engine thread, the signals), console-model.c (what the screen shows:
 * the model below, from the engine's events or the history), console-loop.c
 * (the UI thread's loop, keys and requests) and console-view.c (the only
 * file that calls curses, and only from the UI thread).
 */
#ifndef LB_CONSOLE_H
#define LB_CONSOLE_H
#include <pthread.h>
#include <stdint.h>
#include <wchar.h>

#include "run-setup.h"
#include "runner.h"

/* The live output of one step (runs executed here; --watch has only the history's). */
struct tail {
	int pi, si;
	struct strbuf text;		/* the last few KiB, from a line start */
};

/*
 * What the screen shows. Written by the engine thread's hooks (a run
 * executed here) or by reloads from the history (--watch), read by the UI
 * thread to draw; every field is guarded by mu.
 */
struct model {
	pthread_mutex_t mu;
	struct run_rec *run;		/* the screen's copy (no outputs), owned; NULL before the start */
	int cur_phase;			/* the phase whose steps are shown, -1 before any */
	int wait_pi, wait_si;		/* the manual step waiting for a person, -1 when none */
	char *wait_text;		/* its instruction, owned; NULL when unknown */
	int64_t wait_since_ms;
	int pause_pi, pause_si;		/* a failed step waiting for retry, skip or fail, -1 when none */
	int pause_attempt;
	char *pause_error;		/* why it failed, owned */
	struct tail *tails;		/* xcalloc'd on first use, up to MAX_TAILS */
	size_t ntails;
	int last_pi, last_si;		/* the step that finished last, -1 when none */
	char *message;			/* the status line, owned */
	int message_level;		/* 0 info, 1 warning, 2 error */
	int ended;			/* the run has ended: the engine reads no more requests */
	int finished;			/* engine_execute returned: rc and final are set */
	int rc;
	struct run_rec *final;		/* the engine's own record once finished, owned */
	int notified;			/* a byte is in the pipe to the UI thread */
	int wake_fd;			/* that pipe's write end */
};

enum prompt { PROMPT_NONE, PROMPT_NOTE, PROMPT_ABORT };

/* The UI thread's own state: the prompt on the bottom line. */
struct ui {
	enum prompt prompt;
	wchar_t input[200];		/* the note being typed */
	size_t input_len;
};

/* An action sent as a request, until its answer is shown. */
struct pending {
	long id;
	char *what;			/* "confirm 'sign off'", owned */
	int64_t sent_ns;
};

/* The console: one per `lifeboat console`, on the UI thread's stack. */
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

/* The model (console-model.c). The engine hooks run on the engine thread and lock m.mu. */
void console_on_event(void *ud, const struct engine_event *ev);
enum manual_answer console_on_manual(void *ud, const struct manual_request *rq, int first,
				     char **who, char **why);
void console_model_finish(struct model *m, struct run_rec *final, int rc);	/* takes final */
void console_model_notify(struct model *m);	/* wakes the UI thread; m.mu held */
void console_model_release(struct model *m);
/* --watch: the runbook (best effort), what the screen shows of the stored run, a reload (0, or store_run_load's failure). */
void console_watch_load_runbook(struct console *c, const struct run_rec *r);
void console_watch_focus(struct console *c);	/* m.mu held, or before the loop */
int console_watch_reload(struct console *c);

/* The loop (console-loop.c): returns once the run has ended and q, a signal or a lost terminal says so. */
int console_loop(struct console *c);
/* The first SIGINT, SIGTERM or SIGHUP the console took, 0 when none (cmd-console.c). */
int console_got_signal(void);

/* Keys as console_get_key reports them. */
enum console_key { CK_NONE, CK_CHAR, CK_ENTER, CK_BACKSPACE, CK_RESIZE, CK_OTHER };

/* The screen (console-view.c). begin: 0, or -1 when the terminal cannot be used. */
int console_screen_begin(int color);
void console_screen_end(void);		/* endwin: the terminal as it was; async-signal tolerant */
void console_screen_release(void);	/* frees the screen, after end */
void console_screen_flush(int clear);
/* The next key without waiting: CK_NONE when there is none. */
enum console_key console_get_key(wint_t *ch);
/* Draws the model (locked by the caller); watch: the run is followed from the history. */
void console_draw(const struct model *m, const struct ui *u, int watch);

#endif
