/*
 * The team-wide coordination of SPEC 11 on the central PostgreSQL: the
 * claims of HA schedulers and the leases of exclusive runbooks. Both are
 * ordinary rows, not advisory locks: a claim is a durable unique row per
 * schedule and slot (INSERT ... ON CONFLICT DO NOTHING decides who runs it,
 * and a connection blip releases nothing), and a lease is a row per runbook
 * and environment with an expiry its holder keeps pushing forward from a
 * thread of its own, so a holder that dies frees it within the lease's time.
 */
#include "central.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "central-int.h"
#include "util.h"

/* One statement with text parameters: its result (caller PQclear's), or NULL with *err. */
static PGresult *exec_params(struct central *c, const char *sql, int n, const char *const *vals,
			     char **err)
{
	PGresult *res = NULL;
	return central_exec(c, sql, n, vals, &res, err) ? NULL : res;
}

int central_alive(struct central *c, const char *source_id, const char *ids, char **err)
{
	const char *v[] = { source_id, ids };
	PGresult *res = exec_params(c,
		"INSERT INTO lifeboat_alive (source_id, run_id, alive_at)"
		" SELECT $1, unnest($2::text[]), now()"
		" ON CONFLICT (source_id, run_id) DO UPDATE SET alive_at = now()", 2, v, err);
	PQclear(res);
	return res ? 0 : -1;
}

int central_claim(struct central *c, const struct central_claim *want, struct central_claim *holder,
		  char **err)
{
	char slot[32], pid[32];
	snprintf(slot, sizeof(slot), "%lld", (long long)want->slot_unix);
	snprintf(pid, sizeof(pid), "%ld", want->pid);
	const char *v[] = { want->schedule_id, slot, want->host, want->source, pid };
	PGresult *res = exec_params(c,
		"INSERT INTO lifeboat_claims (schedule_id, slot_at, host, source_id, pid)"
		" VALUES ($1, to_timestamp($2::bigint), $3, $4, $5::integer)"
		" ON CONFLICT (schedule_id, slot_at) DO NOTHING RETURNING 1", 5, v, err);
	if (!res)
		return -1;
	int won = PQntuples(res) == 1;
	PQclear(res);
	if (won)
		return 0;
	memset(holder, 0, sizeof(*holder));
	res = exec_params(c, "SELECT host, source_id, pid FROM lifeboat_claims"
			  " WHERE schedule_id = $1 AND slot_at = to_timestamp($2::bigint)", 2, v, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		holder->host = central_pq_text(res, 0, 0);
		holder->source = central_pq_text(res, 0, 1);
		holder->pid = PQgetisnull(res, 0, 2) ? -1 : atol(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return 1;
}

int central_claim_finish(struct central *c, const char *schedule_id, int64_t slot_unix,
			 const char *run_id, int exit_code, const char *outcome, char **err)
{
	char slot[32], code[32];
	snprintf(slot, sizeof(slot), "%lld", (long long)slot_unix);
	snprintf(code, sizeof(code), "%d", exit_code);
	const char *v[] = { schedule_id, slot, run_id, exit_code >= 0 ? code : NULL, outcome };
	PGresult *res = exec_params(c,
		"UPDATE lifeboat_claims SET finished_at = now(), alive_at = now(), run_id = $3,"
		" exit_code = $4::integer, outcome = $5"
		" WHERE schedule_id = $1 AND slot_at = to_timestamp($2::bigint)", 5, v, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int central_claims_alive(struct central *c, const char *source, long pid, char **err)
{
	char p[32];
	snprintf(p, sizeof(p), "%ld", pid);
	const char *v[] = { source, p };
	PGresult *res = exec_params(c,
		"UPDATE lifeboat_claims SET alive_at = now()"
		" WHERE source_id = $1 AND pid = $2::integer AND finished_at IS NULL", 2, v, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int central_last_slot(struct central *c, const char *schedule_id, int64_t *slot_unix, char **err)
{
	const char *v[] = { schedule_id };
	PGresult *res = exec_params(c,
		"SELECT extract(epoch FROM max(slot_at))::bigint FROM lifeboat_claims WHERE schedule_id = $1",
		1, v, err);
	if (!res)
		return -1;
	*slot_unix = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? atoll(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	return 0;
}

int central_orphans(struct central *c, int stale_s, struct central_claim **out, size_t *n, char **err)
{
	char s[32];
	snprintf(s, sizeof(s), "%d", stale_s);
	const char *v[] = { s };
	*out = NULL;
	*n = 0;
	PGresult *res = exec_params(c,
		"SELECT schedule_id, extract(epoch FROM slot_at)::bigint, host, source_id, pid"
		" FROM lifeboat_claims WHERE finished_at IS NULL"
		" AND alive_at < now() - make_interval(secs => $1::integer)"
		" ORDER BY slot_at DESC, schedule_id LIMIT 100", 1, v, err);
	if (!res)
		return -1;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		struct central_claim *cl = &(*out)[i];
		cl->schedule_id = central_pq_text(res, i, 0);
		cl->slot_unix = atoll(PQgetvalue(res, i, 1));
		cl->host = central_pq_text(res, i, 2);
		cl->source = central_pq_text(res, i, 3);
		cl->pid = PQgetisnull(res, i, 4) ? -1 : atol(PQgetvalue(res, i, 4));
	}
	*n = (size_t)rows;
	PQclear(res);
	return 0;
}

void central_claim_release(struct central_claim *cl)
{
	free(cl->schedule_id);
	free(cl->host);
	free(cl->source);
	memset(cl, 0, sizeof(*cl));
}

int central_running(struct central *c, const char *runbook, const char *env, char **run_id, char **host,
		    char **err)
{
	const char *v[] = { runbook, env ? env : "" };
	*run_id = *host = NULL;
	PGresult *res = exec_params(c,
		"SELECT id, host FROM runs r WHERE runbook = $1 AND coalesce(env, '') = $2"
		" AND status = 'running' AND mode IS DISTINCT FROM 'probe'"	/* a probe never holds a drill back */
		/* and its process still beats: a killed run stays 'running' on the server */
		" AND EXISTS (SELECT 1 FROM lifeboat_alive a WHERE a.source_id = r.source_id"
		"  AND a.run_id = r.id AND a.alive_at > now() - make_interval(secs => " CENTRAL_ALIVE_TTL_S "))"
		" ORDER BY started_at DESC LIMIT 1", 2, v, err);
	if (!res)
		return -1;
	int found = PQntuples(res) == 1;
	if (found) {
		*run_id = central_pq_text(res, 0, 0);
		*host = central_pq_text(res, 0, 1);
	}
	PQclear(res);
	return found;
}

/* ---- leases ------------------------------------------------------------ */

struct central_lease {
	struct central *c;		/* the renewing thread's own connection, owned */
	char *runbook, *env, *holder, *host;
	int ttl_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	char *taken_by;			/* "run R on H": a renewal found the lease taken by another run */
};

static const char lease_take_sql[] =
	"INSERT INTO lifeboat_leases AS l (runbook, env, holder, host, pid, taken_at, expires_at)"
	" VALUES ($1, $2, $3, $4, $5::integer, now(), now() + make_interval(secs => $6::integer))"
	" ON CONFLICT (runbook, env) DO UPDATE SET holder = excluded.holder, host = excluded.host,"
	" pid = excluded.pid, taken_at = now(), expires_at = excluded.expires_at"
	" WHERE l.expires_at < now() OR l.holder = excluded.holder RETURNING holder";

static int lease_take_once(struct central_lease *l, char **other_run, char **other_host, char **err)
{
	char pid[32], ttl[32];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(ttl, sizeof(ttl), "%d", l->ttl_s);
	const char *v[] = { l->runbook, l->env, l->holder, l->host, pid, ttl };
	PGresult *res = exec_params(l->c, lease_take_sql, 6, v, err);
	if (!res)
		return -1;
	int got = PQntuples(res) == 1;
	PQclear(res);
	if (got || !other_run)
		return got ? 0 : 1;
	res = exec_params(l->c, "SELECT holder, host FROM lifeboat_leases WHERE runbook = $1 AND env = $2",
			  2, v, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		*other_run = central_pq_text(res, 0, 0);
		*other_host = central_pq_text(res, 0, 1);
	}
	PQclear(res);
	return 1;
}

/* The connection and strings of a lease; its thread has ended or never started. */
static void lease_free(struct central_lease *l)
{
	central_close(l->c);
	free(l->runbook);
	free(l->env);
	free(l->holder);
	free(l->host);
	free(l->taken_by);
	free(l);
}

static void *lease_renew(void *arg)
{
	struct central_lease *l = arg;
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += l->ttl_s / 3 > 0 ? l->ttl_s / 3 : 1;
		pthread_cond_timedwait(&l->cv, &l->mu, &until);
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		char *err = NULL, *run = NULL, *host = NULL;
		/* a failed renewal is retried at the next turn; the run goes on (SPEC 11) */
		int rc = lease_take_once(l, &run, &host, &err);
		free(err);
		pthread_mutex_lock(&l->mu);
		if (rc == 1 && !l->taken_by)
			l->taken_by = xasprintf("run %s on %s", run ? run : "?", host ? host : "another host");
		free(run);
		free(host);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int central_lease_take(const struct central_opts *co, const char *runbook, const char *env,
		       const char *holder, const char *host, int ttl_s, struct central_lease **out,
		       char **other_run, char **other_host, char **err)
{
	*out = NULL;
	*other_run = *other_host = NULL;
	struct central *c = NULL;
	if (central_connect(co, &c, err) || central_migrate(c, err)) {
		central_close(c);
		return -1;
	}
	struct central_lease *l = xcalloc(1, sizeof(*l));
	l->c = c;
	l->runbook = xstrdup(runbook);
	l->env = xstrdup(env ? env : "");
	l->holder = xstrdup(holder);
	l->host = xstrdup(host);
	l->ttl_s = ttl_s;
	int rc = lease_take_once(l, other_run, other_host, err);
	if (!rc) {
		pthread_mutex_init(&l->mu, NULL);
		pthread_cond_init(&l->cv, NULL);
		if (pthread_create(&l->thread, NULL, lease_renew, l)) {
			/* held, but not renewed: it lapses after ttl_s, which only weakens the guard */
			pthread_mutex_destroy(&l->mu);
			pthread_cond_destroy(&l->cv);
			l->stop = -1;
		}
		*out = l;
		return 0;
	}
	lease_free(l);
	return rc;
}

char *central_lease_end(struct central_lease *l)
{
	if (!l)
		return NULL;
	if (l->stop != -1) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv);
	}
	const char *v[] = { l->runbook, l->env, l->holder };
	char *err = NULL, *taken = l->taken_by;
	l->taken_by = NULL;
	PGresult *res = exec_params(l->c,
		"DELETE FROM lifeboat_leases WHERE runbook = $1 AND env = $2 AND holder = $3 RETURNING 1",
		3, v, &err);
	/* not ours to delete: did another run take it after it lapsed? */
	if (res && PQntuples(res) == 0 && !taken) {
		PQclear(res);
		res = exec_params(l->c, "SELECT holder, host FROM lifeboat_leases WHERE runbook = $1 AND env = $2",
				  2, v, &err);
		if (res && PQntuples(res) == 1)
			taken = xasprintf("run %s on %s", PQgetvalue(res, 0, 0),
					  PQgetisnull(res, 0, 1) ? "another host" : PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	free(err);
	lease_free(l);
	return taken;
}
