/*
 * `lifeboat check FILE...`: loads and validates each runbook without running
 * anything (loading has no side effects), then looks at what only makes
 * sense across the whole runbook: budgets against the RTO. The config file
 * was validated before the command started (main.c); here each runbook's
 * roles are checked against it.
 */
#include <math.h>
#include <string.h>

#include "config.h"
#include "runner.h"

static int check_one(const char *path)
{
	struct luahost *host = NULL;
	struct runbook *rb = NULL;
	if (load_runbook(path, &host, &rb))
		return EXIT_USAGE;
	if (check_runbook_roles(rb)) {
		runbook_free(rb);
		luahost_free(host);
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
		printf("%s: ok (runbook '%s', %zu phases, %zu steps%s%s)\n", path, rb->name,
		       rb->nphases, steps, isnan(rb->rto_s) ? "" : ", RTO ",
		       isnan(rb->rto_s) ? "" : fmt_dur(rb->rto_s, a, sizeof(a)));
	runbook_free(rb);
	luahost_free(host);
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
		printf("%s: ok (%zu roles, %zu environments, %zu schedules, %zu secrets)\n", cfg->path,
		       cfg->nroles, cfg->nenvs, cfg->nschedules, cfg->nsecrets);
	return rc;
}

static const struct opt check_options[] = { OPT_END };

const struct cmd cmd_check_entry = {
	"check", cmd_check, "[FILE...]",
	"validate runbooks (and the config) without running anything",
	check_options,
	"check runbooks/*.lua\n"
	"--config ops/lifeboat.yaml check",
};
