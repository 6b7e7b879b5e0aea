/*
 * What the report files share and nobody else sees. report.c keeps the
 * choice of format by name, the atomic write, the trend from the history,
 * and what Markdown and HTML both draw: the verdicts' wording, step and
 * time helpers and the timeline's axis. Each format has its own file:
 * report-json.c, report-junit.c (also the XML escaping the HTML page
 * uses), report-md.c, report-html.c (its charts in report-svg.c) and
 * report-prom.c. The public interface is report.h.
 *
 * Names, errors and command output may hold any bytes: every format reads
 * text through utf8_decode (util.h) and writes U+FFFD for a byte that is not
 * UTF-8.
 */
#ifndef LB_REPORT_INT_H
#define LB_REPORT_INT_H
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "report.h"
#include "stats.h"
#include "util.h"

#define TAIL_BYTES 4096		/* output kept in a JUnit failure, in Markdown and in HTML */

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/*
 * The next character of report text at p (n > 0 bytes left): its length,
 * and in *c its code point, or TEXT_BAD for a byte that is not UTF-8 (to be
 * written as U+FFFD) or TEXT_CSI for a whole terminal escape sequence
 * (ESC [ ... final byte), which no report keeps.
 */
#define TEXT_BAD ((unsigned long)-1)
#define TEXT_CSI ((unsigned long)-2)
size_t text_next(const unsigned char *p, size_t n, unsigned long *c);
/* Neither pending nor running. */
int run_finished(const struct run_rec *r);

/* ---- report-junit.c: XML text, for JUnit and the HTML page ---- */

/* s escaped for an attribute (attr) or element text; nothing when s is NULL. */
void xml_add(struct strbuf *sb, const char *s, int attr);
/* The first line of an error, bounded, for a message attribute. Caller frees. */
char *first_line(const char *s);
/* Element text of the HTML page and its SVG: xml_add for text. */
static inline void h_text(struct strbuf *sb, const char *s)
{
	xml_add(sb, s, 0);
}

/* ---- report.c: shared by Markdown and HTML ---- */

/* "2025-11-22 01:53:00 UTC", or "-" */
const char *ts_human(int64_t ms, char out[32]);
const char *dur(double secs, char buf[32]);

enum tone { TONE_OK, TONE_BAD, TONE_NONE, TONE_PENDING };
enum tone status_tone(enum status st);
/* "failed" -> "failed", "timed_out" -> "timed out" */
const char *status_words(enum status st, char buf[32]);

/* An objective's verdict, worded once for both formats. */
struct verdict {
	const char *word;	/* "met", "MISSED", "UNMEASURED", "no target", ... */
	enum tone tone;
	double achieved, target;
	char *sentence;		/* "RTO met: achieved 50.00s vs target 15m00s"; owned */
};
/* The run's RTO and RPO verdicts; the caller frees each sentence. */
void verdicts_make(const struct run_rec *r, struct verdict *rto, struct verdict *rpo);

/* Wall time from start to end; NAN while running. */
double run_span_s(const struct run_rec *r);
int step_failed(const struct step_rec *s);
/*
 * The last lines (at most TAIL_BYTES) of a step's output, on a character
 * boundary; *cut says whether anything was left out. NULL when there is no
 * output. Caller frees.
 */
char *output_tail(const struct step_rec *s, int *cut);
/* Up to max characters of s, with "…" when cut. Caller frees. */
char *utf8_trunc(const char *s, size_t max);
size_t utf8_width(const char *s);

/* The trend's figures: p50/p95, risk, and whether the run is one of the points. */
struct trend_view {
	size_t n;
	double p50, p95, target;
	struct rto_risk risk;
	char *why;		/* at-risk reason, owned; NULL when not at risk */
	char *describe;		/* how close, owned; NULL without a target */
};
void trend_view(const struct report_trend *t, const struct run_rec *r, struct trend_view *v);
void trend_view_release(struct trend_view *v);

/*
 * The time axis of a timeline: the run, stretched to show t0, the RTO
 * deadline and the phases' budgets when they lie near it; what lies far
 * away is named at the edge instead, or a 15-minute budget would squeeze a
 * 40-second drill into a sliver.
 */
struct axis {
	int64_t lo, hi;		/* what the axis shows, unix ms */
	int64_t origin;		/* what its labels count from: t0 when shown, else lo */
};
/* 0 when the record knows no instant at all. */
int axis_make(const struct run_rec *r, struct axis *ax);
/* Fraction 0..1 of the axis at ms (clamped). */
double axis_at(const struct axis *ax, int64_t ms);
int axis_has(const struct axis *ax, int64_t ms);
/* A round tick interval giving at most max ticks over secs. */
double nice_step(double secs, int max);
/* "0", "+250ms", "+30s", "+1m", "+1m30s", "+2h", "-5s" */
const char *tick_label(double secs, char buf[32]);

/* "RPO exposure 2h00m (target 1h00m): EXPOSED ...", for a probe run (SPEC 10); NULL for others. Owned. */
char *report_exposure_sentence(const struct run_rec *r);

/* ---- report-svg.c: the HTML report's charts ---- */

/* The timeline of phases and steps over ax, with t0, t1, the deadline and the notes. */
void svg_timeline(struct strbuf *sb, const struct run_rec *r, const struct axis *ax);
/* The recent achieved RTOs as columns, the target as a dashed line, this run outlined. */
void svg_trend(struct strbuf *sb, const struct report_trend *t, const struct run_rec *r,
	       double target);

#endif
