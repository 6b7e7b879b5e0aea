/* Life cycle of the run record shared by the engine, the store and reports. */
#include "record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

/* The value of name in names[0..n) (NULL entries never match): 0, or -1 when none. */
static int name_index(const char *const *names, int n, const char *name, int *out)
{
	for (int i = 0; name && i < n; i++)
		if (names[i] && !strcmp(names[i], name)) {
			*out = i;
			return 0;
		}
	return -1;
}

static const char *const status_names[ST__COUNT] = {
	[ST_PENDING] = "pending",	[ST_RUNNING] = "running",
	[ST_SUCCEEDED] = "succeeded",	[ST_FAILED] = "failed",
	[ST_SKIPPED] = "skipped",	[ST_ROLLED_BACK] = "rolled_back",
	[ST_INTERRUPTED] = "interrupted", [ST_TIMED_OUT] = "timed_out",
	[ST_DECLINED] = "declined",	[ST_ABORTED] = "aborted",
	[ST_REFUSED] = "refused",
};

const char *status_name(enum status st)
{
	return (unsigned)st < ST__COUNT ? status_names[st] : "unknown";
}

int status_parse(const char *name, enum status *st)
{
	int i;
	if (name_index(status_names, ST__COUNT, name, &i))
		return -1;
	*st = (enum status)i;
	return 0;
}

static const char *const run_mode_names[MODE__COUNT] = {
	[MODE_RUN] = "run", [MODE_DRILL] = "drill", [MODE_PROBE] = "probe",
};
static const char *const run_trigger_names[TRIGGER__COUNT] = {
	[TRIGGER_CLI] = "cli", [TRIGGER_CONSOLE] = "console", [TRIGGER_SCHEDULE] = "schedule",
	[TRIGGER_RESUME] = "resume",
};
static const char *const rpo_status_names[RPO__COUNT] = {
	[RPO_UNKNOWN] = NULL, [RPO_NONE] = "none", [RPO_UNMEASURED] = "unmeasured", [RPO_MET] = "met",
	[RPO_MISSED] = "missed",
};

const char *run_mode_name(enum run_mode m)
{
	return (unsigned)m < MODE__COUNT ? run_mode_names[m] : NULL;
}

int run_mode_parse(const char *name, enum run_mode *m)
{
	int i;
	if (name_index(run_mode_names, MODE__COUNT, name, &i))
		return -1;
	*m = (enum run_mode)i;
	return 0;
}

enum run_mode run_mode_of(const struct run_rec *r)
{
	enum run_mode m = MODE_RUN;
	run_mode_parse(r->mode, &m);
	return m;
}

int run_is_drill(const struct run_rec *r)
{
	return run_mode_of(r) == MODE_DRILL;
}

const char *run_trigger_name(enum run_trigger t)
{
	return (unsigned)t < TRIGGER__COUNT ? run_trigger_names[t] : NULL;
}

int run_trigger_parse(const char *name, enum run_trigger *t)
{
	int i;
	if (name_index(run_trigger_names, TRIGGER__COUNT, name, &i))
		return -1;
	*t = (enum run_trigger)i;
	return 0;
}

const char *rpo_status_name(enum rpo_status s)
{
	return (unsigned)s < RPO__COUNT ? rpo_status_names[s] : NULL;
}

enum rpo_status rpo_status_of(const char *name)
{
	int i;
	return name_index(rpo_status_names, RPO__COUNT, name, &i) ? RPO_UNKNOWN : (enum rpo_status)i;
}

const char *probe_when_name(enum probe_when w)
{
	return w == PROBE_BEFORE ? "before" : w == PROBE_AFTER ? "after" : NULL;
}

enum probe_when probe_when_parse(const char *name)
{
	if (name && !strcmp(name, "before"))
		return PROBE_BEFORE;
	if (name && !strcmp(name, "after"))
		return PROBE_AFTER;
	return PROBE_NONE;
}

int run_has_probes(const struct run_rec *r)
{
	for (size_t i = 0; i < r->nphases; i++)
		if (r->phases[i].probe != PROBE_NONE)
			return 1;
	return 0;
}

static const char *const exposure_names[] = {
	[EXPOSURE_NONE] = "none", [EXPOSURE_MET] = "met",
	[EXPOSURE_MISSED] = "missed", [EXPOSURE_UNMEASURED] = "unmeasured",
};

const char *exposure_status_name(enum exposure_status s)
{
	return (unsigned)s <= EXPOSURE_UNMEASURED ? exposure_names[s] : "none";
}

enum exposure_status exposure_status_parse(const char *name)
{
	for (int i = 0; name && i <= EXPOSURE_UNMEASURED; i++)
		if (!strcmp(exposure_names[i], name))
			return (enum exposure_status)i;
	return EXPOSURE_NONE;
}

static const char *const step_wait_names[WAIT__COUNT] = {
	[WAIT_NONE] = NULL, [WAIT_PERSON] = "person", [WAIT_DECISION] = "decision",
};

const char *step_wait_name(enum step_wait w)
{
	return (unsigned)w < WAIT__COUNT ? step_wait_names[w] : NULL;
}

enum step_wait step_wait_parse(const char *name)
{
	int i;
	return name_index(step_wait_names, WAIT__COUNT, name, &i) ? WAIT_NONE : (enum step_wait)i;
}

void step_rec_init(struct step_rec *s)
{
	memset(s, 0, sizeof(*s));
	s->idempotent = 1;
	s->started_ms = s->ended_ms = TS_NONE;
	s->duration_s = NAN;
	s->human_wait_s = 0;
	s->exit_code = -1;
}

void phase_rec_init(struct phase_rec *p)
{
	memset(p, 0, sizeof(*p));
	p->budget_s = NAN;
	p->parallel = 1;
	p->started_ms = p->ended_ms = TS_NONE;
	p->duration_s = NAN;
	p->human_wait_s = 0;
}

void run_rec_init(struct run_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->uid = -1;
	r->started_ms = r->ended_ms = r->incident_ms = r->restored_ms = TS_NONE;
	r->recovery_point_ms = TS_NONE;
	r->newest_recoverable_ms = TS_NONE;
	r->exposure_s = NAN;
	r->rto_target_s = r->rto_achieved_s = NAN;
	r->rpo_target_s = r->rpo_achieved_s = NAN;
	r->rto_met = r->rpo_met = -1;
	r->exit_code = -1;
}

static void step_rec_release(struct step_rec *s)
{
	free(s->name);
	free(s->kind);
	free(s->role);
	free(s->confirmed_by);
	free(s->error);
	free(s->output);
	free(s->state_json);
	for (size_t i = 0; i < s->nhosts; i++)
		host_rec_release(&s->hosts[i]);
	free(s->hosts);
}

void host_rec_release(struct host_rec *h)
{
	free(h->host);
	free(h->status);
	free(h->error);
	free(h->output);
	h->host = h->status = h->error = h->output = NULL;
}

void attempt_rec_release(struct attempt_rec *a)
{
	free(a->error);
	free(a->output);
	a->error = a->output = NULL;
}

void run_rec_release(struct run_rec *r)
{
	for (size_t i = 0; i < r->nphases; i++) {
		struct phase_rec *p = &r->phases[i];
		for (size_t j = 0; j < p->nsteps; j++)
			step_rec_release(&p->steps[j]);
		free(p->steps);
		free(p->name);
		free(p->role);
	}
	free(r->phases);
	for (size_t i = 0; i < r->nnotes; i++) {
		free(r->notes[i].operator);
		free(r->notes[i].text);
	}
	free(r->notes);
	free(r->id);
	free(r->runbook);
	free(r->file);
	free(r->sha256);
	free(r->mode);
	free(r->trigger);
	free(r->env);
	free(r->operator);
	free(r->host);
	free(r->params_json);
	free(r->rpo_status);
	free(r->error);
	free(r->unrecorded);
	free(r->signed_by);
	run_rec_init(r);
}

void run_rec_free(struct run_rec *r)
{
	if (!r)
		return;
	run_rec_release(r);
	free(r);
}

static void step_rec_copy(struct step_rec *d, const struct step_rec *s, int outputs)
{
	*d = *s;
	d->name = xstrdup(s->name);
	d->kind = xstrdup(s->kind);
	d->role = xstrdup(s->role);
	d->confirmed_by = xstrdup(s->confirmed_by);
	d->error = xstrdup(s->error);
	d->output = outputs ? xstrdup(s->output) : NULL;
	d->output_cut = outputs ? s->output_cut : 0;
	d->state_json = outputs ? xstrdup(s->state_json) : NULL;
	d->hosts = s->nhosts ? xcalloc(s->nhosts, sizeof(*d->hosts)) : NULL;
	for (size_t k = 0; k < s->nhosts; k++) {
		struct host_rec *h = &d->hosts[k];
		*h = s->hosts[k];
		h->host = xstrdup(s->hosts[k].host);
		h->status = xstrdup(s->hosts[k].status);
		h->error = xstrdup(s->hosts[k].error);
		h->output = outputs ? xstrdup(s->hosts[k].output) : NULL;
	}
}

struct run_rec *run_rec_dup(const struct run_rec *s, unsigned flags)
{
	int outputs = !(flags & RUN_DUP_NO_OUTPUT);
	struct run_rec *d = xmalloc(sizeof(*d));
	*d = *s;	/* the numbers; every pointer is replaced below */
	d->id = xstrdup(s->id);
	d->runbook = xstrdup(s->runbook);
	d->file = xstrdup(s->file);
	d->sha256 = xstrdup(s->sha256);
	d->mode = xstrdup(s->mode);
	d->trigger = xstrdup(s->trigger);
	d->env = xstrdup(s->env);
	d->operator = xstrdup(s->operator);
	d->host = xstrdup(s->host);
	d->params_json = xstrdup(s->params_json);
	d->rpo_status = xstrdup(s->rpo_status);
	d->error = xstrdup(s->error);
	d->signed_by = xstrdup(s->signed_by);
	d->unrecorded = xstrdup(s->unrecorded);
	d->phases = s->nphases ? xcalloc(s->nphases, sizeof(*d->phases)) : NULL;
	for (size_t i = 0; i < s->nphases; i++) {
		const struct phase_rec *sp = &s->phases[i];
		struct phase_rec *dp = &d->phases[i];
		*dp = *sp;
		dp->name = xstrdup(sp->name);
		dp->role = xstrdup(sp->role);
		dp->steps = sp->nsteps ? xcalloc(sp->nsteps, sizeof(*dp->steps)) : NULL;
		for (size_t j = 0; j < sp->nsteps; j++)
			step_rec_copy(&dp->steps[j], &sp->steps[j], outputs);
	}
	d->notes = NULL;
	d->nnotes = 0;
	for (size_t i = 0; i < s->nnotes; i++)
		run_rec_add_note(d, s->notes[i].at_ms, s->notes[i].operator, s->notes[i].text);
	return d;
}

void run_rec_add_note(struct run_rec *r, int64_t at_ms, const char *op, const char *text)
{
	r->notes = xrealloc(r->notes, (r->nnotes + 1) * sizeof(*r->notes));
	struct note_rec *n = &r->notes[r->nnotes++];
	n->at_ms = at_ms;
	n->operator = xstrdup(op);
	n->text = xstrdup(text);
}

char *step_confirmed_text(const struct step_rec *s)
{
	if (!s->confirmed_by)
		return NULL;
	if (s->auto_confirmed)
		return xasprintf("auto-confirmed (--yes by %s)", s->confirmed_by);
	return xstrdup(s->confirmed_by);
}

int note_after_end(const struct run_rec *r, const struct note_rec *n)
{
	return r->status != ST_RUNNING && r->ended_ms != TS_NONE && n->at_ms > r->ended_ms;
}

int host_ok(const struct host_rec *h)
{
	return h->status && !strcmp(h->status, "succeeded");
}

char *step_hosts_summary(const struct step_rec *s)
{
	if (!s->nhosts)
		return NULL;
	static const char *const order[] = { "succeeded", "failed", "unreachable", "timed_out", "interrupted",
					     "running", "skipped", "pending" };
	static const char *const label[] = { "ok", "failed", "unreachable", "timed out", "interrupted",
					     "running", "not started", "pending" };
	size_t n[sizeof(order) / sizeof(order[0])] = { 0 };
	for (size_t i = 0; i < s->nhosts; i++)
		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
			if (s->hosts[i].status && !strcmp(s->hosts[i].status, order[k]))
				n[k]++;
	struct strbuf sb;
	strbuf_init(&sb, 64);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		if (n[k] || k == 0)
			strbuf_addf(&sb, "%s%zu %s", sb.len ? " · " : "", n[k], label[k]);
	return strbuf_detach(&sb);
}
