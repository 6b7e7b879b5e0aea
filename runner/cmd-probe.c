/*
 * `lifeboat probe FILE`: runs only the runbook's probes and its RPO exposure
 * check (SPEC 10) — a nightly preflight that finds a broken dependency or a
 * stale backup before the drill or the incident does. Recorded as a run of
 * mode `probe`; it changes nothing, so it takes no exclusive lock and runs
 * beside a drill of the same runbook.
 */
#include <stdlib.h>

#include "probe.h"
#include "run-setup.h"
#include "runner.h"

static int probe_runbook(struct run_setup *s, const struct run_args *a)
{
	if (!probe_has_work(s->rb)) {
		errorf("%s: the runbook declares neither probes nor newest_recoverable: nothing to probe (add probes = { step ... } or newest_recoverable = function(ctx) ... end)",
		       s->rb->path);
		return EXIT_USAGE;
	}
	struct runbook *view = probe_view(s->rb);
	s->o.lock_dir = NULL;	/* no exclusive lock: a probe changes nothing */
	struct run_exec x = { .host = s->host, .rb = view, .st = s->st, .o = &s->o };
	int rc = run_with_view(&x, a->report, a->junit);
	free(view);
	return rc;
}

static int cmd_probe(const struct cmd_args *ca)
{
	struct run_args a = { 0 };
	int rc = run_args_parse(ca, &a);
	if (!rc) {
		struct run_setup s;
		rc = run_setup_init(&s, &a, MODE_PROBE, TRIGGER_CLI);
		if (!rc)
			rc = probe_runbook(&s, &a);
		run_setup_release(&s);
	}
	run_args_release(&a);
	return rc;
}

static const struct opt probe_options[] = {
	RUN_OPTIONS_PARAMS,
	{ RUN_OPT_ENV, "env", "ENV", "the config's environment ENV: its params and RPO" },
	RUN_OPTIONS_REPORTS,
	OPT_END
};

const struct cmd cmd_probe_entry = {
	"probe", cmd_probe, "FILE", "run only the runbook's probes and its RPO exposure check",
	probe_options,
	"probe --env prod feature-store.lua\n"
	"probe --report probe.prom feature-store.lua",
	NEED_CONFIG, NULL,
};
