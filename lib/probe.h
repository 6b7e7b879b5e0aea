/*
 * SPEC 10, the parts of probes and RPO exposure that are not the engine's:
 * the runbook a `probe` run executes (its probes alone) and the exposure
 * measured against the RPO. The engine runs the probes as phases
 * (record.h's enum probe_when); nothing here prints or runs a step.
 */
#ifndef LB_PROBE_H
#define LB_PROBE_H
#include <stdint.h>

#include "luahost.h"
#include "record.h"
#include "runbook.h"

/*
 * A view of rb for a `probe` run: its "probes before" phase alone (none when
 * it declares no probes), no restoring phase. It borrows everything from rb;
 * free it with free() before rb goes.
 */
struct runbook *probe_view(const struct runbook *rb);

/* Whether the runbook has anything for `probe` to do: probes or newest_recoverable. */
int probe_has_work(const struct runbook *rb);

/*
 * Judges r's exposure at now_ms from r->newest_recoverable_ms (TS_NONE:
 * the function raised) against r->rpo_target_s (NAN: none): sets
 * r->exposure_s and r->exposure. `declared` says whether the runbook has
 * newest_recoverable at all (without it the status is none). A function
 * that raised is unmeasured even without an RPO; a time measured without
 * an RPO has nothing to be judged against (none).
 */
void probe_exposure_judge(struct run_rec *r, int declared, int64_t now_ms);

/*
 * Calls the runbook's newest_recoverable(ctx) and judges the exposure (as
 * above). Returns 0, or -1 with *err (owned) when the function raised or
 * returned no time, or one more than a day ahead: the exposure is then
 * unmeasured.
 */
int probe_exposure_measure(struct luahost *h, const struct runbook *rb, struct run_rec *r,
			   int64_t now_ms, char **err);

#endif
