/*
 * `lifeboat history [RUNBOOK] [--limit N] [--json]`: past runs, newest first,
 * then per runbook listed the p50/p95 achieved RTO and RPO over its last N
 * runs, a sparkline of the RTO, and the at-risk warning of SPEC 7 with how
 * close the runbook is to it.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "central.h"
#include "clock.h"
#include "json.h"
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

/* A probe run's RPO cell: the exposure it measured (SPEC 10) against the RPO. */
static void print_exposure_cell(const struct run_rec *r)
{
	char a[32], t[32], cell[96];
	snprintf(cell, sizeof(cell), "%s/%s", fmt_dur(r->exposure_s, a, sizeof(a)),
		 fmt_dur(r->rpo_target_s, t, sizeof(t)));
	int bad = r->exposure == EXPOSURE_MISSED || r->exposure == EXPOSURE_UNMEASURED;
	printf(" %-17s %s%s%s", cell, bad ? c_red() : r->exposure == EXPOSURE_MET ? c_green() : "",
	       r->exposure == EXPOSURE_MISSED ? "exposed" : r->exposure == EXPOSURE_NONE ? "-" :
	       exposure_status_name(r->exposure), c_reset());
}

static void print_rpo(const struct run_rec *r)
{
	if (run_mode_of(r) == MODE_PROBE) {
		print_exposure_cell(r);
		return;
	}
	char a[32], t[32], cell[96];
	snprintf(cell, sizeof(cell), "%s/%s", fmt_dur(r->rpo_achieved_s, a, sizeof(a)),
		 fmt_dur(r->rpo_target_s, t, sizeof(t)));
	const char *st = r->rpo_status ? r->rpo_status : "-";
	printf(" %-17s%s%s%s", cell, r->rpo_met == 0 ? c_red() : r->rpo_met == 1 ? c_green() : "",
	       rpo_status_of(r->rpo_status) == RPO_NONE ? "-" : st, c_reset());
}

/*
 * The RPO exposure the probe runs listed measured, oldest first (SPEC 10):
 * the latest, the p95 and a sparkline, so a backup going stale shows as a
 * rising line before it crosses the RPO.
 */
static void print_exposure_trend(struct run_rec **runs, size_t n, const struct run_rec *group)
{
	double *v = xmalloc((n ? n : 1) * sizeof(double));
	size_t nv = 0;
	const struct run_rec *latest = NULL;
	for (size_t i = n; i-- > 0;) {
		const struct run_rec *r = runs[i];
		if (run_mode_of(r) != MODE_PROBE || strcmp(r->runbook ? r->runbook : "", group->runbook) ||
		    !r->env != !group->env || (r->env && strcmp(r->env, group->env)))
			continue;
		latest = r;
		if (!isnan(r->exposure_s))
			v[nv++] = r->exposure_s;
	}
	if (latest && (nv || latest->exposure != EXPOSURE_NONE)) {
		char a[32], b[32], t[32], spark[3 * 20 + 4] = "";
		if (nv)
			sparkline(nv > 20 ? v + (nv - 20) : v, nv > 20 ? 20 : nv, spark, sizeof(spark));
		int bad = latest->exposure == EXPOSURE_MISSED || latest->exposure == EXPOSURE_UNMEASURED;
		printf("  RPO exposure (probes): latest %s%s%s%s, p95 %s over %zu, target %s  %s\n",
		       bad ? c_red() : "", fmt_dur(latest->exposure_s, a, sizeof(a)),
		       latest->exposure == EXPOSURE_MISSED ? " EXPOSED" :
		       latest->exposure == EXPOSURE_UNMEASURED ? " unmeasured" : "", c_reset(),
		       fmt_dur(percentile(v, nv, 95), b, sizeof(b)), nv,
		       fmt_dur(latest->rpo_target_s, t, sizeof(t)), spark);
	}
	free(v);
}

/*
 * One runbook's trend in one environment (SPEC 7): p50/p95 of its achieved
 * RTO and RPO over its last 10 runs with the current target (read narrowly
 * from the history, whatever --limit lists, so the figures hold still), a
 * sparkline, and how close the RTO is to the at-risk line.
 */
static void print_trend(struct store *st, const char *runbook, const char *env)
{
	struct objective_point *pts = NULL;
	size_t n = 0;
	if (store_objectives(st, runbook, env, TS_NONE, TREND_READ, &pts, &n)) {
		warnf("cannot read the trend of '%s': %s", runbook, store_error(st));
		return;
	}
	n = trend_window(pts, n, NAN);
	char *title = env ? xasprintf("%s (env %s)", runbook, env) : xstrdup(runbook);
	double *rto = xmalloc((n ? n : 1) * sizeof(double)), *rpo = xmalloc((n ? n : 1) * sizeof(double));
	size_t nr = 0, np = 0;
	double rto_target = NAN, rpo_target = NAN;
	for (size_t i = 0; i < n; i++) {	/* oldest first: the newest target wins */
		if (!isnan(pts[i].rto_s))
			rto[nr++] = pts[i].rto_s;
		if (!isnan(pts[i].rpo_s))
			rpo[np++] = pts[i].rpo_s;
		if (!isnan(pts[i].rto_target_s))
			rto_target = pts[i].rto_target_s;
		if (!isnan(pts[i].rpo_target_s))
			rpo_target = pts[i].rpo_target_s;
	}
	char a[32], b[32], t[32], spark[3 * 20 + 4];
	if (nr) {
		sparkline(nr > 20 ? rto + (nr - 20) : rto, nr > 20 ? 20 : nr, spark, sizeof(spark));
		printf("%s%s%s: RTO p50 %s, p95 %s over %zu run%s, target %s  %s\n", c_bold(), title,
		       c_reset(), fmt_dur(percentile(rto, nr, 50), a, sizeof(a)),
		       fmt_dur(percentile(rto, nr, 95), b, sizeof(b)), nr, nr > 1 ? "s" : "",
		       fmt_dur(rto_target, t, sizeof(t)), spark);
	} else {
		printf("%s%s%s: no achieved RTO yet\n", c_bold(), title, c_reset());
	}
	if (np)
		printf("  RPO p50 %s, p95 %s over %zu run%s, target %s\n",
		       fmt_dur(percentile(rpo, np, 50), a, sizeof(a)),
		       fmt_dur(percentile(rpo, np, 95), b, sizeof(b)), np, np > 1 ? "s" : "",
		       fmt_dur(rpo_target, t, sizeof(t)));
	struct rto_risk risk;
	rto_risk(rto, nr, rto_target, &risk);
	char *how = rto_risk_describe(&risk);
	if (how && risk.at_risk)
		printf("  %sat risk%s: %s\n", c_yellow(), c_reset(), how);
	else if (how)
		printf("  %snot at risk: %s%s\n", c_dim(), how, c_reset());
	free(how);
	free(rto);
	free(rpo);
	free(pts);
	free(title);
}

/* SPEC 11: claims of HA schedulers whose drill never finished (the scheduler died with it). */
static json_t *orphans_json(void)
{
	json_t *arr = json_array();
	struct central_claim *cl = NULL;
	size_t n = 0;
	char *err = NULL;
	if (central_orphans(reader_central(), CENTRAL_CLAIM_STALE_S, &cl, &n, &err)) {
		warnf("cannot read the scheduler claims: %s", err);
		free(err);
	}
	for (size_t i = 0; i < n; i++) {
		char iso[32];
		clock_iso8601(cl[i].slot_unix * 1000, iso);
		json_array_append_new(arr, json_pack("{s:o, s:s, s:o, s:o, s:I}", "schedule_id",
						     lbjson_string(cl[i].schedule_id), "slot", iso, "host",
						     lbjson_string(cl[i].host), "source", lbjson_string(cl[i].source),
						     "pid", (json_int_t)cl[i].pid));
		central_claim_release(&cl[i]);
	}
	free(cl);
	return arr;
}

static void print_orphans(void)
{
	json_t *arr = orphans_json();
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		if (!i)
			printf("\n%sorphaned claims%s (a scheduler claimed the slot, its drill never finished):\n",
			       c_yellow(), c_reset());
		printf("  %s at %s by %s (pid %lld)\n", json_string_value(json_object_get(o, "schedule_id")),
		       json_string_value(json_object_get(o, "slot")),
		       json_string_value(json_object_get(o, "host")) ? json_string_value(json_object_get(o, "host")) : "?",
		       (long long)json_integer_value(json_object_get(o, "pid")));
	}
	json_decref(arr);
}

/* history --json: each run's report without its phases and probes (--central: and where it comes from). */
static void print_json(struct run_rec **runs, size_t n, const struct central_source *from, int central)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char *s = report_json_string(runs[i], 0);
		json_t *j = json_loads(s, 0, NULL);
		free(s);
		if (j && from)
			json_object_set_new(j, "source", json_pack("{s:o, s:o, s:o}", "id", lbjson_string(from[i].source_id),
								   "host", lbjson_string(from[i].host),
								   "history", lbjson_string(from[i].path)));
		if (j) {
			json_object_del(j, "phases");
			json_object_del(j, "probes");
			json_array_append_new(arr, j);
		}
	}
	json_t *top = json_object();
	json_object_set_new(top, "runs", arr);
	if (central)
		json_object_set_new(top, "orphaned_claims", orphans_json());
	char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(top);
}

/* The table of runs, then each runbook's (and environment's) trend. */
static void print_table(struct store *st, struct run_rec **runs, size_t n, const struct central_source *from,
			int central)
{
	printf("%s%-20s %-12s %-18s %-5s %-11s %-24s %s%s%s\n", c_bold(), "started (UTC)", "run",
	       "runbook", "mode", "status", "RTO achieved/target", central ? "RPO                        " : "RPO",
	       central ? "host" : "", c_reset());
	const struct run_rec **groups = xcalloc(n, sizeof(*groups));	/* runbook and env */
	size_t nn = 0;
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
		if (central)
			printf(" %s", from && from[i].host ? from[i].host : r->host ? r->host : "-");
		putchar('\n');
		size_t k = 0;
		while (k < nn && (strcmp(groups[k]->runbook, r->runbook ? r->runbook : "") ||
				  strcmp(groups[k]->env ? groups[k]->env : "", r->env ? r->env : "") ||
				  !groups[k]->env != !r->env))
			k++;
		if (k == nn && r->runbook)
			groups[nn++] = r;
	}
	for (size_t k = 0; k < nn; k++) {
		putchar('\n');
		print_trend(st, groups[k]->runbook, groups[k]->env);
		print_exposure_trend(runs, n, groups[k]);
	}
	free(groups);
}

enum { HISTORY_OPT_JSON = OPT_CODE + 64, HISTORY_OPT_LIMIT };

static int cmd_history(const struct cmd_args *a)
{
	const char *runbook = NULL;
	int limit = 20, json = 0, central = opt_count(a, OPT_CENTRAL) > 0;
	for (size_t i = 0; i < a->nopts; i++) {
		const char *v = a->opts[i].value;
		if (a->opts[i].id == HISTORY_OPT_JSON) {
			json = 1;
		} else if (a->opts[i].id == HISTORY_OPT_LIMIT) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 1000000)
				return usage_error("history", "--limit needs a positive number");
			limit = (int)n;
		}
	}
	if (a->nargs > 1)
		return usage_error("history", "only one runbook name at a time");
	runbook = a->nargs ? a->args[0] : NULL;
	/* a runbook's file works as well as its name: people pass the path they ran */
	char *named = NULL;
	size_t rlen = runbook ? strlen(runbook) : 0;
	if (rlen > 4 && !strcmp(runbook + rlen - 4, ".lua") && access(runbook, R_OK) == 0) {
		struct luahost *host = NULL;
		struct runbook *rb = NULL;
		if (load_runbook(runbook, &host, &rb))
			return EXIT_USAGE;
		named = xstrdup(rb->name);
		runbook_free(rb);
		luahost_free(host);
		runbook = named;
	}
	if (!central && !history_exists()) {
		/* nothing has run here: an empty answer, without creating a history */
		if (json)
			printf("{\n  \"runs\": []\n}\n");
		else
			printf("no runs: there is no history at %s yet\n", db_path());
		free(named);
		return 0;
	}
	struct store *st;
	struct central_fetch f = { .what = CENTRAL_FETCH_RUNS, .runbook = runbook, .limit = limit };
	int rc = central ? open_reader("history", 1, &f, &st) : open_store(&st);
	if (rc) {
		free(named);
		return rc;
	}
	struct run_rec **runs = NULL;
	size_t n = 0;
	if (store_runs_list(st, runbook, limit, &runs, &n)) {
		errorf("cannot read the history '%s': %s", reader_name(), store_error(st));
		close_reader(st);
		free(named);
		return 1;
	}
	/* --central: each run's source history (its host and file) */
	struct central_source *from = NULL;
	if (central) {
		const char **ids = xcalloc(n + 1, sizeof(*ids));
		for (size_t i = 0; i < n; i++)
			ids[i] = runs[i]->id;
		char *err = NULL;
		if (central_run_origins(reader_central(), ids, n, &from, &err)) {
			warnf("cannot read where the runs come from: %s", err);
			free(err);
		}
		free(ids);
	}
	if (json)
		print_json(runs, n, from, central);
	else if (!n)
		printf("no runs in %s%s%s\n", reader_name(), runbook ? " for " : "", runbook ? runbook : "");
	else
		print_table(st, runs, n, from, central);
	if (central && !json)
		print_orphans();
	if (from)
		central_sources_free(from, n);
	for (size_t i = 0; i < n; i++)
		run_rec_free(runs[i]);
	free(runs);
	close_reader(st);
	free(named);
	return 0;
}

static const struct opt history_options[] = {
	{ HISTORY_OPT_LIMIT, "limit", "N", "show the newest N runs (default 20)" },
	{ HISTORY_OPT_JSON, "json", NULL, "print the runs as JSON" },
	{ OPT_CENTRAL, "central", NULL, CENTRAL_OPT_HELP },
	OPT_END
};

const struct cmd cmd_history_entry = {
	"history", cmd_history, "[RUNBOOK]", "list past runs, newest first, with the RTO trend",
	history_options,
	"history\n"
	"history --limit 5 failover.lua\n"
	"history --central --json",
	NEED_CONFIG, NULL,
};
