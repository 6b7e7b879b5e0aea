/*
 * lifeboat: the command table and the setup every command shares. Like
 * git.c, main only finds the command, resolves global options, and makes
 * sure what was written to stdout really got out (a full disk or a closed
 * pipe must not look like success to a CI job).
 */
#include <errno.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "minisign.h"
#include "runner.h"

struct global_opts g_opts;

static const struct cmd *const commands[] = {
	&cmd_run_entry,
	&cmd_drill_entry,
	&cmd_probe_entry,
	&cmd_console_entry,
	&cmd_check_entry,
	&cmd_plan_entry,
	&cmd_history_entry,
	&cmd_show_entry,
	&cmd_report_entry,
	&cmd_confirm_entry,
	&cmd_decline_entry,
	&cmd_note_entry,
	&cmd_resume_entry,
	&cmd_audit_entry,
	&cmd_abort_entry,
	&cmd_scheduler_entry,
	&cmd_hosts_entry,
	&cmd_keygen_entry,
	&cmd_sign_entry,
	&cmd_verify_entry,
	&cmd_init_entry,
	&cmd_evidence_entry,
	&cmd_push_entry,
};

static const char exit_codes[] =
	"exit codes: 0 ok, 1 step failed, 2 invalid input, 3 RTO missed, 4 RPO missed,\n"
	"5 refused, 6 over budget (--strict-budgets), 130 aborted, 143 SIGTERM/SIGHUP\n";

static void print_usage(FILE *f)
{
	fprintf(f, "usage: lifeboat [global options] <command> [options] [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nglobal options (before or after the command):\n");
	opt_print_table(f, global_options);
	fprintf(f, "\n%s\n'lifeboat <command> --help' shows a command's options; man lifeboat tells all.\n",
		exit_codes);
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void print_usage_line(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: lifeboat %s [options]%s%s\n", c->name, c->args[0] ? " " : "", c->args);
}

/* `lifeboat CMD --help`: usage, summary, options, the global options in brief, examples. */
static void print_cmd_help(const struct cmd *c)
{
	print_usage_line(stdout, c);
	printf("\n%s\n", c->summary);
	if (c->opts && c->opts[0].id) {
		printf("\noptions:\n");
		opt_print_table(stdout, c->opts);
	}
	putchar('\n');
	opt_print_brief(stdout, "global options:", global_options, "(see lifeboat --help)");
	printf("\nexample%s:\n", strchr(c->example, '\n') ? "s" : "");
	for (const char *p = c->example; *p;) {
		size_t len = strcspn(p, "\n");
		printf("  lifeboat %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

int usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("lifeboat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	const struct cmd *c = name ? find_cmd(name) : NULL;
	if (c) {
		print_usage_line(stderr, c);
		fprintf(stderr, "(lifeboat %s --help lists its options)\n", c->name);
	} else {
		fprintf(stderr, "usage: lifeboat [global options] <command> [options] [arguments]\n"
				"(lifeboat --help lists the commands)\n");
	}
	return EXIT_USAGE;
}

/* "'drlil' is not a lifeboat command (did you mean 'drill'?)", exit 2. */
static int unknown_command(const char *name)
{
	const char *names[ARRAY_SIZE(commands) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		names[i] = commands[i]->name;
	names[ARRAY_SIZE(commands)] = "help";
	const char *near = suggest_word(name, names, ARRAY_SIZE(names));
	if (near)
		return usage_error(NULL, "'%s' is not a lifeboat command (did you mean '%s'?)", name, near);
	return usage_error(NULL, "'%s' is not a lifeboat command", name);
}

static void resolve_globals(void);
static void resolve_operator(void);

/* The hidden --list-environments: the config's environments, one a line (nothing without one). */
static int list_environments(void)
{
	resolve_globals();
	resolve_operator();
	int rc = runner_config_load();
	const struct config *cfg = runner_config();
	for (size_t i = 0; !rc && cfg && i < cfg->nenvs; i++)
		printf("%s\n", cfg->envs[i].name);
	runner_config_free();
	free(g_opts.operator);
	return rc;
}

/* The hidden --list-params FILE: the params the runbook declares (loading it changes nothing). */
static int list_params(const char *file)
{
	struct luahost *host;
	struct runbook *rb;
	int rc = load_runbook(file, &host, &rb);
	if (rc)
		return rc;
	for (size_t i = 0; i < rb->nparams; i++)
		printf("%s\n", rb->params[i].name);
	runbook_free(rb);
	luahost_free(host);
	return 0;
}

/* The global options given (before or after the command) into g_opts. */
static void apply_globals(const struct cmd_args *a)
{
	for (size_t i = 0; i < a->nopts; i++) {
		const char *v = a->opts[i].value;
		switch (a->opts[i].id) {
		case OPT_DB: g_opts.db = v; break;
		case OPT_CONFIG: g_opts.config = v; break;
		case OPT_AS: g_opts.as = v; break;
		case OPT_NO_COLOR: g_opts.no_color = 1; break;
		case OPT_QUIET: g_opts.quiet = 1; break;
		default: break;
		}
	}
}

/*
 * The hidden --list-options [CMD] the bash completion asks: without CMD the
 * commands and the global options, with CMD its options then its arguments'
 * names, one a line ("ARGS RUN_ID [STEP]"). --list-commands: the commands.
 */
static int list_options(const char *name, int commands_only)
{
	if (name && !strcmp(name, "help")) {
		printf("ARGS [COMMAND]\n");
		return 0;
	}
	if (!name) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i]->name);
		printf("help\n");
		if (!commands_only)
			opt_print_list(stdout, global_options);
		return 0;
	}
	const struct cmd *c = find_cmd(name);
	if (!c)
		return unknown_command(name);
	opt_print_list(stdout, c->opts);
	opt_print_list(stdout, global_options);
	printf("ARGS %s\n", c->args);
	return 0;
}

static void resolve_globals(void)
{
	const char *nc = getenv("NO_COLOR");
	g_opts.color = !g_opts.no_color && !(nc && *nc) && isatty(1);
}

/* Who runs the command (--as, LIFEBOAT_USER, the account): for every command that sets anything up. */
static void resolve_operator(void)
{
	const char *name = g_opts.as;
	if (!name || !*name)
		name = getenv("LIFEBOAT_USER");
	if (!name || !*name) {
		struct passwd *pw = getpwuid(getuid());
		name = pw ? pw->pw_name : NULL;
	}
	if (!name || !*name)
		name = getenv("USER");
	g_opts.operator = xstrdup(name && *name ? name : "unknown");
}

/* Flushes stdout and reports a failed write: a CI log must not silently lose the verdict. */
static int finish_stdout(int rc)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "lifeboat: error: cannot write to standard output: %s\n",
				strerror(errno));
		return rc ? rc : 1;
	}
	return rc;
}

int check_run_id(const struct cmd_args *a)
{
	if (a->nargs > 1)
		return usage_error(a->cmd->name, "only one run at a time");
	if (!a->nargs)
		return usage_error(a->cmd->name, "no run id given (see `lifeboat history`)");
	return 0;
}

static struct store *cmd_history;	/* NEED_HISTORY's, closed after the command */
static struct run_rec *cmd_run;		/* NEED_RUN's */

struct store *runner_history(void)
{
	return cmd_history;
}

struct run_rec *runner_run(void)
{
	return cmd_run;
}

/*
 * The command's own checks of its line, then the setup its flags ask for,
 * in this order (the config decides the history's path), then the command.
 */
static int run_cmd(const struct cmd *c, const struct cmd_args *a)
{
	unsigned flags = c->flags ? c->flags : NEED_CONFIG;
	if (flags & NO_SETUP)
		minisign_init_alone();	/* keygen, sign, verify: start-up is most of their time */
	else
		resolve_operator();
	int central = opt_count(a, OPT_CENTRAL) > 0;	/* SPEC 11: the team history instead */
	int rc = c->check ? c->check(a) : 0;
	if (!rc && (flags & NEED_CONFIG))
		rc = runner_config_load();
	if (!rc && central && (flags & NEED_RUN))
		rc = a->nargs ? central_setup_run(a, flags, &cmd_history, &cmd_run) : check_run_id(a);
	else if (!rc && !central && (flags & (NEED_HISTORY | NEED_RUN)))
		rc = open_history(&cmd_history);
	if (!rc && !central && (flags & NEED_RUN))
		rc = a->nargs ? load_run(cmd_history, a->args[0], &cmd_run) : check_run_id(a);
	if (!rc)
		rc = c->fn(a);
	run_rec_free(cmd_run);
	cmd_run = NULL;
	if (central)
		close_reader(cmd_history);
	else if (cmd_history)
		store_close(cmd_history);
	cmd_history = NULL;
	return rc;
}

#ifdef LIFEBOAT_CRASH_POINTS
/*
 * Test builds only (the lifeboat-crashtest target): LIFEBOAT_CRASH_AT=POINT
 * or POINT:N kills the process with SIGKILL the first (or N-th) time the
 * engine passes that crash point, so the tests can prove resume from each.
 */
static void crash_hook(const char *point)
{
	static int seen;
	const char *want = getenv("LIFEBOAT_CRASH_AT");
	if (!want)
		return;
	size_t len = strcspn(want, ":");
	if (strlen(point) != len || strncmp(point, want, len))
		return;
	int nth = want[len] == ':' ? atoi(want + len + 1) : 1;
	if (++seen >= nth)
		raise(SIGKILL);
}
#endif

int main(int argc, char **argv)
{
#ifdef LIFEBOAT_CRASH_POINTS
	engine_set_crash_hook(crash_hook);
#endif
	/* Numbers print with a dot whatever the locale: Lua and the reports rely on it. */
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	signal(SIGPIPE, SIG_IGN);

	/* the global options before the command, up to its name */
	struct cmd_args pre, args = { 0 };
	int rc = opt_parse(NULL, NULL, argc, argv, 1, &pre);
	if (rc) {
		cmd_args_release(&pre);
		return rc;
	}
	apply_globals(&pre);
	const char *name = pre.nargs ? pre.args[0] : NULL;
	int first = pre.end - 1;	/* argv's index of the command's name */
	if (opt_count(&pre, OPT_VERSION)) {
		printf("lifeboat %s\n", LIFEBOAT_VERSION);
		rc = finish_stdout(0);
	} else if (opt_count(&pre, OPT_LIST_PARAMS)) {
		rc = finish_stdout(list_params(opt_value(&pre, OPT_LIST_PARAMS)));
	} else if (opt_count(&pre, OPT_LIST_ENVIRONMENTS)) {
		rc = finish_stdout(list_environments());
	} else if (opt_count(&pre, OPT_LIST_OPTIONS) || opt_count(&pre, OPT_LIST_COMMANDS)) {
		int all = opt_count(&pre, OPT_LIST_OPTIONS) > 0;
		rc = finish_stdout(list_options(all ? name : NULL, !all));
	} else if (opt_count(&pre, OPT_HELP) || (name && !strcmp(name, "help"))) {
		/* lifeboat help CMD, lifeboat --help CMD */
		const char *topic = name && !strcmp(name, "help") ? (first + 1 < argc ? argv[first + 1] : NULL) : name;
		const struct cmd *c = topic ? find_cmd(topic) : NULL;
		if (topic && !c)
			rc = unknown_command(topic);
		else if (c)
			print_cmd_help(c);
		else
			print_usage(stdout);
		if (!rc)
			rc = finish_stdout(0);
	} else if (!name) {
		fprintf(stderr, "lifeboat: no command given\n");
		print_usage(stderr);
		rc = EXIT_USAGE;
	} else {
		const struct cmd *c = find_cmd(name);
		if (!c)
			rc = unknown_command(name);
		else
			rc = opt_parse(c, c->opts, argc - first, argv + first, 0, &args);
		if (c && !rc) {
			apply_globals(&args);
			resolve_globals();
			if (opt_count(&args, OPT_HELP)) {
				print_cmd_help(c);
			} else if (opt_count(&args, OPT_LIST_OPTIONS)) {
				rc = list_options(c->name, 0);
			} else if (opt_count(&args, OPT_LIST_COMMANDS) ||
				   opt_count(&args, OPT_LIST_ENVIRONMENTS) ||
				   opt_count(&args, OPT_LIST_PARAMS)) {
				rc = usage_error(c->name, "--list-commands, --list-environments and --list-params go before the command");
			} else if (opt_count(&args, OPT_VERSION)) {
				printf("lifeboat %s\n", LIFEBOAT_VERSION);
			} else {
				rc = run_cmd(c, &args);
			}
			rc = finish_stdout(rc);
			runner_config_free();
			free(g_opts.operator);
		}
	}
	cmd_args_release(&pre);
	cmd_args_release(&args);
	return rc;
}
