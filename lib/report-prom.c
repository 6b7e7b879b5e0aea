/*
 * The Prometheus text exposition format of a run, for node_exporter's
 * textfile collector: gauges labelled with the runbook and environment.
 */
#include "report-int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "util.h"

/* ---- Prometheus text format ---- */

/*
 * Label values escape \, " and newline; HELP text \ and newline. The
 * exposition format is UTF-8: bad bytes become U+FFFD, control characters
 * go, so one odd runbook name cannot make the collector drop the file.
 */
static void prom_escape(struct strbuf *sb, const char *s, int label)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n) {
		unsigned long c;
		size_t len = utf8_decode(p, n, &c);
		if (!len) {
			strbuf_addstr(sb, replacement);
			len = 1;
		} else if (c == '\\') {
			strbuf_addstr(sb, "\\\\");
		} else if (c == '\n') {
			strbuf_addstr(sb, "\\n");
		} else if (c == '"' && label) {
			strbuf_addstr(sb, "\\\"");
		} else if (c >= 0x20 && c != 0x7f) {
			strbuf_add(sb, p, len);
		}
		p += len;
		n -= len;
	}
}

struct prom {
	struct strbuf sb;
	struct strbuf labels;	/* runbook="...",env="..." */
};

static void prom_help(struct prom *pm, const char *name, const char *help)
{
	strbuf_addf(&pm->sb, "# HELP %s ", name);
	prom_escape(&pm->sb, help, 0);
	strbuf_addf(&pm->sb, "\n# TYPE %s gauge\n", name);
}

/* ,key="value" */
static void prom_label(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_addf(sb, ",%s=\"", key);
	prom_escape(sb, value ? value : "", 1);
	strbuf_addch(sb, '"');
}

/* name{labels[,phase="..."]} value */
static void prom_sample(struct prom *pm, const char *name, const char *phase, double v)
{
	strbuf_addf(&pm->sb, "%s{%s", name, pm->labels.buf);
	if (phase)
		prom_label(&pm->sb, "phase", phase);
	strbuf_addf(&pm->sb, "} %.15g\n", round(v * 1000.0) / 1000.0);
}

/* A family with one sample, or nothing when the value is absent. */
static void prom_one(struct prom *pm, const char *name, const char *help, double v)
{
	if (!isfinite(v))
		return;
	prom_help(pm, name, help);
	prom_sample(pm, name, NULL, v);
}

/*
 * SPEC 10: each probe that ran, 1 when it passed and 0 when it did not
 * (labelled when="before"|"after" and probe="NAME"), so a dashboard shows
 * which check of a nightly preflight broke.
 */
static void prom_probes(struct prom *pm, const struct run_rec *run)
{
	const char *name = "lifeboat_probe_success";
	int any = 0;
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		for (size_t j = 0; p->probe && j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			if (s->status == ST_PENDING || s->status == ST_RUNNING || s->status == ST_SKIPPED)
				continue;
			if (!any++)
				prom_help(pm, name, "1 when the probe passed in the last reported run, 0 when it did not.");
			strbuf_addf(&pm->sb, "%s{%s", name, pm->labels.buf);
			prom_label(&pm->sb, "when", probe_when_name(p->probe));
			prom_label(&pm->sb, "probe", s->name);
			strbuf_addf(&pm->sb, "} %d\n", s->status == ST_SUCCEEDED);
		}
	}
}

/*
 * SPEC 10: a probe run's RPO exposure, and in every report the last success
 * of each mode (from the history when trend has it, else the run's own), so
 * a dead scheduler shows on a dashboard as an ageing timestamp. The
 * report's own mode always has one, 0 when it never succeeded: an alert on
 * its age fires for a schedule that never worked as for one that stopped.
 */
static void prom_probe_metrics(struct prom *pm, const struct run_rec *run,
			       const struct report_trend *trend)
{
	enum run_mode mode = run_mode_of(run);
	prom_probes(pm, run);
	if (mode == MODE_PROBE)
		prom_one(pm, "lifeboat_rpo_exposure_seconds",
			 "RPO exposure measured by the last reported probe: now - the newest recoverable backup.",
			 run->exposure_s);
	const char *name = "lifeboat_last_success_timestamp_seconds";
	prom_help(pm, name, "When a run of this mode last succeeded with its objectives met, unix seconds (0: never).");
	for (int m = 0; m < MODE__COUNT; m++) {
		int64_t last = trend ? trend->last_success_ms[m] : TS_NONE;
		if (!trend && (int)mode == m && run->status == ST_SUCCEEDED && run->exit_code == 0)
			last = run->ended_ms;
		if (last == TS_NONE && (int)mode != m)
			continue;
		strbuf_addf(&pm->sb, "%s{%s,mode=\"%s\"} %.15g\n", name, pm->labels.buf,
			    run_mode_name((enum run_mode)m),
			    last == TS_NONE ? 0.0 : round((double)last) / 1000.0);
	}
}

char *report_prom_string(const struct run_rec *run)
{
	return report_prom_render(run, NULL);
}

char *report_prom_render(const struct run_rec *run, const struct report_trend *trend)
{
	struct prom pm = { STRBUF_INIT, STRBUF_INIT };
	strbuf_init(&pm.sb, 2048);
	strbuf_init(&pm.labels, 64);
	strbuf_addstr(&pm.labels, "runbook=\"");
	prom_escape(&pm.labels, run->runbook, 1);
	strbuf_addstr(&pm.labels, "\",env=\"");
	prom_escape(&pm.labels, run->env, 1);
	strbuf_addch(&pm.labels, '"');

	prom_one(&pm, "lifeboat_rto_seconds",
		 "Achieved recovery time (t1 - t0) of the runbook's last reported run.",
		 run->rto_achieved_s);
	prom_one(&pm, "lifeboat_rto_target_seconds", "Declared recovery time objective.",
		 run->rto_target_s);
	prom_one(&pm, "lifeboat_rpo_seconds",
		 "Achieved recovery point (t0 - recovery point) of the last reported run.",
		 run->rpo_achieved_s);
	prom_one(&pm, "lifeboat_rpo_target_seconds", "Declared recovery point objective.",
		 run->rpo_target_s);
	if (run_finished(run))
		prom_one(&pm, "lifeboat_run_success",
			 "1 when the last reported run succeeded, 0 when it did not.",
			 run->status == ST_SUCCEEDED);
	int64_t at = run->ended_ms != TS_NONE ? run->ended_ms : run->started_ms;
	if (at != TS_NONE)
		prom_one(&pm, "lifeboat_run_timestamp_seconds",
			 "When the last reported run ended (started, while running), unix seconds.",
			 (double)at / 1000.0);
	prom_one(&pm, "lifeboat_human_wait_seconds",
		 "Time manual steps waited for a person in the last reported run.",
		 run->human_wait_s);
	static const struct {
		const char *name, *help;
		int budget;
	} per_phase[] = {
		{ "lifeboat_phase_duration_seconds", "Duration of each phase of the last reported run.", 0 },
		{ "lifeboat_phase_budget_seconds", "Declared budget of each phase.", 1 },
	};
	for (size_t k = 0; k < ARRAY_SIZE(per_phase); k++) {
		int any = 0;
		for (size_t i = 0; i < run->nphases; i++) {
			const struct phase_rec *p = &run->phases[i];
			double v = per_phase[k].budget ? p->budget_s : p->duration_s;
			if (!isfinite(v))
				continue;
			if (!any++)
				prom_help(&pm, per_phase[k].name, per_phase[k].help);
			prom_sample(&pm, per_phase[k].name, p->name ? p->name : "", v);
		}
	}
	prom_probe_metrics(&pm, run, trend);
	strbuf_release(&pm.labels);
	return strbuf_detach(&pm.sb);
}
