/*
 * The options and setup that `run`, `drill` and `console` share, and the
 * end of a run as a person reads it (summary, reports, last line): one
 * place, so the console and the command line cannot drift apart.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "notify.h"
#include "redact.h"
#include "report.h"
#include "run-setup.h"
#include "runlock.h"
#include "trust.h"

/* from: "FILE:LINE" (owned by the override from now on) of a param from -p @FILE, else NULL */
static void add_override(struct run_args *a, const char *name, size_t nlen, const char *value,
			 char *from)
{
	a->overrides = xrealloc(a->overrides, (a->noverrides + 1) * sizeof(*a->overrides));
	a->override_from = xrealloc(a->override_from, (a->noverrides + 1) * sizeof(*a->override_from));
	a->overrides[a->noverrides].name = xstrndup(name, nlen);
	a->overrides[a->noverrides].value = xstrdup(value);
	a->override_from[a->noverrides] = from;
	a->noverrides++;
}

/* -p @FILE, --params-file FILE: a YAML mapping, its params in file order at this point. */
static int parse_params_file(struct run_args *a, const char *path)
{
	struct config_param *ps = NULL;
	size_t n = 0;
	char *err = NULL;
	if (config_read_params(path, &ps, &n, &err)) {
		fflush(stdout);
		fprintf(stderr, "%s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		add_override(a, ps[i].name, strlen(ps[i].name), ps[i].value,
			     xasprintf("%s:%d", path, ps[i].line));
		free(ps[i].name);
		free(ps[i].value);
	}
	free(ps);
	return 0;
}

static int parse_param(struct run_args *a, const char *kv)
{
	if (kv[0] == '@' && kv[1])
		return parse_params_file(a, kv + 1);
	if (kv[0] == '@')
		return usage_error(a->cmd, "-p @ needs a file name after the @ (-p @params.yaml)");
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		/* the argument is not shown: it may well be a secret's value */
		return usage_error(a->cmd, "-p expects name=value%s", eq ? " (the name is missing)" : " (no '=' in the argument)");
	add_override(a, kv, (size_t)(eq - kv), eq + 1, NULL);
	return 0;
}

int run_args_parse(const struct cmd_args *ca, struct run_args *a)
{
	a->cmd = ca->cmd->name;
	a->incident_ms = TS_NONE;
	for (size_t i = 0; i < ca->nopts; i++) {
		const char *val = ca->opts[i].value;
		switch (ca->opts[i].id) {
		case 'y':
			a->yes = 1;
			break;
		case RUN_OPT_STRICT_BUDGETS:
			a->strict_budgets = 1;
			break;
		case RUN_OPT_DRILL:
			a->drill = 1;
			break;
		case RUN_OPT_WATCH:
			a->watch = val;
			break;
		case 'p':
			if (parse_param(a, val))
				return EXIT_USAGE;
			break;
		case RUN_OPT_PARAMS_FILE:
			if (parse_params_file(a, val))
				return EXIT_USAGE;
			break;
		case RUN_OPT_DRY_RUN:
			a->dry_run = 1;
			break;
		case RUN_OPT_ENV:
			a->env = val;
			break;
		case RUN_OPT_INCIDENT_START:
			if (clock_parse(val, 1, &a->incident_ms))
				return usage_error(a->cmd, "--incident-start '%s' is not a time: use ISO-8601 with a zone (2026-11-22T01:30:00Z) or unix seconds", val);
			/* an incident cannot start in the future: milliseconds given as seconds, say */
			if (a->incident_ms > clock_wall_ms() + 60000)
				return usage_error(a->cmd, "--incident-start '%s' is in the future (milliseconds instead of seconds?); give when the incident began", val);
			break;
		case RUN_OPT_JUNIT:
			a->junit = val;
			break;
		case RUN_OPT_REPORT:
			if (!report_format_for_path(val))
				return usage_error(a->cmd, "--report '%s': the extension picks the format: .json, .md, .html, .prom or .xml (JUnit)", val);
			a->report = val;
			break;
		default:
			break;
		}
	}
	if (ca->nargs > 1)
		return usage_error(a->cmd, "only one runbook file at a time ('%s' and '%s')", ca->args[0], ca->args[1]);
	a->file = ca->nargs ? ca->args[0] : NULL;
	if (a->watch) {
		if (a->file || a->drill || a->yes || a->strict_budgets || a->env || a->junit ||
		    a->report || a->noverrides || a->incident_ms != TS_NONE)
			return usage_error(a->cmd, "--watch follows a run another process executes: give only its id, no runbook or run options");
		return 0;
	}
	if (!a->file)
		return usage_error(a->cmd, "no runbook file given");
	return 0;
}

void run_args_release(struct run_args *a)
{
	for (size_t i = 0; i < a->noverrides; i++) {
		free(a->overrides[i].name);
		free(a->overrides[i].value);
		free(a->override_from[i]);
	}
	free(a->overrides);
	free(a->override_from);
	a->overrides = NULL;
	a->override_from = NULL;
	a->noverrides = 0;
}

/*
 * Params in force: the runbook's, then the environment's (those the runbook
 * declares: an environment serves many runbooks), then -p (each must name a
 * declared param).
 */
static int merge_params(const struct run_args *a, const struct config_env *env,
			struct runbook *rb, struct rb_param **out, size_t *n)
{
	struct rb_param *p = xcalloc(rb->nparams + 1, sizeof(*p));
	for (size_t i = 0; i < rb->nparams; i++) {
		p[i].name = rb->params[i].name;
		p[i].value = rb->params[i].value;
		for (size_t k = 0; env && k < env->nparams; k++)
			if (!strcmp(env->params[k].name, p[i].name))
				p[i].value = env->params[k].value;
	}
	for (size_t k = 0; k < a->noverrides; k++) {
		size_t i;
		for (i = 0; i < rb->nparams; i++)
			if (!strcmp(p[i].name, a->overrides[k].name))
				break;
		if (i == rb->nparams) {
			struct strbuf names = STRBUF_INIT;
			strbuf_init(&names, 0);
			const char **cands = xcalloc(rb->nparams + 1, sizeof(*cands));
			for (size_t j = 0; j < rb->nparams; j++) {
				strbuf_addf(&names, "%s%s", j ? ", " : "", rb->params[j].name);
				cands[j] = rb->params[j].name;
			}
			const char *near = suggest_word(a->overrides[k].name, cands, rb->nparams);
			char *mean = near ? xasprintf("did you mean '%s'? ", near) : xstrdup("");
			const char *from = a->override_from ? a->override_from[k] : NULL;
			if (from)
				errorf("%s: %s: the runbook declares no param '%s' (%sdeclared in %s: %s)", from,
				       a->overrides[k].name, a->overrides[k].name, mean, rb->path,
				       names.len ? names.buf : "none");
			else
				errorf("%s: -p %s: the runbook declares no param '%s' (%sdeclared: %s)", rb->path,
				       a->overrides[k].name, a->overrides[k].name, mean,
				       names.len ? names.buf : "none");
			free(mean);
			free(cands);
			strbuf_release(&names);
			free(p);
			return EXIT_USAGE;
		}
		p[i].value = a->overrides[k].value;
	}
	*out = p;
	*n = rb->nparams;
	return 0;
}

const struct config_env *env_for(const char *cmd, const char *name, int *rc)
{
	const struct config *cfg = runner_config();
	*rc = 0;
	if (!name)
		return NULL;
	const struct config_env *env = config_env(cfg, name);
	if (env)
		return env;
	if (!cfg) {
		errorf("%s --env %s: there is no config file to define environments (lifeboat.yaml here, or --config FILE)",
		       cmd, name);
	} else {
		struct strbuf names = STRBUF_INIT;
		strbuf_init(&names, 0);
		for (size_t i = 0; i < cfg->nenvs; i++)
			strbuf_addf(&names, "%s%s", i ? ", " : "", cfg->envs[i].name);
		errorf("%s --env %s: %s defines no environment '%s' (defined: %s)", cmd, name, cfg->path,
		       name, names.len ? names.buf : "none");
		strbuf_release(&names);
	}
	*rc = EXIT_USAGE;
	return NULL;
}

int run_setup_init(struct run_setup *s, const struct run_args *a, enum run_mode mode,
		   enum run_trigger trigger)
{
	int rc;
	memset(s, 0, sizeof(*s));
	const struct config *cfg = runner_config();
	const struct config_env *env = env_for(a->cmd, a->env, &rc);
	if (rc)
		return rc;
	/* `lifeboat scheduler` starts its drills as `lifeboat drill`, telling them why this way */
	enum run_trigger via;
	if (!run_trigger_parse(getenv("LIFEBOAT_TRIGGER"), &via) && via == TRIGGER_SCHEDULE)
		trigger = TRIGGER_SCHEDULE;
	char *refusal = NULL;
	rc = load_runbook_trusted(a->file, a->env, &s->trust, &s->host, &s->rb, &refusal);
	if (rc == EXIT_REFUSED && a->dry_run) {
		errorf("%s; a real %s would be refused (exit 5)", refusal, run_mode_name(mode));
		free(refusal);
		return rc;
	}
	if (rc == EXIT_REFUSED) {
		/* refused for its signature: recorded, though nothing of it was loaded */
		if (!(rc = open_store(&s->st))) {
			struct engine_opts o = {
				.mode = mode, .trigger = trigger, .env = a->env,
				.operator = g_opts.operator, .incident_ms = a->incident_ms,
				.rto_s = NAN, .rpo_s = NAN, .redactor = runner_run_redactor(),
			};
			rc = refuse_unloaded(a->file, s->st, &o, refusal);
		}
		free(refusal);
		return rc;
	}
	if (rc)
		return rc;
	if ((rc = check_runbook_roles(s->rb)) || (rc = check_runbook_shells(s->rb)) ||
	    (rc = check_runbook_hosts(s->rb, a->env, 0)))
		return rc;
	if ((rc = merge_params(a, env, s->rb, &s->params, &s->nparams)))
		return rc;
	if ((rc = runner_require_secrets(!a->dry_run)))
		return rc;
	/* SPEC 4: an environment with drills: false never gets a fault injected */
	char *why = NULL;
	const char *reason = "permission";
	if (mode == MODE_DRILL && env && !env->drills && (reason = "drills"))
		why = xasprintf("environment '%s' sets drills: false (%s:%d): faults are never injected there; drill in another environment, or `lifeboat run` recovers without the fault phases",
				env->name, cfg->path, env->line);
	else
		config_may_run(cfg, a->env, g_opts.operator, &why);
	if (a->dry_run && why) {
		errorf("%s; a real %s would be refused (exit 5)", why, run_mode_name(mode));
		free(why);
		return EXIT_REFUSED;
	}
	if (!a->dry_run && (rc = open_store(&s->st))) {
		free(why);
		/* SPEC 3: a run that cannot be recorded exits 7; say why in words a person can act on */
		const char *unwritable = history_unwritable_why();
		errorf("nothing ran: a run is not started when the history cannot record it%s%s",
		       unwritable ? ": " : "", unwritable ? unwritable : "");
		return EXIT_UNRECORDED;
	}
	s->lock_dir = runlock_dir(db_path());
	struct engine_opts o = {
		.mode = mode, .trigger = trigger, .env = a->env, .operator = g_opts.operator,
		.yes = a->yes, .strict_budgets = a->strict_budgets, .incident_ms = a->incident_ms,
		.params = s->params, .nparams = s->nparams,
		.rto_s = env ? env->rto_s : NAN, .rpo_s = env ? env->rpo_s : NAN,
		.lock_dir = s->lock_dir,
	};
	runner_engine_config(&o);
	s->o = o;
	if (a->dry_run)
		return 0;
	if (why) {
		struct run_rec *r = NULL;
		rc = engine_refuse(s->rb, s->st, &s->o, reason, why, &r);
		errorf("%s; nothing ran (recorded as run %s, refused)", r->error, r->id);
		run_rec_free(r);
		free(why);
		return rc;
	}
	s->notifier = start_notifier();
	s->o.notifier = s->notifier;
	s->central = start_central();
	return 0;
}

void run_setup_release(struct run_setup *s)
{
	finish_notifier(s->notifier);
	finish_central(s->central);
	free(s->lock_dir);
	if (s->st)
		store_close(s->st);
	free(s->params);
	if (s->rb)
		runbook_free(s->rb);
	if (s->host)
		luahost_free(s->host);
	trust_release(&s->trust);
	memset(s, 0, sizeof(*s));
}

static int write_report(const char *path, char *text, const char *what)
{
	char *err = NULL;
	if (runner_redactor()) {
		/* the record is redacted already; this is the last line of defence */
		char *red = redact_string(runner_redactor(), text);
		free(text);
		text = red;
	}
	int rc = report_write_file(path, text, &err);
	free(text);
	if (rc) {
		errorf("cannot write the %s '%s': %s", what, path, err ? err : "unknown error");
		free(err);
		return -1;
	}
	if (!g_opts.quiet)
		printf("%s written to %s\n", what, path);
	return 0;
}

/* --report F: the format F's extension names; Markdown and HTML get the runbook's RTO trend. */
static char *render_report(const struct run_rec *r, const char *path)
{
	const char *format = report_format_for_path(path);
	struct report_trend trend;
	memset(&trend, 0, sizeof(trend));
	int have_trend = 0;
	if (!strcmp(format, "md") || !strcmp(format, "html") || !strcmp(format, "prom")) {
		struct store *st = NULL;
		char *err = NULL;
		if (!store_open(db_path(), runner_sync_full(), &st, &err)) {
			have_trend = !report_trend_load(st, r, &trend);
			if (!have_trend)
				report_trend_release(&trend);
			store_close(st);
		}
		free(err);
	}
	char *text = report_render(r, format, have_trend ? &trend : NULL);
	if (have_trend)
		report_trend_release(&trend);
	return text;
}

int run_finish(const struct run_rec *r, int rc, const char *report, const char *junit)
{
	if (r->status == ST_REFUSED) {
		errorf("%s", r->error);
		return rc;
	}
	int ran = 0;
	for (size_t i = 0; i < r->nphases; i++)
		ran |= r->phases[i].status != ST_PENDING;
	if (r->unrecorded && !ran) {
		const char *why = history_unwritable_why();
		errorf("cannot record a new run in the history at '%s', so nothing ran: %s%s%s%s; free some space or make the history writable, then run it again",
		       db_path(), r->unrecorded, why ? " (" : "", why ? why : "", why ? ")" : "");
		return exit_code_precedence(rc, EXIT_UNRECORDED);
	}
	print_summary(stdout, r);
	if (report && write_report(report, render_report(r, report), "report"))
		rc = exit_code_precedence(rc, EXIT_STEP_FAILED);
	if (junit && write_report(junit, report_junit_string(r), "JUnit report"))
		rc = exit_code_precedence(rc, EXIT_STEP_FAILED);
	char verdict[160];
	if (r->unrecorded) {
		/* no `lifeboat show`: the history does not have this run (or not all of it) */
		rc = exit_code_precedence(rc, EXIT_UNRECORDED);
		errorf("run %s is not recorded in the history at '%s': %s; the output above is all there is of it",
		       r->id, db_path(), r->unrecorded);
		printf("%srun %s %s%s%s, NOT RECORDED · exit %d%s\n", c_bold(), r->id, status_color(r->status),
		       verdict_text(r, verdict, sizeof(verdict)), c_bold(), rc, c_reset());
		return rc;
	}
	printf("%srun %s %s%s%s · exit %d · lifeboat show %s%s\n", c_bold(), r->id,
	       status_color(r->status), verdict_text(r, verdict, sizeof(verdict)), c_bold(), rc, r->id,
	       c_reset());
	return rc;
}
