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

int rto_at_risk(const double *v, size_t n, double target, char **why)
{
	*why = NULL;
	if (!n || isnan(target) || target <= 0)
		return 0;
	const double *last = n > 10 ? v + (n - 10) : v;
	size_t m = n > 10 ? 10 : n;
	double p95 = percentile(last, m, 95);
	if (p95 > 0.8 * target) {
		*why = xasprintf("p95 of the last %zu achieved RTOs is %.0f%% of the target", m,
				 100.0 * p95 / target);
		return 1;
	}
	if (m >= 3) {
		double sx = 0, sy = 0, sxx = 0, sxy = 0;
		for (size_t i = 0; i < m; i++) {
			sx += (double)i;
			sy += last[i];
			sxx += (double)i * (double)i;
			sxy += (double)i * last[i];
		}
		double den = (double)m * sxx - sx * sx;
		if (den != 0) {
			double slope = ((double)m * sxy - sx * sy) / den;
			double icpt = (sy - slope * sx) / (double)m;
			if (slope > 0) {
				double at5 = icpt + slope * (double)(m - 1 + 5);
				if (at5 >= target) {
					double runs = (target - (icpt + slope * (double)(m - 1))) / slope;
					*why = xasprintf("the trend reaches the target in about %.0f more runs",
							 ceil(runs));
					return 1;
				}
			}
		}
	}
	return 0;
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
	out[0] = '\0';
	for (size_t i = 0; i < n && len + 4 < outlen; i++) {
		int k = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
		memcpy(out + len, bars[k], 3);
		len += 3;
		out[len] = '\0';
	}
}
