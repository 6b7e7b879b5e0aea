/*
 * The verdict and exit-code rules of SPEC 3 (see verdict.h): pure functions
 * of a run record, called by the engine when a run ends and tested case by
 * case in tests/unit/test_verdict.c.
 */
#include "verdict.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include "clock.h"
#include "util.h"

int exit_code_precedence(int a, int b)
{
	static const int order[] = { 2, 5, 7, 143, 130, 1, 3, 4, 6, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (a == order[i] || b == order[i])
			return order[i];
	return a ? a : b;
}

void verdict_judge(struct run_rec *r)
{
	if (run_mode_of(r) == MODE_PROBE) {
		/* nothing was recovered: the exposure (take_exposure) is this run's RPO verdict */
		free(r->rpo_status);
		r->rpo_status = xstrdup(rpo_status_name(RPO_NONE));
		for (size_t i = 0; i < r->nphases; i++)
			r->human_wait_s += r->phases[i].human_wait_s;
		return;
	}
	if (r->restored_ms != TS_NONE && r->incident_ms != TS_NONE)
		r->rto_achieved_s = (double)(r->restored_ms - r->incident_ms) / 1000.0;
	if (!isnan(r->rto_target_s))
		r->rto_met = !isnan(r->rto_achieved_s) && r->rto_achieved_s <= r->rto_target_s + 1e-9;
	if (r->recovery_point_ms != TS_NONE && r->incident_ms != TS_NONE)
		/* data newer than t0 (writes went on after the incident) means nothing was lost */
		r->rpo_achieved_s = r->recovery_point_ms >= r->incident_ms ? 0.0 :
				    (double)(r->incident_ms - r->recovery_point_ms) / 1000.0;
	enum rpo_status rpo;
	if (isnan(r->rpo_target_s)) {
		rpo = RPO_NONE;
		r->rpo_met = -1;
	} else if (isnan(r->rpo_achieved_s)) {
		rpo = RPO_UNMEASURED;
		r->rpo_met = 0;
	} else {
		r->rpo_met = r->rpo_achieved_s <= r->rpo_target_s + 1e-9;
		rpo = r->rpo_met ? RPO_MET : RPO_MISSED;
	}
	free(r->rpo_status);
	r->rpo_status = xstrdup(rpo_status_name(rpo));
	r->human_wait_s = 0;
	for (size_t i = 0; i < r->nphases; i++)
		r->human_wait_s += r->phases[i].human_wait_s;
}

/* The first non-cleanup phase over its budget when budgets are strict, -1 when none. */
static int strict_over_budget(const struct run_rec *r)
{
	if (!r->strict_budgets)
		return -1;
	for (size_t i = 0; i < r->nphases; i++)
		if (r->phases[i].over_budget && !r->phases[i].cleanup)
			return (int)i;
	return -1;
}

enum status verdict_status(const struct run_rec *r, const struct verdict_facts *f, int *over_budget)
{
	*over_budget = -1;
	if (f->aborted)
		return ST_ABORTED;
	if (f->failed)
		return ST_FAILED;
	*over_budget = strict_over_budget(r);
	return *over_budget >= 0 ? ST_FAILED : ST_SUCCEEDED;
}

int verdict_exit_code(const struct run_rec *r, const struct verdict_facts *f)
{
	int code = EXIT_OK;
	if (f->aborted)
		code = exit_code_precedence(code, f->aborted == SIGINT ? EXIT_ABORTED : EXIT_TERMINATED);
	if (f->failed)
		code = exit_code_precedence(code, EXIT_STEP_FAILED);
	if (r->rto_met == 0)
		code = exit_code_precedence(code, EXIT_RTO_MISSED);
	if (r->rpo_met == 0 || r->exposure == EXPOSURE_MISSED || r->exposure == EXPOSURE_UNMEASURED)
		code = exit_code_precedence(code, EXIT_RPO_MISSED);
	if (strict_over_budget(r) >= 0)
		code = exit_code_precedence(code, EXIT_OVER_BUDGET);
	return code;
}
