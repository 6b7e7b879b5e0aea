/*
 * `lifeboat check FILE...`: loads and validates each runbook without running
 * anything (loading has no side effects), then looks at what only makes
 * sense across the whole runbook: budgets against the RTO. The config file
 * was validated before the command started (main.c); here each runbook's
 * roles are checked against it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "runner.h"
#include "trust.h"

/* "1 phase", "0 phases", "2 phases" */
#define PLURAL_S(n) ((n) == 1 ? "" : "s")

/* Where signatures are required at all: then check reports each file's. */
static int signatures_matter(const struct trust *t)
{
	const struct config *cfg = runner_config();
	const struct config_policy *pol = runner_policy();
	if (t->nkeys || (pol && (pol->require_always || pol->nrequire_envs)))
		return 1;
	for (size_t i = 0; cfg && i < cfg->nenvs; i++)
		if (cfg->envs[i].require_signed)
			return 1;
	return 0;
}

/* Each file the load read, with its signature's status. */
static void print_signatures(const struct trust *t, struct luahost *host)
{
	size_t n;
	const struct luahost_source *src = luahost_sources(host, &n);
	for (size_t i = 0; i < n; i++) {
		char id[17], *why = NULL;
		int st = trust_status(t, src[i].path, src[i].text, src[i].len, id, NULL, &why);
		if (st == 0)
			printf("  %s: signed by key %s\n", src[i].path, id);
		else if (st == 1)
			printf("  %s: %snot signed%s\n", src[i].path, c_yellow(), c_reset());
		else
			printf("  %s: %ssignature does not count%s: %s\n", src[i].path, c_red(), c_reset(), why);
		free(why);
	}
}

static int check_one(const char *path)
{
	struct luahost *host = NULL;
	struct runbook *rb = NULL;
	struct trust t;
	/* check reports signatures; it refuses nothing for them (a lint job runs before signing) */
	trust_init(&t, runner_config(), runner_policy(), NULL);
	free(t.required_by);
	t.required_by = NULL;
	t.required = 0;
	char *why = NULL;
	if (load_runbook_with(path, &t, &host, &rb, &why)) {
		free(why);
		trust_release(&t);
		return EXIT_USAGE;
	}
	if (check_runbook_roles(rb) | check_runbook_shells(rb) | check_runbook_hosts(rb, NULL, 1)) {
		runbook_free(rb);
		luahost_free(host);
		trust_release(&t);
		return EXIT_USAGE;
	}
	size_t steps = 0;
	for (size_t i = 0; i < rb->nphases; i++)
		steps += rb->phases[i].nsteps + rb->phases[i].nrollback;
	int unbudgeted = 0;
	double sum = runbook_budget_sum(rb, &unbudgeted);
	char a[32], b[32];
	if (!isnan(rb->rto_s) && !isnan(sum) && sum > rb->rto_s)
		warnf("%s: the recovery phases' budgets add up to %s, more than the RTO of %s: the plan cannot meet its objective",
		      path, fmt_dur(sum, a, sizeof(a)), fmt_dur(rb->rto_s, b, sizeof(b)));
	if (!g_opts.quiet)
		printf("%s: ok (runbook '%s', %zu phase%s, %zu step%s%s%s)\n", path, rb->name,
		       rb->nphases, PLURAL_S(rb->nphases), steps, PLURAL_S(steps),
		       isnan(rb->rto_s) ? "" : ", RTO ",
		       isnan(rb->rto_s) ? "" : fmt_dur(rb->rto_s, a, sizeof(a)));
	if (!g_opts.quiet && signatures_matter(&t))
		print_signatures(&t, host);
	runbook_free(rb);
	luahost_free(host);
	trust_release(&t);
	return 0;
}

static int cmd_check(const struct cmd_args *a)
{
	int rc = 0;
	for (size_t i = 0; i < a->nargs; i++)
		if (check_one(a->args[i]))
			rc = EXIT_USAGE;
	const struct config *cfg = runner_config();
	if (!a->nargs && !cfg)
		return usage_error("check", "no runbook file given");
	runner_require_secrets(0);
	if (cfg && !g_opts.quiet)
		printf("%s: ok (%zu role%s, %zu environment%s, %zu schedule%s, %zu secret%s)\n", cfg->path,
		       cfg->nroles, PLURAL_S(cfg->nroles), cfg->nenvs, PLURAL_S(cfg->nenvs),
		       cfg->nschedules, PLURAL_S(cfg->nschedules), cfg->nsecrets, PLURAL_S(cfg->nsecrets));
	return rc;
}

static const struct opt check_options[] = { OPT_END };

const struct cmd cmd_check_entry = {
	"check", cmd_check, "[FILE...]",
	"validate runbooks (and the config) without running anything",
	check_options,
	"check runbooks/*.lua\n"
	"--config ops/lifeboat.yaml check",
	NEED_CONFIG, NULL,
};
