/*
 * The RPO exposure of SPEC 10, table-driven: now - newest_recoverable()
 * against the RPO, with the statuses none (no function, no RPO), met,
 * missed and unmeasured (the function raised), a backup from a clock
 * slightly ahead counted as 0, and the names the history stores.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "probe.h"
#include "record.h"

#define NOW 1796600000000LL	/* unix ms */

static void test_exposure_judge(void **state)
{
	(void)state;
	static const struct {
		int declared;
		int64_t newest_ms;	/* TS_NONE: the function raised */
		double rpo_s;		/* NAN: none */
		double exposure_s;	/* NAN: unmeasured */
		enum exposure_status status;
	} cases[] = {
		{ 1, NOW - 1800 * 1000, 3600, 1800, EXPOSURE_MET },
		{ 1, NOW - 3600 * 1000, 3600, 3600, EXPOSURE_MET },		/* exactly the RPO */
		{ 1, NOW - 3601 * 1000, 3600, 3601, EXPOSURE_MISSED },
		{ 1, NOW - 7200 * 1000, 3600, 7200, EXPOSURE_MISSED },
		{ 1, NOW + 5000, 3600, 0, EXPOSURE_MET },			/* a clock a little ahead */
		{ 1, TS_NONE, 3600, NAN, EXPOSURE_UNMEASURED },
		{ 1, NOW - 7200 * 1000, NAN, 7200, EXPOSURE_NONE },		/* measured, nothing to judge */
		{ 1, TS_NONE, NAN, NAN, EXPOSURE_UNMEASURED },		/* raised: no backup found, RPO or not */
		{ 0, TS_NONE, 3600, NAN, EXPOSURE_NONE },			/* no newest_recoverable */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_rec r;
		run_rec_init(&r);
		r.newest_recoverable_ms = cases[i].newest_ms;
		r.rpo_target_s = cases[i].rpo_s;
		probe_exposure_judge(&r, cases[i].declared, NOW);
		if (isnan(cases[i].exposure_s))
			assert_true(isnan(r.exposure_s));
		else
			assert_true(fabs(r.exposure_s - cases[i].exposure_s) < 1e-9);
		assert_int_equal(r.exposure, cases[i].status);
	}
}

static void test_names(void **state)
{
	(void)state;
	for (int s = EXPOSURE_NONE; s <= EXPOSURE_UNMEASURED; s++)
		assert_int_equal(exposure_status_parse(exposure_status_name((enum exposure_status)s)), s);
	assert_string_equal(exposure_status_name(EXPOSURE_MISSED), "missed");
	assert_int_equal(exposure_status_parse("bogus"), EXPOSURE_NONE);
	assert_int_equal(exposure_status_parse(NULL), EXPOSURE_NONE);
	assert_int_equal(probe_when_parse(probe_when_name(PROBE_BEFORE)), PROBE_BEFORE);
	assert_int_equal(probe_when_parse(probe_when_name(PROBE_AFTER)), PROBE_AFTER);
	assert_null(probe_when_name(PROBE_NONE));
	assert_int_equal(probe_when_parse(NULL), PROBE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposure_judge),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
