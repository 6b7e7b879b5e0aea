/*
 * The console's two halves: console.c runs the loop, the engine thread and
 * the actions; console-view.c is the only file that calls curses, and only
 * from the UI thread. What the screen shows is the model below.
 */
#ifndef LB_CONSOLE_H
#define LB_CONSOLE_H
#include <pthread.h>
#include <stdint.h>
#include <wchar.h>

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
