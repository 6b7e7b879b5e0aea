/*
 * The Markdown report (GitHub-flavoured): verdicts, the trend, a text
 * timeline, the steps and the failures' output, for a pull request comment
 * or a ticket.
 */
#include "report-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

/* ---- Markdown ---- */

/*
 * Text for a Markdown line or table cell: the punctuation Markdown acts on
 * is backslash-escaped, HTML's specials become entities (GitHub passes raw
 * HTML through), line breaks become spaces, control characters and bad
 * bytes go as in XML.
 */
static void md_add(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n) {
		unsigned long c;
		size_t len = text_next(p, n, &c);
		if (c == TEXT_BAD) {
			strbuf_addstr(sb, replacement);
		} else if (c == TEXT_CSI) {
			/* dropped */
		} else if (c == '\n' || c == '\t' || c == '\r') {
			strbuf_addch(sb, ' ');
		} else if (c < 0x20 || c == 0x7f) {
			/* dropped */
		} else if (c == '&') {
			strbuf_addstr(sb, "&amp;");
		} else if (c == '<') {
			strbuf_addstr(sb, "&lt;");
		} else if (c == '>') {
			strbuf_addstr(sb, "&gt;");
		} else if (strchr("\\`*_[]|#~!", (int)c)) {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (int)c);
		} else {
			strbuf_add(sb, p, len);
		}
		p += len;
		n -= len;
	}
}

/*
 * Inline code: backticks around the text, more of them than any run inside.
 * In a table cell a pipe still ends the cell unless escaped, even in code.
 */
static void md_code_in(struct strbuf *sb, const char *s, int cell)
{
	s = s ? s : "";
	size_t run = 0, longest = 0;
	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	struct strbuf clean = STRBUF_INIT;
	strbuf_init(&clean, strlen(s));
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (cell && *p == '|')
			strbuf_addch(&clean, '\\');
		strbuf_addch(&clean, *p < 0x20 || *p == 0x7f ? ' ' : *p);
	}
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_addstr(sb, clean.buf[0] == '`' ? " " : "");
	strbuf_addstr(sb, clean.buf);
	strbuf_addstr(sb, clean.len && clean.buf[clean.len - 1] == '`' ? " " : "");
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_release(&clean);
}

static void md_code(struct strbuf *sb, const char *s)
{
	md_code_in(sb, s, 0);
}

/* A fenced block of raw text: the fence is longer than any backtick run inside. */
static void md_fence(struct strbuf *sb, const char *text)
{
	size_t run = 0, longest = 2;
	for (const char *p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	struct strbuf body = STRBUF_INIT;
	strbuf_init(&body, strlen(text) + 16);
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text);
	while (n) {	/* as XML text: readable bytes only, terminal escapes out */
		unsigned long c;
		size_t len = text_next(p, n, &c);
		if (c == TEXT_BAD) {
			strbuf_addstr(&body, replacement);
		} else if (c == TEXT_CSI) {
			/* dropped */
		} else if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f)) {
			strbuf_add(&body, p, len);
		}
		p += len;
		n -= len;
	}
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_addstr(sb, "text\n");
	strbuf_addstr(sb, body.buf);
	if (!body.len || body.buf[body.len - 1] != '\n')
		strbuf_addch(sb, '\n');
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_addstr(sb, "\n\n");
	strbuf_release(&body);
}

static const char *md_mark(enum tone t)
{
	static const char *const marks[] = { "\xe2\x9c\x85 ", "\xe2\x9d\x8c ", "", "\xe2\x8f\xb3 " };
	return marks[t];
}

#define MD_COLS 48	/* width of the Markdown timeline's track */

/* The timeline as text: one line per phase, machine time █, waits ▒, budget ·. */
static void md_timeline(struct strbuf *sb, const struct run_rec *r, const struct axis *ax)
{
	static const char *const glyph[] = { " ", "\xc2\xb7", "\xe2\x96\x88", "\xe2\x96\x92",
					     "\xe2\x94\x86" };	/* space · █ ▒ ┆ */
	enum { G_NONE, G_BUDGET, G_BAR, G_WAIT, G_LINE };
	size_t namew = 5;
	char **names = xcalloc(r->nphases ? r->nphases : 1, sizeof(*names));
	for (size_t i = 0; i < r->nphases; i++) {
		names[i] = utf8_trunc(r->phases[i].name, 28);
		size_t w = utf8_width(names[i]);
		namew = w > namew ? w : namew;
	}
	int64_t dl = r->incident_ms != TS_NONE && isfinite(r->rto_target_s)
			     ? r->incident_ms + (int64_t)(r->rto_target_s * 1000.0)
			     : TS_NONE;
	const int64_t marks[3] = { r->incident_ms, r->restored_ms, dl };
	const char *const mark_names[3] = { "t0", "t1", "RTO" };
#define COL(ms) ((int)(axis_at(ax, (ms)) * (MD_COLS - 1) + 0.5))
	struct strbuf body = STRBUF_INIT;
	strbuf_init(&body, 4096);
	/* the markers' names above the track */
	char top[MD_COLS + 16];
	memset(top, ' ', sizeof(top));
	for (int k = 0; k < 3; k++) {
		if (!axis_has(ax, marks[k]))
			continue;
		int c = COL(marks[k]);
		size_t len = strlen(mark_names[k]);
		if (c + (int)len > MD_COLS + 8)
			c = MD_COLS + 8 - (int)len;
		memcpy(top + c, mark_names[k], len);
	}
	int last = MD_COLS + 7;
	while (last >= 0 && top[last] == ' ')
		last--;
	strbuf_addf(&body, "%*s  %.*s\n", (int)namew, "", last + 1, top);
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		int cell[MD_COLS];
		for (int c = 0; c < MD_COLS; c++)
			cell[c] = G_NONE;
		if (p->started_ms != TS_NONE) {
			int a = COL(p->started_ms);
			if (isfinite(p->budget_s))
				for (int c = a; c <= COL(p->started_ms + (int64_t)(p->budget_s * 1000)); c++)
					cell[c] = G_BUDGET;
			int64_t end = p->ended_ms != TS_NONE ? p->ended_ms : ax->hi;
			for (int c = a; c <= COL(end); c++)
				cell[c] = G_BAR;
			for (size_t j = 0; j < p->nsteps; j++) {
				const struct step_rec *s = &p->steps[j];
				if (s->started_ms == TS_NONE || !(s->human_wait_s > 0))
					continue;
				int64_t we = s->started_ms + (int64_t)(s->human_wait_s * 1000);
				if (s->ended_ms != TS_NONE && we > s->ended_ms)
					we = s->ended_ms;
				for (int c = COL(s->started_ms); c <= COL(we); c++)
					cell[c] = G_WAIT;
			}
		}
		for (int k = 0; k < 3; k++)
			if (axis_has(ax, marks[k]) && cell[COL(marks[k])] != G_BAR &&
			    cell[COL(marks[k])] != G_WAIT)
				cell[COL(marks[k])] = G_LINE;
		strbuf_addstr(&body, names[i]);
		for (size_t w = utf8_width(names[i]); w < namew; w++)
			strbuf_addch(&body, ' ');
		strbuf_addstr(&body, " \xe2\x94\x82");
		for (int c = 0; c < MD_COLS; c++)
			strbuf_addstr(&body, glyph[cell[c]]);
		char d[32], b[32];
		strbuf_addf(&body, "\xe2\x94\x82 %s", p->started_ms == TS_NONE ? "not run" : dur(p->duration_s, d));
		if (isfinite(p->budget_s))
			strbuf_addf(&body, " of %s", dur(p->budget_s, b));
		if (p->human_wait_s > 0)
			strbuf_addf(&body, ", %s waiting", dur(p->human_wait_s, d));
		if (p->over_budget)
			strbuf_addstr(&body, "  OVER BUDGET");
		strbuf_addch(&body, '\n');
	}
	char t1[32], t2[32];
	strbuf_addf(&body, "%*s  %-*s%s\n", (int)namew, "", MD_COLS - 4,
		    tick_label((double)(ax->lo - ax->origin) / 1000.0, t1),
		    tick_label((double)(ax->hi - ax->origin) / 1000.0, t2));
#undef COL
	md_fence(sb, body.buf);
	strbuf_release(&body);
	for (size_t i = 0; i < r->nphases; i++)
		free(names[i]);
	free(names);
	strbuf_addf(sb, "`\xe2\x96\x88` machine time, `\xe2\x96\x92` waiting for a person, "
			"`\xc2\xb7` budget, `\xe2\x94\x86` t0 (incident), t1 (restored) and the RTO "
			"deadline; times count from %s",
		    ax->origin == r->incident_ms ? "t0" : "the start of the run");
	if (r->incident_ms != TS_NONE && r->incident_ms < ax->lo) {
		char d[32];
		strbuf_addf(sb, "; t0 was %s earlier", dur((double)(ax->lo - r->incident_ms) / 1000.0, d));
	}
	if (dl != TS_NONE && !axis_has(ax, dl)) {
		char d[32];
		strbuf_addf(sb, "; the RTO deadline, t0 + %s, lies beyond the chart",
			    dur(r->rto_target_s, d));
	}
	strbuf_addstr(sb, ".\n\n");
}

static void md_verdict_row(struct strbuf *sb, const char *label, const struct verdict *v)
{
	char a[32], t[32];
	strbuf_addf(sb, "| %s | %s | %s | %s%s%s%s |\n", label, dur(v->achieved, a),
		    dur(v->target, t), md_mark(v->tone), v->tone == TONE_BAD ? "**" : "", v->word,
		    v->tone == TONE_BAD ? "**" : "");
}

/* The title with the status, and the run's one-line summary and error. */
static void md_header(struct strbuf *sb, const struct run_rec *run, const struct verdict *rto,
		      const struct verdict *rpo)
{
	char b1[32], b2[32];
	strbuf_addstr(sb, "# ");
	md_add(sb, run->runbook ? run->runbook : "lifeboat run");
	strbuf_addf(sb, " \xe2\x80\x94 %s %s%s%s\n\n", run->mode ? run->mode : "run",
		    status_words(run->status, b1), rto->tone == TONE_BAD ? ", RTO missed" : "",
		    rpo->tone == TONE_BAD ? ", RPO missed" : "");
	strbuf_addstr(sb, "Run ");
	md_code(sb, run->id);
	if (run->env) {
		strbuf_addstr(sb, " \xc2\xb7 env ");
		md_code(sb, run->env);
	}
	if (run->operator) {
		strbuf_addstr(sb, " \xc2\xb7 operator ");
		md_add(sb, run->operator);
	}
	strbuf_addf(sb, " \xc2\xb7 started %s", ts_human(run->started_ms, b1));
	if (isfinite(run_span_s(run)))
		strbuf_addf(sb, " \xc2\xb7 lasted %s", dur(run_span_s(run), b2));
	strbuf_addstr(sb, "\n\n");
	if (run->error) {
		strbuf_addstr(sb, "> **Error:** ");
		md_add(sb, run->error);
		strbuf_addstr(sb, "\n\n");
	}
}

static void md_verdicts(struct strbuf *sb, const struct run_rec *run, const struct verdict *rto,
			const struct verdict *rpo)
{
	char b1[32], b2[32];
	strbuf_addstr(sb, "## Verdicts\n\n| Objective | Achieved | Target | Verdict |\n"
			   "| --- | ---: | ---: | --- |\n");
	md_verdict_row(sb, "RTO (recovery time)", rto);
	md_verdict_row(sb, "RPO (recovery point)", rpo);
	strbuf_addf(sb, "\n%s  \n%s\n\n", rto->sentence, rpo->sentence);
	if (run->human_wait_s > 0)
		strbuf_addf(sb, "Waiting for people: %s of the run's %s, kept apart from machine "
				 "time.\n\n", dur(run->human_wait_s, b1), dur(run_span_s(run), b2));
}

/* SPEC 10: the probes, apart from the phases, and a probe run's RPO exposure. */
static void md_probes(struct strbuf *sb, const struct run_rec *r)
{
	char *exposure = report_exposure_sentence(r);
	int any = run_has_probes(r);
	if (!any && !exposure)
		return;
	strbuf_addstr(sb, "## Probes\n\n");
	if (exposure) {
		strbuf_addstr(sb, "**");
		md_add(sb, exposure);
		strbuf_addstr(sb, "**\n\n");
		free(exposure);
	}
	if (!any)
		return;
	strbuf_addstr(sb, "| When | Probe | Kind | Status | Attempts | Duration | Error |\n"
			  "| --- | --- | --- | --- | ---: | ---: | --- |\n");
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		for (size_t j = 0; p->probe && j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			char d[32], st[32];
			strbuf_addf(sb, "| %s | ", p->probe == PROBE_BEFORE ? "before" : "after");
			md_add(sb, s->name);
			strbuf_addstr(sb, " | ");
			md_add(sb, s->kind ? s->kind : "-");
			strbuf_addf(sb, " | %s%s | %d | %s | ", md_mark(status_tone(s->status)),
				    status_words(s->status, st), s->attempts, dur(s->duration_s, d));
			char *first = s->error && s->status != ST_SUCCEEDED ? first_line(s->error) : NULL;
			md_add(sb, first ? first : "-");
			free(first);
			strbuf_addstr(sb, " |\n");
		}
	}
	strbuf_addch(sb, '\n');
}

static void md_phases(struct strbuf *sb, const struct run_rec *run)
{
	strbuf_addstr(sb, "## Phases\n\n| Phase | Role | Status | Duration | Budget | Waiting "
			   "for people | |\n| --- | --- | --- | ---: | ---: | ---: | --- |\n");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		char d[32], b[32], h[32], s[32];
		if (p->probe)
			continue;	/* under Probes */
		strbuf_addstr(sb, "| ");
		md_add(sb, p->name);
		strbuf_addstr(sb, " | ");
		md_add(sb, p->role ? p->role : "-");
		const char *tags[4];
		size_t nt = 0;
		if (p->over_budget)
			tags[nt++] = "**over budget**";
		if (p->fault)
			tags[nt++] = "fault";
		if (p->restores_service)
			tags[nt++] = "restores service";
		if (p->cleanup)
			tags[nt++] = "cleanup";
		strbuf_addf(sb, " | %s%s | %s | %s | %s | ", md_mark(status_tone(p->status)),
			    status_words(p->status, s), dur(p->duration_s, d),
			    isfinite(p->budget_s) ? dur(p->budget_s, b) : "-",
			    p->human_wait_s > 0 ? dur(p->human_wait_s, h) : "-");
		for (size_t k = 0; k < nt; k++)
			strbuf_addf(sb, "%s%s", k ? ", " : "", tags[k]);
		strbuf_addstr(sb, " |\n");
	}
	strbuf_addch(sb, '\n');
}

/* A row per step, and per host of a remote step. */
static void md_steps(struct strbuf *sb, const struct run_rec *run)
{
	strbuf_addstr(sb, "## Steps\n\n| Phase | Step | Kind | Role | Status | Attempts | "
			   "Duration | Waiting | Exit | Confirmed by |\n"
			   "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		for (size_t j = 0; !p->probe && j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			char d[32], h[32], st[32];
			strbuf_addstr(sb, "| ");
			md_add(sb, p->name);
			strbuf_addstr(sb, s->section == SEC_ROLLBACK ? " | \xe2\x86\xba rollback: " : " | ");
			md_add(sb, s->name);
			strbuf_addstr(sb, " | ");
			md_add(sb, s->kind ? s->kind : "-");
			strbuf_addstr(sb, " | ");
			md_add(sb, s->role ? s->role : "-");
			strbuf_addf(sb, " | %s%s | %d | %s | %s | ", md_mark(status_tone(s->status)),
				    status_words(s->status, st), s->attempts, dur(s->duration_s, d),
				    s->human_wait_s > 0 ? dur(s->human_wait_s, h) : "-");
			if (s->exit_code >= 0)
				strbuf_addf(sb, "%d", s->exit_code);
			else
				strbuf_addch(sb, '-');
			strbuf_addstr(sb, " | ");
			char *how = step_confirmed_text(s);
			md_add(sb, how ? how : "-");
			free(how);
			strbuf_addstr(sb, " |\n");
			for (size_t k = 0; k < s->nhosts; k++) {	/* remote steps: a row per host */
				const struct host_rec *hr = &s->hosts[k];
				strbuf_addstr(sb, "|  | \xe2\x86\xb3 @ ");
				md_add(sb, hr->host);
				strbuf_addstr(sb, " | host |  | ");
				md_add(sb, hr->status ? hr->status : "-");
				strbuf_addf(sb, " | %d | %s | - | ", hr->attempts, dur(hr->duration_s, d));
				if (hr->exit_code >= 0)
					strbuf_addf(sb, "%d", hr->exit_code);
				else
					strbuf_addch(sb, '-');
				strbuf_addstr(sb, " | - |\n");
			}
		}
	}
	strbuf_addch(sb, '\n');
}

/* Each failed step with its error and the end of its output. */
static void md_failures(struct strbuf *sb, const struct run_rec *run)
{
	int any_failed = 0;
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			if (!step_failed(s))
				continue;
			if (!any_failed++)
				strbuf_addstr(sb, "## Failed steps\n\n");
			char st[32];
			strbuf_addstr(sb, "### ");
			md_add(sb, p->name);
			strbuf_addstr(sb, " \xe2\x80\xba ");
			md_add(sb, s->name);
			strbuf_addf(sb, " \xe2\x80\x94 %s", status_words(s->status, st));
			if (s->exit_code >= 0)
				strbuf_addf(sb, ", exit %d", s->exit_code);
			if (s->attempts > 1)
				strbuf_addf(sb, ", %d attempts", s->attempts);
			strbuf_addstr(sb, "\n\n");
			if (s->error) {
				strbuf_addstr(sb, "**Error:** ");
				md_add(sb, s->error);
				strbuf_addstr(sb, "\n\n");
			}
			int cut;
			char *tail = output_tail(s, &cut);
			if (tail) {
				strbuf_addstr(sb, cut ? "Last lines of its output:\n\n" : "Its output:\n\n");
				md_fence(sb, tail);
				free(tail);
			}
		}
	}
}

static void md_notes(struct strbuf *sb, const struct run_rec *run)
{
	char b1[32];
	if (run->nnotes) {
		strbuf_addstr(sb, "## Notes\n\n");
		for (size_t i = 0; i < run->nnotes; i++) {
			const struct note_rec *n = &run->notes[i];
			strbuf_addf(sb, "- %s \xe2\x80\x94 **", ts_human(n->at_ms, b1));
			md_add(sb, n->operator ? n->operator : "?");
			strbuf_addstr(sb, note_after_end(run, n) ? "** (after the end): " : "**: ");
			md_add(sb, n->text);
			strbuf_addch(sb, '\n');
		}
		strbuf_addch(sb, '\n');
	}
}

static void md_trend(struct strbuf *sb, const struct report_trend *trend, const struct trend_view *tv)
{
	strbuf_addstr(sb, "## RTO trend\n\n");
	if (!tv->n) {
		strbuf_addstr(sb, "No achieved RTO in the history yet.\n\n");
	} else {
		char spark[3 * REPORT_TREND_RUNS + 4], p50[32], p95[32], tg[32];
		sparkline(trend->rto_s, trend->n, spark, sizeof(spark));
		strbuf_addf(sb, "`%s` the last %zu achieved RTO%s, oldest first, up to this run: "
				 "p50 %s, p95 %s, target %s.\n\n", spark, tv->n, tv->n > 1 ? "s" : "",
			    dur(tv->p50, p50), dur(tv->p95, p95), dur(tv->target, tg));
		if (tv->describe)
			strbuf_addf(sb, "%s%s.\n\n", tv->why ? "**At risk:** " : "", tv->describe);
	}
}

static void md_details(struct strbuf *sb, const struct run_rec *run)
{
	char b1[32];
	strbuf_addstr(sb, "## Run details\n\n| | |\n| --- | --- |\n");
#define ROW(label, value)                              \
	do {                                           \
		strbuf_addstr(sb, "| " label " | ");   \
		md_add(sb, (value) ? (value) : "-");   \
		strbuf_addstr(sb, " |\n");             \
	} while (0)
#define ROW_CODE(label, value)                         \
	do {                                           \
		strbuf_addstr(sb, "| " label " | ");   \
		md_code_in(sb, (value) ? (value) : "-", 1); \
		strbuf_addstr(sb, " |\n");             \
	} while (0)
	ROW_CODE("Run id", run->id);
	ROW_CODE("Runbook file", run->file);
	ROW_CODE("Runbook SHA-256", run->sha256);
	ROW_CODE("Signed by key", run->signed_by ? run->signed_by : "unsigned");
	ROW("Mode", run->mode);
	ROW("Trigger", run->trigger);
	ROW("Host", run->host);
	ROW_CODE("Params", run->params_json);
	ROW("Incident (t0)", run->incident_ms == TS_NONE ? NULL : ts_human(run->incident_ms, b1));
	ROW("Restored (t1)", run->restored_ms == TS_NONE ? NULL : ts_human(run->restored_ms, b1));
	ROW("Recovery point",
	    run->recovery_point_ms == TS_NONE ? NULL : ts_human(run->recovery_point_ms, b1));
	ROW("Ended", run->ended_ms == TS_NONE ? NULL : ts_human(run->ended_ms, b1));
#undef ROW
#undef ROW_CODE
	if (run->exit_code >= 0)
		strbuf_addf(sb, "| Exit code | %d |\n", run->exit_code);
}

char *report_markdown_string(const struct run_rec *run, const struct report_trend *trend)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 8192);
	struct verdict rto, rpo;
	verdicts_make(run, &rto, &rpo);
	md_header(&sb, run, &rto, &rpo);
	md_verdicts(&sb, run, &rto, &rpo);

	struct trend_view tv;
	trend_view(trend, run, &tv);
	if (tv.why)
		strbuf_addf(&sb, "> [!WARNING]\n> **RTO at risk:** %s.\n\n", tv.describe ? tv.describe : tv.why);
	md_probes(&sb, run);

	struct axis ax;
	strbuf_addstr(&sb, "## Timeline\n\n");
	if (run->nphases && axis_make(run, &ax))
		md_timeline(&sb, run, &ax);
	else
		strbuf_addstr(&sb, "No phase has run.\n\n");

	md_phases(&sb, run);
	md_steps(&sb, run);
	md_failures(&sb, run);
	md_notes(&sb, run);
	md_trend(&sb, trend, &tv);
	md_details(&sb, run);
	strbuf_addstr(&sb, "\n<sub>lifeboat " LIFEBOAT_VERSION " report</sub>\n");

	trend_view_release(&tv);
	free(rto.sentence);
	free(rpo.sentence);
	return strbuf_detach(&sb);
}
