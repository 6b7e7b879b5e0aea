/*
 * The console's screen: the only file that calls curses, always from the
 * UI thread (cmd-console.c says why). It draws the model top to bottom, htop
 * style panels each on their own rows: the header with the RTO clock, the
 * phases with their budget bars, the current phase's steps, a box for the
 * step that waits for a person, the output tails, the status line and the
 * key line. Everything is clipped by display width, so any size from
 * 80x24 up works and a resize only needs a redraw.
 */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "clock.h"
#include "console.h"

static SCREEN *screen;
static int utf8;		/* the terminal's codeset is UTF-8: symbols and bars use it */
static int colors;

enum { P_GREEN = 1, P_YELLOW, P_RED, P_CYAN };

int console_screen_begin(int color)
{
	screen = newterm(NULL, stdout, stdin);
	if (!screen)
		return -1;
	set_term(screen);
	/* ncurses may set the locale: numbers keep their dot (Lua and the reports rely on it) */
	setlocale(LC_NUMERIC, "C");
	utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	cbreak();	/* not raw: ^C stays SIGINT, which aborts like everywhere else */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (color && has_colors()) {
		start_color();
		use_default_colors();
		init_pair(P_GREEN, COLOR_GREEN, -1);
		init_pair(P_YELLOW, COLOR_YELLOW, -1);
		init_pair(P_RED, COLOR_RED, -1);
		init_pair(P_CYAN, COLOR_CYAN, -1);
		colors = 1;
	}
	return 0;
}

void console_screen_end(void)
{
	if (screen && !isendwin()) {
		curs_set(1);
		endwin();
	}
}

void console_screen_release(void)
{
	if (screen) {
		console_screen_end();
		delscreen(screen);
		screen = NULL;
	}
}

void console_screen_flush(int clear)
{
	if (clear)
		clearok(curscr, TRUE);
	refresh();
}

enum console_key console_get_key(wint_t *ch)
{
	int r = get_wch(ch);
	if (r == ERR)
		return CK_NONE;
	if (r == KEY_CODE_YES) {
		switch (*ch) {
		case KEY_RESIZE: return CK_RESIZE;
		case KEY_ENTER: return CK_ENTER;
		case KEY_BACKSPACE: return CK_BACKSPACE;
		default: return CK_OTHER;
		}
	}
	if (*ch == '\r' || *ch == '\n')
		return CK_ENTER;
	if (*ch == 127 || *ch == 8)
		return CK_BACKSPACE;
	return CK_CHAR;
}

/* ------------------------------------------------------------------------ */
/* drawing helpers */

static attr_t pair(int p)
{
	return colors ? COLOR_PAIR(p) : 0;
}

/*
 * Draws s at (y, x), clipped at column end (exclusive) by display width;
 * control characters and invalid bytes show as '?', so no output of a step
 * can move the cursor. Returns the column after the text.
 */
/* The character at s (of left bytes) into *wc: its length, 0 at a NUL; an invalid byte reads '?'. */
static size_t next_char(const char *s, size_t left, mbstate_t *ps, wchar_t *wc)
{
	size_t n = mbrtowc(wc, s, left, ps);
	if (n == (size_t)-1 || n == (size_t)-2) {
		memset(ps, 0, sizeof(*ps));
		*wc = L'?';
		return 1;
	}
	return n;
}

static int put(int y, int x, int end, attr_t a, const char *s)
{
	if (!s || y < 0 || y >= LINES || x >= end)
		return x;
	if (end > COLS)
		end = COLS;
	mbstate_t ps;
	memset(&ps, 0, sizeof(ps));
	size_t left = strlen(s);
	move(y, x);
	attrset(a);
	while (left && x < end) {
		wchar_t wc;
		size_t n = next_char(s, left, &ps, &wc);
		if (!n)
			break;
		if (wc == L'\t')
			wc = L' ';
		int w = wcwidth(wc);
		if (w < 0 || wc < 32) {
			wc = L'?';
			w = 1;
		}
		if (x + w > end)
			break;
		if (w > 0 || x > 0)
			addnwstr(&wc, 1);
		x += w;
		s += n;
		left -= n;
	}
	attrset(A_NORMAL);
	return x;
}

/* How many bytes of s fit in cols columns, broken after a space when the rest does not fit. */
static size_t fit(const char *s, int cols)
{
	mbstate_t ps;
	memset(&ps, 0, sizeof(ps));
	size_t left = strlen(s), used = 0, brk = 0;
	int x = 0;
	while (left) {
		wchar_t wc;
		size_t n = next_char(s + used, left, &ps, &wc);
		if (!n)
			break;
		int w = wcwidth(wc);
		if (w < 0)
			w = 1;
		if (x + w > cols)
			return brk ? brk : used;
		x += w;
		used += n;
		left -= n;
		if (wc == L' ')
			brk = used;
	}
	return used;
}

static int putf(int y, int x, int end, attr_t a, const char *fmt, ...) LB_PRINTF(5, 6);
static int putf(int y, int x, int end, attr_t a, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(y, x, end, a, buf);
}

/* A whole row in one attribute (for the boxes that must stand out). */
static void fill(int y, attr_t a)
{
	move(y, 0);
	attrset(a);
	for (int x = 0; x < COLS; x++)
		addch(' ');
	attrset(A_NORMAL);
}

static void rule(int y, const char *title)
{
	if (y >= LINES)
		return;
	attrset(A_DIM);
	mvhline(y, 0, ACS_HLINE, COLS);
	attrset(A_NORMAL);
	if (title)
		putf(y, 2, COLS - 2, A_BOLD, " %s ", title);
}

static const char *sym(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return utf8 ? "✓" : "+";
	case ST_RUNNING: return utf8 ? "▶" : ">";
	case ST_PENDING: return utf8 ? "·" : ".";
	case ST_SKIPPED: return "-";
	case ST_INTERRUPTED: return "~";
	default: return utf8 ? "✗" : "x";
	}
}

static attr_t st_attr(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return pair(P_GREEN);
	case ST_RUNNING: return pair(P_YELLOW) | A_BOLD;
	case ST_PENDING: case ST_SKIPPED: return A_DIM;
	case ST_INTERRUPTED: return pair(P_YELLOW);
	default: return pair(P_RED) | A_BOLD;
	}
}

/* A clock for what is still counting: 0:42, 12:05, 1:02:03. */
static const char *fmt_clock(double secs, char *buf, size_t n)
{
	if (isnan(secs)) {
		snprintf(buf, n, "-");
		return buf;
	}
	long s = secs < 0 ? 0 : (long)secs;
	if (s >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
	else
		snprintf(buf, n, "%ld:%02ld", s / 60, s % 60);
	return buf;
}

static double since(int64_t from_ms, int64_t now_ms)
{
	return from_ms == TS_NONE ? NAN : (double)(now_ms - from_ms) / 1000.0;
}

static double phase_elapsed(const struct phase_rec *p, int64_t now)
{
	if (p->status == ST_RUNNING)
		return since(p->started_ms, now);
	return p->duration_s;
}

static double step_elapsed(const struct step_rec *s, int64_t now)
{
	if (s->status == ST_RUNNING)
		return since(s->started_ms, now);
	return s->duration_s;
}

/* ------------------------------------------------------------------------ */
/* the header: what runs, and the clock against the RTO */

enum rto_state { RTO_NO_TARGET, RTO_BEFORE_T0, RTO_OK, RTO_AT_RISK, RTO_MISSED, RTO_MET,
		 RTO_NOT_RESTORED };

/*
 * Green while on track, yellow once the budgets of the phases still to run
 * up to the restoring one no longer fit in the time left, red once missed.
 */
static enum rto_state rto_state(const struct run_rec *r, int64_t now, double *elapsed,
				double *left, double *need)
{
	double target = r->rto_target_s;
	*elapsed = *left = *need = NAN;
	if (r->restored_ms != TS_NONE && r->incident_ms != TS_NONE) {
		*elapsed = (double)(r->restored_ms - r->incident_ms) / 1000.0;
		if (isnan(target))
			return RTO_NO_TARGET;
		return *elapsed <= target + 1e-9 ? RTO_MET : RTO_MISSED;
	}
	if (r->status != ST_RUNNING)
		return RTO_NOT_RESTORED;
	if (r->incident_ms == TS_NONE)
		return RTO_BEFORE_T0;
	*elapsed = since(r->incident_ms, now);
	if (isnan(target))
		return RTO_NO_TARGET;
	*left = target - *elapsed;
	if (*left < 0)
		return RTO_MISSED;
	int restoring = -1;
	for (size_t i = 0; i < r->nphases; i++)
		if (r->phases[i].restores_service)
			restoring = (int)i;
	double sum = 0;
	for (size_t i = 0; i < r->nphases && (restoring < 0 || (int)i <= restoring); i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->fault || p->cleanup || isnan(p->budget_s))
			continue;
		if (p->status == ST_PENDING)
			sum += p->budget_s;
		else if (p->status == ST_RUNNING && p->budget_s > phase_elapsed(p, now))
			sum += p->budget_s - phase_elapsed(p, now);
	}
	*need = sum;
	return sum > *left ? RTO_AT_RISK : RTO_OK;
}

static void draw_header(const struct model *m, int watch, int64_t now)
{
	const struct run_rec *r = m->run;
	char a[32], b[32], d[32], tb[32];
	const char *state = status_name(r->status);
	int sw = (int)strlen(state) + 3;
	putf(0, 0, COLS - sw, A_BOLD, "%s%s %s · run %s · env %s · operator %s",
	     watch ? "watching " : "", r->mode ? r->mode : "run", r->runbook, r->id,
	     r->env ? r->env : "-", r->operator ? r->operator : "-");
	int x;
	char tag[48];
	snprintf(tag, sizeof(tag), "[%s]", state);
	for (char *p = tag; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	put(0, COLS - (int)strlen(tag), COLS, st_attr(r->status) | A_BOLD, tag);

	double el, left, need;
	enum rto_state rs = rto_state(r, now, &el, &left, &need);
	const char *target = fmt_dur(r->rto_target_s, tb, sizeof(tb));
	attr_t ok = pair(P_GREEN) | A_BOLD, risk = pair(P_YELLOW) | A_BOLD,
	       bad = pair(P_RED) | A_BOLD;
	x = 0;
	switch (rs) {
	case RTO_NO_TARGET:
		x = putf(1, x, COLS, A_BOLD, "RTO %s (no target)", r->restored_ms != TS_NONE ?
			 fmt_dur(el, a, sizeof(a)) : fmt_clock(el, a, sizeof(a)));
		break;
	case RTO_BEFORE_T0:
		x = putf(1, x, COLS, A_BOLD, "RTO clock starts when the fault phases end · target %s",
			 target);
		break;
	case RTO_OK:
		x = putf(1, x, COLS, ok, "RTO %s of %s · on track", fmt_clock(el, a, sizeof(a)),
			 target);
		break;
	case RTO_AT_RISK:
		x = putf(1, x, COLS, risk, "RTO %s of %s · AT RISK: %s left, %s of budgets to go",
			 fmt_clock(el, a, sizeof(a)), target, fmt_clock(left, d, sizeof(d)),
			 fmt_dur(need, b, sizeof(b)));
		break;
	case RTO_MISSED:
		x = putf(1, x, COLS, bad, "RTO %s of %s · MISSED", r->restored_ms != TS_NONE ?
			 fmt_dur(el, a, sizeof(a)) : fmt_clock(el, a, sizeof(a)), target);
		break;
	case RTO_MET:
		x = putf(1, x, COLS, ok, "RTO %s of %s · met", fmt_dur(el, a, sizeof(a)), target);
		break;
	case RTO_NOT_RESTORED:
		x = putf(1, x, COLS, isnan(r->rto_target_s) ? A_DIM : bad,
			 "RTO: service not restored");
		break;
	}
	x += 3;
	/* the RPO verdict once known */
	double rpo = r->rpo_achieved_s;
	if (isnan(rpo) && r->recovery_point_ms != TS_NONE && r->incident_ms != TS_NONE)
		rpo = (double)(r->incident_ms - r->recovery_point_ms) / 1000.0;
	const char *rt = fmt_dur(r->rpo_target_s, b, sizeof(b));
	if (rpo_status_of(r->rpo_status) == RPO_UNMEASURED)
		putf(1, x, COLS, bad, "RPO UNMEASURED (counts as missed)");
	else if (isnan(r->rpo_target_s))
		put(1, x, COLS, A_DIM, isnan(rpo) ? "no RPO target" : "RPO (no target)");
	else if (!isnan(rpo))
		putf(1, x, COLS, rpo <= r->rpo_target_s + 1e-9 ? ok : bad, "RPO %s of %s · %s",
		     fmt_dur(rpo, a, sizeof(a)), rt, rpo <= r->rpo_target_s + 1e-9 ? "met" : "MISSED");
	else
		putf(1, x, COLS, A_DIM, "RPO target %s: measured at restore", rt);
}

/* ------------------------------------------------------------------------ */
/* phases and steps */

static int phase_name_width(const struct run_rec *r)
{
	int w = 8;
	for (size_t i = 0; i < r->nphases; i++)
		if ((int)strlen(r->phases[i].name) > w)
			w = (int)strlen(r->phases[i].name);
	return w > COLS / 4 ? COLS / 4 : w;
}

static void draw_phase(int y, const struct run_rec *r, int i, int cur, int namew, int64_t now)
{
	const struct phase_rec *p = &r->phases[i];
	char a[32], b[32];
	double el = phase_elapsed(p, now);
	int over = p->over_budget || (!isnan(p->budget_s) && !isnan(el) && el > p->budget_s);
	put(y, 0, 1, A_BOLD, i == cur ? ">" : " ");
	put(y, 1, 3, st_attr(p->status), sym(p->status));
	int x = 3;
	put(y, x, x + namew, i == cur ? A_BOLD : 0, p->name);
	x += namew + 1;
	put(y, x, x + 10, A_DIM, p->role ? p->role : "-");
	x += 11;
	if (!isnan(p->budget_s)) {
		int bw = 12, filled = isnan(el) ? 0 : (int)lround(el / p->budget_s * bw);
		if (filled > bw)
			filled = bw;
		attr_t ba = over ? pair(P_RED) | A_BOLD : p->status == ST_RUNNING ? pair(P_YELLOW) :
			    pair(P_GREEN);
		put(y, x, x + 1, A_DIM, "[");
		for (int k = 0; k < bw; k++)
			put(y, x + 1 + k, x + 2 + k, k < filled ? ba : A_DIM,
			    k < filled ? (utf8 ? "█" : "#") : (utf8 ? "░" : "."));
		put(y, x + 1 + bw, x + 2 + bw, A_DIM, "]");
		x += bw + 3;
		x = putf(y, x, COLS, over ? pair(P_RED) | A_BOLD : 0, "%6s / %s",
			 isnan(el) ? "-" : p->status == ST_RUNNING ? fmt_clock(el, a, sizeof(a)) :
			 fmt_dur(el, a, sizeof(a)), fmt_dur(p->budget_s, b, sizeof(b)));
	} else {
		x += 15;
		x = putf(y, x, COLS, 0, "%6s", isnan(el) ? "" : p->status == ST_RUNNING ?
			 fmt_clock(el, a, sizeof(a)) : fmt_dur(el, a, sizeof(a)));
	}
	x = put(y, x + 2, COLS, st_attr(p->status), status_name(p->status));
	if (over)
		x = put(y, x + 2, COLS, pair(P_RED) | A_BOLD, "OVER BUDGET");
	if (p->fault)
		x = put(y, x + 2, COLS, A_DIM, "fault");
	if (p->cleanup)
		put(y, x + 2, COLS, A_DIM, "cleanup");
	if (p->probe)
		put(y, x + 2, COLS, A_DIM, "probes");
}

static int step_visible(const struct step_rec *s)
{
	return s->section == SEC_MAIN || s->status != ST_PENDING;
}

static void draw_step(int y, const struct model *m, int pi, int si, int namew, int64_t now)
{
	const struct step_rec *s = &m->run->phases[pi].steps[si];
	int waiting = m->wait_pi == pi && m->wait_si == si;
	int paused = m->pause_pi == pi && m->pause_si == si;
	char a[32];
	double el = step_elapsed(s, now);
	put(y, 2, 4, st_attr(s->status), waiting ? "?" : paused ? "!" : sym(s->status));
	int x = 4;
	put(y, x, x + namew, waiting || paused ? A_BOLD : 0, s->name);
	if (s->section == SEC_ROLLBACK)
		put(y, x + (int)strlen(s->name) + 1, x + namew, A_DIM, "(rollback)");
	x += namew + 1;
	put(y, x, x + 6, A_DIM, s->kind);
	x += 7;
	put(y, x, x + 10, A_DIM, s->role ? s->role : "-");
	x += 11;
	if (waiting)
		put(y, x, x + 10, pair(P_YELLOW) | A_BOLD | A_REVERSE, "WAITING");
	else if (paused)
		put(y, x, x + 10, pair(P_RED) | A_BOLD | A_REVERSE, "FAILED");
	else
		put(y, x, x + 10, st_attr(s->status), status_name(s->status));
	x += 11;
	x = putf(y, x, COLS, 0, "%7s", isnan(el) ? "" : s->status == ST_RUNNING ?
		 fmt_clock(el, a, sizeof(a)) : fmt_dur(el, a, sizeof(a)));
	if (s->attempts > 1)
		x = putf(y, x + 1, COLS, A_DIM, "%d attempts", s->attempts);
	if (s->confirmed_by)
		putf(y, x + 1, COLS, A_DIM, s->auto_confirmed ? "auto-confirmed (--yes by %s)" : "by %s",
		     s->confirmed_by);
	else if (s->error && s->status != ST_RUNNING && s->status != ST_SUCCEEDED)
		put(y, x + 1, COLS, pair(P_RED), s->error);
}

/* Rows under a remote step (SPEC 8): the hosts counted, then each host not ok, at most this many. */
#define HOST_ROWS 6
enum { ROW_STEP = -1, ROW_HOSTS = -2, ROW_MORE = -3 };

/* A host with a row of its own: finished and not ok (a running one is only counted). */
static int host_row(const struct host_rec *h)
{
	return !host_ok(h) && h->status && strcmp(h->status, "running") && strcmp(h->status, "pending");
}

static void draw_host_row(int y, const struct step_rec *s, int row, int namew)
{
	int x = 6;
	if (row == ROW_HOSTS) {
		char *sum = step_hosts_summary(s);
		putf(y, x, COLS, A_DIM, "hosts: %s", sum ? sum : "");
		free(sum);
		return;
	}
	if (row == ROW_MORE) {
		int n = 0;
		for (size_t k = 0; k < s->nhosts; k++)
			n += host_row(&s->hosts[k]);
		putf(y, x, COLS, A_DIM, "... %d more not ok: lifeboat show has them all", n - HOST_ROWS);
		return;
	}
	const struct host_rec *h = &s->hosts[row];
	put(y, x, x + 2, pair(P_RED), utf8 ? "✗" : "x");
	x += 2;
	put(y, x, x + namew - 2, A_BOLD, h->host);
	x += namew - 1;
	put(y, x, x + 12, pair(P_RED), h->status);
	x += 13;
	if (h->exit_code >= 0)
		x = putf(y, x, COLS, 0, "exit %d", h->exit_code) + 1;
	/* "exited with code 7" says no more than the exit code */
	if (h->error && (h->exit_code < 0 || strncmp(h->error, "exited with code", 16)))
		put(y, x, COLS, A_DIM, h->error);
}

/* The window of n rows out of total that shows focus. */
static int window_start(int total, int rows, int focus)
{
	if (total <= rows || focus < 0)
		return focus < 0 && total > rows ? total - rows : 0;
	int start = focus - rows / 2;
	if (start < 0)
		start = 0;
	if (start > total - rows)
		start = total - rows;
	return start;
}

/* ------------------------------------------------------------------------ */
/* boxes and output */

static int draw_wait_box(int y, const struct model *m, int64_t now, int wrap)
{
	const struct step_rec *s = &m->run->phases[m->wait_pi].steps[m->wait_si];
	char a[32];
	attr_t hi = pair(P_YELLOW) | A_BOLD | A_REVERSE;
	fill(y, hi);
	putf(y, 0, COLS, hi, " WAITING FOR A PERSON %s (role %s): %s ",
	     fmt_clock(since(m->wait_since_ms, now), a, sizeof(a)), s->role ? s->role : "any",
	     s->name);
	const char *text = m->wait_text ? m->wait_text :
			   "(instruction computed by the runbook: see the terminal executing it)";
	int rows = 1;
	size_t first = fit(text, COLS - 2);
	if (text[first] && wrap) {
		/* a long instruction gets a second line */
		char *line = xstrndup(text, first);
		put(y + 1, 2, COLS, A_BOLD, line);
		free(line);
		text += first;
		rows = 2;
	}
	put(y + rows, 2, COLS, A_BOLD, text);
	putf(y + rows + 1, 2, COLS, A_DIM,
	     "y confirms · n declines · from any terminal: lifeboat confirm %s", m->run->id);
	return rows + 2;
}

/* Rows the box of the waiting step takes: 3, or 4 when its instruction needs two lines. */
static int wait_box_rows(const struct model *m)
{
	return m->wait_text && m->wait_text[fit(m->wait_text, COLS - 2)] ? 4 : 3;
}

static int draw_pause_box(int y, const struct model *m)
{
	const struct step_rec *s = &m->run->phases[m->pause_pi].steps[m->pause_si];
	attr_t hi = pair(P_RED) | A_BOLD | A_REVERSE;
	fill(y, hi);
	putf(y, 0, COLS, hi, " STEP FAILED: %s (attempt %d): %s ", s->name, m->pause_attempt,
	     m->pause_error ? m->pause_error : "see its output below");
	put(y + 1, 2, COLS, A_BOLD, "r retries it · s skips it (the run goes on) · f lets it fail");
	return 2;
}

/* The last rows lines of text[0..len), clipped; a carriage return restarts a line. */
static void draw_lines(int y, int rows, const char *text, size_t len)
{
	if (rows <= 0 || !text)
		return;
	while (len && text[len - 1] == '\n')
		len--;
	size_t start = len;
	int n = 0;
	while (start > 0 && n < rows) {
		if (text[start - 1] == '\n' && ++n == rows)
			break;
		start--;
	}
	int row = y;
	const char *p = text + start, *end = text + len;
	char line[1024];
	while (p < end && row < y + rows) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *from = p;
		for (const char *q = p; q < le; q++)
			if (*q == '\r' && q + 1 < le)
				from = q + 1;
		size_t l = (size_t)(le - from);
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, from, l);
		line[l] = '\0';
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		put(row++, 2, COLS, 0, line);
		p = nl ? nl + 1 : end;
	}
}

struct shown_tail {
	int pi, si;
	const char *text;
	size_t len;
	const char *how;
};

/*
 * Which outputs to show: each running step of the current phase (several
 * in a parallel phase), else the step that finished last. --watch has a
 * step's output only once it finished.
 */
static int pick_tails(const struct model *m, int watch, struct shown_tail *out, int max)
{
	int n = 0;
	const struct run_rec *r = m->run;
	if (!watch) {
		for (size_t i = 0; i < m->ntails && n < max; i++) {
			const struct tail *t = &m->tails[i];
			if (t->pi == m->cur_phase && r->phases[t->pi].steps[t->si].status == ST_RUNNING &&
			    t->text.len)
				out[n++] = (struct shown_tail){ t->pi, t->si, t->text.buf, t->text.len,
								t->pi == m->pause_pi && t->si == m->pause_si ?
								"failed, waiting for a decision" : "running" };
		}
		if (n)
			return n;
		for (size_t i = 0; i < m->ntails; i++) {
			const struct tail *t = &m->tails[i];
			if (t->pi == m->last_pi && t->si == m->last_si && t->text.len) {
				out[n++] = (struct shown_tail){ t->pi, t->si, t->text.buf, t->text.len,
								status_name(r->phases[t->pi].steps[t->si].status) };
				break;
			}
		}
		return n;
	}
	if (m->last_pi >= 0) {
		const struct step_rec *s = &r->phases[m->last_pi].steps[m->last_si];
		if (s->output)
			out[n++] = (struct shown_tail){ m->last_pi, m->last_si, s->output,
							strlen(s->output),
							"last finished step: the history has no live output" };
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* the bottom: status line and keys */

static void draw_keys(int y, const struct model *m, const struct ui *u, int watch)
{
	if (u->prompt == PROMPT_NOTE) {
		int x = put(y, 0, COLS, A_BOLD, "note (Enter adds it, Esc cancels)> ");
		int start = 0, room = COLS - x - 1;
		if (room < 1)
			return;
		if ((int)u->input_len > room)
			start = (int)u->input_len - room;
		move(y, x);
		addnwstr(u->input + start, (int)u->input_len - start);
		curs_set(1);
		return;
	}
	if (u->prompt == PROMPT_ABORT) {
		attr_t a = pair(P_RED) | A_BOLD | A_REVERSE;
		fill(y, a);
		put(y, 0, COLS, a, " abort the run? y/N (cleanup phases still run) ");
		return;
	}
	int run_on = m->run && !m->ended;
	struct {
		const char *key, *label;
		int on;
	} keys[] = {
		{ "y", "confirm", run_on && m->wait_pi >= 0 },
		{ "n", "decline", run_on && m->wait_pi >= 0 },
		{ "r", "retry", run_on && m->pause_pi >= 0 },
		{ "s", "skip", run_on && m->pause_pi >= 0 },
		{ "f", "fail", run_on && m->pause_pi >= 0 },
		{ "m", "note", run_on },
		{ "a", "abort", run_on },
		{ "q", "quit", watch || m->finished },
	};
	int x = 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!keys[i].on && (!strcmp(keys[i].key, "f") || (m->run && m->ended)))
			continue;	/* f only while a step waits for a decision; once ended, q */
		x = put(y, x, COLS, keys[i].on ? A_BOLD | A_REVERSE : A_DIM, keys[i].key);
		x = put(y, x + 1, COLS, keys[i].on ? 0 : A_DIM, keys[i].label);
		x += 2;
	}
	/* who the keys act as: recorded with every action */
	char as[96];
	int n = snprintf(as, sizeof(as), "as %s", g_opts.operator);
	if (n > 0 && x + n < COLS)
		put(y, COLS - n, COLS, A_DIM, as);
}

static void draw_status(int y, const struct model *m, int watch)
{
	const struct run_rec *r = m->run;
	if (r && (m->finished || (watch && m->ended))) {
		char verdict[160], line[320];
		const char *keys = watch ? "q quits" : "q quits and prints the summary";
		int code = watch ? r->exit_code : m->rc;
		verdict_text(r, verdict, sizeof(verdict));
		/* every verdict must show: the run's id (in the header too) gives way first */
		int len = snprintf(line, sizeof(line), "run %s %s · exit %d · %s", r->id, verdict, code, keys);
		if (len - 2 > COLS)	/* two "·" of two bytes, one column each */
			snprintf(line, sizeof(line), "%s · exit %d · %s", verdict, code, keys);
		put(y, 0, COLS, st_attr(r->status) | A_BOLD, line);
		return;
	}
	if (!m->message)
		return;
	attr_t a = m->message_level >= 2 ? pair(P_RED) | A_BOLD :
		   m->message_level == 1 ? pair(P_YELLOW) : 0;
	put(y, 0, COLS, a, m->message);
}

/* ------------------------------------------------------------------------ */

void console_draw(const struct model *m, const struct ui *u, int watch)
{
	erase();
	curs_set(0);
	int H = LINES;
	const struct run_rec *r = m->run;
	if (!r) {
		put(0, 0, COLS, A_BOLD, "lifeboat console: starting the run ...");
		draw_status(H - 2, m, watch);
		draw_keys(H - 1, m, u, watch);
		return;
	}
	int64_t now = clock_wall_ms();
	draw_header(m, watch, now);
	int bottom = H - 2, y = 2;
	if (H < 10 || COLS < 40) {
		put(y, 0, COLS, pair(P_YELLOW), "the console needs 80x24 or more");
	} else {
		int cp = m->cur_phase;
		int vis[256], vrow[256], nvis = 0, focus = -1;
		if (cp >= 0) {
			const struct phase_rec *p = &r->phases[cp];
			for (size_t j = 0; j < p->nsteps && nvis < (int)ARRAY_SIZE(vis); j++) {
				const struct step_rec *s = &p->steps[j];
				if (!step_visible(s))
					continue;
				if (focus < 0 && (s->status == ST_RUNNING ||
						  ((int)j == m->wait_si && cp == m->wait_pi)))
					focus = nvis;
				vis[nvis] = (int)j;
				vrow[nvis++] = ROW_STEP;
				if (!s->nhosts || s->status == ST_PENDING)
					continue;
				if (nvis < (int)ARRAY_SIZE(vis)) {
					vis[nvis] = (int)j;
					vrow[nvis++] = ROW_HOSTS;
				}
				int shown = 0;
				for (size_t k = 0; k < s->nhosts && nvis < (int)ARRAY_SIZE(vis); k++) {
					if (!host_row(&s->hosts[k]))
						continue;
					vis[nvis] = (int)j;
					if (shown++ == HOST_ROWS) {
						vrow[nvis++] = ROW_MORE;
						break;
					}
					vrow[nvis++] = (int)k;
				}
			}
		}
		int box = m->wait_pi >= 0 ? wait_box_rows(m) : m->pause_pi >= 0 ? 2 : 0;
		struct shown_tail tails[4];
		int nt = pick_tails(m, watch, tails, 4);
		int rest = bottom - y - 1 - (cp >= 0 ? 1 : 0) - box;
		int np = (int)r->nphases;
		int ph = np < (rest / 3 > 2 ? rest / 3 : 2) ? np : (rest / 3 > 2 ? rest / 3 : 2);
		int st = 0;
		if (cp >= 0) {
			int want = (rest - ph) / 2 > 2 ? (rest - ph) / 2 : 2;
			if (!nt)
				want = rest - ph;
			st = nvis < want ? nvis : want;
		}
		int out = rest - ph - st;

		rule(y++, "phases");
		int pfocus = cp;
		int start = window_start(np, ph, pfocus);
		int namew = phase_name_width(r);
		for (int i = start; i < np && i < start + ph && y < bottom; i++)
			draw_phase(y++, r, i, cp, namew, now);
		if (cp >= 0 && y < bottom) {
			char title[256];
			snprintf(title, sizeof(title), "steps of %s%s", r->phases[cp].name,
				 r->phases[cp].parallel > 1 ? " (parallel)" : "");
			rule(y++, title);
			int sw = 12;
			for (int k = 0; k < nvis; k++) {
				int l = vrow[k] == ROW_STEP ? (int)strlen(r->phases[cp].steps[vis[k]].name) : 0;
				if (l > sw)
					sw = l;
			}
			if (sw > COLS / 3)
				sw = COLS / 3;
			start = window_start(nvis, st, focus);
			for (int k = start; k < nvis && k < start + st && y < bottom; k++)
				if (vrow[k] == ROW_STEP)
					draw_step(y++, m, cp, vis[k], sw, now);
				else
					draw_host_row(y++, &r->phases[cp].steps[vis[k]], vrow[k], sw);
		}
		if (m->wait_pi >= 0 && y + 3 <= bottom)
			y += draw_wait_box(y, m, now, y + box <= bottom);
		else if (m->pause_pi >= 0 && y + 2 <= bottom)
			y += draw_pause_box(y, m);
		if (nt && out >= 2) {
			int each = out / nt;
			if (each < 2) {
				nt = out / 2;
				each = 2;
			}
			for (int k = 0; k < nt && y + 1 < bottom; k++) {
				char title[256];
				snprintf(title, sizeof(title), "output of %s (%s)",
					 r->phases[tails[k].pi].steps[tails[k].si].name, tails[k].how);
				rule(y++, title);
				int rows = each - 1;
				if (y + rows > bottom)
					rows = bottom - y;
				draw_lines(y, rows, tails[k].text, tails[k].len);
				y += rows;
			}
		}
	}
	draw_status(H - 2, m, watch);
	draw_keys(H - 1, m, u, watch);
}
