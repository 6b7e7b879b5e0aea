/* Small statistics for trends: percentiles, a least-squares line, sparklines. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double percentile(const double *v, size_t n, double pct)
{
	if (!n)
		return NAN;
	double *c = xmalloc(n * sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	double r = c[rank - 1];
	free(c);
	return r;
}

int rto_risk(const double *v, size_t n, double target, struct rto_risk *out)
{
	*out = (struct rto_risk){ 0, NAN, NAN, NAN, NAN, 0 };
	const double *last = n > RISK_WINDOW ? v + (n - RISK_WINDOW) : v;
	size_t m = n > RISK_WINDOW ? RISK_WINDOW : n;
	out->n = m;
	if (!m)
		return 0;
	out->p95 = percentile(last, m, 95);
	if (m >= 3) {
		double sx = 0, sy = 0, sxx = 0, sxy = 0;
		for (size_t i = 0; i < m; i++) {
			sx += (double)i;
			sy += last[i];
			sxx += (double)i * (double)i;
			sxy += (double)i * last[i];
		}
		double den = (double)m * sxx - sx * sx;
		out->slope = ((double)m * sxy - sx * sy) / den;	/* den > 0 for m >= 2 */
		double icpt = (sy - out->slope * sx) / (double)m;
		if (out->slope > 0 && isfinite(target) && target > 0)
			out->runs_left = (target - (icpt + out->slope * (double)(m - 1))) / out->slope;
	}
	if (isnan(target) || target <= 0)
		return 0;
	out->share = out->p95 / target;
	out->at_risk = out->p95 > RISK_P95_SHARE * target ||
		       (isfinite(out->runs_left) && out->runs_left <= RISK_HORIZON);
	return out->at_risk;
}

int rto_at_risk(const double *v, size_t n, double target, char **why)
{
	struct rto_risk r;
	*why = NULL;
	if (!rto_risk(v, n, target, &r))
		return 0;
	if (r.p95 > RISK_P95_SHARE * target)
		*why = xasprintf("p95 of the last %zu achieved RTOs is %.0f%% of the target", r.n,
				 100.0 * r.share);
	else
		*why = xasprintf("the trend reaches the target in about %.0f more runs",
				 ceil(r.runs_left));
	return 1;
}

char *rto_risk_describe(const struct rto_risk *r)
{
	if (!r->n || isnan(r->share))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 128);
	strbuf_addf(&sb, "p95 of the last %zu achieved RTO%s is %.0f%% of the target (at risk above %.0f%%)",
		    r->n, r->n > 1 ? "s" : "", 100.0 * r->share, 100.0 * RISK_P95_SHARE);
	if (isfinite(r->slope)) {
		char d[32];
		if (r->slope > 0 && r->p95 > 0 && r->slope >= 0.005 * r->p95) {
			strbuf_addf(&sb, ", rising %s a run", duration_format(r->slope, d, sizeof(d)));
			if (isfinite(r->runs_left) && r->runs_left > 0 &&
			    r->runs_left <= 10 * RISK_HORIZON)
				strbuf_addf(&sb, ", reaching the target in about %.0f run%s",
					    ceil(r->runs_left), ceil(r->runs_left) > 1 ? "s" : "");
			else if (isfinite(r->runs_left) && r->runs_left <= 0)
				strbuf_addstr(&sb, ", already past the target");
		} else if (r->slope < 0 && r->p95 > 0 && -r->slope >= 0.005 * r->p95) {
			strbuf_addf(&sb, ", falling %s a run", duration_format(-r->slope, d, sizeof(d)));
		} else {
			strbuf_addstr(&sb, ", steady");
		}
	}
	return strbuf_detach(&sb);
}

void sparkline(const double *v, size_t n, char *out, size_t outlen)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < lo)
			lo = v[i];
		if (v[i] > hi)
			hi = v[i];
	}
	size_t len = 0;
	if (outlen)
		out[0] = '\0';
	for (size_t i = 0; i < n && len + 4 <= outlen; i++) {
		int k = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
		memcpy(out + len, bars[k], 3);
		len += 3;
		out[len] = '\0';
	}
}
