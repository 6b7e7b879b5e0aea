/*
 * Text from runbooks and their steps, made safe for a person's terminal.
 *
 * Step output, step and phase names and Lua errors are written by whoever
 * wrote the runbook or the program a step runs. Sent raw to a terminal, an
 * escape sequence in them can set the clipboard (OSC 52), retitle the window,
 * clear the screen or draw a fake "✓ all good" over a failure after
 * "\r\033[K". On a terminal they are printed the way less and git print
 * them: C0 controls and DEL in caret notation (ESC as ^[, NUL as ^@, CR as
 * ^M), C1 controls and bytes that are not UTF-8 as \xNN. Tabs stay tabs.
 * Reports and pipes get the bytes as they are.
 */
#ifndef LB_TERM_H
#define LB_TERM_H
#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* Appends s[0..len) to out with every control character visible (see above). */
void term_visible(struct strbuf *out, const char *s, size_t len);

/*
 * For printf's arguments: s (len bytes, NUL bytes included) rendered by
 * term_visible when stdout or stderr is a terminal, else a copy of s (NUL
 * bytes and all: print it with fwrite when it may hold any). The
 * result lives until the 8th call after this one; one thread (the one that
 * prints) may call it.
 */
const char *term_textn(const char *s, size_t len);
/* term_textn of a C string, but s itself when nothing needs rendering; NULL stays NULL. */
const char *term_text(const char *s);
/* Writes s[0..len) to f, each line through term_textn, the line ends kept. */
void term_put_lines(FILE *f, const char *s, size_t len);
/* Whether term_text renders: stdout or stderr is a terminal. */
int term_is_tty(void);

#endif
