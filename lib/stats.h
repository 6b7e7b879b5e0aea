/*
 * Percentiles and the RTO trend warning of SPEC 7, shared by history, plan
 * and the reports, so all three call a runbook at risk for the same reason.
 */
#ifndef LB_STATS_H
#define LB_STATS_H
#include <stddef.h>

#define RISK_WINDOW 10		/* the last achieved RTOs the warning looks at */
#define RISK_P95_SHARE 0.8	/* at risk when their p95 exceeds this share of the target */
#define RISK_HORIZON 5		/* ... or when the trend line reaches the target within these runs */

/* Nearest-rank percentile (0..100) of n values; sorts a copy. NAN when n == 0. */
double percentile(const double *v, size_t n, double pct);

/* How close a runbook is to missing its RTO, from its achieved RTOs. */
struct rto_risk {
	size_t n;		/* RTOs looked at: the last RISK_WINDOW at most */
	double p95;		/* their p95; NAN when n == 0 */
	double share;		/* p95 / target; NAN without a target */
	double slope;		/* least-squares seconds per run; NAN with fewer than 3 */
	double runs_left;	/* runs until the line reaches the target; NAN when it does not rise */
	int at_risk;
};
/*
 * At risk: p95 of the last (up to) 10 achieved RTOs (oldest first) above 80%
 * of the target, or a least-squares line through them reaching the target
 * within the next 5 runs. Fills *out and returns out->at_risk.
 */
int rto_risk(const double *oldest_first, size_t n, double target, struct rto_risk *out);
/* The same; when at risk, *why (owned) says why in a short phrase. */
int rto_at_risk(const double *oldest_first, size_t n, double target, char **why);
/*
 * One line saying how close the RTO is, at risk or not: "p95 of the last 10
 * achieved RTOs is 62% of the target (at risk above 80%), rising 1.2s a run".
 * NULL without a target or values. Caller frees.
 */
char *rto_risk_describe(const struct rto_risk *r);
/* A terminal sparkline of values (oldest first) into out (UTF-8, 3 bytes per value). */
void sparkline(const double *v, size_t n, char *out, size_t outlen);

#endif
