/* Freeing and small queries over a loaded runbook. */
#include "runbook.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const step_kind_names[] = {
	[STEP_SH] = "sh", [STEP_RUN] = "run", [STEP_HTTP] = "http", [STEP_MANUAL] = "manual",
};

const char *step_kind_name(enum step_kind k)
{
	return (unsigned)k < ARRAY_SIZE(step_kind_names) ? step_kind_names[k] : "?";
}

int step_kind_parse(const char *name, enum step_kind *k)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(step_kind_names); i++)
		if (!strcmp(step_kind_names[i], name)) {
			*k = (enum step_kind)i;
			return 0;
		}
	return -1;
}

int step_kind_is(const char *name, enum step_kind k)
{
	enum step_kind v;
	return !step_kind_parse(name, &v) && v == k;
}

static void free_argv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void step_free(struct rb_step *s)
{
	free(s->name);
	free(s->value.str);
	free(s->method);
	free(s->body.str);
	free(s->contains);
	free(s->role);
	free_argv(s->shell);
	free_argv(s->on);
	free(s->remote_workdir);
}

void runbook_free(struct runbook *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < rb->nphases; i++) {
		struct rb_phase *p = &rb->phases[i];
		for (size_t j = 0; j < p->nsteps; j++)
			step_free(&p->steps[j]);
		for (size_t j = 0; j < p->nrollback; j++)
			step_free(&p->rollback[j]);
		free(p->steps);
		free(p->rollback);
		free(p->name);
		free(p->role);
	}
	free(rb->phases);
	for (size_t i = 0; i < rb->nparams; i++) {
		free(rb->params[i].name);
		free(rb->params[i].value);
	}
	free(rb->params);
	free_argv(rb->roles);
	free_argv(rb->shell);
	free(rb->remote_workdir);
	free(rb->path);
	free(rb->abspath);
	free(rb->dir);
	free(rb->name);
	free(rb->description);
	free(rb->workdir);
	free(rb);
}

struct rb_param *runbook_param(struct runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->nparams; i++)
		if (!strcmp(rb->params[i].name, name))
			return &rb->params[i];
	return NULL;
}

double runbook_budget_sum(const struct runbook *rb, int *unbudgeted)
{
	double sum = NAN;
	int missing = 0;
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *p = &rb->phases[i];
		if (!RB_PHASE_RECOVERY(p))
			continue;
		if (isnan(p->budget_s)) {
			missing++;
			continue;
		}
		sum = isnan(sum) ? p->budget_s : sum + p->budget_s;
	}
	if (unbudgeted)
		*unbudgeted = missing;
	return sum;
}

const struct rb_phase *runbook_probes(const struct runbook *rb, enum probe_when when)
{
	for (size_t i = 0; i < rb->nphases; i++)
		if (rb->phases[i].probe == when)
			return &rb->phases[i];
	return NULL;
}
