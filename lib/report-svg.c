/*
 * The HTML report's two charts as inline SVG: the timeline (phases and
 * steps against their budgets, waits for a person hatched, t0, t1 and the
 * RTO deadline as lines with their names placed so that none overprints)
 * and the trend of recent achieved RTOs against the target.
 */
#include "report-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

#define SVG_W 1000		/* viewBox width of both charts */
#define G_LABEL_W 250		/* the timeline's label column */
#define G_X 262			/* where its track starts */
#define G_W (SVG_W - G_X - 14)
#define G_TOP 46		/* room for the markers' names */
#define G_PHASE_H 38
#define G_STEP_H 20
#define G_GAP 6
#define G_AXIS_H 28
#define G_MAX_STEPS 60		/* past this many steps the chart shows phases only */

static const char *status_fill(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return "#4c6ef5";
	case ST_SKIPPED: case ST_PENDING: return "#ced4da";
	case ST_RUNNING: case ST_INTERRUPTED: return "#fab005";
	case ST_ROLLED_BACK: return "#f76707";
	default: return "#e03131";
	}
}

static double gx(const struct axis *ax, int64_t ms)
{
	return G_X + axis_at(ax, ms) * G_W;
}

/* The stretch of a step spent waiting for a person, hatched over the band y..y+h. */
static void svg_wait(struct strbuf *sb, const struct axis *ax, const struct step_rec *s, double y,
		     double h)
{
	if (s->started_ms == TS_NONE || !(s->human_wait_s > 0))
		return;
	int64_t end = s->started_ms + (int64_t)(s->human_wait_s * 1000.0);
	if (s->ended_ms != TS_NONE && end > s->ended_ms)
		end = s->ended_ms;
	double x1 = gx(ax, s->started_ms), x2 = gx(ax, end);
	char d[32];
	strbuf_addf(sb, "<rect class=\"wait\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"url(#lb-wait)\"><title>", x1, y, x2 - x1 < 2 ? 2 : x2 - x1, h);
	h_text(sb, s->name);
	strbuf_addf(sb, ": waited %s for a person</title></rect>\n", dur(s->human_wait_s, d));
}

/* A bar's tooltip: "name: 1.23s of 5m00s budget, failed" */
static void svg_title(struct strbuf *sb, const char *name, double secs, double budget,
		      enum status st, int attempts)
{
	char d[32], b[32], w[32];
	strbuf_addstr(sb, "<title>");
	h_text(sb, name);
	strbuf_addf(sb, ": %s", dur(secs, d));
	if (isfinite(budget))
		strbuf_addf(sb, " of %s budget", dur(budget, b));
	strbuf_addf(sb, ", %s", status_words(st, w));
	if (attempts > 1)
		strbuf_addf(sb, ", %d attempts", attempts);
	strbuf_addstr(sb, "</title>");
}

/* A marker's name above the chart: where it may go and where it went. */
struct mark_label {
	const char *color, *dash;	/* of the marker */
	char text[96];
	double x;		/* the marker's line, or the edge it lies beyond */
	double w;		/* estimated width */
	int end;		/* preferred: text ends left of x (else starts right of it) */
	int on_axis;		/* its line is drawn; the name may go either side of it */
	int row, flipped;	/* the choice made */
};

#define MARKS 3			/* t0, t1, the RTO deadline */
#define MARK_ROWS 3		/* the third only when two cannot hold the names apart */
#define MARK_GAP 8		/* least space between two names in a row */

/* The markers of a run and their names' places; rows says how many rows they take. */
struct marks {
	struct mark_label l[MARKS];
	size_t n;
	int rows;
};

static const int mark_row_y[MARK_ROWS] = { 14, 30, -2 };	/* the third above the chart */

static void mark_span(const struct mark_label *l, int flipped, double *from, double *to)
{
	*from = l->end != flipped ? l->x - 4 - l->w : l->x + 4;
	*to = *from + l->w;
}

/*
 * How far the names overlap (MARK_GAP included) for one choice of rows and
 * sides, plus small costs that break ties: the upper row to the earlier
 * marker; two rows with each name on its own side of its line, then a name
 * on the other side, then a third row.
 */
static double mark_cost(const struct mark_label *l, size_t n, const int *row, const int *flip)
{
	static const double row_cost[MARK_ROWS] = { 0, 0.001, 0.1 };
	double cost = 0;
	for (size_t i = 0; i < n; i++) {
		double a0, a1;
		mark_span(&l[i], flip[i], &a0, &a1);
		cost += row_cost[row[i]] * (double)(MARKS - i) + flip[i] * 0.01;
		for (size_t j = 0; j < i; j++) {
			double b0, b1;
			mark_span(&l[j], flip[j], &b0, &b1);
			double over = fmin(a1, b1) + MARK_GAP - fmax(a0, b0);
			if (row[i] == row[j] && over > 0)
				cost += over;
		}
	}
	return cost;
}

/*
 * Rows and sides for the names, the choice where they overlap the least
 * (with a row each they never do): a name may go in any row, and on either
 * side of its line when the marker is on the axis and the name stays inside
 * the chart.
 */
static void mark_place(struct marks *mk)
{
	struct mark_label *l = mk->l;
	int choices = 2 * MARK_ROWS, combos = 1;
	for (size_t i = 0; i < mk->n; i++)
		combos *= choices;
	double best = INFINITY;
	for (int c = 0; c < combos; c++) {
		int row[MARKS], flip[MARKS], ok = 1;
		for (size_t i = 0, k = (size_t)c; i < mk->n; i++, k /= (size_t)choices) {
			row[i] = (int)(k % MARK_ROWS);
			flip[i] = (int)(k / MARK_ROWS % 2);
			double from, to;
			mark_span(&l[i], flip[i], &from, &to);
			if (flip[i] && (!l[i].on_axis || from < 0 || to > SVG_W))
				ok = 0;
		}
		double cost = ok ? mark_cost(l, mk->n, row, flip) : INFINITY;
		if (cost < best) {
			best = cost;
			for (size_t i = 0; i < mk->n; i++)
				l[i].row = row[i], l[i].flipped = flip[i];
		}
	}
	mk->rows = 2;
	for (size_t i = 0; i < mk->n; i++)
		if (l[i].row + 1 > mk->rows)
			mk->rows = l[i].row + 1;
}

/* The name of a marker at ms and where it stands: at its line, or at the edge it lies beyond. */
static void mark_label_make(struct mark_label *l, int64_t ms, const char *name, const struct run_rec *r,
			    const struct axis *ax, int deadline)
{
	char d[32];
	if (axis_has(ax, ms)) {
		l->x = gx(ax, ms);
		l->on_axis = 1;
		snprintf(l->text, sizeof(l->text), "%s", name);
	} else if (ms > ax->hi) {
		l->x = G_X + G_W;
		if (deadline)	/* the deadline says what it is: t0 + the target */
			snprintf(l->text, sizeof(l->text), "%s at t0 + %s \xe2\x86\x92", name,
				 dur(r->rto_target_s, d));
		else
			snprintf(l->text, sizeof(l->text), "%s %s later \xe2\x86\x92", name,
				 dur((double)(ms - ax->hi) / 1000.0, d));
		l->end = 1;
	} else {
		l->x = G_X;
		snprintf(l->text, sizeof(l->text), "\xe2\x86\x90 %s %s earlier", name,
			 dur((double)(ax->lo - ms) / 1000.0, d));
	}
	l->w = 6.4 * (double)utf8_width(l->text);
	if (l->x + 4 + l->w > SVG_W - 2)
		l->end = 1;
}

/*
 * t0, t1 and the deadline: where their lines go and their names above the
 * chart, in rows so that close ones do not overprint; a marker off the
 * axis is named at the edge it lies beyond.
 */
static void marks_plan(struct marks *mk, const struct run_rec *r, const struct axis *ax)
{
	int64_t dl = r->incident_ms != TS_NONE && isfinite(r->rto_target_s)
			     ? r->incident_ms + (int64_t)(r->rto_target_s * 1000.0)
			     : TS_NONE;
	const struct {
		int64_t ms;
		const char *name, *color, *dash;
	} all[MARKS] = {
		{ r->incident_ms, "t0 incident", "#e8590c", NULL },
		{ r->restored_ms, "t1 restored", "#2b8a3e", NULL },
		{ dl, "RTO deadline", "#c92a2a", "6 4" },
	};
	memset(mk, 0, sizeof(*mk));
	for (size_t i = 0; i < MARKS; i++) {
		if (all[i].ms == TS_NONE)
			continue;
		struct mark_label *l = &mk->l[mk->n++];
		l->color = all[i].color;
		l->dash = all[i].dash;
		mark_label_make(l, all[i].ms, all[i].name, r, ax, i == 2);
	}
	mark_place(mk);
}

/* The markers' lines and names, and the notes as small diamonds on the top edge. */
static void svg_markers(struct strbuf *sb, const struct run_rec *r, const struct axis *ax,
			const struct marks *mk, double bottom)
{
	for (size_t i = 0; i < mk->n; i++) {
		const struct mark_label *l = &mk->l[i];
		if (l->on_axis)
			strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
					"stroke-width=\"2\"%s%s%s/>\n", l->x, G_TOP - 12, l->x, bottom,
				    l->color, l->dash ? " stroke-dasharray=\"" : "",
				    l->dash ? l->dash : "", l->dash ? "\"" : "");
		int end = l->end != l->flipped;
		strbuf_addf(sb, "<text class=\"mk\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
				"style=\"fill:%s\">", end ? l->x - 4 : l->x + 4,
			    mark_row_y[l->row], end ? "end" : "start", l->color);
		h_text(sb, l->text);
		strbuf_addstr(sb, "</text>\n");
	}
	for (size_t i = 0; i < r->nnotes; i++) {
		const struct note_rec *n = &r->notes[i];
		if (!axis_has(ax, n->at_ms))
			continue;
		double x = gx(ax, n->at_ms), y = G_TOP - 8;
		strbuf_addf(sb, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"#7048e8\"><title>note by ",
			    x, y - 5);
		h_text(sb, n->operator ? n->operator : "?");
		strbuf_addstr(sb, ": ");
		h_text(sb, n->text);
		strbuf_addstr(sb, "</title></path>\n");
	}
}

/* Alternate phase bands, then the time grid counted from t0 and the axis line over them. */
static void gantt_grid(struct strbuf *sb, const struct run_rec *r, const struct axis *ax,
		       int with_steps, double bottom)
{
	char d[32];
	double y = G_TOP;
	for (size_t i = 0; i < r->nphases; i++) {
		double bh = G_PHASE_H + (with_steps ? (double)r->phases[i].nsteps * G_STEP_H : 0);
		if (i % 2 == 0)
			strbuf_addf(sb, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
					"fill=\"#f7f8fb\"/>\n", y - G_GAP / 2.0, SVG_W, bh + G_GAP);
		y += bh + G_GAP;
	}
	double step = nice_step((double)(ax->hi - ax->lo) / 1000.0, 8);
	double from = (double)(ax->lo - ax->origin) / 1000.0, to = (double)(ax->hi - ax->origin) / 1000.0;
	for (double k = ceil(from / step - 1e-9); k * step <= to + 1e-9; k++) {
		int64_t ms = ax->origin + (int64_t)llround(k * step * 1000.0);
		double x = gx(ax, ms);
		/* a label at an edge hangs inward instead of off the chart */
		const char *anchor = x < G_X + 12 ? "start" : x > G_X + G_W - 12 ? "end" : "middle";
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e7ec\"/>\n"
				"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
			    x, G_TOP - 6, x, bottom, x, bottom + 18, anchor, tick_label(k * step, d));
	}
	strbuf_addf(sb, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#98a2b3\"/>\n", G_X,
		    bottom, G_X + G_W, bottom);
}

/* A phase's name and "role · duration of budget" in the label column, its row starting at y. */
static void gantt_phase_label(struct strbuf *sb, const struct phase_rec *p, double y)
{
	char d[32], b[32];
	char *name = utf8_trunc(p->name, 30);
	strbuf_addf(sb, "<text class=\"pl\" x=\"10\" y=\"%.1f\">", y + 15);
	h_text(sb, name);
	strbuf_addf(sb, "</text>\n<text class=\"ps\" x=\"10\" y=\"%.1f\">", y + 30);
	char *role = utf8_trunc(p->role ? p->role : "", 14);
	h_text(sb, role);
	strbuf_addstr(sb, *role ? " \xc2\xb7 " : "");
	free(role);
	if (p->started_ms == TS_NONE)
		strbuf_addstr(sb, "not run");
	else
		strbuf_addstr(sb, dur(p->duration_s, d));
	if (isfinite(p->budget_s))
		strbuf_addf(sb, " of %s", dur(p->budget_s, b));
	if (p->over_budget)
		strbuf_addstr(sb, " <tspan class=\"over\">over budget</tspan>");
	else if (p->fault)
		strbuf_addstr(sb, " \xc2\xb7 fault");
	else if (p->cleanup)
		strbuf_addstr(sb, " \xc2\xb7 cleanup");
	strbuf_addstr(sb, "</text>\n");
	free(name);
}

/* A phase's bar over its budget's dashed box, with the waits for a person hatched on it. */
static void gantt_phase_bar(struct strbuf *sb, const struct phase_rec *p, const struct axis *ax,
			    double y)
{
	char b[32];
	double by = y + 8, bh = 22;
	if (p->started_ms == TS_NONE) {
		strbuf_addstr(sb, "<rect class=\"phase\" data-phase=\"");
		xml_add(sb, p->name ? p->name : "", 1);
		strbuf_addf(sb, "\" data-status=\"%s\" x=\"%d\" y=\"%.1f\" width=\"0\" "
				"height=\"%.1f\" fill=\"%s\"/>\n<text class=\"ps\" x=\"%d\" "
				"y=\"%.1f\">not run</text>\n", status_name(p->status), G_X, by, bh,
			    status_fill(p->status), G_X + 6, by + 15);
		return;
	}
	double x1 = gx(ax, p->started_ms);
	if (isfinite(p->budget_s)) {
		int64_t be = p->started_ms + (int64_t)(p->budget_s * 1000.0);
		double x2 = gx(ax, be);
		strbuf_addf(sb, "<rect class=\"budget\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" rx=\"4\" fill=\"#eef1f6\" stroke=\"#98a2b3\" "
				"stroke-width=\"1.2\" stroke-dasharray=\"4 3\"><title>budget %s"
				"</title></rect>\n", x1, by - 4, x2 - x1 < 1 ? 1 : x2 - x1,
			    bh + 8, dur(p->budget_s, b));
		if (be > ax->hi)
			strbuf_addf(sb, "<text class=\"ps\" x=\"%d\" y=\"%.1f\" "
					"text-anchor=\"end\">budget %s \xe2\x86\x92</text>\n",
				    G_X + G_W - 4, by + 15, b);
	}
	int64_t end = p->ended_ms != TS_NONE ? p->ended_ms : ax->hi;
	double x2 = gx(ax, end);
	strbuf_addf(sb, "<rect class=\"phase\" data-phase=\"");
	xml_add(sb, p->name ? p->name : "", 1);
	strbuf_addf(sb, "\" data-status=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" rx=\"3\" fill=\"%s\"%s>", status_name(p->status), x1,
		    by, x2 - x1 < 3 ? 3 : x2 - x1, bh, status_fill(p->status),
		    p->over_budget ? " stroke=\"#c4262e\" stroke-width=\"2\"" : "");
	svg_title(sb, p->name, p->duration_s, p->budget_s, p->status, 0);
	strbuf_addstr(sb, "</rect>\n");
	for (size_t j = 0; j < p->nsteps; j++)
		svg_wait(sb, ax, &p->steps[j], by, bh);
}

/* A step's row starting at y: name and duration in the label column, its bar on the track. */
static void gantt_step(struct strbuf *sb, const struct step_rec *s, const struct axis *ax, double y)
{
	char d[32];
	char *sname = utf8_trunc(s->name, 26);
	strbuf_addf(sb, "<text class=\"sl\" x=\"24\" y=\"%.1f\">%s", y + 14,
		    s->section == SEC_ROLLBACK ? "\xe2\x86\xba " : "");
	h_text(sb, sname);
	free(sname);
	strbuf_addf(sb, "</text>\n<text class=\"sd\" x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">", G_LABEL_W, y + 14);
	if (s->started_ms != TS_NONE)
		strbuf_addstr(sb, dur(s->duration_s, d));
	if (s->attempts > 1)
		strbuf_addf(sb, " \xc3\x97%d", s->attempts);
	strbuf_addstr(sb, "</text>\n");
	if (s->started_ms == TS_NONE)
		return;
	int64_t end = s->ended_ms != TS_NONE ? s->ended_ms : ax->hi;
	double x1 = gx(ax, s->started_ms), x2 = gx(ax, end);
	strbuf_addf(sb, "<rect class=\"step\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"9\" rx=\"2\" fill=\"%s\" fill-opacity=\"0.7\">",
		    x1, y + 6, x2 - x1 < 3 ? 3 : x2 - x1, status_fill(s->status));
	svg_title(sb, s->name, s->duration_s, NAN, s->status, s->attempts);
	strbuf_addstr(sb, "</rect>\n");
	svg_wait(sb, ax, s, y + 6, 9);
}

void svg_timeline(struct strbuf *sb, const struct run_rec *r, const struct axis *ax)
{
	size_t nsteps = 0;
	for (size_t i = 0; i < r->nphases; i++)
		nsteps += r->phases[i].nsteps;
	int with_steps = nsteps <= G_MAX_STEPS;
	double h = G_TOP + G_AXIS_H;
	for (size_t i = 0; i < r->nphases; i++)
		h += G_PHASE_H + G_GAP + (with_steps ? (double)r->phases[i].nsteps * G_STEP_H : 0);
	double bottom = h - G_AXIS_H;
	struct marks mk;
	marks_plan(&mk, r, ax);
	int above = mk.rows > 2 ? 16 : 0;	/* the third row of names: the view reaches above 0 */
	strbuf_addf(sb, "<svg class=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 %d %d "
			"%.0f\" role=\"img\" aria-label=\"Timeline of phases and steps against their "
			"budgets\">\n", -above, SVG_W, h + above);
	strbuf_addstr(sb, "<defs><pattern id=\"lb-wait\" width=\"6\" height=\"6\" "
			  "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
			  "<rect width=\"6\" height=\"6\" fill=\"#ffe3a3\"/>"
			  "<rect width=\"3\" height=\"6\" fill=\"#f08c00\"/></pattern></defs>\n");
	gantt_grid(sb, r, ax, with_steps, bottom);	/* first, so the bars draw over it */
	double y = G_TOP;
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		gantt_phase_label(sb, p, y);
		gantt_phase_bar(sb, p, ax, y);
		y += G_PHASE_H;
		for (size_t j = 0; with_steps && j < p->nsteps; j++, y += G_STEP_H)
			gantt_step(sb, &p->steps[j], ax, y);
		y += G_GAP;
	}
	svg_markers(sb, r, ax, &mk, bottom);
	strbuf_addstr(sb, "</svg>\n");
}

/* 0 as "0", otherwise as duration_format writes it */
static const char *axis_secs(double v, char buf[32])
{
	return v == 0 ? strcpy(buf, "0") : dur(v, buf);
}

/* The recent achieved RTOs as columns, the target as a dashed line, this run outlined. */
void svg_trend(struct strbuf *sb, const struct report_trend *t, const struct run_rec *r,
	       double target)
{
	const double H = 200, L = 70, R = 130, T = 20, B = 34;
	const double pw = SVG_W - L - R, ph = H - T - B;
	double vmax = 0;
	for (size_t i = 0; i < t->n; i++)
		vmax = t->rto_s[i] > vmax ? t->rto_s[i] : vmax;
	if (isfinite(target) && target > vmax)
		vmax = target;
	vmax = vmax > 0 ? vmax * 1.15 : 1;
#define TY(v) (T + ph - (v) / vmax * ph)
	char d[32], d2[32];
	strbuf_addf(sb, "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %.0f\" "
			"role=\"img\" aria-label=\"Achieved RTO of the recent runs against the target\">\n",
		    SVG_W, H);
	double step = nice_step(vmax, 4);
	for (double v = 0; v <= vmax + 1e-9; v += step)
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n"
				"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			    L, TY(v), L + pw, TY(v), v == 0 ? "#98a2b3" : "#eceef2", L - 8, TY(v) + 4,
			    axis_secs(v, d));
	double slot = pw / (double)t->n;
	slot = slot > 56 ? 56 : slot;
	double x0 = L + pw - slot * (double)t->n;
	for (size_t i = 0; i < t->n; i++) {
		double v = t->rto_s[i], x = x0 + slot * (double)i + slot * 0.18, w = slot * 0.64;
		double top = TY(v), hh = T + ph - top < 1 ? 1 : T + ph - top;
		const char *fill = !isfinite(target) ? "#4c6ef5"
				 : v > target ? "#e03131"
				 : v > RISK_P95_SHARE * target ? "#f59f00" : "#4c6ef5";
		int current = t->started_ms[i] == r->started_ms;
		strbuf_addf(sb, "<rect class=\"trend-bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" rx=\"2\" fill=\"%s\"%s><title>%s: %s</title></rect>\n",
			    x, T + ph - hh, w, hh, fill,
			    current ? " stroke=\"#1a1d23\" stroke-width=\"2\"" : "",
			    ts_human(t->started_ms[i], d2), dur(v, d));
		if (current)
			strbuf_addf(sb, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
					"text-anchor=\"middle\" style=\"font-weight:700;fill:#1a1d23\">"
					"this run</text>\n", x + w / 2, T + ph - hh - 6);
	}
	/* the first and last runs' dates under their columns */
	for (size_t k = 0; k < (t->n > 1 ? 2u : 1u); k++) {
		size_t i = k ? t->n - 1 : 0;
		char iso[32];
		clock_iso8601(t->started_ms[i], iso);
		strbuf_addf(sb, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">"
				"%.5s %.5s</text>\n", k ? x0 + slot * (double)(i + 1) : x0, T + ph + 18,
			    k ? "end" : "start", iso + 5, iso + 11);
	}
	if (isfinite(target)) {
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c92a2a\" "
				"stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
				"<text class=\"mk\" x=\"%.1f\" y=\"%.1f\" style=\"fill:#c92a2a\">target %s"
				"</text>\n", L, TY(target), L + pw, TY(target), L + pw + 8, TY(target) + 4,
			    dur(target, d));
		double r80 = RISK_P95_SHARE * target;
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f08c00\" "
				"stroke-dasharray=\"2 3\"/>\n<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">"
				"%.0f%%: at risk above</text>\n", L, TY(r80), L + pw, TY(r80), L + pw + 8,
			    TY(r80) + 4, 100.0 * RISK_P95_SHARE);
	}
#undef TY
	strbuf_addstr(sb, "</svg>\n");
}
