/*
 * Reports from a run record (SPEC 7): JSON, JUnit XML, Markdown, a
 * self-contained HTML page and Prometheus text. The same record comes from
 * the engine at the end of a run or from the history later, so any past run
 * can be reported again.
 */
#ifndef LB_REPORT_H
#define LB_REPORT_H
#include "json.h"
#include "record.h"

struct store;

#define REPORT_SCHEMA_VERSION 1

/* SPEC 7 JSON as a new string (caller frees); pretty = indented. */
char *report_json_string(const struct run_rec *run, int pretty);
/*
 * The run's "rto" and "rpo" objects of the JSON report, built once for the
 * report and the webhooks' bodies. New references.
 */
json_t *report_rto_json(const struct run_rec *run);
json_t *report_rpo_json(const struct run_rec *run);
/* JUnit XML as a new string (caller frees). */
char *report_junit_string(const struct run_rec *run);
/* Writes to path atomically (temp file + rename). 0, or -1 with *err (caller frees). */
int report_write_file(const char *path, const char *text, char **err);

/*
 * A runbook's recent achieved RTOs, for the trend chart and the at-risk
 * warning of the Markdown and HTML reports: oldest first, up to and
 * including the reported run.
 */
struct report_trend {
	double *rto_s;		/* achieved RTOs; xmalloc'd, owned */
	int64_t *started_ms;	/* when each of those runs started; owned */
	size_t n;
	double target_s;	/* the target line: the run's RTO target, NAN when none */
	int64_t last_success_ms[MODE__COUNT];	/* per enum run_mode: the last success up to the run, TS_NONE */
};
#define REPORT_TREND_RUNS 30
/* Loads the trend of run's runbook from the history. 0, or -1 (store_error). */
int report_trend_load(struct store *st, const struct run_rec *run, struct report_trend *trend);
void report_trend_release(struct report_trend *trend);	/* frees contents */

/* Markdown (GitHub-flavoured); trend may be NULL. Caller frees. */
char *report_markdown_string(const struct run_rec *run, const struct report_trend *trend);
/* One self-contained XHTML-compatible page, inline CSS and SVG, no scripts. Caller frees. */
char *report_html_string(const struct run_rec *run, const struct report_trend *trend);
/* Prometheus text exposition format, for node_exporter's textfile collector. Caller frees. */
char *report_prom_string(const struct run_rec *run);
/* The same with the last success of each mode from trend (NULL: the run's own). */
char *report_prom_render(const struct run_rec *run, const struct report_trend *trend);

/*
 * Formats by name: "json", "junit", "md", "html", "prom" (also "markdown",
 * "xml", "prometheus"). report_format_name gives the canonical name, NULL
 * when unknown; report_format_for_path picks one by a file's extension
 * (.json .xml .md .html .htm .prom), NULL when none fits;
 * report_format_ext is the extension a format's file gets ("xml" for junit).
 */
const char *report_format_name(const char *format);
const char *report_format_for_path(const char *path);
const char *report_format_ext(const char *format);
/* The report in that format (trend may be NULL), or NULL for an unknown format. Caller frees. */
char *report_render(const struct run_rec *run, const char *format,
		    const struct report_trend *trend);

#endif
