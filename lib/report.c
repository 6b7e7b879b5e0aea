/*
 * Reports from a run record: the JSON report of SPEC 7, JUnit XML,
 * Markdown, one self-contained HTML page and Prometheus text. This file
 * picks a format by name or file extension, writes a report file
 * atomically, loads the trend from the history and words what the formats
 * share (verdicts, statuses, the timeline's axis); each format is written
 * by its own report-*.c, behind report-int.h.
 */
#include "report-int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "stats.h"
#include "store.h"
#include "util.h"


size_t text_next(const unsigned char *p, size_t n, unsigned long *c)
{
	size_t len = utf8_decode(p, n, c);
	if (!len) {
		*c = TEXT_BAD;
		return 1;
	}
	if (*c != 0x1b || n < 2 || p[1] != '[')
		return len;
	*c = TEXT_CSI;
	len = 2;
	while (len < n && !(p[len] >= 0x40 && p[len] <= 0x7e))
		len++;
	return len + (len < n);
}

int run_finished(const struct run_rec *r)
{
	return r->status != ST_PENDING && r->status != ST_RUNNING;
}

/* ---- files ---- */

/*
 * A reader (a CI collecting reports, a dashboard) sees the old file or the
 * new one, never half of one. The temporary name carries the pid so two
 * lifeboats writing the same report do not write into one temporary file.
 */
int report_write_file(const char *path, const char *text, char **err)
{
	if (err)
		*err = NULL;
	if (!path || !*path) {
		if (err)
			*err = xstrdup("cannot write a report: no file name given");
		return -1;
	}
	if (mkdir_parents(path, 0777, NULL)) {
		if (err)
			*err = xasprintf("cannot create the folder for '%s': %s", path,
					 strerror(errno));
		return -1;
	}
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	int rc = fd < 0 ? -1 : 0;
	if (!rc)
		rc = write_all(fd, text ? text : "", text ? strlen(text) : 0);
	if (!rc)
		rc = fsync(fd);
	if (fd >= 0 && close(fd) && !rc)
		rc = -1;
	if (!rc)
		rc = rename(tmp, path);
	if (rc) {
		int saved = errno;
		if (fd >= 0)
			unlink(tmp);
		if (err)
			*err = xasprintf("cannot write '%s': %s", path, strerror(saved));
	}
	free(tmp);
	return rc ? -1 : 0;
}

/* ---- formats by name ---- */

/* Each format's writer, called alike. */
static char *render_json(const struct run_rec *run, const struct report_trend *trend)
{
	(void)trend;
	return report_json_string(run, 1);
}

static char *render_junit(const struct run_rec *run, const struct report_trend *trend)
{
	(void)trend;
	return report_junit_string(run);
}

static const struct {
	const char *name, *ext;
	char *(*render)(const struct run_rec *run, const struct report_trend *trend);
} formats[] = {
	{ "json", "json", render_json },
	{ "junit", "xml", render_junit },
	{ "md", "md", report_markdown_string },
	{ "html", "html", report_html_string },
	{ "prom", "prom", report_prom_render },
};

const char *report_format_name(const char *format)
{
	static const struct {
		const char *alias, *name;
	} aliases[] = { { "markdown", "md" }, { "xml", "junit" }, { "prometheus", "prom" } };
	if (!format)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(format, formats[i].name))
			return formats[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(format, aliases[i].alias))
			return aliases[i].name;
	return NULL;
}

const char *report_format_ext(const char *format)
{
	const char *name = report_format_name(format);
	for (size_t i = 0; name && i < ARRAY_SIZE(formats); i++)
		if (!strcmp(name, formats[i].name))
			return formats[i].ext;
	return NULL;
}

const char *report_format_for_path(const char *path)
{
	static const struct {
		const char *ext, *name;
	} exts[] = { { ".json", "json" }, { ".xml", "junit" }, { ".md", "md" },
		     { ".markdown", "md" }, { ".html", "html" }, { ".htm", "html" },
		     { ".prom", "prom" } };
	const char *slash = path ? strrchr(path, '/') : NULL;
	const char *dot = path ? strrchr(slash ? slash : path, '.') : NULL;
	for (size_t i = 0; dot && i < ARRAY_SIZE(exts); i++)
		if (!strcasecmp(dot, exts[i].ext))
			return exts[i].name;
	return NULL;
}

char *report_render(const struct run_rec *run, const char *format,
		    const struct report_trend *trend)
{
	const char *name = report_format_name(format);
	for (size_t i = 0; name && i < ARRAY_SIZE(formats); i++)
		if (!strcmp(name, formats[i].name))
			return formats[i].render(run, trend);
	return NULL;
}

/* ---- the trend, from the history ---- */

/* An empty trend: no runs, no success of any mode. */
static void trend_empty(struct report_trend *trend, double target_s)
{
	*trend = (struct report_trend){ NULL, NULL, 0, target_s, { 0 } };
	for (int m = 0; m < MODE__COUNT; m++)
		trend->last_success_ms[m] = TS_NONE;
}

int report_trend_load(struct store *st, const struct run_rec *run, struct report_trend *trend)
{
	trend_empty(trend, run->rto_target_s);
	struct objective_point *pts = NULL;
	size_t n = 0;
	if (!run->runbook)
		return 0;
	for (int m = 0; m < MODE__COUNT; m++)
		if (store_last_success(st, run->runbook, run->env, run_mode_name((enum run_mode)m),
				       run->started_ms, &trend->last_success_ms[m]))
			return -1;
	if (store_objectives(st, run->runbook, run->env, run->started_ms, REPORT_TREND_RUNS * 2, &pts, &n))
		return -1;
	trend->rto_s = xmalloc((n ? n : 1) * sizeof(double));
	trend->started_ms = xmalloc((n ? n : 1) * sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		if (isnan(pts[i].rto_s))
			continue;	/* an RPO alone: nothing to draw */
		trend->rto_s[trend->n] = pts[i].rto_s;
		trend->started_ms[trend->n++] = pts[i].started_ms;
		if (isnan(run->rto_target_s) && !isnan(pts[i].rto_target_s))
			trend->target_s = pts[i].rto_target_s;	/* the newest declared one */
	}
	if (trend->n > REPORT_TREND_RUNS) {
		size_t drop = trend->n - REPORT_TREND_RUNS;
		memmove(trend->rto_s, trend->rto_s + drop, REPORT_TREND_RUNS * sizeof(double));
		memmove(trend->started_ms, trend->started_ms + drop,
			REPORT_TREND_RUNS * sizeof(int64_t));
		trend->n = REPORT_TREND_RUNS;
	}
	free(pts);
	return 0;
}

void report_trend_release(struct report_trend *trend)
{
	free(trend->rto_s);
	free(trend->started_ms);
	trend_empty(trend, NAN);
}

/* ---- shared by Markdown and HTML ---- */

#define TAIL_LINES 40		/* of a failed step's output, in Markdown and HTML */

/* "2025-11-22 01:53:00 UTC", or "-" */
const char *ts_human(int64_t ms, char out[32])
{
	char iso[32];
	if (ms == TS_NONE)
		return strcpy(out, "-");
	clock_iso8601(ms, iso);
	snprintf(out, 32, "%.10s %.8s UTC", iso, iso + 11);
	return out;
}

const char *dur(double secs, char buf[32])
{
	return duration_format(secs, buf, 32);
}

enum tone status_tone(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return TONE_OK;
	case ST_SKIPPED: case ST_PENDING: return TONE_NONE;
	case ST_RUNNING: case ST_INTERRUPTED: return TONE_PENDING;
	default: return TONE_BAD;
	}
}

/* "failed" -> "failed", "timed_out" -> "timed out" */
const char *status_words(enum status st, char buf[32])
{
	snprintf(buf, 32, "%s", status_name(st));
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
	return buf;
}

static void verdict_make(struct verdict *v, const struct run_rec *r, const char *what,
			 double target, double achieved, int met, const char *status)
{
	char a[32], t[32];
	dur(achieved, a);
	dur(target, t);
	v->achieved = achieved;
	v->target = target;
	enum rpo_status rs = rpo_status_of(status);
	if (isnan(target) || rs == RPO_NONE) {
		v->word = "no target", v->tone = TONE_NONE;
		v->sentence = isnan(achieved) ? xasprintf("%s: no target declared", what)
					      : xasprintf("%s: no target declared; achieved %s",
							  what, a);
	} else if (rs == RPO_UNMEASURED) {
		v->word = "UNMEASURED", v->tone = TONE_BAD;
		v->sentence = xasprintf("%s UNMEASURED: no recovery point was reported (target %s); "
					"counts as missed", what, t);
	} else if (met == 1 || (met < 0 && rs == RPO_MET)) {
		v->word = "met", v->tone = TONE_OK;
		v->sentence = xasprintf("%s met: achieved %s vs target %s", what, a, t);
	} else if (met == 0 || rs == RPO_MISSED) {
		v->word = "MISSED", v->tone = TONE_BAD;
		v->sentence = isnan(achieved)
			? xasprintf("%s MISSED: service not restored (target %s)", what, t)
			: xasprintf("%s MISSED: achieved %s vs target %s", what, a, t);
	} else if (!run_finished(r)) {
		v->word = "in progress", v->tone = TONE_PENDING;
		v->sentence = xasprintf("%s: run in progress (target %s)", what, t);
	} else {
		v->word = !strcmp(what, "RTO") ? "NOT RESTORED" : "NOT MEASURED";
		v->tone = TONE_BAD;
		v->sentence = xasprintf("%s %s: service not restored (target %s)", what,
					!strcmp(what, "RTO") ? "not met" : "not measured", t);
	}
}

void verdicts_make(const struct run_rec *r, struct verdict *rto, struct verdict *rpo)
{
	verdict_make(rto, r, "RTO", r->rto_target_s, r->rto_achieved_s, r->rto_met, NULL);
	const char *st = r->rpo_status ? r->rpo_status : isnan(r->rpo_target_s) ? "none" : NULL;
	verdict_make(rpo, r, "RPO", r->rpo_target_s, r->rpo_achieved_s, r->rpo_met, st);
}

/* Wall time from start to end; NAN while running. */
double run_span_s(const struct run_rec *r)
{
	if (r->started_ms == TS_NONE || r->ended_ms == TS_NONE)
		return NAN;
	return (double)(r->ended_ms - r->started_ms) / 1000.0;
}

int step_failed(const struct step_rec *s)
{
	return s->status == ST_FAILED || s->status == ST_TIMED_OUT ||
	       s->status == ST_INTERRUPTED || s->status == ST_DECLINED;
}

/*
 * The last TAIL_LINES lines (at most TAIL_BYTES) of a step's output, on a
 * character boundary; *cut says whether anything was left out. NULL when
 * there is no output. Caller frees.
 */
char *output_tail(const struct step_rec *s, int *cut)
{
	*cut = s->output_cut > 0;
	if (!s->output || !*s->output)
		return NULL;
	const char *start = s->output, *end = s->output + strlen(s->output);
	while (end > start && end[-1] == '\n')
		end--;
	const char *p = end;
	int lines = 0;
	while (p > start && lines < TAIL_LINES) {
		p--;
		if (*p == '\n' && ++lines == TAIL_LINES) {
			p++;
			break;
		}
	}
	if (end - p > TAIL_BYTES) {
		p = end - TAIL_BYTES;
		while (p < end && ((unsigned char)*p & 0xc0) == 0x80)
			p++;
	}
	if (p > start)
		*cut = 1;
	return xstrndup(p, (size_t)(end - p));
}

/* Up to max characters of s, with "…" when cut. Caller frees. */
char *utf8_trunc(const char *s, size_t max)
{
	s = s ? s : "";
	size_t chars = 0, i = 0, n = strlen(s);
	while (i < n && chars < max) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return i < n ? xasprintf("%.*s\xe2\x80\xa6", (int)i, s) : xstrdup(s);
}

size_t utf8_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void trend_view(const struct report_trend *t, const struct run_rec *r, struct trend_view *v)
{
	memset(v, 0, sizeof(*v));
	v->p50 = v->p95 = NAN;
	v->target = t ? t->target_s : r->rto_target_s;
	if (!t || !t->n) {
		rto_risk(NULL, 0, v->target, &v->risk);
		return;
	}
	v->n = t->n;
	v->p50 = percentile(t->rto_s, t->n, 50);
	v->p95 = percentile(t->rto_s, t->n, 95);
	rto_at_risk(t->rto_s, t->n, v->target, &v->why);
	rto_risk(t->rto_s, t->n, v->target, &v->risk);
	v->describe = rto_risk_describe(&v->risk);
}

void trend_view_release(struct trend_view *v)
{
	free(v->why);
	free(v->describe);
}

/* The earliest and latest instants the record knows; 0 when it knows none. */
static int run_bounds(const struct run_rec *r, int64_t *lo, int64_t *hi)
{
	int64_t a = r->started_ms, b = r->ended_ms;
#define WIDEN(t)                                         \
	do {                                             \
		int64_t t_ = (t);                        \
		if (t_ != TS_NONE) {                     \
			if (a == TS_NONE || t_ < a)      \
				a = t_;                  \
			if (b == TS_NONE || t_ > b)      \
				b = t_;                  \
		}                                        \
	} while (0)
	WIDEN(r->started_ms);
	WIDEN(r->restored_ms);
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		WIDEN(p->started_ms);
		WIDEN(p->ended_ms);
		for (size_t j = 0; j < p->nsteps; j++) {
			WIDEN(p->steps[j].started_ms);
			WIDEN(p->steps[j].ended_ms);
		}
	}
#undef WIDEN
	if (a == TS_NONE)
		return 0;
	*lo = a;
	*hi = b > a ? b : a + 1;
	return 1;
}

int axis_make(const struct run_rec *r, struct axis *ax)
{
	int64_t lo, hi;
	if (!run_bounds(r, &lo, &hi))
		return 0;
	double span = (double)(hi - lo) > 100 ? (double)(hi - lo) : 100;
	int64_t far_right = lo + (int64_t)(span * 2.5), far_left = hi - (int64_t)(span * 2.5);
	int64_t right = hi;
	if (r->incident_ms != TS_NONE && isfinite(r->rto_target_s)) {
		int64_t dl = r->incident_ms + (int64_t)(r->rto_target_s * 1000.0);
		if (dl > right && dl <= far_right)
			right = dl;
	}
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->started_ms == TS_NONE || !isfinite(p->budget_s))
			continue;
		int64_t be = p->started_ms + (int64_t)(p->budget_s * 1000.0);
		if (be > right && be <= far_right)
			right = be;
	}
	if (r->incident_ms != TS_NONE && r->incident_ms < lo && r->incident_ms >= far_left)
		lo = r->incident_ms;
	ax->lo = lo;
	ax->hi = right + (int64_t)((double)(right - lo) * 0.02) + 1;
	ax->origin = r->incident_ms != TS_NONE && r->incident_ms >= ax->lo &&
				     r->incident_ms <= ax->hi
			     ? r->incident_ms
			     : ax->lo;
	return 1;
}

/* Fraction 0..1 of the axis at ms (clamped). */
double axis_at(const struct axis *ax, int64_t ms)
{
	double f = (double)(ms - ax->lo) / (double)(ax->hi - ax->lo);
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

int axis_has(const struct axis *ax, int64_t ms)
{
	return ms != TS_NONE && ms >= ax->lo && ms <= ax->hi;
}

/* A round tick interval giving at most max ticks over secs. */
double nice_step(double secs, int max)
{
	static const double steps[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10,
					15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
					10800, 21600, 43200, 86400, 172800, 604800 };
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (secs / steps[i] <= max)
			return steps[i];
	return ceil(secs / max / 86400.0) * 86400.0;
}

/* "0", "+250ms", "+30s", "+1m", "+1m30s", "+2h", "-5s" */
const char *tick_label(double secs, char buf[32])
{
	const char *sign = secs < -1e-9 ? "-" : "+";
	double a = fabs(secs);
	long s = lround(a);
	if (a < 1e-9)
		snprintf(buf, 32, "0");
	else if (a < 1)
		snprintf(buf, 32, "%s%ldms", sign, lround(a * 1000));
	else if (a < 60 && fabs(a - round(a)) > 0.001)
		snprintf(buf, 32, "%s%.1fs", sign, a);
	else if (a < 60)
		snprintf(buf, 32, "%s%lds", sign, s);
	else if (a < 3600)
		snprintf(buf, 32, s % 60 ? "%s%ldm%02lds" : "%s%ldm", sign, s / 60, s % 60);
	else if (s % 3600)
		snprintf(buf, 32, "%s%ldh%02ldm", sign, s / 3600, (s / 60) % 60);
	else
		snprintf(buf, 32, "%s%ldh", sign, s / 3600);
	return buf;
}

char *report_exposure_sentence(const struct run_rec *r)
{
	if (run_mode_of(r) != MODE_PROBE)
		return NULL;
	char a[32], t[32], n[32];
	const char *word = r->exposure == EXPOSURE_MET ? "within the RPO" :
			   r->exposure == EXPOSURE_MISSED ? "EXPOSED: the newest recoverable backup is older than the RPO" :
			   r->exposure == EXPOSURE_UNMEASURED ? "UNMEASURED: newest_recoverable gave no time (counts as exposed)" :
			   "not judged (no newest_recoverable or no RPO)";
	return xasprintf("RPO exposure %s (target %s): %s; newest recoverable backup %s",
			 dur(r->exposure_s, a), dur(r->rpo_target_s, t), word, ts_human(r->newest_recoverable_ms, n));
}
