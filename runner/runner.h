/*
 * The executable's shared pieces: global options, the command table, the
 * one place user-facing messages go through (errorf/warnf/notef, curl's
 * tool_msgs.h idea), colours, and helpers every command needs (opening the
 * history, loading a runbook).
 */
#ifndef LB_RUNNER_H
#define LB_RUNNER_H
#include <stdio.h>

#include "engine.h"
#include "options.h"
#include "luahost.h"
#include "record.h"
#include "runbook.h"
#include "store.h"
#include "util.h"

struct global_opts {
	const char *db;			/* --db, NULL: default */
	const char *config;		/* --config */
	const char *as;			/* --as */
	int no_color;
	int quiet;
	int color;			/* resolved: colour on stdout */
	char *operator;			/* resolved operator name, owned */
};

extern struct global_opts g_opts;

/*
 * What main sets up for a command before fn runs, as its flags ask (git's
 * RUN_SETUP): the config (runner_config), the history (runner_history),
 * the run args[0] names (runner_run). The history must exist: a reader
 * never creates one at a mistyped --db. A command that sets up nothing
 * (NO_SETUP: keygen, sign, verify) works beside a broken lifeboat.yaml.
 * No flags at all reads as NEED_CONFIG, what every command had before.
 */
enum cmd_flags {
	NEED_CONFIG = 1 << 0,
	NEED_HISTORY = 1 << 1,
	NEED_RUN = 1 << 2,	/* and the history: args[0] is a run id or prefix (check_run_id) */
	NO_SETUP = 1 << 3,	/* neither the config nor the history */
	/*
	 * SPEC 11, a command that takes --central: given it, NEED_RUN's run
	 * comes from the team history (central-read.c's copy, with the runs of
	 * its trend for CENTRAL_WITH_TREND, its source's whole audit chain for
	 * CENTRAL_WITH_AUDIT); NEED_HISTORY alone is left to the command.
	 */
	CENTRAL_WITH_TREND = 1 << 4,
	CENTRAL_WITH_AUDIT = 1 << 5,
};

/*
 * A command, tmux's cmd_entry: each runner/cmd-*.c defines one, main.c lists
 * them. main parses the command's line with opts (plus the global options)
 * and handles --help, then calls check, then sets up what flags ask, then
 * calls fn: so a usage error (check's) exits 2 before any file is touched.
 */
struct cmd {
	const char *name;
	int (*fn)(const struct cmd_args *a);
	const char *args;		/* the arguments in the usage line: "RUN_ID [STEP]" */
	const char *summary;		/* one line */
	const struct opt *opts;		/* the command's options, OPT_END last */
	const char *example;		/* command lines after "lifeboat ", '\n' between */
	unsigned flags;			/* enum cmd_flags */
	int (*check)(const struct cmd_args *a);	/* the line's own checks: 0, or usage_error's; NULL: none */
};
/* The history and the run main set up (NEED_HISTORY, NEED_RUN); main owns and closes them. */
struct store *runner_history(void);
struct run_rec *runner_run(void);
/* The check of a command whose one argument is RUN_ID (show, report, abort, ...). */
int check_run_id(const struct cmd_args *a);

extern const struct cmd cmd_run_entry, cmd_drill_entry, cmd_probe_entry, cmd_console_entry, cmd_check_entry,
	cmd_plan_entry, cmd_history_entry, cmd_show_entry, cmd_report_entry, cmd_confirm_entry,
	cmd_decline_entry, cmd_note_entry, cmd_resume_entry, cmd_audit_entry, cmd_abort_entry,
	cmd_scheduler_entry, cmd_hosts_entry,
	cmd_keygen_entry, cmd_sign_entry, cmd_verify_entry, cmd_init_entry, cmd_evidence_entry,
	cmd_push_entry;
/* An evidence bundle of run r into dir and/or tar (either may be NULL); the exit code (reported). */
int write_evidence(struct store *st, const struct run_rec *r, const char *dir, const char *tar,
		   int say);

/* Messages: "lifeboat: error: ..." on stderr. */
void errorf(const char *fmt, ...) LB_PRINTF(1, 2);
void warnf(const char *fmt, ...) LB_PRINTF(1, 2);
void notef(const char *fmt, ...) LB_PRINTF(1, 2);
/* Prints "usage: ..." for the command (NULL: lifeboat's) and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) LB_PRINTF(2, 3);

/* Colour helpers: empty strings when colour is off. */
const char *c_green(void);
const char *c_red(void);
const char *c_yellow(void);
const char *c_bold(void);
const char *c_dim(void);
const char *c_reset(void);

/*
 * The config file (config-load.c). runner_config_load finds and loads it
 * (--config, else lifeboat.yaml here when present) before the command runs:
 * 0, or EXIT_USAGE with its problems printed. runner_config is NULL when
 * there is no config file.
 */
struct config;
struct notifier;
struct redactor;
int runner_config_load(void);
void runner_config_free(void);
const struct config *runner_config(void);
struct config_policy;
const struct config_policy *runner_policy(void);	/* /etc/lifeboat/trust.yaml, NULL: none */
const struct redactor *runner_redactor(void);	/* the secrets' values, NULL when none */
/*
 * The same redactor for a run, created empty when the config has no
 * secrets so mask() can add to it; the history's writes use it too. Call
 * before any other thread starts.
 */
struct redactor *runner_run_redactor(void);
/* The config's secrets that are set, by name (secretref.h; arrays live until the config is freed). */
struct secretref;
void runner_secret_refs(struct secretref *out);
/* Declared secrets missing from the environment: named; strict: EXIT_USAGE, else warnings and 0. */
int runner_require_secrets(int strict);
const char *reports_dir(void);		/* the config's reports_dir, else "reports" */
int runner_sync_full(void);		/* the config says sync: full */
size_t runner_lua_memory(void);		/* the config's lua_memory, 0 without a config */
/* The engine's authorize hook: manual steps are confirmed by their role's members only. */
int runner_authorize(void *ud, const char *action, const char *role, const char *operator,
		     char **why);
/*
 * What a run (or a resumed one) takes from the config into o: the authorize
 * hook when there is a config, the run's redactor, the inventory, the
 * central lease hooks and the names of the secrets that are set.
 */
void runner_engine_config(struct engine_opts *o);
/* Every role the runbook names must be in the config: 0, or EXIT_USAGE (reported). */
int check_runbook_roles(const struct runbook *rb);
/*
 * Every `on =` names a group or host of the inventory as env sees it (any
 * environment's with any_env, for check): 0, or EXIT_USAGE (reported).
 */
int check_runbook_hosts(const struct runbook *rb, const char *env, int any_env);
/* The webhook sender for this process (NULL when the config sends nothing), and its end. */
struct notifier *start_notifier(void);
void finish_notifier(struct notifier *n);	/* flushes (bounded), warns about failures, frees */
/*
 * The team history (central-link.c, SPEC 11). runner_central_opts: 0 with
 * *o set, 1 without central:, 2 when password_env is not set (warned when
 * say). start_central: the sender beside a run (NULL when nothing is sent);
 * finish_central flushes it (bounded) and warns about what is left.
 */
struct central_opts;
struct central_sender;
int runner_central_opts(struct central_opts *o, int say);
struct central_sender *start_central(void);
void finish_central(struct central_sender *s);

/*
 * --central (central-read.c, SPEC 11): the team history on PostgreSQL read
 * through a temporary local copy of what the command needs. open_reader
 * opens the local history, or with central the copy f asks for (EXIT_USAGE
 * when the config has no central:, 1 when the server cannot be read; said);
 * close_reader closes either. reader_name: the server or the history file,
 * for messages; reader_central: the connection while a copy is open.
 * open_copy/close_copy: one more copy on a connection of the caller's.
 */
struct central;
struct central_fetch;
#define CENTRAL_OPT_HELP "read the team history on PostgreSQL (the config's central:) instead of the local file"
int central_connect_for(const char *cmd, struct central **out);
int open_reader(const char *cmd, int central, const struct central_fetch *f, struct store **st);
void close_reader(struct store *st);
struct central *reader_central(void);
const char *reader_name(void);
int open_copy(const char *cmd, struct central *c, const struct central_fetch *f, struct store **st);
/* main's setup of a NEED_RUN command given --central: the copy into *st, the run into *run. */
int central_setup_run(const struct cmd_args *a, unsigned flags, struct store **st, struct run_rec **run);
void close_copy(struct store *st);
/* With central:, exclusive runbooks also take a lease in the team database (central-lease.c). */
void runner_lease_hooks(struct engine_opts *o);

/* The history database path in force (--db, else the config's db, else .lifeboat/history.db). */
const char *db_path(void);
char *absolute_db(void);			/* db_path() made absolute, owned */
int open_store(struct store **out);
/* Why the history's folder cannot take writes (read-only, full, no permission), or NULL. */
const char *history_unwritable_why(void);
/*
 * Readers of past runs: a history that does not exist is an error (a
 * mistyped --db must not look like an empty history), and is not created.
 */
int history_exists(void);
/* SIGINT, SIGTERM and SIGHUP to on_stop; SIGUSR1 (the nudge of `lifeboat confirm`) to on_wake. */
void install_stop_signals(void (*on_stop)(int), void (*on_wake)(int));
int open_history(struct store **out);	/* prints the error; returns 0 or EXIT_USAGE */
/* Every local shell the runbook names exists here: 0, or EXIT_USAGE with file:line and the fix. */
int check_runbook_shells(const struct runbook *rb);
/* Loads a runbook; on error prints "file:line: ..." and returns EXIT_USAGE. */
int load_runbook(const char *path, struct luahost **host, struct runbook **rb);
/*
 * The same under the signature rules for a run in env (trust.h): a runbook
 * or module refused for its signature returns EXIT_REFUSED with *why
 * (owned) and prints nothing, so the caller can record the refusal.
 * *t is initialised here and released by the caller (trust_release).
 */
struct trust;
int load_runbook_trusted(const char *path, const char *env, struct trust *t,
			 struct luahost **host, struct runbook **rb, char **why);
/* The same with *t set up by the caller (trust_init). */
int load_runbook_with(const char *path, struct trust *t, struct luahost **host,
		      struct runbook **rb, char **why);
/* A runbook's name from its file alone (feature-store.lua: "feature-store"), owned. */
char *runbook_file_name(const char *path);
/* Records a refused run of a runbook that was refused before it could load (its signature). */
int refuse_unloaded(const char *path, struct store *st, const struct engine_opts *o,
		    const char *why);

/* Executing with the live view (cmd-run.c), shared by run, drill and resume. */
struct run_exec {
	struct luahost *host;
	struct runbook *rb;
	struct store *st;
	const struct engine_opts *o;
	struct run_rec *resume_run;	/* set: continue this interrupted run (caller owns it) */
};
int run_with_view(struct run_exec *x, const char *report, const char *junit);

/* A run from the history by id or prefix; prints why not and returns the exit code (0 found). */
int load_run(struct store *st, const char *id, struct run_rec **out);
/* A run's params_json back into name/value pairs (owned; params_free). */
int params_from_json(const char *text, struct rb_param **out, size_t *n);
void params_free(struct rb_param *p, size_t n);

/*
 * SPEC 7's trend window, in place: of pts (oldest first), the last
 * RISK_WINDOW whose RTO target is target (NAN: the newest point's), so a
 * changed objective starts a new trend. Returns how many are left.
 */
struct objective_point;
#define TREND_READ 1000	/* points read to find them: enough, and cheap */
size_t trend_window(struct objective_point *pts, size_t n, double target);

/* Formatting shared by run, show and history. */
const char *fmt_dur(double secs, char *buf, size_t n);
const char *status_symbol(enum status st);
const char *status_color(enum status st);
void print_summary(FILE *f, const struct run_rec *r);
/* "succeeded, RTO missed": the status and every verdict that applies; returns buf. */
const char *verdict_text(const struct run_rec *r, char *buf, size_t n);

#endif
