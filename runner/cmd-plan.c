/*
 * `lifeboat plan FILE`: what the runbook will do and whether it can meet its
 * RTO. Without history it adds up the budgets; with history it uses each
 * phase's median and p95 duration from the last succeeded runs of the same
 * runbook (read in one query, not run by run) and the achieved RTO's trend.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "central.h"
#include "clock.h"
#include "config.h"
#include "run-setup.h"
#include "runner.h"
#include "stats.h"

#define PLAN_HISTORY 20

struct phase_hist {
	double *d;
	size_t n;
};

struct collect {
	const struct runbook *rb;
	struct phase_hist *h;
};

/* Durations come newest run first; each goes to the phase of that name today. */
static int collect_one(void *ud, const char *phase, double secs)
{
	struct collect *c = ud;
	for (size_t p = 0; p < c->rb->nphases; p++) {
		if (strcmp(c->rb->phases[p].name, phase))
			continue;
		struct phase_hist *h = &c->h[p];
		h->d = xrealloc(h->d, (h->n + 1) * sizeof(double));
		h->d[h->n++] = secs;
		break;
	}
	return 0;
}

/* One query for all phases of the last PLAN_HISTORY succeeded runs. */
static void collect(struct store *st, const struct runbook *rb, struct phase_hist *h)
{
	struct collect c = { rb, h };
	if (store_phase_durations(st, rb->name, PLAN_HISTORY, collect_one, &c))
		warnf("cannot read the phases' history: %s", store_error(st));
}

/* The achieved RTO's trend and the at-risk warning of SPEC 7. */
static void print_rto_trend(struct store *st, const struct runbook *rb, const char *env)
{
	struct objective_point *pts = NULL;
	size_t n = 0;
	if (store_objectives(st, rb->name, env, TS_NONE, TREND_READ, &pts, &n) ||
	    !(n = trend_window(pts, n, rb->rto_s))) {
		free(pts);
		return;
	}
	double *v = xmalloc(n * sizeof(double));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(pts[i].rto_s))
			v[m++] = pts[i].rto_s;
	struct rto_risk risk;
	rto_risk(v, m, rb->rto_s, &risk);
	char *how = rto_risk_describe(&risk);
	if (how)
		printf("achieved RTO: %s%s%s: %s\n", risk.at_risk ? c_yellow() : c_green(),
		       risk.at_risk ? "at risk" : "not at risk", c_reset(), how);
	free(how);
	free(v);
	free(pts);
}

enum { PLAN_OPT_ENV = OPT_CODE + 64 };

static int cmd_plan(const struct cmd_args *ca)
{
	const char *env_name = opt_value(ca, PLAN_OPT_ENV);
	if (ca->nargs > 1)
		return usage_error("plan", "one runbook at a time");
	if (!ca->nargs)
		return usage_error("plan", "no runbook file given");
	const char *file = ca->args[0];
	int rc;
	const struct config_env *env = env_for("plan", env_name, &rc);
	if (rc)
		return rc;
	struct luahost *host;
	struct runbook *rb;
	if ((rc = load_runbook(file, &host, &rb)))
		return rc;
	if ((rc = check_runbook_roles(rb)) || (rc = check_runbook_hosts(rb, env_name, 0))) {
		runbook_free(rb);
		luahost_free(host);
		return rc;
	}
	/* the environment's objectives are the ones the plan must fit */
	if (env && !isnan(env->rto_s))
		rb->rto_s = env->rto_s;
	if (env && !isnan(env->rpo_s))
		rb->rpo_s = env->rpo_s;
	struct store *st = NULL;
	if (opt_count(ca, OPT_CENTRAL)) {
		/* the team's runs of this runbook, by its name (paths differ between machines) */
		struct central_fetch f = { .what = CENTRAL_FETCH_RUNBOOK, .runbook = rb->name, .limit = TREND_READ };
		if ((rc = open_reader("plan", 1, &f, &st))) {
			runbook_free(rb);
			luahost_free(host);
			return rc;
		}
	} else if (history_exists() && open_store(&st)) {
		st = NULL;
	}
	struct phase_hist *h = xcalloc(rb->nphases, sizeof(*h));
	if (st)
		collect(st, rb, h);
	char a[32], b[32], c[32];
	printf("%s%s%s%s%s\n", c_bold(), rb->name, c_reset(), rb->description ? ": " : "",
	       rb->description ? rb->description : "");
	printf("RTO %s, RPO %s%s%s\n\n", fmt_dur(rb->rto_s, a, sizeof(a)), fmt_dur(rb->rpo_s, b, sizeof(b)),
	       env ? " in environment " : "", env ? env->name : "");
	double sum_p95 = 0;
	int have_hist = 0;
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *p = &rb->phases[i];
		printf("%s%zu. %s%s", c_bold(), i + 1, p->name, c_reset());
		printf("  role %s, budget %s", p->role ? p->role : "-",
		       isnan(p->budget_s) ? "-" : fmt_dur(p->budget_s, a, sizeof(a)));
		if (p->fault)
			printf(", fault (drill only)");
		if (p->cleanup)
			printf(", cleanup (outside the RTO)");
		if (p->probe)
			printf(", probes (%s)", p->probe == PROBE_BEFORE ? "drill only, before the fault" :
			       "after the recovery, outside the RTO");
		if ((int)i == rb->restoring)
			printf(", restores service");
		if (p->parallel > 1)
			printf(", parallel %d", p->parallel);
		putchar('\n');
		if (h[i].n) {
			double p50 = percentile(h[i].d, h[i].n, 50), p95 = percentile(h[i].d, h[i].n, 95);
			printf("   history: median %s, p95 %s over %zu run%s%s\n", fmt_dur(p50, b, sizeof(b)),
			       fmt_dur(p95, c, sizeof(c)), h[i].n, h[i].n == 1 ? "" : "s",
			       !isnan(p->budget_s) && p95 > p->budget_s ? " (p95 over budget)" : "");
			if (RB_PHASE_RECOVERY(p)) {
				sum_p95 += p95;
				have_hist = 1;
			}
		}
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct rb_step *s = &p->steps[j];
			printf("   - %s [%s%s]%s%s\n", s->name, step_kind_name(s->kind),
			       s->service ? ", service" : "", s->role ? " role " : "", s->role ? s->role : "");
		}
		for (size_t j = 0; j < p->nrollback; j++)
			printf("   ↺ %s [rollback, %s]\n", p->rollback[j].name,
			       step_kind_name(p->rollback[j].kind));
	}
	putchar('\n');
	if (have_hist) {
		printf("sum of the recovery phases' p95 durations: %s", fmt_dur(sum_p95, a, sizeof(a)));
		if (!isnan(rb->rto_s))
			printf(" against the RTO of %s: %s%s%s", fmt_dur(rb->rto_s, b, sizeof(b)),
			       sum_p95 <= rb->rto_s ? c_green() : c_red(),
			       sum_p95 <= rb->rto_s ? "fits" : "DOES NOT FIT", c_reset());
		putchar('\n');
		print_rto_trend(st, rb, env_name);
	} else {
		int unbudgeted = 0;
		double sum = runbook_budget_sum(rb, &unbudgeted);
		printf("no history yet; sum of the recovery phases' budgets: %s",
		       fmt_dur(sum, a, sizeof(a)));
		if (unbudgeted)
			printf(" (%d phase%s without a budget)", unbudgeted, unbudgeted > 1 ? "s" : "");
		if (!isnan(rb->rto_s) && !isnan(sum))
			printf(" against the RTO of %s: %s%s%s", fmt_dur(rb->rto_s, b, sizeof(b)),
			       sum <= rb->rto_s ? c_green() : c_red(), sum <= rb->rto_s ? "fits" : "DOES NOT FIT",
			       c_reset());
		putchar('\n');
	}
	for (size_t i = 0; i < rb->nphases; i++)
		free(h[i].d);
	free(h);
	close_reader(st);
	runbook_free(rb);
	luahost_free(host);
	return 0;
}

static const struct opt plan_options[] = {
	{ PLAN_OPT_ENV, "env", "ENV", "judge against the config's environment ENV (its RTO/RPO and params)" },
	{ OPT_CENTRAL, "central", NULL, CENTRAL_OPT_HELP },
	OPT_END
};

const struct cmd cmd_plan_entry = {
	"plan", cmd_plan, "FILE", "show phases, budgets and how past runs fit the RTO",
	plan_options,
	"plan --env prod failover.lua",
	NEED_CONFIG, NULL,
};
