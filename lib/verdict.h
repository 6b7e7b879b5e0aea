/*
 * The verdict of a finished run and its exit code (SPEC 3): RTO and RPO
 * achieved and met, the run's final status, and which exit code wins when
 * several apply. Pure rules over a run record: no clock, no I/O, no
 * allocation but the strings the record owns, so every case is unit-tested
 * (tests/unit/test_verdict.c).
 */
#ifndef LB_VERDICT_H
#define LB_VERDICT_H
#include "record.h"

/* Exit codes, SPEC 3. */
enum {
	EXIT_OK = 0,
	EXIT_STEP_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_RTO_MISSED = 3,
	EXIT_RPO_MISSED = 4,
	EXIT_REFUSED = 5,
	EXIT_OVER_BUDGET = 6,
	EXIT_UNRECORDED = 7,	/* the history could not be written: disk full, read-only, deleted */
	EXIT_ABORTED = 130,
	EXIT_TERMINATED = 143,
};
/* The first of a and b in SPEC 3's precedence: 2, 5, 7, 143, 130, 1, 3, 4, 6, 0. */
int exit_code_precedence(int a, int b);

/* What the engine knows at the end of a run besides the record. */
struct verdict_facts {
	int aborted;		/* the signal the run was stopped with (SIGINT, SIGTERM, ...), 0: none */
	int failed;		/* a step finally failed */
};

/*
 * Fills in r's achieved RTO (t1 - t0) and RPO (t0 - the recovery point, 0
 * when the data is newer than t0), whether each was met (rto_met -1 without
 * a target; rpo_met -1 without a target, 0 when unmeasured), rpo_status,
 * and the run's total human wait.
 */
void verdict_judge(struct run_rec *r);

/*
 * The run's final status: aborted, failed (a step failed, or with
 * --strict-budgets a non-cleanup phase went over its budget), or succeeded.
 * *over_budget receives the index of the phase that failed a succeeded run
 * through its budget, -1 when none.
 */
enum status verdict_status(const struct run_rec *r, const struct verdict_facts *f, int *over_budget);

/* The exit code of a finished run by SPEC 3's precedence (not counting an unwritable history). */
int verdict_exit_code(const struct run_rec *r, const struct verdict_facts *f);
#endif
