/*
 * history-gen: fills a history database with realistic runs through the
 * store's own writer (store_run_insert), so benchmarks and the README's
 * report screenshot work on what lifeboat itself would have written, in a
 * second instead of hours of drills.
 *
 *   history-gen DB N [--showcase]
 *
 * N runs of "feature-store" (3 phases of 4 steps: restore, retrain,
 * redeploy with a manual sign-off), one every 4 hours up to now, slowly
 * getting slower so the RTO trend drifts toward its 15-minute target; about
 * one in 25 fails in "copy snapshot". --showcase adds, as the newest, a
 * drill with a fault phase, retries, a phase over budget, a person's wait,
 * notes, a failing cleanup step and a missed RPO. Deterministic: the same
 * N gives the same file.
 *
 * Built by tests/bench/history-bench.sh and scripts/report-screenshot.sh
 * against the build's liblbcore.a.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "record.h"
#include "store.h"
#include "util.h"

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static double urand(void)	/* 0..1 */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

/* mean, +-spread as a fraction, always > 0 */
static double jitter(double mean, double spread)
{
	double v = mean * (1.0 + spread * (2.0 * urand() - 1.0));
	return v > 0.001 ? v : 0.001;
}

struct step_def {
	const char *name, *kind;
	double secs;
};

struct phase_def {
	const char *name, *role;
	double budget;
	int restores, fault, cleanup;
	struct step_def steps[4];
	int nsteps;
};

static const struct phase_def plain[] = {
	{ "restore", "data-eng", 300, 0, 0, 0,
	  { { "verify newest snapshot", "run", 4 }, { "copy snapshot", "sh", 95 },
	    { "rebuild indexes", "sh", 45 }, { "check row counts", "run", 4 } }, 4 },
	{ "retrain", "ml-eng", 240, 0, 0, 0,
	  { { "load features", "sh", 30 }, { "train model", "sh", 140 },
	    { "evaluate", "run", 18 }, { "publish model", "sh", 8 } }, 4 },
	{ "redeploy", "sre", 180, 1, 0, 0,
	  { { "start model server", "sh", 2 }, { "model server healthy", "http", 9 },
	    { "smoke test", "http", 14 }, { "commander signs off", "manual", 1 } }, 4 },
};

static struct step_rec *add_step(struct phase_rec *p, const struct step_def *d, const char *role)
{
	p->steps = xrealloc(p->steps, (p->nsteps + 1) * sizeof(*p->steps));
	struct step_rec *s = &p->steps[p->nsteps++];
	step_rec_init(s);
	s->name = xstrdup(d->name);
	s->kind = xstrdup(d->kind);
	s->role = xstrdup(!strcmp(d->kind, "manual") ? "commander" : role);
	return s;
}

static struct phase_rec *add_phase(struct run_rec *r, const struct phase_def *d)
{
	r->phases = xrealloc(r->phases, (r->nphases + 1) * sizeof(*r->phases));
	struct phase_rec *p = &r->phases[r->nphases++];
	phase_rec_init(p);
	p->name = xstrdup(d->name);
	p->role = xstrdup(d->role);
	p->budget_s = d->budget > 0 ? d->budget : NAN;
	p->fault = d->fault;
	p->cleanup = d->cleanup;
	p->restores_service = d->restores;
	return p;
}

static void finish_step(struct step_rec *s, enum status st, int64_t *t, double secs)
{
	s->status = st;
	s->attempts = s->attempts ? s->attempts : 1;
	s->started_ms = *t;
	s->duration_s = round(secs * 1000) / 1000;
	s->ended_ms = *t + (int64_t)llround(secs * 1000);
	s->exit_code = !strcmp(s->kind, "sh") ? (st == ST_SUCCEEDED ? 0 : 1) : -1;
	*t = s->ended_ms + 40;	/* the engine's own few milliseconds between steps */
}

static void finish_phase(struct phase_rec *p, enum status st, int64_t start, int64_t end)
{
	p->status = st;
	p->started_ms = start;
	p->ended_ms = end;
	p->duration_s = (double)(end - start) / 1000.0;
	p->human_wait_s = 0;
	for (size_t j = 0; j < p->nsteps; j++)
		p->human_wait_s += p->steps[j].human_wait_s;
	p->over_budget = isfinite(p->budget_s) && p->duration_s > p->budget_s;
}

static void objectives(struct run_rec *r, int64_t restored, double rp_age_s)
{
	r->restored_ms = restored;
	r->rto_target_s = 900;
	r->rpo_target_s = 3600;
	if (restored != TS_NONE) {
		r->rto_achieved_s = (double)(restored - r->incident_ms) / 1000.0;
		r->rto_met = r->rto_achieved_s <= r->rto_target_s;
		r->recovery_point_ms = r->incident_ms - (int64_t)llround(rp_age_s * 1000);
		r->rpo_achieved_s = rp_age_s;
		r->rpo_met = rp_age_s <= r->rpo_target_s;
		r->rpo_status = xstrdup(r->rpo_met ? "met" : "missed");
	} else {
		r->rto_met = 0;
		r->rpo_status = xstrdup("unmeasured");
		r->rpo_met = 0;
	}
}

static void run_common(struct run_rec *r, const char *id, const char *mode, int64_t start)
{
	run_rec_init(r);
	r->id = xstrdup(id);
	r->runbook = xstrdup("feature-store");
	r->file = xstrdup("/srv/lifeboat/runbooks/feature-store.lua");
	r->sha256 = xstrdup("5d41402abc4b2a76b9719d911017c592ae2f3e7c1d6b5e8f9a0b1c2d3e4f5a6b");
	r->mode = xstrdup(mode);
	r->trigger = xstrdup(!strcmp(mode, "drill") ? "schedule" : "cli");
	r->env = xstrdup("staging");
	r->operator = xstrdup("alice");
	r->uid = 1000;
	r->host = xstrdup("dr-runner-1");
	r->pid = 4242;
	r->params_json = xstrdup("{\"store\":\"/srv/features/online.db\",\"backups\":\"/srv/backups\","
				 "\"port\":\"8080\"}");
	r->started_ms = start;
	r->incident_ms = start;
}

/* One ordinary run; slow (1.0 = usual speed) drifts the durations. */
static void gen_run(struct run_rec *r, const char *id, int64_t start, double slow, int fail)
{
	run_common(r, id, "run", start);
	int64_t t = start + 120, restored = TS_NONE;
	int failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		const struct phase_def *d = &plain[i];
		struct phase_rec *p = add_phase(r, d);
		int64_t pstart = t;
		for (int j = 0; j < d->nsteps; j++) {
			struct step_rec *s = add_step(p, &d->steps[j], d->role);
			if (failed)
				continue;	/* pending: the run ended before it */
			if (fail && !strcmp(d->steps[j].name, "copy snapshot")) {
				s->attempts = 3;
				s->error = xstrdup("exit status 1");
				s->output = xstrdup("cp: error writing '/srv/features/online.db': "
						    "No space left on device\n");
				finish_step(s, ST_FAILED, &t, jitter(40, 0.3));
				failed = 1;
				continue;
			}
			double secs = jitter(d->steps[j].secs * slow, 0.15);
			if (!strcmp(d->steps[j].kind, "manual")) {
				s->human_wait_s = round(jitter(45 * slow, 0.6) * 1000) / 1000;
				secs = s->human_wait_s + 0.01;
				s->confirmed_by = xstrdup("alice");
			}
			finish_step(s, ST_SUCCEEDED, &t, secs);
		}
		if (p->steps[0].status == ST_PENDING) {
			p->status = ST_PENDING;
			continue;
		}
		finish_phase(p, failed ? ST_FAILED : ST_SUCCEEDED, pstart, t - 40);
		if (d->restores && !failed)
			restored = p->ended_ms;
	}
	r->status = failed ? ST_FAILED : ST_SUCCEEDED;
	r->ended_ms = t;
	objectives(r, restored, jitter(1500, 0.5));
	r->human_wait_s = 0;
	for (size_t i = 0; i < r->nphases; i++)
		r->human_wait_s += r->phases[i].human_wait_s;
	r->exit_code = failed ? 1 : r->rto_met ? 0 : 3;
	if (failed)
		r->error = xstrdup("step 'copy snapshot' in phase 'restore' failed: exit status 1");
}

/* The README's example: a drill with most of what a report can show. */
static void gen_showcase(struct run_rec *r, int64_t start)
{
	static const struct phase_def fault = { "break the store", "sre", 0, 0, 1, 0,
		{ { "delete the online store", "sh", 0.4 } }, 1 };
	static const struct phase_def tidy = { "tidy up", "sre", 0, 0, 0, 1,
		{ { "restart ingest", "sh", 1.2 } }, 1 };
	static const double secs[3][4] = { { 4.2, 168.3, 52.6, 3.1 }, { 34.2, 182.5, 21.4, 9.3 },
					   { 2.1, 12.4, 18.2, 0 } };
	run_common(r, "7f3c2a91d0e4", "drill", start);
	int64_t t = start + 150;
	struct phase_rec *p = add_phase(r, &fault);
	struct step_rec *s = add_step(p, &fault.steps[0], fault.role);
	finish_step(s, ST_SUCCEEDED, &t, 0.42);
	finish_phase(p, ST_SUCCEEDED, start + 150, t - 40);
	r->incident_ms = p->ended_ms;
	int64_t restored = TS_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		const struct phase_def *d = &plain[i];
		p = add_phase(r, d);
		int64_t pstart = t;
		for (int j = 0; j < d->nsteps; j++) {
			s = add_step(p, &d->steps[j], d->role);
			double v = secs[i][j];
			if (!strcmp(d->steps[j].name, "copy snapshot"))
				s->attempts = 2;
			if (!strcmp(d->steps[j].name, "model server healthy"))
				s->attempts = 5;
			if (!strcmp(d->steps[j].kind, "manual")) {
				s->human_wait_s = 95.4;
				v = 95.42;
				s->confirmed_by = xstrdup("alice");
			}
			finish_step(s, ST_SUCCEEDED, &t, v);
		}
		finish_phase(p, ST_SUCCEEDED, pstart, t - 40);
		if (d->restores)
			restored = p->ended_ms;
	}
	p = add_phase(r, &tidy);
	int64_t pstart = t;
	s = add_step(p, &tidy.steps[0], tidy.role);
	s->error = xstrdup("exit status 1");
	s->output = xstrdup("ingest: stopping consumers\n"
			    "ingest: connecting to kafka-1.internal:9092\n"
			    "ingest: connecting to kafka-2.internal:9092\n"
			    "error: broker not available (after 3 tries)\n"
			    "hint: the ingest service restarts on its own within 5 minutes\n");
	finish_step(s, ST_FAILED, &t, 1.24);
	finish_phase(p, ST_FAILED, pstart, t - 40);
	r->status = ST_SUCCEEDED;
	r->ended_ms = t;
	objectives(r, restored, 4331.5);	/* the newest snapshot was 1h12m old: RPO missed */
	r->human_wait_s = 95.4;
	r->exit_code = 4;
	run_rec_add_note(r, r->incident_ms + 21000, "alice", "paged data-eng on-call; bob joining");
	run_rec_add_note(r, r->incident_ms + 185000, "bob",
			 "copy snapshot retried once: transient short write on the NFS mount");
	run_rec_add_note(r, r->incident_ms + 420000, "carol",
			 "retrain over budget: feature volume is up 30% since last quarter");
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: history-gen DB N [--showcase]\n");
		return 2;
	}
	long n = strtol(argv[2], NULL, 10);
	int showcase = argc > 3 && !strcmp(argv[3], "--showcase");
	struct store *st;
	char *err = NULL;
	if (store_open(argv[1], 0, &st, &err)) {
		fprintf(stderr, "history-gen: %s\n", err);
		return 1;
	}
	int64_t now = clock_wall_ms() / 1000 * 1000;
	int64_t every = 4 * 3600 * 1000LL;
	int64_t first = now - (n + 1) * every;
	for (long i = 0; i < n; i++) {
		if (i % 1000 == 0)
			store_unit_begin(st);
		char id[16];
		snprintf(id, sizeof(id), "%012lx", 0x100000000000UL + (unsigned long)i * 7919UL);
		struct run_rec r;
		double slow = 1.0 + 0.8 * pow((double)(i + 1) / (double)n, 3);
		gen_run(&r, id, first + i * every + (int64_t)(urand() * 600000), slow,
			urand() < 0.04);
		if (store_run_insert(st, &r)) {
			fprintf(stderr, "history-gen: %s\n", store_error(st));
			return 1;
		}
		run_rec_release(&r);
		if (i % 1000 == 999 || i == n - 1) {
			if (store_unit_end(st)) {
				fprintf(stderr, "history-gen: %s\n", store_error(st));
				return 1;
			}
		}
	}
	if (showcase) {
		struct run_rec r;
		gen_showcase(&r, now - 20 * 60 * 1000);
		if (store_run_insert(st, &r)) {
			fprintf(stderr, "history-gen: %s\n", store_error(st));
			return 1;
		}
		printf("%s\n", r.id);
		run_rec_release(&r);
	}
	store_close(st);
	return 0;
}
