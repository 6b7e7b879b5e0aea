/*
 * run_rec_dup: a copy of a record with every field set is equal to it and
 * shares no memory with it (each is freed on its own; under ASan a shared
 * pointer is a double free), and RUN_DUP_NO_OUTPUT leaves out just the
 * outputs and the state.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "util.h"

static void fill_host(struct host_rec *h, int k)
{
	h->host = xasprintf("db%d.example", k);
	h->status = xstrdup(k ? "failed" : "succeeded");
	h->exit_code = k;
	h->duration_s = 1.5 + k;
	h->attempts = 2 + k;
	h->error = xasprintf("host error %d", k);
	h->output = xasprintf("db%d| out\n", k);
}

static void fill_step(struct step_rec *s, int i, int j)
{
	s->name = xasprintf("step %d.%d", i, j);
	s->kind = xstrdup(j ? "manual" : "sh");
	s->role = xasprintf("role%d", j);
	s->section = j == 2 ? SEC_ROLLBACK : SEC_MAIN;
	s->idempotent = 0;
	s->status = ST_FAILED;
	s->attempts = 3;
	s->started_ms = 1000 + j;
	s->ended_ms = 2000 + j;
	s->duration_s = 1.25;
	s->human_wait_s = 0.5;
	s->exit_code = 7;
	s->confirmed_by = xstrdup("alice");
	s->auto_confirmed = 1;
	s->error = xasprintf("error %d.%d", i, j);
	s->output = xasprintf("output %d.%d\n", i, j);
	s->output_cut = 42;
	s->state_json = xstrdup("{\"k\":1}");
	s->nhosts = 2;
	s->hosts = xcalloc(2, sizeof(*s->hosts));
	fill_host(&s->hosts[0], 0);
	fill_host(&s->hosts[1], 1);
}

static struct run_rec *full_record(void)
{
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	r->id = xstrdup("3f9c2a00-0000-4000-8000-000000000001");
	r->runbook = xstrdup("failover");
	r->file = xstrdup("/srv/runbooks/failover.lua");
	r->sha256 = xstrdup("ab12");
	r->mode = xstrdup("drill");
	r->trigger = xstrdup("console");
	r->env = xstrdup("staging");
	r->operator = xstrdup("bob");
	r->uid = 1001;
	r->host = xstrdup("ops1");
	r->pid = 4242;
	r->params_json = xstrdup("{\"region\":\"eu\"}");
	r->status = ST_FAILED;
	r->started_ms = 10;
	r->ended_ms = 20;
	r->incident_ms = 11;
	r->restored_ms = 19;
	r->rto_target_s = 60;
	r->rto_achieved_s = 8;
	r->rto_met = 1;
	r->rpo_target_s = 30;
	r->rpo_achieved_s = 40;
	r->rpo_met = 0;
	r->rpo_status = xstrdup("missed");
	r->recovery_point_ms = 5;
	r->human_wait_s = 2.5;
	r->exit_code = 1;
	r->strict_budgets = 1;
	r->error = xstrdup("step 'x' failed");
	r->signed_by = xstrdup("0123456789ABCDEF");
	r->unrecorded = xstrdup("disk full");
	r->nphases = 2;
	r->phases = xcalloc(2, sizeof(*r->phases));
	for (int i = 0; i < 2; i++) {
		struct phase_rec *p = &r->phases[i];
		phase_rec_init(p);
		p->name = xasprintf("phase %d", i);
		p->role = xstrdup("dba");
		p->budget_s = 90;
		p->fault = i == 0;
		p->cleanup = i == 1;
		p->restores_service = 1;
		p->parallel = 3;
		p->status = ST_SUCCEEDED;
		p->started_ms = 100 + i;
		p->ended_ms = 200 + i;
		p->duration_s = 100;
		p->human_wait_s = 1;
		p->over_budget = 1;
		p->nsteps = 3;
		p->steps = xcalloc(3, sizeof(*p->steps));
		for (int j = 0; j < 3; j++)
			fill_step(&p->steps[j], i, j);
	}
	run_rec_add_note(r, 15, "carol", "primary was already down");
	run_rec_add_note(r, 25, "dave", "finding: the alert came late");
	return r;
}

/* NAN (absent) equals NAN here */
static void assert_same_double(double a, double b)
{
	assert_true((isnan(a) && isnan(b)) || a == b);
}

static void assert_str_copy(const char *a, const char *b)
{
	if (!a) {
		assert_null(b);
		return;
	}
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_ptr_not_equal(a, b);
}

static void assert_host_equal(const struct host_rec *a, const struct host_rec *b, int outputs)
{
	assert_str_copy(a->host, b->host);
	assert_str_copy(a->status, b->status);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_same_double(a->duration_s, b->duration_s);
	assert_int_equal(a->attempts, b->attempts);
	assert_str_copy(a->error, b->error);
	if (outputs)
		assert_str_copy(a->output, b->output);
	else
		assert_null(b->output);
}

static void assert_step_equal(const struct step_rec *a, const struct step_rec *b, int outputs)
{
	assert_str_copy(a->name, b->name);
	assert_str_copy(a->kind, b->kind);
	assert_str_copy(a->role, b->role);
	assert_int_equal(a->section, b->section);
	assert_int_equal(a->idempotent, b->idempotent);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->attempts, b->attempts);
	assert_int_equal(a->started_ms, b->started_ms);
	assert_int_equal(a->ended_ms, b->ended_ms);
	assert_same_double(a->duration_s, b->duration_s);
	assert_same_double(a->human_wait_s, b->human_wait_s);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_str_copy(a->confirmed_by, b->confirmed_by);
	assert_int_equal(a->auto_confirmed, b->auto_confirmed);
	assert_str_copy(a->error, b->error);
	if (outputs) {
		assert_str_copy(a->output, b->output);
		assert_int_equal(a->output_cut, b->output_cut);
		assert_str_copy(a->state_json, b->state_json);
	} else {
		assert_null(b->output);
		assert_int_equal(b->output_cut, 0);
		assert_null(b->state_json);
	}
	assert_int_equal(a->nhosts, b->nhosts);
	if (a->nhosts)
		assert_ptr_not_equal(a->hosts, b->hosts);
	for (size_t k = 0; k < a->nhosts; k++)
		assert_host_equal(&a->hosts[k], &b->hosts[k], outputs);
}

static void assert_run_equal(const struct run_rec *a, const struct run_rec *b, int outputs)
{
	assert_str_copy(a->id, b->id);
	assert_str_copy(a->runbook, b->runbook);
	assert_str_copy(a->file, b->file);
	assert_str_copy(a->sha256, b->sha256);
	assert_str_copy(a->mode, b->mode);
	assert_str_copy(a->trigger, b->trigger);
	assert_str_copy(a->env, b->env);
	assert_str_copy(a->operator, b->operator);
	assert_int_equal(a->uid, b->uid);
	assert_str_copy(a->host, b->host);
	assert_int_equal(a->pid, b->pid);
	assert_str_copy(a->params_json, b->params_json);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->started_ms, b->started_ms);
	assert_int_equal(a->ended_ms, b->ended_ms);
	assert_int_equal(a->incident_ms, b->incident_ms);
	assert_int_equal(a->restored_ms, b->restored_ms);
	assert_same_double(a->rto_target_s, b->rto_target_s);
	assert_same_double(a->rto_achieved_s, b->rto_achieved_s);
	assert_int_equal(a->rto_met, b->rto_met);
	assert_same_double(a->rpo_target_s, b->rpo_target_s);
	assert_same_double(a->rpo_achieved_s, b->rpo_achieved_s);
	assert_int_equal(a->rpo_met, b->rpo_met);
	assert_str_copy(a->rpo_status, b->rpo_status);
	assert_int_equal(a->recovery_point_ms, b->recovery_point_ms);
	assert_same_double(a->human_wait_s, b->human_wait_s);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->strict_budgets, b->strict_budgets);
	assert_str_copy(a->error, b->error);
	assert_str_copy(a->signed_by, b->signed_by);
	assert_str_copy(a->unrecorded, b->unrecorded);
	assert_int_equal(a->nphases, b->nphases);
	if (a->nphases)
		assert_ptr_not_equal(a->phases, b->phases);
	for (size_t i = 0; i < a->nphases; i++) {
		const struct phase_rec *p = &a->phases[i], *q = &b->phases[i];
		assert_str_copy(p->name, q->name);
		assert_str_copy(p->role, q->role);
		assert_same_double(p->budget_s, q->budget_s);
		assert_int_equal(p->fault, q->fault);
		assert_int_equal(p->cleanup, q->cleanup);
		assert_int_equal(p->restores_service, q->restores_service);
		assert_int_equal(p->parallel, q->parallel);
		assert_int_equal(p->status, q->status);
		assert_int_equal(p->started_ms, q->started_ms);
		assert_int_equal(p->ended_ms, q->ended_ms);
		assert_same_double(p->duration_s, q->duration_s);
		assert_same_double(p->human_wait_s, q->human_wait_s);
		assert_int_equal(p->over_budget, q->over_budget);
		assert_int_equal(p->nsteps, q->nsteps);
		if (p->nsteps)
			assert_ptr_not_equal(p->steps, q->steps);
		for (size_t j = 0; j < p->nsteps; j++)
			assert_step_equal(&p->steps[j], &q->steps[j], outputs);
	}
	assert_int_equal(a->nnotes, b->nnotes);
	for (size_t i = 0; i < a->nnotes; i++) {
		assert_int_equal(a->notes[i].at_ms, b->notes[i].at_ms);
		assert_str_copy(a->notes[i].operator, b->notes[i].operator);
		assert_str_copy(a->notes[i].text, b->notes[i].text);
	}
}

static void test_dup_full(void **state)
{
	(void)state;
	struct run_rec *r = full_record();
	struct run_rec *d = run_rec_dup(r, 0);
	assert_run_equal(r, d, 1);
	/* independent: changing and then freeing the original leaves the copy as it was */
	struct run_rec *keep = full_record();
	r->id[0] = 'X';
	r->phases[0].steps[0].name[0] = 'X';
	r->phases[0].steps[0].hosts[0].host[0] = 'X';
	r->notes[0].text[0] = 'X';
	run_rec_add_note(r, 30, "eve", "later");
	run_rec_free(r);
	assert_run_equal(keep, d, 1);
	run_rec_free(keep);
	run_rec_free(d);
}

static void test_dup_no_output(void **state)
{
	(void)state;
	struct run_rec *r = full_record();
	struct run_rec *d = run_rec_dup(r, RUN_DUP_NO_OUTPUT);
	assert_run_equal(r, d, 0);
	run_rec_free(r);
	run_rec_free(d);
}

static void test_dup_empty(void **state)
{
	(void)state;
	struct run_rec r;
	run_rec_init(&r);
	struct run_rec *d = run_rec_dup(&r, 0);
	assert_run_equal(&r, d, 1);
	assert_true(isnan(d->rto_target_s));
	assert_int_equal(d->exit_code, -1);
	run_rec_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dup_full),
		cmocka_unit_test(test_dup_no_output),
		cmocka_unit_test(test_dup_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
