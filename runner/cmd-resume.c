/*
 * `lifeboat resume RUN_ID [--yes] [--force]`: continue a run whose process
 * died (kill -9, a reboot) from its first unfinished step, or one that
 * failed or was aborted once its cause is fixed (SPEC 3). Refuses (exit 5)
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
#include "json.h"
#include "runlock.h"
#include "runner.h"
#include "trust.h"
#include "secretref.h"

/*
 * A step that resuming runs again and that must not simply run again: the
 * one in flight, or (after a failure) the one that failed.
 */
static const struct step_rec *non_idempotent_to_rerun(const struct run_rec *r,
						      const struct runbook *rb)
{
	for (size_t i = 0; i < r->nphases && i < rb->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps && j < rb->phases[i].nsteps; j++) {
			const struct step_rec *s = &r->phases[i].steps[j];
			int failed = (s->status == ST_FAILED || s->status == ST_TIMED_OUT) &&
				     !rb->phases[i].steps[j].continue_on_error;
			if ((s->status == ST_RUNNING || s->status == ST_INTERRUPTED || failed) &&
			    !s->idempotent)
				return s;
		}
	return NULL;
}

/* The run has manual steps still to be confirmed. */
static int manual_ahead(const struct run_rec *r)
{
	for (size_t i = 0; i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++) {
			const struct step_rec *s = &r->phases[i].steps[j];
			if (step_kind_is(s->kind, STEP_MANUAL) && s->status != ST_SUCCEEDED &&
			    s->status != ST_SKIPPED)
				return 1;
		}
	return 0;
}

/*
 * Secrets the run kept as named placeholders (secretref.h) come back from
 * the environment: its params here (filled in place), ctx.state checked
 * (the engine fills it). EXIT_USAGE, reported, when one is not set.
 */
static int refill_secrets(struct run_rec *r, struct rb_param *params, size_t nparams)
{
	struct secretref refs;
	runner_secret_refs(&refs);
	for (size_t i = 0; i < nparams; i++) {
		if (!strstr(params[i].value, "<secret:"))
			continue;
		/* the fill walks JSON strings: give it the value as one */
		char *enc = lbjson_quote(params[i].value);
		char *missing = NULL, *filled = secretref_fill(&refs, enc, &missing);
		free(enc);
		if (missing) {
			errorf("run %s kept param '%s' as secret '%s', which %s: set it (and list it under secrets:) to resume; nothing ran",
			       r->id, params[i].name, missing,
			       config_secret(runner_config(), missing) ? "is unset" :
			       "the config does not declare or the environment does not set");
			free(missing);
			return EXIT_USAGE;
		}
		json_t *back = json_loads(filled, JSON_DECODE_ANY, NULL);
		free(filled);
		if (json_is_string(back)) {
			free(params[i].value);
			params[i].value = xstrdup(json_string_value(back));
		}
		json_decref(back);
	}
	for (size_t i = 0; i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++) {
			const char *state = r->phases[i].steps[j].state_json;
			char *missing = NULL, *filled = state ? secretref_fill(&refs, state, &missing) : NULL;
			free(filled);
			if (missing) {
				errorf("run %s kept secret '%s' in ctx.state (step '%s'), and it is not set now: set it (and list it under secrets:) to resume; nothing ran",
				       r->id, missing, r->phases[i].steps[j].name);
				free(missing);
				return EXIT_USAGE;
			}
		}
	return 0;
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

/* A run this process may resume: not executing, stopped, and env's permissions allow this operator. */
static int check_resumable(struct store *st, const struct run_rec *r)
{
	if (r->status == ST_RUNNING) {
		errorf("run %s is still being executed (pid %ld on %s): two processes never execute one run",
		       r->id, r->pid, r->host ? r->host : "?");
		return EXIT_REFUSED;
	}
	if (run_mode_of(r) == MODE_PROBE) {
		/* a probe changed nothing: there is nothing to continue, only to look again */
		errorf("run %s is a probe: probes are not resumed; run `lifeboat probe %s` again", r->id,
		       r->file ? r->file : "FILE");
		return EXIT_REFUSED;
	}
	if (r->status != ST_INTERRUPTED && r->status != ST_FAILED && r->status != ST_ABORTED) {
		errorf("run %s %s: only an interrupted run, or a failed or aborted one, can be resumed", r->id,
		       r->status == ST_SUCCEEDED ? "succeeded" : "was refused");
		return EXIT_REFUSED;
	}
	char *why = NULL;
	if (!config_may_run(runner_config(), r->env, g_opts.operator, &why)) {
		errorf("cannot resume run %s: %s", r->id, why);
		char *detail = lbjson_dump(json_pack("{s:s, s:o}", "reason", "permission", "env",
						     lbjson_string(r->env ? r->env : "")));
		store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(), detail);
		free(detail);
		free(why);
		return EXIT_REFUSED;
	}
	return 0;
}

/*
 * The runbook loaded under the signature rules, refused when a signature no
 * longer verifies (never with --force) or, without --force, when its text
 * changed since the run started.
 */
static int load_for_resume(struct store *st, const struct run_rec *r, int force, struct trust *trust,
			   struct luahost **host, struct runbook **rb)
{
	char *refusal = NULL;
	int rc = load_runbook_trusted(r->file, r->env, trust, host, rb, &refusal);
	if (rc == EXIT_REFUSED || (!rc && r->signed_by && !(*rb)->signed_by[0])) {
		/* never with --force: a signature that no longer verifies means the code is not the reviewed code */
		if (!refusal)
			refusal = xasprintf("run %s ran '%s' signed by key %s, and it no longer carries a valid trusted signature",
					    r->id, r->file, r->signed_by);
		errorf("cannot resume run %s: %s (--force does not override a signature)", r->id, refusal);
		char *detail = lbjson_dump(json_pack("{s:s, s:o}", "reason", "signature", "why",
						     lbjson_string(refusal)));
		store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(), detail);
		free(detail);
		free(refusal);
		return EXIT_REFUSED;
	}
	if (rc)
		return rc;
	if (!strcmp((*rb)->sha256, r->sha256 ? r->sha256 : ""))
		return 0;
	if (!force) {
		errorf("the runbook '%s' changed since run %s started (sha256 %.12s, now %.12s): resuming could run steps that are not the ones the run began with; check the change, then use --force",
		       r->file, r->id, r->sha256 ? r->sha256 : "?", (*rb)->sha256);
		char *detail = lbjson_dump(json_pack("{s:s}", "reason", "runbook changed"));
		store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(), detail);
		free(detail);
		return EXIT_REFUSED;
	}
	warnf("the runbook changed since the run started; resuming anyway (--force, recorded)");
	char *detail = lbjson_dump(json_pack("{s:o, s:o}", "was", lbjson_string(r->sha256 ? r->sha256 : ""),
					     "now", lbjson_string((*rb)->sha256)));
	store_audit_append(st, r->id, "force", g_opts.operator, (long)getuid(), detail);
	free(detail);
	return 0;
}

/* A non-idempotent step to run again needs --yes or a y at the prompt. */
static int confirm_rerun(struct store *st, const struct run_rec *r, const struct runbook *rb, int yes)
{
	const struct step_rec *ni = non_idempotent_to_rerun(r, rb);
	if (!ni || yes)
		return 0;
	char *q = xasprintf("step '%s' %s and is not idempotent: run it again?", ni->name,
			    ni->status == ST_FAILED || ni->status == ST_TIMED_OUT ? "failed" : "was in flight");
	int ok = ask_yes(q);
	free(q);
	if (ok)
		return 0;
	errorf("step '%s' was in flight when run %s stopped and is marked idempotent = false: check what it did, then resume with --yes to run it again",
	       ni->name, r->id);
	store_audit_append(st, r->id, "refused", g_opts.operator, (long)getuid(),
			   "{\"reason\":\"non-idempotent step in flight\"}");
	return EXIT_REFUSED;
}

/* Runs the rest of r with the live view, its params and secrets as they were. */
static int execute_resume(struct store *st, struct run_rec *r, struct luahost *host,
			  struct runbook *rb, int yes)
{
	struct rb_param *params = NULL;
	size_t nparams = 0;
	if (params_from_json(r->params_json, &params, &nparams)) {
		errorf("run %s: its params are damaged in the history", r->id);
		return 1;
	}
	int rc = refill_secrets(r, params, nparams);
	if (rc) {
		params_free(params, nparams);
		return rc;
	}
	if (!yes && manual_ahead(r))
		notef("manual steps ahead wait for a person: --yes given to the original run is not carried over (resume --yes confirms them)");
	char *lock_dir = runlock_dir(db_path());
	struct engine_opts o = {
		.mode = run_mode_of(r), .trigger = TRIGGER_RESUME, .env = r->env, .operator = g_opts.operator,
		.yes = yes, .strict_budgets = r->strict_budgets, .incident_ms = r->incident_ms,
		.params = params, .nparams = nparams, .rto_s = r->rto_target_s,
		.rpo_s = r->rpo_target_s, .lock_dir = lock_dir,
	};
	runner_engine_config(&o);
	o.notifier = start_notifier();
	struct central_sender *central = start_central();
	struct run_exec x = { .host = host, .rb = rb, .st = st, .o = &o, .resume_run = r };
	rc = run_with_view(&x, NULL, NULL);
	finish_notifier(o.notifier);
	finish_central(central);
	params_free(params, nparams);
	free(lock_dir);
	return rc;
}

static int cmd_resume(const struct cmd_args *a)
{
	int yes = opt_count(a, 'y') > 0, force = opt_count(a, RESUME_OPT_FORCE) > 0;
	struct store *st = runner_history();
	struct run_rec *r = runner_run();
	struct luahost *host = NULL;
	struct runbook *rb = NULL;
	struct trust trust;
	memset(&trust, 0, sizeof(trust));
	int rc = runner_require_secrets(1);
	if (!rc)
		rc = check_resumable(st, r);
	if (!rc)
		rc = load_for_resume(st, r, force, &trust, &host, &rb);
	if (!rc)
		rc = confirm_rerun(st, r, rb, yes);
	if (!rc)
		rc = execute_resume(st, r, host, rb, yes);
	runbook_free(rb);
	luahost_free(host);
	trust_release(&trust);
	return rc;
}

static const struct opt resume_options[] = {
	{ 'y', "yes", NULL, "run again a non-idempotent step that was in flight or failed, and confirm manual steps (the original run's --yes is not carried over)" },
	{ RESUME_OPT_FORCE, "force", NULL, "resume even though the runbook changed since the run started (audited)" },
	OPT_END
};

const struct cmd cmd_resume_entry = {
	"resume", cmd_resume, "RUN_ID", "continue an interrupted, failed or aborted run where it stopped",
	resume_options,
	"resume 3f9c2a\n"
	"resume --yes 3f9c2a",
	NEED_CONFIG | NEED_RUN, check_run_id,
};
