/*
 * `lifeboat resume RUN_ID [--yes] [--force]`: continue a run whose process
 * died (kill -9, a reboot) from its first unfinished step. Refuses (exit 5)
 * when the runbook's text changed since the run started, unless --force
 * (recorded in the audit log), and when the step that was in flight is
 * not idempotent, unless --yes or a y at the prompt.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "runner.h"
#include "trust.h"

/* A step that was in flight and must not simply run again. */
static const struct step_rec *non_idempotent_in_flight(const struct run_rec *r)
{
	for (size_t i = 0; i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++) {
			const struct step_rec *s = &r->phases[i].steps[j];
			if ((s->status == ST_RUNNING || s->status == ST_INTERRUPTED) && !s->idempotent)
				return s;
		}
	return NULL;
}

static int ask_yes(const char *question)
{
	if (!isatty(0))
		return 0;
	printf("%s [y/N] ", question);
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

enum { RESUME_OPT_FORCE = OPT_CODE + 64 };

static int cmd_resume(const struct cmd_args *a)
{
	int yes = opt_count(a, 'y') > 0, force = opt_count(a, RESUME_OPT_FORCE) > 0;
	if (a->nargs > 1)
		return usage_error("resume", "one run at a time");
	if (!a->nargs)
		return usage_error("resume", "no run id given (see `lifeboat history`)");
	const char *id = a->args[0];
	struct store *st;
	int rc = open_history(&st);
	if (rc)
		return rc;
	struct run_rec *r = NULL;
	struct luahost *host = NULL;
	struct runbook *rb = NULL;
	struct rb_param *params = NULL;
	size_t nparams = 0;
	char *lock_dir = NULL;
	struct trust trust;
	memset(&trust, 0, sizeof(trust));
	if ((rc = load_run(st, id, &r)))
		goto out;
	if ((rc = runner_require_secrets(1)))
		goto out;
	if (r->status == ST_RUNNING) {
		errorf("run %s is still being executed (pid %ld on %s): two processes never execute one run",
		       r->id, r->pid, r->host ? r->host : "?");
		rc = EXIT_REFUSED;
		goto out;
	}
	if (r->status != ST_INTERRUPTED) {
		errorf("run %s %s: only an interrupted run can be resumed", r->id,
		       r->status == ST_SUCCEEDED ? "succeeded" : r->status == ST_FAILED ? "failed" :
		       r->status == ST_ABORTED ? "was aborted" : "was refused");
		rc = EXIT_REFUSED;
		goto out;
	}
	char *why = NULL;
	if (!config_may_run(runner_config(), r->env, g_opts.operator, &why)) {
		errorf("cannot resume run %s: %s", r->id, why);
		char *detail = xasprintf("{\"reason\":\"permission\",\"env\":\"%s\"}", r->env ? r->env : "");
		store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(), detail);
		free(detail);
		free(why);
		rc = EXIT_REFUSED;
		goto out;
	}
	char *refusal = NULL;
	rc = load_runbook_trusted(r->file, r->env, &trust, &host, &rb, &refusal);
	if (rc == EXIT_REFUSED || (!rc && r->signed_by && !rb->signed_by[0])) {
		/* never with --force: a signature that no longer verifies means the code is not the reviewed code */
		if (!refusal)
			refusal = xasprintf("run %s ran '%s' signed by key %s, and it no longer carries a valid trusted signature",
					    r->id, r->file, r->signed_by);
		errorf("cannot resume run %s: %s (--force does not override a signature)", r->id, refusal);
		json_t *d = json_pack("{s:s, s:s}", "reason", "signature", "why", refusal);
		char *detail = json_dumps(d, JSON_COMPACT);
		store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(), detail);
		free(detail);
		json_decref(d);
		free(refusal);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (rc)
		goto out;
	if (strcmp(rb->sha256, r->sha256 ? r->sha256 : "")) {
		if (!force) {
			errorf("the runbook '%s' changed since run %s started (sha256 %.12s, now %.12s): resuming could run steps that are not the ones the run began with; check the change, then use --force",
			       r->file, r->id, r->sha256 ? r->sha256 : "?", rb->sha256);
			store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(),
					   "{\"reason\":\"runbook changed\"}");
			rc = EXIT_REFUSED;
			goto out;
		}
		warnf("the runbook changed since the run started; resuming anyway (--force, recorded)");
		char detail[200];
		snprintf(detail, sizeof(detail), "{\"was\":\"%s\",\"now\":\"%s\"}",
			 r->sha256 ? r->sha256 : "", rb->sha256);
		store_audit_append(st, r->id, "force", g_opts.operator, (long)getuid(), detail);
	}
	const struct step_rec *ni = non_idempotent_in_flight(r);
	if (ni && !yes) {
		char *q = xasprintf("step '%s' was in flight and is not idempotent: run it again?",
				    ni->name);
		int ok = ask_yes(q);
		free(q);
		if (!ok) {
			errorf("step '%s' was in flight when run %s stopped and is marked idempotent = false: check what it did, then resume with --yes to run it again",
			       ni->name, r->id);
			store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(),
					   "{\"reason\":\"non-idempotent step in flight\"}");
			rc = EXIT_REFUSED;
			goto out;
		}
	}
	if (params_from_json(r->params_json, &params, &nparams)) {
		errorf("run %s: its params are damaged in the history", r->id);
		rc = 1;
		goto out;
	}
	lock_dir = lock_dir_for(db_path());
	struct engine_opts o = {
		.mode = r->mode, .trigger = "resume", .env = r->env, .operator = g_opts.operator,
		.yes = yes, .strict_budgets = r->strict_budgets, .incident_ms = r->incident_ms,
		.params = params, .nparams = nparams, .rto_s = r->rto_target_s,
		.rpo_s = r->rpo_target_s, .lock_dir = lock_dir,
		.authorize = runner_config() ? runner_authorize : NULL,
		.redactor = runner_run_redactor(),
	};
	o.notifier = start_notifier();
	struct run_exec x = { .host = host, .rb = rb, .st = st, .o = &o, .resume_run = r };
	rc = run_with_view(&x, NULL, NULL);
	finish_notifier(o.notifier);
out:
	for (size_t i = 0; i < nparams; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
	free(lock_dir);
	run_rec_free(r);
	runbook_free(rb);
	luahost_free(host);
	trust_release(&trust);
	store_close(st);
	return rc;
}

static const struct opt resume_options[] = {
	{ 'y', "yes", NULL, "run again a non-idempotent step that was in flight, and confirm manual steps" },
	{ RESUME_OPT_FORCE, "force", NULL, "resume even though the runbook changed since the run started (audited)" },
	OPT_END
};

const struct cmd cmd_resume_entry = {
	"resume", cmd_resume, "RUN_ID", "continue an interrupted run from its first unfinished step",
	resume_options,
	"resume 3f9c2a\n"
	"resume --yes 3f9c2a",
};
