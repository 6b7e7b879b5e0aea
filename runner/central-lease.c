/*
 * Team-wide `exclusive` (SPEC 11): with central: in the config, the engine's
 * exclusive lock is also a lease row in PostgreSQL, so two responders on two
 * laptops cannot run the same runbook in the same environment at once. The
 * team database never blocks a recovery: when it cannot be reached the local
 * lock alone applies, and the run says so.
 */
#include <stdlib.h>
#include <unistd.h>

#include "central.h"
#include "config.h"
#include "runner.h"

#define LEASE_CONNECT_S 2.0	/* an unreachable server delays an exclusive run's start at most this */

static struct central_lease *held;	/* one run per process */
static char *held_what;	/* "'runbook'" or "'runbook' in environment E", for the warning */

static int lease_take(void *ud, const char *runbook, const char *env, const char *run_id, char **holder)
{
	(void)ud;
	struct central_opts o;
	if (runner_central_opts(&o, 0) == 1)
		return 0;
	o.timeout_s = LEASE_CONNECT_S;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	char *other = NULL, *other_host = NULL, *err = NULL;
	int rc = central_lease_take(&o, runbook, env, run_id, host, CENTRAL_LEASE_TTL_S, &held, &other,
				    &other_host, &err);
	if (rc < 0) {
		warnf("runbook '%s' is exclusive but the team lease cannot be taken (%s): only this "
		      "machine's lock keeps it exclusive", runbook, err);
		free(err);
		return 0;
	}
	if (rc == 0 && held) {
		free(held_what);
		held_what = env ? xasprintf("'%s' in environment %s", runbook, env) : xasprintf("'%s'", runbook);
	}
	if (rc == 1) {
		notef("run %s on %s holds the team-wide lease of '%s'%s%s", other ? other : "?",
		      other_host ? other_host : "another host", runbook, env ? " in environment " : "",
		      env ? env : "");
		*holder = other ? other : xstrdup("(unknown)");
		free(other_host);
		return 1;
	}
	return 0;
}

static void lease_release(void *ud)
{
	(void)ud;
	char *taken = central_lease_end(held);
	if (taken)
		warnf("the team-wide lease of %s was taken by %s while this run held it (it lapsed while "
		      "the server could not be reached): both may have run at once", held_what, taken);
	free(taken);
	free(held_what);
	held_what = NULL;
	held = NULL;
}

void runner_lease_hooks(struct engine_opts *o)
{
	const struct config *cfg = runner_config();
	if (!cfg || !cfg->central.url)
		return;
	o->lease_take = lease_take;
	o->lease_release = lease_release;
}
