/*
 * The config file (SPEC 4) as the runner uses it: found and loaded once,
 * before the command runs (main.c), so a broken file stops every command
 * with its file:line:column messages and exit 2 before anything happens.
 * What follows from it for all commands lives here too: where the history
 * is and how durable, the Lua memory cap, the reports folder, the secrets'
 * redactor (also handed to the store, so no secret reaches the history
 * file), who may confirm (the engine's authorize hook), and the end of the
 * webhook sender.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "notify.h"
#include "redact.h"
#include "runner.h"
#include "secretref.h"
#include "term.h"

static struct config *cfg;		/* config_load's, NULL when there is no config file */
static struct config_policy *policy;	/* the machine policy, NULL when none is honoured */

/*
 * The machine policy's path. Only the test build (lifeboat-crashtest) lets
 * LIFEBOAT_TRUST_POLICY move it: a policy anyone could point elsewhere with
 * an environment variable would protect nothing.
 */
static const char *policy_path(void)
{
#ifdef LIFEBOAT_CRASH_POINTS
	const char *p = getenv("LIFEBOAT_TRUST_POLICY");
	if (p && *p)
		return p;
#endif
	return CONFIG_POLICY_PATH;
}

static int policy_load(void)
{
	char *warning = NULL, *err = NULL;
	if (config_policy_load(policy_path(), &policy, &warning, &err)) {
		fflush(stdout);
		fprintf(stderr, "%s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (warning) {
		warnf("%s", warning);
		free(warning);
	}
	return 0;
}

const struct config_policy *runner_policy(void)
{
	return policy;
}
static struct redactor *secrets;	/* the values of cfg's secrets that are set, or NULL */

int runner_config_load(void)
{
	char *path = NULL, *err = NULL;
	if (policy_load())
		return EXIT_USAGE;
	if (!config_find(g_opts.config, &path))
		return 0;
	int rc = config_load(path, &cfg, &err);
	free(path);
	if (rc) {
		fflush(stdout);
		term_put_lines(stderr, err, strlen(err));
		fputc('\n', stderr);
		free(err);
		return EXIT_USAGE;
	}
	const char **values = xcalloc(cfg->nsecrets + 2, sizeof(*values));
	size_t n = 0;
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (cfg->secrets[i].value)
			values[n++] = cfg->secrets[i].value;
	/* SPEC 11: the central server's password is redacted like a secret (too short: not at all) */
	const char *pw = cfg->central.password_env ? getenv(cfg->central.password_env) : NULL;
	if (pw && strlen(pw) >= CONFIG_SECRET_MIN)
		values[n++] = pw;
	if (n) {
		secrets = redact_new(values, n, &err);
		if (!secrets) {
			/* config_load refuses short values already; this is the redactor's own word */
			errorf("%s: %s", cfg->path, err);
			free(err);
			free(values);
			return EXIT_USAGE;
		}
		store_set_redactor(secrets);
	}
	free(values);
	return 0;
}

/*
 * SPEC 3: a secret the config declares but the environment does not set
 * would reach steps as an empty string, and a drill could go green with an
 * empty token. Every missing one is named; strict (run, drill, console,
 * resume) stops with EXIT_USAGE before anything runs, otherwise (check,
 * --dry-run: CI lint jobs have no production secrets) it only warns.
 */
int runner_require_secrets(int strict)
{
	int missing = 0;
	for (size_t i = 0; cfg && i < cfg->nsecrets; i++) {
		const struct config_secret *s = &cfg->secrets[i];
		if (s->value)
			continue;
		missing++;
		if (strict)
			errorf("%s:%d: secret '%s' is not set in the environment: export %s=... (or set it in the job's secret store) and run again; nothing ran",
			       cfg->path, s->line, s->name, s->name);
		else
			warnf("%s:%d: secret '%s' is not set in the environment: a run would stop here until %s is exported",
			      cfg->path, s->line, s->name, s->name);
	}
	return missing && strict ? EXIT_USAGE : 0;
}

static const char **secret_names, **secret_values;	/* the set ones, for secretref */

void runner_secret_refs(struct secretref *out)
{
	memset(out, 0, sizeof(*out));
	if (!cfg)
		return;
	if (!secret_names) {
		secret_names = xcalloc(cfg->nsecrets + 1, sizeof(*secret_names));
		secret_values = xcalloc(cfg->nsecrets + 1, sizeof(*secret_values));
	}
	size_t n = 0;
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (cfg->secrets[i].value) {
			secret_names[n] = cfg->secrets[i].name;
			secret_values[n++] = cfg->secrets[i].value;
		}
	out->names = secret_names;
	out->values = secret_values;
	out->n = n;
}

void runner_config_free(void)
{
	free(secret_names);
	free(secret_values);
	secret_names = secret_values = NULL;
	store_set_redactor(NULL);
	redact_free(secrets);
	secrets = NULL;
	config_free(cfg);
	cfg = NULL;
	config_policy_free(policy);
	policy = NULL;
}

const struct config *runner_config(void)
{
	return cfg;
}

const struct redactor *runner_redactor(void)
{
	return secrets;
}

struct redactor *runner_run_redactor(void)
{
	if (!secrets) {
		char *err = NULL;
		secrets = redact_new(NULL, 0, &err);
		store_set_redactor(secrets);
	}
	return secrets;
}

const char *reports_dir(void)
{
	return cfg && cfg->reports_dir ? cfg->reports_dir : "reports";
}

int runner_sync_full(void)
{
	return cfg && cfg->sync == CONFIG_SYNC_FULL;
}

size_t runner_lua_memory(void)
{
	return cfg ? cfg->lua_memory : 0;
}

/* What a run or a resumed one takes from the config (runner.h). */
void runner_engine_config(struct engine_opts *o)
{
	o->authorize = cfg ? runner_authorize : NULL;
	o->authorize_ud = NULL;
	o->redactor = runner_run_redactor();
	o->inventory = cfg;
	runner_lease_hooks(o);
	struct secretref refs;
	runner_secret_refs(&refs);
	o->secret_names = refs.names;
	o->secret_values = refs.values;
	o->nsecret_names = refs.n;
}

/*
 * The engine's authorize hook: a manual step is confirmed or declined only
 * by a member of its role (anyone when the config lists no members). The
 * other actions (note, abort, retry, skip) are open to every operator.
 */
int runner_authorize(void *ud, const char *action, const char *role, const char *operator,
		     char **why)
{
	(void)ud;
	*why = NULL;
	if (!strcmp(action, "confirm") || !strcmp(action, "decline"))
		return config_may_confirm(cfg, role, operator, why);
	return 1;
}

static void add_role(const char ***names, size_t *n, const char *role)
{
	if (!role)
		return;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], role))
			return;
	*names = xrealloc(*names, (*n + 1) * sizeof(**names));
	(*names)[(*n)++] = role;
}

int check_runbook_roles(const struct runbook *rb)
{
	if (!cfg)
		return 0;
	const char **names = NULL;
	size_t n = 0;
	for (char **r = rb->roles; r && *r; r++)
		add_role(&names, &n, *r);
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *p = &rb->phases[i];
		add_role(&names, &n, p->role);
		for (size_t j = 0; j < p->nsteps; j++)
			add_role(&names, &n, p->steps[j].role);
		for (size_t j = 0; j < p->nrollback; j++)
			add_role(&names, &n, p->rollback[j].role);
	}
	char *err = NULL;
	int rc = config_check_roles(cfg, names, n, &err);
	free(names);
	if (!rc)
		return 0;
	fflush(stdout);
	for (char *line = err, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		fprintf(stderr, "%s: %s\n", term_text(rb->path), term_text(line));
	}
	free(err);
	return EXIT_USAGE;
}

struct notifier *start_notifier(void)
{
	char *db = absolute_db();
	struct notifier *n = notify_new(cfg, db, runner_sync_full(), secrets);
	free(db);
	char *err = NULL;
	if (n && notify_start(n, &err)) {
		warnf("webhooks: %s; deliveries stay queued in the history's outbox", err);
		free(err);
	}
	return n;
}

void finish_notifier(struct notifier *n)
{
	if (!n)
		return;
	struct notify_stats stats;
	notify_finish(n, NOTIFY_FLUSH_S, &stats);
	if (stats.failed || stats.pending)
		warnf("webhooks: %d of %d deliveries %s (kept in the history's outbox)%s%s",
		      stats.failed + stats.pending, stats.failed + stats.pending + stats.sent,
		      stats.pending ? "not sent yet" : "failed", stats.last_error ? ": " : "",
		      stats.last_error ? stats.last_error : "");
	notify_stats_release(&stats);
}
