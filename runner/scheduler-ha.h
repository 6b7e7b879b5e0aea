/*
 * The HA half of `lifeboat scheduler` (scheduler-ha.c, SPEC 11): claims of
 * due slots in the team's PostgreSQL, so a slot runs once across any number
 * of schedulers; cmd-scheduler.c asks it instead of its local due rule.
 */
#ifndef LB_SCHEDULER_HA_H
#define LB_SCHEDULER_HA_H
#include <stddef.h>
#include <stdint.h>

struct config;
struct config_schedule;
struct store;
struct ha;

enum ha_decision {
	HA_NOT_DUE,		/* nothing to do for this schedule now */
	HA_CLAIMED,		/* due, and this scheduler holds the slot's claim: start the drill */
	HA_TAKEN,		/* due, but another scheduler claimed the slot (said) */
	HA_DEGRADED,		/* due, but the team database is out of reach: nothing runs (said, recorded, sent) */
	HA_LOCAL,		/* a probe schedule due while the server is out of reach: it changes nothing, run it unclaimed */
};

/* NULL unless cfg says scheduler.ha; st (the scheduler's history) must outlive it. */
struct ha *ha_new(const struct config *cfg, struct store *st);
void ha_free(struct ha *h);
/* A schedule's id: its `id:`, else "runbook name|cron|env|kind" (owned). */
char *ha_schedule_id(const struct config_schedule *sc, const char *runbook_name, const char *kind);
/* Whether schedule idx is due at now (unix seconds) and whose its slot is; *slot: the slot claimed. */
enum ha_decision ha_decide(struct ha *h, size_t idx, int64_t now, int64_t *slot);
/* Whether a run of the schedule's runbook (and env) is running anywhere in the team: 1 with *why (owned). */
int ha_running(struct ha *h, size_t idx, char **why);
/* The claimed slot's drill ended (code -1 and outcome "skipped" when it never started). */
void ha_finished(struct ha *h, size_t idx, int64_t slot, const char *run_id, int code, const char *outcome);
/* Once a minute: this scheduler's unfinished claims are still looked after; orphans said once. */
void ha_heartbeat(struct ha *h);

#endif
