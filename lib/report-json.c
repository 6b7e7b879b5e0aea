/*
 * The JSON report of SPEC 7 (docs/report.schema.json), over jansson.
 *
 * JSON keeps the spec's keys in the spec's order; the extra fields a reader
 * may find useful come after the spec's own at each level (before the
 * nested arrays), since readers ignore unknown fields but people read the
 * file top down. Values are built through lib/json.c: text that is not
 * UTF-8 gets U+FFFD for each bad byte, seconds are rounded to the millisecond.
 */
#include "report-int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "util.h"

/* ---- JSON ---- */

static json_t *j_ts(int64_t ms)
{
	char buf[32];
	return ms == TS_NONE ? json_null() : json_string(clock_iso8601(ms, buf));
}

static json_t *j_int(long long v, long long none)
{
	return v == none ? json_null() : json_integer(v);
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

static json_t *step_json(const struct step_rec *s)
{
	json_t *o = json_object();
	set(o, "name", lbjson_string(s->name));
	set(o, "kind", lbjson_string(s->kind));
	set(o, "role", lbjson_string(s->role));
	set(o, "status", json_string(status_name(s->status)));
	set(o, "attempts", json_integer(s->attempts));
	set(o, "duration_s", lbjson_secs(s->duration_s));
	set(o, "exit_code", j_int(s->exit_code, -1));
	set(o, "confirmed_by", lbjson_string(s->confirmed_by));
	set(o, "auto_confirmed", json_boolean(s->auto_confirmed));
	set(o, "section", json_string(s->section == SEC_ROLLBACK ? "rollback" : "main"));
	set(o, "idempotent", json_boolean(s->idempotent));
	set(o, "human_wait_s", lbjson_secs(s->human_wait_s));
	set(o, "started_at", j_ts(s->started_ms));
	set(o, "ended_at", j_ts(s->ended_ms));
	set(o, "error", lbjson_string(s->error));
	if (s->nhosts) {	/* remote steps only (SPEC 8) */
		json_t *hosts = json_array();
		for (size_t k = 0; k < s->nhosts; k++) {
			const struct host_rec *h = &s->hosts[k];
			json_t *ho = json_object();
			set(ho, "host", lbjson_string(h->host));
			set(ho, "status", lbjson_string(h->status));
			set(ho, "exit_code", j_int(h->exit_code, -1));
			set(ho, "duration_s", lbjson_secs(h->duration_s));
			set(ho, "attempts", json_integer(h->attempts));
			set(ho, "error", lbjson_string(h->error));
			json_array_append_new(hosts, ho);
		}
		set(o, "hosts", hosts);
	}
	return o;
}

static json_t *phase_json(const struct phase_rec *p)
{
	json_t *o = json_object();
	set(o, "name", lbjson_string(p->name));
	set(o, "role", lbjson_string(p->role));
	set(o, "budget_s", lbjson_secs(p->budget_s));
	set(o, "duration_s", lbjson_secs(p->duration_s));
	set(o, "human_wait_s", lbjson_secs(p->human_wait_s));
	set(o, "over_budget", json_boolean(p->over_budget));
	set(o, "status", json_string(status_name(p->status)));
	set(o, "fault", json_boolean(p->fault));
	set(o, "cleanup", json_boolean(p->cleanup));
	set(o, "restores_service", json_boolean(p->restores_service));
	set(o, "parallel", json_integer(p->parallel));
	set(o, "started_at", j_ts(p->started_ms));
	set(o, "ended_at", j_ts(p->ended_ms));
	json_t *steps = json_array();
	for (size_t i = 0; i < p->nsteps; i++)
		json_array_append_new(steps, step_json(&p->steps[i]));
	set(o, "steps", steps);
	return o;
}

/* As recorded; a run that declared no RPO says "none" even if the engine left it unset. */
static json_t *rpo_status_json(const struct run_rec *r)
{
	if (r->rpo_status)
		return lbjson_string(r->rpo_status);
	return isnan(r->rpo_target_s) ? json_string("none") : json_null();
}

/* SPEC 10: the probes' steps, apart from the phases: {before: [...], after: [...]} */
static json_t *probes_json(const struct run_rec *r)
{
	json_t *o = json_object();
	json_t *when[2] = { json_array(), json_array() };
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->probe)
			for (size_t j = 0; j < p->nsteps; j++)
				json_array_append_new(when[p->probe == PROBE_AFTER], step_json(&p->steps[j]));
	}
	set(o, "before", when[0]);
	set(o, "after", when[1]);
	return o;
}

static json_t *exposure_json(const struct run_rec *r)
{
	json_t *o = json_object();
	set(o, "newest_recoverable_at", j_ts(r->newest_recoverable_ms));
	set(o, "exposure_s", lbjson_secs(r->exposure_s));
	set(o, "target_s", lbjson_secs(r->rpo_target_s));
	set(o, "status", json_string(exposure_status_name(r->exposure)));
	return o;
}

json_t *report_rto_json(const struct run_rec *r)
{
	json_t *o = json_object();
	set(o, "target_s", lbjson_secs(r->rto_target_s));
	set(o, "achieved_s", lbjson_secs(r->rto_achieved_s));
	set(o, "met", lbjson_tri(r->rto_met));
	return o;
}

json_t *report_rpo_json(const struct run_rec *r)
{
	json_t *o = json_object();
	set(o, "target_s", lbjson_secs(r->rpo_target_s));
	set(o, "achieved_s", lbjson_secs(r->rpo_achieved_s));
	set(o, "met", lbjson_tri(r->rpo_met));
	set(o, "status", rpo_status_json(r));
	return o;
}

static json_t *run_json(const struct run_rec *r)
{
	json_t *o = json_object();
	set(o, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	set(o, "run_id", lbjson_string(r->id));
	set(o, "runbook", lbjson_string(r->runbook));
	set(o, "mode", lbjson_string(r->mode));
	set(o, "trigger", lbjson_string(r->trigger));
	set(o, "env", lbjson_string(r->env));
	set(o, "operator", lbjson_string(r->operator));
	set(o, "status", json_string(status_name(r->status)));
	set(o, "started_at", j_ts(r->started_ms));
	set(o, "ended_at", j_ts(r->ended_ms));
	set(o, "runbook_sha256", lbjson_string(r->sha256));
	set(o, "signed_by", lbjson_string(r->signed_by));
	set(o, "incident_at", j_ts(r->incident_ms));
	set(o, "restored_at", j_ts(r->restored_ms));
	set(o, "human_wait_s", lbjson_secs(r->human_wait_s));

	set(o, "rto", report_rto_json(r));
	set(o, "rpo", report_rpo_json(r));

	set(o, "recovery_point", j_ts(r->recovery_point_ms));
	json_t *params = r->params_json ? json_loads(r->params_json, JSON_DECODE_ANY, NULL) : NULL;
	set(o, "params", params);
	set(o, "file", lbjson_string(r->file));
	set(o, "uid", j_int(r->uid, -1));
	set(o, "host", lbjson_string(r->host));
	set(o, "pid", j_int(r->pid, 0));
	set(o, "exit_code", j_int(r->exit_code, -1));
	set(o, "strict_budgets", json_boolean(r->strict_budgets));
	set(o, "error", lbjson_string(r->error));

	json_t *phases = json_array();
	for (size_t i = 0; i < r->nphases; i++)
		if (!r->phases[i].probe)
			json_array_append_new(phases, phase_json(&r->phases[i]));
	set(o, "phases", phases);
	set(o, "probes", probes_json(r));
	set(o, "rpo_exposure", exposure_json(r));
	json_t *notes = json_array();
	for (size_t i = 0; i < r->nnotes; i++) {
		json_t *n = json_object();
		set(n, "at", j_ts(r->notes[i].at_ms));
		set(n, "operator", lbjson_string(r->notes[i].operator));
		set(n, "text", lbjson_string(r->notes[i].text));
		set(n, "after_end", json_boolean(note_after_end(r, &r->notes[i])));
		json_array_append_new(notes, n);
	}
	set(o, "notes", notes);
	return o;
}

char *report_json_string(const struct run_rec *run, int pretty)
{
	json_t *o = run_json(run);
	/* 15 significant digits print ms-rounded seconds as written: 0.1, not 0.1000...01 */
	size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
		       (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	char *s = json_dumps(o, flags);
	json_decref(o);
	if (!s)
		die_oom(0);
	/* jansson's allocator is malloc: hand back our own copy all the same */
	char *out = pretty ? xasprintf("%s\n", s) : xstrdup(s);
	free(s);
	return out;
}
