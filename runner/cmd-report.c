/*
 * `lifeboat report RUN_ID --format json|junit|md|html|prom [-o FILE]`: any
 * past run reported again from the history alone. Without -o the file goes
 * under reports/ (or the config's reports_dir) as <runbook>-<run id>.<ext>,
 * so reports of many runs can sit in one folder a CI job archives; `-o -`
 * writes to stdout.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "runner.h"

/* A runbook name as a file name: anything but [A-Za-z0-9._-] becomes '-'. */
static char *file_part(const char *s)
{
	char *out = xstrdup(s && *s ? s : "run");
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
	if (out[0] == '.')
		out[0] = '-';	/* never a hidden file, never ".." */
	return out;
}

static char *default_path(const struct run_rec *r, const char *format)
{
	char *rb = file_part(r->runbook), *id = file_part(r->id);
	char *path = xasprintf("%s/%s-%s.%s", reports_dir(), rb, id, report_format_ext(format));
	free(rb);
	free(id);
	return path;
}

/* --format, else from -o's extension; NULL when neither says */
static const char *format_of(const struct cmd_args *a)
{
	const char *format = opt_value(a, 'f'), *out = opt_value(a, 'o');
	if (!format && out && strcmp(out, "-"))
		format = report_format_for_path(out);
	return format;
}

static int check_report(const struct cmd_args *a)
{
	const char *format = format_of(a);
	int rc = check_run_id(a);
	if (rc)
		return rc;
	if (!format)
		return usage_error("report", "which format? give --format json, junit, md, html or prom");
	if (!report_format_name(format))
		return usage_error("report", "unknown format '%s': use json, junit, md, html or prom",
				   format);
	return 0;
}

static int cmd_report(const struct cmd_args *a)
{
	const char *format = format_of(a), *out = opt_value(a, 'o');
	struct store *st = runner_history();
	const struct run_rec *r = runner_run();
	int rc = 0;
	struct report_trend trend;
	if (report_trend_load(st, r, &trend)) {
		/* the report stands without its trend chart */
		warnf("cannot read the RTO trend from '%s': %s", reader_name(), store_error(st));
		report_trend_release(&trend);
	}

	char *text = report_render(r, format, &trend);
	report_trend_release(&trend);
	if (out && !strcmp(out, "-")) {
		fputs(text, stdout);
	} else {
		char *path = out ? xstrdup(out) : default_path(r, format);
		char *err = NULL;
		if (report_write_file(path, text, &err)) {
			errorf("%s", err);
			free(err);
			rc = 1;
		} else if (!g_opts.quiet) {
			printf("report written to %s\n", path);
		}
		free(path);
	}
	free(text);
	return rc;
}

static const struct opt report_options[] = {
	{ 'f', "format", "json|junit|md|html|prom", "the report's format (default: from -o's extension)" },
	{ 'o', "output", "FILE", "write it to FILE, - for stdout (default: <reports_dir>/<runbook>-<run>.<ext>)" },
	{ OPT_CENTRAL, "central", NULL, CENTRAL_OPT_HELP },
	OPT_END
};

const struct cmd cmd_report_entry = {
	"report", cmd_report, "RUN_ID", "write a past run's report",
	report_options,
	"report --format html 3f9c2a\n"
	"report -o - --format json 3f9c2a",
	NEED_CONFIG | NEED_RUN | CENTRAL_WITH_TREND, check_report,
};
