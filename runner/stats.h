/* Percentiles and the RTO trend warning of SPEC 7, shared by history and plan. */
#ifndef LB_STATS_H
#define LB_STATS_H
#include <stddef.h>

/* Nearest-rank percentile (0..100) of n values; sorts a copy. NAN when n == 0. */
double percentile(const double *v, size_t n, double pct);
/*
 * At risk: p95 of the last (up to) 10 achieved RTOs (oldest first) above 80%
 * of the target, or a least-squares line through them reaching the target
 * within the next 5 runs. Returns 1 and a reason in why (owned) when at risk.
 */
int rto_at_risk(const double *oldest_first, size_t n, double target, char **why);
/* A terminal sparkline of values (oldest first) into out (UTF-8, 3 bytes per value). */
void sparkline(const double *v, size_t n, char *out, size_t outlen);

#endif
