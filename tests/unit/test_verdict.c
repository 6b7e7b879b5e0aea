/*
 * The verdict rules of SPEC 3 (lib/verdict.c), table-driven: the exit-code
 * precedence for every pair of codes, the exit code and final status for
 * each combination of what can go wrong in a run, and RTO/RPO judging.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "util.h"
#include "verdict.h"

/* SPEC 3: "When several apply, the first in this order wins". */
static const int order[] = { 2, 5, 7, 143, 130, 1, 3, 4, 6, 0 };

static void test_precedence_every_pair(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		for (size_t j = 0; j < ARRAY_SIZE(order); j++) {
			int want = order[i < j ? i : j];
			assert_int_equal(exit_code_precedence(order[i], order[j]), want);
		}
	/* a code outside the table (none is made today) loses to every code in it, 0 included */
	assert_int_equal(exit_code_precedence(9, 0), 0);
	assert_int_equal(exit_code_precedence(9, 6), 6);
	assert_int_equal(exit_code_precedence(9, 11), 9);
}

/* A run of two phases (the second a cleanup phase) with everything absent. */
static struct run_rec *run_new(void)
{
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	r->nphases = 2;
	r->phases = xcalloc(2, sizeof(*r->phases));
	for (size_t i = 0; i < 2; i++) {
		phase_rec_init(&r->phases[i]);
		r->phases[i].name = xstrdup(i ? "cleanup" : "restore");
	}
	r->phases[1].cleanup = 1;
	return r;
}

enum { OVER_NONE, OVER_MAIN, OVER_CLEANUP };

static void test_exit_code_table(void **state)
{
	(void)state;
	static const struct {
		int aborted, failed, rto_met, rpo_met, strict, over;
		int code;
		enum status status;
	} cases[] = {
		/* one thing at a time */
		{ 0, 0, -1, -1, 0, OVER_NONE, EXIT_OK, ST_SUCCEEDED },
		{ 0, 0, 1, 1, 0, OVER_NONE, EXIT_OK, ST_SUCCEEDED },
		{ 0, 1, -1, -1, 0, OVER_NONE, EXIT_STEP_FAILED, ST_FAILED },
		{ 0, 0, 0, -1, 0, OVER_NONE, EXIT_RTO_MISSED, ST_SUCCEEDED },
		{ 0, 0, -1, 0, 0, OVER_NONE, EXIT_RPO_MISSED, ST_SUCCEEDED },
		{ 0, 0, 1, 1, 1, OVER_MAIN, EXIT_OVER_BUDGET, ST_FAILED },
		{ SIGINT, 0, -1, -1, 0, OVER_NONE, EXIT_ABORTED, ST_ABORTED },
		{ SIGTERM, 0, -1, -1, 0, OVER_NONE, EXIT_TERMINATED, ST_ABORTED },
		{ SIGHUP, 0, -1, -1, 0, OVER_NONE, EXIT_TERMINATED, ST_ABORTED },
		/* over budget counts only with --strict-budgets, and never for a cleanup phase */
		{ 0, 0, 1, 1, 0, OVER_MAIN, EXIT_OK, ST_SUCCEEDED },
		{ 0, 0, 1, 1, 1, OVER_CLEANUP, EXIT_OK, ST_SUCCEEDED },
		/* several at once: the first in 143, 130, 1, 3, 4, 6, 0 wins */
		{ SIGTERM, 1, 0, 0, 1, OVER_MAIN, EXIT_TERMINATED, ST_ABORTED },
		{ SIGINT, 1, 0, 0, 1, OVER_MAIN, EXIT_ABORTED, ST_ABORTED },
		{ SIGINT, 1, -1, -1, 0, OVER_NONE, EXIT_ABORTED, ST_ABORTED },
		{ 0, 1, 0, 0, 1, OVER_MAIN, EXIT_STEP_FAILED, ST_FAILED },
		{ 0, 1, 0, -1, 0, OVER_NONE, EXIT_STEP_FAILED, ST_FAILED },
		{ 0, 0, 0, 0, 1, OVER_MAIN, EXIT_RTO_MISSED, ST_FAILED },
		{ 0, 0, 0, 0, 0, OVER_NONE, EXIT_RTO_MISSED, ST_SUCCEEDED },
		{ 0, 0, 0, 1, 1, OVER_MAIN, EXIT_RTO_MISSED, ST_FAILED },
		{ 0, 0, 1, 0, 1, OVER_MAIN, EXIT_RPO_MISSED, ST_FAILED },
		{ 0, 0, -1, 0, 1, OVER_MAIN, EXIT_RPO_MISSED, ST_FAILED },
		{ 0, 1, 1, 1, 1, OVER_MAIN, EXIT_STEP_FAILED, ST_FAILED },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_rec *r = run_new();
		r->rto_met = cases[i].rto_met;
		r->rpo_met = cases[i].rpo_met;
		r->strict_budgets = cases[i].strict;
		if (cases[i].over == OVER_MAIN)
			r->phases[0].over_budget = 1;
		if (cases[i].over == OVER_CLEANUP)
			r->phases[1].over_budget = 1;
		struct verdict_facts f = { .aborted = cases[i].aborted, .failed = cases[i].failed };
		int over;
		if (verdict_exit_code(r, &f) != cases[i].code)
			fail_msg("case %zu: exit %d, want %d", i, verdict_exit_code(r, &f), cases[i].code);
		if (verdict_status(r, &f, &over) != cases[i].status)
			fail_msg("case %zu: status %s, want %s", i, status_name(verdict_status(r, &f, &over)),
				 status_name(cases[i].status));
		/* only a run that would have succeeded is failed by its budget, and then says which phase */
		int want_over = !cases[i].aborted && !cases[i].failed && cases[i].strict &&
				cases[i].over == OVER_MAIN ? 0 : -1;
		assert_int_equal(over, want_over);
		run_rec_free(r);
	}
}

static void test_judge(void **state)
{
	(void)state;
	const int64_t t0 = 1795312380000LL;
	static const struct {
		double rto_target, rpo_target;
		int64_t restored, recovery_point;	/* ms after t0; INT64_MIN: absent */
		double rto_achieved, rpo_achieved;	/* NAN: absent */
		int rto_met, rpo_met;
		const char *rpo_status;
	} cases[] = {
		/* no targets: nothing met or missed; what was measured is still measured */
		{ NAN, NAN, 30000, TS_NONE, 30, NAN, -1, -1, "none" },
		{ NAN, NAN, TS_NONE, -5000, NAN, 5, -1, -1, "none" },
		/* RTO met, on the dot (within 1e-9), missed, and missed when service was never restored */
		{ 60, NAN, 30000, TS_NONE, 30, NAN, 1, -1, "none" },
		{ 30, NAN, 30000, TS_NONE, 30, NAN, 1, -1, "none" },
		{ 29.999, NAN, 30000, TS_NONE, 30, NAN, 0, -1, "none" },
		{ 60, NAN, TS_NONE, TS_NONE, NAN, NAN, 0, -1, "none" },
		/* RPO: met, missed, unmeasured (no recovery point), and data newer than t0 */
		{ NAN, 600, TS_NONE, -300000, NAN, 300, -1, 1, "met" },
		{ NAN, 600, TS_NONE, -600000, NAN, 600, -1, 1, "met" },
		{ NAN, 60, TS_NONE, -300000, NAN, 300, -1, 0, "missed" },
		{ NAN, 60, TS_NONE, TS_NONE, NAN, NAN, -1, 0, "unmeasured" },
		{ NAN, 60, TS_NONE, 5000, NAN, 0, -1, 1, "met" },
		/* both */
		{ 10, 10, 30000, -30000, 30, 30, 0, 0, "missed" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_rec *r = run_new();
		r->incident_ms = t0;
		r->rto_target_s = cases[i].rto_target;
		r->rpo_target_s = cases[i].rpo_target;
		if (cases[i].restored != TS_NONE)
			r->restored_ms = t0 + cases[i].restored;
		if (cases[i].recovery_point != TS_NONE)
			r->recovery_point_ms = t0 + cases[i].recovery_point;
		r->phases[0].human_wait_s = 1.5;
		r->phases[1].human_wait_s = 2;
		verdict_judge(r);
		if (isnan(cases[i].rto_achieved))
			assert_true(isnan(r->rto_achieved_s));
		else
			assert_true(fabs(r->rto_achieved_s - cases[i].rto_achieved) < 1e-9);
		if (isnan(cases[i].rpo_achieved))
			assert_true(isnan(r->rpo_achieved_s));
		else
			assert_true(fabs(r->rpo_achieved_s - cases[i].rpo_achieved) < 1e-9);
		if (r->rto_met != cases[i].rto_met || r->rpo_met != cases[i].rpo_met)
			fail_msg("case %zu: rto_met %d rpo_met %d, want %d %d", i, r->rto_met, r->rpo_met,
				 cases[i].rto_met, cases[i].rpo_met);
		assert_string_equal(r->rpo_status, cases[i].rpo_status);
		assert_true(fabs(r->human_wait_s - 3.5) < 1e-9);
		run_rec_free(r);
	}
}

/* Without t0, nothing is achieved: the RTO of a run with a target is missed, its RPO unmeasured. */
static void test_judge_without_t0(void **state)
{
	(void)state;
	struct run_rec *r = run_new();
	r->rto_target_s = 60;
	r->rpo_target_s = 60;
	r->restored_ms = 1795312380000LL;
	r->recovery_point_ms = 1795312380000LL;
	verdict_judge(r);
	assert_true(isnan(r->rto_achieved_s));
	assert_true(isnan(r->rpo_achieved_s));
	assert_int_equal(r->rto_met, 0);
	assert_int_equal(r->rpo_met, 0);
	assert_string_equal(r->rpo_status, "unmeasured");
	struct verdict_facts f = { 0 };
	assert_int_equal(verdict_exit_code(r, &f), EXIT_RTO_MISSED);
	run_rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence_every_pair),
		cmocka_unit_test(test_exit_code_table),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_judge_without_t0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
