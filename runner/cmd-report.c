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

int cmd_report(int argc, char **argv)
{
	const char *id = NULL, *format = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, "report");
		if (g < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		const char *a = argv[i];
		if (is_help(a)) {
			print_cmd_help("report");
			return 0;
		} else if (!strcmp(a, "--format") || !strcmp(a, "-f")) {
			if (i + 1 >= argc)
				return usage_error("report", "option '%s' needs a value", a);
			format = argv[++i];
		} else if (!strncmp(a, "--format=", 9)) {
			format = a + 9;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return usage_error("report", "option '%s' needs a file name (or - for stdout)", a);
			out = argv[++i];
		} else if (!strncmp(a, "--output=", 9) && a[9]) {
			out = a + 9;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("report", "unknown option '%s'", a);
		} else if (!id) {
			id = a;
		} else {
			return usage_error("report", "only one run at a time");
		}
	}
	if (!id)
		return usage_error("report", "no run id given (see `lifeboat history`)");
	if (!format && out && strcmp(out, "-"))
		format = report_format_for_path(out);
	if (!format)
		return usage_error("report", "which format? give --format json, junit, md, html or prom");
	if (!report_format_name(format))
		return usage_error("report", "unknown format '%s': use json, junit, md, html or prom",
				   format);

	struct store *st;
	int rc = open_history(&st);
	if (rc)
		return rc;
	struct run_rec *r = NULL;
	if ((rc = load_run(st, id, &r))) {
		store_close(st);
		return rc;
	}
	struct report_trend trend;
	if (report_trend_load(st, r, &trend)) {
		/* the report stands without its trend chart */
		warnf("cannot read the RTO trend from '%s': %s", db_path(), store_error(st));
		report_trend_release(&trend);
	}
	store_close(st);

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
	run_rec_free(r);
	return rc;
}
