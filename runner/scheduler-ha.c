/*
 * High-availability scheduling (SPEC 11): with central: and scheduler.ha,
 * any number of `lifeboat scheduler` processes on different machines share
 * the schedules, and each due slot of a schedule runs once across all of
 * them. Before a drill starts, its slot is claimed in PostgreSQL: a durable
 * unique row keyed by the schedule's id (`id:`, else derived from the
 * runbook's name, cron, env and kind — never a path, which differs between
 * machines) and the slot's time in UTC. Whoever inserts the row runs the
 * drill and marks the claim finished with its exit code; the others say who
 * has it. A claim no scheduler looks after any more (its heartbeat, alive_at,
 * is CENTRAL_CLAIM_STALE_S old) while unfinished is reported as orphaned.
 *
 * When a schedule last ran comes from the claims, and whether its runbook is
 * still running from the team's runs, so catch-up and overlap are decided
 * alike everywhere. A scheduler that cannot reach the server starts no drill
 * (a duplicate drill injects a fault twice): it records why in its history
 * and sends the webhook event scheduler_degraded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "central.h"
#include "clock.h"
#include "config.h"
#include "notify.h"
#include "runner.h"
#include "scheduler-ha.h"

struct ha {
	const struct config *cfg;
	struct store *st;		/* the scheduler's history (borrowed) */
	struct notifier *notifier;	/* scheduler_degraded (owned; NULL: no webhook) */
	struct central *c;		/* NULL until connected, and after it broke */
	char **ids;			/* per schedule: its id (owned) */
	char **names;			/* per schedule: its runbook's name (owned) */
	char host[256];
	char *source;			/* this scheduler's name in the claims: host:history */
	char **orphans_said;		/* "id@slot" of orphans reported already */
	size_t norphans_said;
	char *degraded_why;		/* why the server is out of reach, NULL when it is not */
	int tried;			/* a connection failed this tick: no more tries until the next */
};

/* The runbook's own name (paths differ between machines), else its file's name without .lua. */
static char *runbook_name(const char *path)
{
	struct luahost *host = NULL;
	struct runbook *rb = NULL;
	char *name;
	if (!load_runbook(path, &host, &rb)) {
		name = xstrdup(rb->name);
		runbook_free(rb);
		luahost_free(host);
		return name;
	}
	name = runbook_file_name(path);
	warnf("scheduler: the HA claims of '%s' go by its file's name '%s' until it loads", path, name);
	return name;
}

char *ha_schedule_id(const struct config_schedule *sc, const char *runbook_name, const char *kind)
{
	if (sc->id)
		return xstrdup(sc->id);
	/* '|' never appears in an id: given ids and derived ones cannot meet */
	return xasprintf("%s|%s|%s|%s", runbook_name, sc->cron_expr, sc->env ? sc->env : "", kind);
}

struct ha *ha_new(const struct config *cfg, struct store *st)
{
	if (!cfg->scheduler_ha)
		return NULL;
	struct ha *h = xcalloc(1, sizeof(*h));
	h->cfg = cfg;
	h->st = st;
	h->notifier = start_notifier();
	gethostname(h->host, sizeof(h->host) - 1);
	char *db = absolute_db();
	h->source = xasprintf("%s:%s", h->host, db);
	free(db);
	h->ids = xcalloc(cfg->nschedules + 1, sizeof(*h->ids));
	h->names = xcalloc(cfg->nschedules + 1, sizeof(*h->names));
	for (size_t i = 0; i < cfg->nschedules; i++) {
		h->names[i] = runbook_name(cfg->schedules[i].runbook);
		h->ids[i] = ha_schedule_id(&cfg->schedules[i], h->names[i],
					   cfg->schedules[i].probe ? "probe" : "drill");
	}
	return h;
}

void ha_free(struct ha *h)
{
	if (!h)
		return;
	finish_notifier(h->notifier);
	central_close(h->c);
	for (size_t i = 0; i < h->cfg->nschedules; i++) {
		free(h->ids[i]);
		free(h->names[i]);
	}
	for (size_t i = 0; i < h->norphans_said; i++)
		free(h->orphans_said[i]);
	free(h->orphans_said);
	free(h->ids);
	free(h->names);
	free(h->source);
	free(h->degraded_why);
	free(h);
}

/*
 * Connected (again, after a failure) or not: 0, or -1 with h->degraded_why.
 * One try per tick, so a server that does not answer costs a tick one
 * timeout, not one per schedule.
 */
static int ha_connect(struct ha *h)
{
	if (h->c && !central_broken(h->c))
		return 0;
	central_close(h->c);
	h->c = NULL;
	if (h->tried)
		return -1;
	h->tried = 1;
	struct central_opts o;
	char *err = NULL;
	int rc = runner_central_opts(&o, 0);
	if (rc == 2)
		err = xasprintf("central.password_env %s is not set", h->cfg->central.password_env);
	else if (central_connect(&o, &h->c, &err) || central_migrate(h->c, &err)) {
		central_close(h->c);
		h->c = NULL;
	}
	free(h->degraded_why);
	h->degraded_why = err;
	if (!err)
		h->tried = 0;
	return err ? -1 : 0;
}

/* A call failed (err owned): the connection may be gone; keep why for what is said next. */
static void ha_failed(struct ha *h, char *err)
{
	free(h->degraded_why);
	h->degraded_why = err;
	if (h->c && central_broken(h->c)) {
		central_close(h->c);
		h->c = NULL;
	}
}

/*
 * The latest time the job runs at that is not after now (and after since):
 * slots sparse or dense, found by looking back over growing windows.
 */
static int64_t latest_slot(const struct config_schedule *sc, const char *tz, int64_t now, int64_t since)
{
	static const int64_t windows[] = { 60, 3600, 86400, 7 * 86400, 32 * 86400, 367 * 86400 };
	for (size_t w = 0; w <= ARRAY_SIZE(windows); w++) {
		int64_t after = w < ARRAY_SIZE(windows) ? now - windows[w] : since;
		if (after < since)
			after = since;
		int64_t slot = -1;
		for (int64_t t = cron_next(&sc->cron, after, tz); t <= now; t = cron_next(&sc->cron, t, tz))
			slot = t;
		if (slot >= 0 || after == since)
			return slot;
	}
	return -1;
}

/* Tells the webhook and the history that a due drill did not run for want of the server. */
static void degraded(struct ha *h, size_t idx)
{
	const struct config_schedule *sc = &h->cfg->schedules[idx];
	char *why = xasprintf("the team database cannot be reached (%s): an HA scheduler starts no drill "
			      "without its claim", h->degraded_why ? h->degraded_why : "unknown error");
	warnf("scheduler: %s (%s): not started: %s", h->names[idx], sc->cron_expr, why);
	if (store_schedule_event(h->st, sc->key, "degraded", -1, why))
		warnf("cannot record the schedule's event in '%s': %s", db_path(), store_error(h->st));
	struct run_rec run;
	memset(&run, 0, sizeof(run));
	run.runbook = h->names[idx];
	run.env = sc->env;
	run.mode = (char *)"drill";
	run.status = ST_REFUSED;
	run.exit_code = -1;
	run.rto_target_s = run.rto_achieved_s = run.rpo_target_s = run.rpo_achieved_s = NAN;
	run.rto_met = run.rpo_met = -1;
	char *msg = xasprintf("scheduler on %s: the drill of schedule %s did not start: %s", h->host,
			      h->ids[idx], why);
	notify_event(h->notifier, h->st, CONFIG_EVENT_SCHEDULER_DEGRADED, &run, -1, -1, msg);
	free(msg);
	free(why);
}

/* The local due rule, for when the server is out of reach (then only to say what did not run). */
static int due_locally(struct ha *h, const struct config_schedule *sc, int64_t now)
{
	int64_t first_seen, last_run;
	int known = store_schedule_get(h->st, sc->key, &first_seen, &last_run);
	if (known < 0)
		return 0;
	if (!known)
		store_schedule_seen(h->st, sc->key, now);
	int64_t since = last_run >= 0 ? last_run : known ? first_seen : -1;
	if (!cron_due(&sc->cron, h->cfg->timezone, now, since))
		return 0;
	store_schedule_ran(h->st, sc->key, now);	/* said once per slot, not every minute */
	return 1;
}

/*
 * The server is out of reach for a due schedule (checked: its slot is due):
 * a drill does not start (a duplicate injects a fault twice), a probe
 * changes nothing and runs here, unclaimed (SPEC 11).
 */
static enum ha_decision unreachable(struct ha *h, size_t idx, int64_t now, int checked)
{
	const struct config_schedule *sc = &h->cfg->schedules[idx];
	if (!checked && !due_locally(h, sc, now))
		return HA_NOT_DUE;
	if (!sc->probe) {
		degraded(h, idx);
		return HA_DEGRADED;
	}
	char *why = xasprintf("the team database cannot be reached (%s): the probe runs here, unclaimed",
			      h->degraded_why ? h->degraded_why : "unknown error");
	warnf("scheduler: %s (%s): %s", h->names[idx], sc->cron_expr, why);
	if (store_schedule_event(h->st, sc->key, "unclaimed", -1, why))
		warnf("cannot record the schedule's event in '%s': %s", db_path(), store_error(h->st));
	free(why);
	return HA_LOCAL;
}

enum ha_decision ha_decide(struct ha *h, size_t idx, int64_t now, int64_t *slot)
{
	const struct config_schedule *sc = &h->cfg->schedules[idx];
	if (ha_connect(h))
		return unreachable(h, idx, now, 0);
	int64_t last = -1, first_seen = -1, local_last;
	char *err = NULL;
	if (central_last_slot(h->c, h->ids[idx], &last, &err)) {
		ha_failed(h, err);
		return unreachable(h, idx, now, 0);
	}
	/* never claimed anywhere: this scheduler's first sight counts, so nothing back-fills */
	int known = store_schedule_get(h->st, sc->key, &first_seen, &local_last);
	if (known == 0)
		store_schedule_seen(h->st, sc->key, now);
	int64_t since = last >= 0 ? last : known == 1 ? first_seen : -1;
	if (!cron_due(&sc->cron, h->cfg->timezone, now, since))
		return HA_NOT_DUE;
	*slot = since < 0 ? now - now % 60 : latest_slot(sc, h->cfg->timezone, now, since);
	if (*slot < 0)
		*slot = now - now % 60;
	struct central_claim want = { .schedule_id = h->ids[idx], .slot_unix = *slot, .host = h->host,
				      .source = h->source, .pid = (long)getpid() }, holder;
	int rc = central_claim(h->c, &want, &holder, &err);
	if (rc < 0) {
		ha_failed(h, err);
		*slot = -1;
		return unreachable(h, idx, now, 1);
	}
	store_schedule_ran(h->st, sc->key, now);
	char iso[32];
	clock_iso8601(*slot * 1000, iso);
	if (rc == 1) {
		char *who = xasprintf("the slot %s is claimed by the scheduler on %s (pid %ld)", iso,
				      holder.host ? holder.host : "?", holder.pid);
		printf("scheduler: %s (%s): %s\n", h->names[idx], sc->cron_expr, who);
		fflush(stdout);
		if (store_schedule_event(h->st, sc->key, "claimed_elsewhere", -1, who))
			warnf("cannot record the schedule's event in '%s': %s", db_path(), store_error(h->st));
		free(who);
		central_claim_release(&holder);
		return HA_TAKEN;
	}
	return HA_CLAIMED;
}

int ha_running(struct ha *h, size_t idx, char **why)
{
	const struct config_schedule *sc = &h->cfg->schedules[idx];
	char *run_id = NULL, *host = NULL, *err = NULL;
	int rc = h->c ? central_running(h->c, h->names[idx], sc->env, &run_id, &host, &err) : 0;
	if (rc < 0) {
		warnf("scheduler: cannot ask the team database whether '%s' runs: %s", h->names[idx], err);
		free(err);
		return 0;
	}
	if (rc == 1)
		*why = xasprintf("run %s of it is still running on %s", run_id, host ? host : "another host");
	free(run_id);
	free(host);
	return rc == 1;
}

void ha_finished(struct ha *h, size_t idx, int64_t slot, const char *run_id, int code, const char *outcome)
{
	char *err = NULL;
	/* the scheduler that started it may have lost the server since: one reconnect */
	h->tried = 0;
	for (int tries = 0; tries < 2; tries++) {
		if (ha_connect(h))
			break;
		if (!central_claim_finish(h->c, h->ids[idx], slot, run_id, code, outcome, &err))
			return;
		ha_failed(h, err);
	}
	warnf("scheduler: cannot mark the claim of %s finished (%s): it will show as orphaned",
	      h->ids[idx], h->degraded_why ? h->degraded_why : "unknown error");
}

void ha_heartbeat(struct ha *h)
{
	char *err = NULL;
	h->tried = 0;	/* a new tick: the server gets one more chance */
	if (ha_connect(h))
		return;
	if (central_claims_alive(h->c, h->source, (long)getpid(), &err)) {
		ha_failed(h, err);
		return;
	}
	struct central_claim *cl = NULL;
	size_t n = 0;
	if (central_orphans(h->c, CENTRAL_CLAIM_STALE_S, &cl, &n, &err)) {
		ha_failed(h, err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char iso[32];
		clock_iso8601(cl[i].slot_unix * 1000, iso);
		char *key = xasprintf("%s@%s", cl[i].schedule_id, iso);
		size_t k = 0;
		while (k < h->norphans_said && strcmp(h->orphans_said[k], key))
			k++;
		for (size_t j = 0; k == h->norphans_said && j < h->cfg->nschedules; j++) {
			if (strcmp(h->ids[j], cl[i].schedule_id))
				continue;
			char *why = xasprintf("the claim of slot %s by the scheduler on %s (pid %ld) is orphaned: "
					      "its drill never finished", iso, cl[i].host ? cl[i].host : "?", cl[i].pid);
			warnf("scheduler: %s (%s): %s", h->names[j], h->cfg->schedules[j].cron_expr, why);
			store_schedule_event(h->st, h->cfg->schedules[j].key, "orphaned", -1, why);
			free(why);
			h->orphans_said = xrealloc(h->orphans_said, (h->norphans_said + 1) * sizeof(char *));
			h->orphans_said[h->norphans_said++] = xstrdup(key);
			break;
		}
		free(key);
		central_claim_release(&cl[i]);
	}
	free(cl);
}
