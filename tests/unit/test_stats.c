/*
 * The trend arithmetic of SPEC 7, table-driven: nearest-rank percentiles,
 * the two at-risk rules (p95 of the last 10 over 80% of the target; the
 * least-squares line reaching it within 5 runs) and how close is worded.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"
#include "util.h"

static void test_percentile(void **state)
{
	(void)state;
	static const double v[] = { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };
	assert_true(isnan(percentile(v, 0, 50)));
	assert_true(percentile(v, 10, 50) == 5);
	assert_true(percentile(v, 10, 95) == 10);
	assert_true(percentile(v, 10, 0) == 1);
	assert_true(percentile(v, 1, 95) == 5);
	assert_true(v[0] == 5);	/* the input is left alone */
}

static void test_rto_risk(void **state)
{
	(void)state;
	static const struct {
		double v[12];
		size_t n;
		double target;
		int at_risk;
		const char *why;	/* a substring of rto_at_risk's reason, or NULL */
	} cases[] = {
		{ { 0 }, 0, 100, 0, NULL },
		{ { 50, 50, 50 }, 3, NAN, 0, NULL },			/* no target */
		{ { 50, 52, 49, 51 }, 4, 100, 0, NULL },		/* steady at half */
		{ { 50, 81 }, 2, 100, 1, "is 81% of the target" },	/* p95 over 80% */
		{ { 80, 80, 80 }, 3, 100, 0, NULL },			/* exactly 80%: not over */
		{ { 40, 50, 60, 70 }, 4, 100, 1, "reaches the target in about" },	/* +10 a run */
		{ { 10, 20, 30 }, 3, 100, 0, NULL },			/* line hits 100 in 7 runs */
		/* only the last 10 count: an old slow run has dropped out */
		{ { 99, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50 }, 11, 100, 0, NULL },
		{ { 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 99 }, 11, 100, 1, "last 10" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *why = NULL;
		int got = rto_at_risk(cases[i].v, cases[i].n, cases[i].target, &why);
		if (got != cases[i].at_risk)
			fail_msg("case %zu: at risk %d, want %d (%s)", i, got, cases[i].at_risk,
				 why ? why : "");
		if (cases[i].why && (!why || !strstr(why, cases[i].why)))
			fail_msg("case %zu: reason '%s' lacks '%s'", i, why ? why : "(none)",
				 cases[i].why);
		if (!got)
			assert_null(why);
		free(why);
		struct rto_risk r;
		assert_int_equal(rto_risk(cases[i].v, cases[i].n, cases[i].target, &r), got);
		assert_int_equal(r.n, cases[i].n > 10 ? 10 : cases[i].n);
	}
}

static void test_describe(void **state)
{
	(void)state;
	struct rto_risk r;
	static const double rising[] = { 40, 50, 60, 70 };
	rto_risk(rising, 4, 100, &r);
	char *d = rto_risk_describe(&r);
	assert_string_equal(d, "p95 of the last 4 achieved RTOs is 70% of the target (at risk above "
			       "80%), rising 10s a run, reaching the target in about 3 runs");
	free(d);
	static const double flat[] = { 30, 30, 30 };
	rto_risk(flat, 3, 100, &r);
	d = rto_risk_describe(&r);
	assert_non_null(strstr(d, "is 30% of the target"));
	assert_non_null(strstr(d, ", steady"));
	free(d);
	static const double falling[] = { 60, 50, 40 };
	rto_risk(falling, 3, 100, &r);
	d = rto_risk_describe(&r);
	assert_non_null(strstr(d, ", falling 10s a run"));
	free(d);
	rto_risk(flat, 3, NAN, &r);
	assert_null(rto_risk_describe(&r));	/* no target: nothing to be close to */
}

static void test_sparkline(void **state)
{
	(void)state;
	static const double v[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	char out[64];
	sparkline(v, 8, out, sizeof(out));
	assert_string_equal(out, "▁▂▃▄▅▆▇█");
	sparkline(v, 8, out, 10);	/* room for three bars and the NUL */
	assert_string_equal(out, "▁▂▃");
	sparkline(v, 2, out, 4);
	assert_string_equal(out, "▁");
	sparkline(v, 0, out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_rto_risk),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_sparkline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
