/*
 * What `run`, `drill` and `console` share: their options, the setup before
 * the engine starts (runbook, params in force, history, engine options) and
 * what is printed and written once it has finished (summary, reports, the
 * last line), so a run in the console ends exactly as the same run would on
 * the command line.
 */
#ifndef LB_RUN_SETUP_H
#define LB_RUN_SETUP_H
#include <stddef.h>
#include <stdint.h>

#include "runner.h"
#include "trust.h"

struct run_args {
	const char *cmd;		/* "run", "drill" or "console" */
	const char *file;
	const char *env;
	const char *junit;
	const char *report;
	int yes;
	int strict_budgets;
	int64_t incident_ms;
	struct rb_param *overrides;	/* -p k=v, in order; owned */
	size_t noverrides;
	char **override_from;		/* "FILE:LINE" of a -p @FILE param, else NULL; owned */
	int drill;			/* console --drill */
	int dry_run;			/* --dry-run: print what would run, run and record nothing */
	const char *watch;		/* console --watch RUN_ID */
};

/* The options run, drill and console share, for their tables (and console's two of its own). */
enum {
	RUN_OPT_ENV = OPT_CODE + 64,
	RUN_OPT_INCIDENT_START,
	RUN_OPT_STRICT_BUDGETS,
	RUN_OPT_JUNIT,
	RUN_OPT_REPORT,
	RUN_OPT_DRILL,
	RUN_OPT_WATCH,
	RUN_OPT_PARAMS_FILE,
	RUN_OPT_DRY_RUN,
};
/* Of those, what probe shares too: the params, and the reports to write. */
#define RUN_OPTIONS_PARAMS \
	{ 'p', "param", "NAME=VALUE", "set a param the runbook declares (repeatable; over --env's; @FILE: a YAML mapping)" }, \
	{ RUN_OPT_PARAMS_FILE, "params-file", "FILE", "params from a YAML mapping, merged in command-line order with -p" }
#define RUN_OPTIONS_REPORTS \
	{ RUN_OPT_JUNIT, "junit", "FILE", "also write a JUnit XML report to FILE" }, \
	{ RUN_OPT_REPORT, "report", "FILE", "also write a report to FILE: .json, .md, .html, .prom or .xml (JUnit)" }
#define RUN_OPTIONS \
	RUN_OPTIONS_PARAMS, \
	{ RUN_OPT_ENV, "env", "ENV", "the config's environment ENV: its params, RTO/RPO and permissions" }, \
	{ 'y', "yes", NULL, "confirm manual steps without asking (recorded as auto-confirmed)" }, \
	{ RUN_OPT_INCIDENT_START, "incident-start", "TIME", \
	  "when the incident began (ISO-8601 with a zone, or unix seconds): the RTO counts from it" }, \
	{ RUN_OPT_STRICT_BUDGETS, "strict-budgets", NULL, "exit 6 when a phase overran its budget" }, \
	RUN_OPTIONS_REPORTS

/*
 * The options of a run, drill or console command line (ca->cmd names it).
 * Returns 0 or EXIT_USAGE (reported). Release with run_args_release either way.
 */
int run_args_parse(const struct cmd_args *ca, struct run_args *a);
void run_args_release(struct run_args *a);

/* Everything engine_execute needs. o points into the other fields. */
struct run_setup {
	struct luahost *host;
	struct runbook *rb;
	struct rb_param *params;	/* xcalloc'd array; names and values borrowed from rb or args */
	size_t nparams;
	struct store *st;		/* the history connection the engine uses */
	char *lock_dir;			/* owned */
	struct notifier *notifier;	/* webhooks, NULL when none; finished by run_setup_release */
	struct central_sender *central;	/* the team history's sender, NULL when none; likewise */
	struct trust trust;		/* the signature rules the host's verifier applies */
	struct engine_opts o;
};

/*
 * Loads the runbook, checks its roles against the config, merges params
 * (runbook, --env's, -p), opens the history, sets the engine options the
 * config asks for (--env's RTO and RPO, roles, secrets, webhooks) and checks
 * permissions.<env>.run: a refusal is recorded in the history as a refused
 * run and returns EXIT_REFUSED. 0, or the exit code (reported). The
 * trigger becomes "schedule" when `lifeboat scheduler` started the process.
 */
int run_setup_init(struct run_setup *s, const struct run_args *a, enum run_mode mode,
		   enum run_trigger trigger);
void run_setup_release(struct run_setup *s);

/*
 * --env NAME's environment in the config: NULL with *rc 0 when name is NULL;
 * NULL with *rc EXIT_USAGE (reported, cmd names the command) when there is
 * no such environment.
 */
struct config_env;
const struct config_env *env_for(const char *cmd, const char *name, int *rc);

/*
 * After the engine returned rc for r: the refusal, or the summary, the
 * reports asked for (report, junit: paths or NULL) and the last line.
 * Returns the exit code to use (a report that cannot be written fails it).
 */
int run_finish(const struct run_rec *r, int rc, const char *report, const char *junit);

/* --dry-run (dry-run.c): prints each step as it would run, after run_setup_init; returns 0. */
int dry_run_print(struct run_setup *s, const struct run_args *a, enum run_mode mode);

#endif
