/* Probe runs and RPO exposure (SPEC 10): see probe.h. */
#include "probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

/* a newest backup from the future: a clock in milliseconds, not a backup */
#define NEWEST_FUTURE_MS (24LL * 3600 * 1000)

struct runbook *probe_view(const struct runbook *rb)
{
	struct runbook *v = xmalloc(sizeof(*v));
	*v = *rb;
	v->nphases = 0;
	v->restoring = -1;
	v->recovery_point_ref = RB_NOREF;
	for (size_t i = 0; i < rb->nphases; i++)
		if (rb->phases[i].probe == PROBE_BEFORE) {
			v->phases = &rb->phases[i];
			v->nphases = 1;
		}
	return v;
}

int probe_has_work(const struct runbook *rb)
{
	return runbook_probes(rb, PROBE_BEFORE) || rb->newest_recoverable_ref != RB_NOREF;
}

void probe_exposure_judge(struct run_rec *r, int declared, int64_t now_ms)
{
	r->exposure_s = NAN;
	if (r->newest_recoverable_ms != TS_NONE)
		r->exposure_s = r->newest_recoverable_ms >= now_ms ? 0.0 :
				(double)(now_ms - r->newest_recoverable_ms) / 1000.0;
	if (!declared)
		r->exposure = EXPOSURE_NONE;
	else if (isnan(r->exposure_s))
		r->exposure = EXPOSURE_UNMEASURED;	/* raised: no backup found is a finding, RPO or not */
	else if (isnan(r->rpo_target_s))
		r->exposure = EXPOSURE_NONE;
	else
		r->exposure = r->exposure_s <= r->rpo_target_s + 1e-9 ? EXPOSURE_MET : EXPOSURE_MISSED;
}

int probe_exposure_measure(struct luahost *h, const struct runbook *rb, struct run_rec *r,
			   int64_t now_ms, char **err)
{
	int declared = rb->newest_recoverable_ref != RB_NOREF;
	int rc = 0;
	r->newest_recoverable_ms = TS_NONE;
	if (declared) {
		int64_t ms;
		if (luahost_call_time(h, rb->newest_recoverable_ref, "newest_recoverable", &ms, err)) {
			rc = -1;
		} else if (ms > now_ms + NEWEST_FUTURE_MS) {
			char iso[32];
			*err = xasprintf("newest_recoverable returned %s, more than a day in the future (milliseconds instead of seconds?)",
					 clock_iso8601(ms, iso));
			rc = -1;
		} else {
			r->newest_recoverable_ms = ms;
		}
	}
	probe_exposure_judge(r, declared, now_ms);
	return rc;
}
