/*
 * `lifeboat history [RUNBOOK] [--limit N] [--json]`: past runs, newest first,
 * then per runbook the p50/p95 achieved RTO, a sparkline of the trend and the
 * at-risk warning of SPEC 7.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report.h"
#include "runner.h"
#include "stats.h"

static void print_rto(const struct run_rec *r)
{
	char a[32], t[32], cell[96];
	snprintf(cell, sizeof(cell), "%s/%s", fmt_dur(r->rto_achieved_s, a, sizeof(a)),
		 fmt_dur(r->rto_target_s, t, sizeof(t)));
	printf(" %-17s", cell);
	printf("%s%-7s%s", r->rto_met == 0 ? c_red() : r->rto_met == 1 ? c_green() : "",
	       r->rto_met == 1 ? "met" : r->rto_met == 0 ? "MISSED" : "-", c_reset());
}

static void print_rpo(const struct run_rec *r)
{
	char a[32], t[32], cell[96];
	snprintf(cell, sizeof(cell), "%s/%s", fmt_dur(r->rpo_achieved_s, a, sizeof(a)),
		 fmt_dur(r->rpo_target_s, t, sizeof(t)));
	const char *st = r->rpo_status ? r->rpo_status : "-";
	printf(" %-17s%s%s%s", cell, r->rpo_met == 0 ? c_red() : r->rpo_met == 1 ? c_green() : "",
	       strcmp(st, "none") ? st : "-", c_reset());
}

struct trend {
	char *runbook;
	double target;
	double *rto;		/* newest first as listed */
	size_t n;
};

static void trends_add(struct trend **t, size_t *nt, const struct run_rec *r)
{
	size_t i;
	for (i = 0; i < *nt; i++)
		if (!strcmp((*t)[i].runbook, r->runbook))
			break;
	if (i == *nt) {
		*t = xrealloc(*t, (*nt + 1) * sizeof(**t));
		(*t)[i] = (struct trend){ xstrdup(r->runbook), r->rto_target_s, NULL, 0 };
		(*nt)++;
	}
	if (isnan(r->rto_achieved_s) || (*t)[i].n >= 50)
		return;
	(*t)[i].rto = xrealloc((*t)[i].rto, ((*t)[i].n + 1) * sizeof(double));
	(*t)[i].rto[(*t)[i].n++] = r->rto_achieved_s;
}

static void print_trends(struct trend *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++) {
		size_t n = t[i].n;
		if (!n)
			continue;
		double *old_first = xmalloc(n * sizeof(double));
		for (size_t k = 0; k < n; k++)
			old_first[k] = t[i].rto[n - 1 - k];
		char p50[32], p95[32], tg[32], spark[256];
		sparkline(old_first, n > 20 ? 20 : n, spark, sizeof(spark));
		printf("%s%s%s: RTO p50 %s, p95 %s over %zu runs, target %s  %s\n", c_bold(),
		       t[i].runbook, c_reset(), fmt_dur(percentile(old_first, n, 50), p50, sizeof(p50)),
		       fmt_dur(percentile(old_first, n, 95), p95, sizeof(p95)), n,
		       fmt_dur(t[i].target, tg, sizeof(tg)), spark);
		char *why = NULL;
		if (rto_at_risk(old_first, n, t[i].target, &why))
			printf("  %sat risk%s: %s\n", c_yellow(), c_reset(), why);
		free(why);
		free(old_first);
	}
}

int cmd_history(int argc, char **argv)
{
	const char *runbook = NULL;
	int limit = 20, json = 0;
	for (int i = 1; i < argc; i++) {
		int g = global_option(argc, argv, &i, "history");
		if (g < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		const char *a = argv[i];
		if (is_help(a)) {
			print_cmd_help("history");
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--limit") || !strncmp(a, "--limit=", 8)) {
			const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
			char *end;
			long n = v ? strtol(v, &end, 10) : 0;
			if (!v || *end || n < 1)
				return usage_error("history", "--limit needs a positive number");
			limit = (int)n;
		} else if (a[0] == '-') {
			return usage_error("history", "unknown option '%s'", a);
		} else if (!runbook) {
			runbook = a;
		} else {
			return usage_error("history", "only one runbook name at a time");
		}
	}
	struct store *st;
	int rc = open_store(&st);
	if (rc)
		return rc;
	struct run_rec **runs = NULL;
	size_t n = 0;
	if (store_runs_list(st, runbook, limit, &runs, &n)) {
		errorf("cannot read the history '%s': %s", db_path(), store_error(st));
		store_close(st);
		return 1;
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			char *s = report_json_string(runs[i], 0);
			json_t *j = json_loads(s, 0, NULL);
			free(s);
			if (j) {
				json_object_del(j, "phases");
				json_array_append_new(arr, j);
			}
		}
		json_t *top = json_object();
		json_object_set_new(top, "runs", arr);
		char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
		json_decref(top);
	} else if (!n) {
		printf("no runs in %s%s%s\n", db_path(), runbook ? " for " : "", runbook ? runbook : "");
	} else {
		printf("%s%-20s %-12s %-18s %-5s %-11s %-24s %s%s\n", c_bold(), "started (UTC)", "run",
		       "runbook", "mode", "status", "RTO achieved/target", "RPO", c_reset());
		struct trend *t = NULL;
		size_t nt = 0;
		for (size_t i = 0; i < n; i++) {
			const struct run_rec *r = runs[i];
			char iso[32];
			clock_iso8601(r->started_ms, iso);
			iso[19] = '\0';
			iso[10] = ' ';
			printf("%-20s %-12.12s %-18.18s %-5s %s%-11s%s", iso, r->id, r->runbook, r->mode,
			       status_color(r->status), status_name(r->status), c_reset());
			print_rto(r);
			print_rpo(r);
			putchar('\n');
			trends_add(&t, &nt, r);
		}
		putchar('\n');
		print_trends(t, nt);
		for (size_t i = 0; i < nt; i++) {
			free(t[i].runbook);
			free(t[i].rto);
		}
		free(t);
	}
	for (size_t i = 0; i < n; i++)
		run_rec_free(runs[i]);
	free(runs);
	store_close(st);
	return 0;
}
