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

#include "runner.h"

struct global_opts g_opts;

static const struct cmd commands[] = {
	{ "run", cmd_run, "run FILE [-p k=v]... [--env E] [--yes] [--incident-start T] [--strict-budgets] [--junit F] [--report F.json|.md|.html|.prom|.xml]",
	  "run a runbook (fault phases skipped) and judge its RTO/RPO" },
	{ "drill", cmd_drill, "drill FILE [same options as run]",
	  "run a runbook with its fault phases: a chaos drill" },
	{ "console", cmd_console, "console FILE [--drill] [run options] | console --watch RUN_ID",
	  "run a runbook in the live console, or follow and act on a run (--watch)" },
	{ "check", cmd_check, "check FILE...", "validate runbooks without running anything" },
	{ "plan", cmd_plan, "plan FILE [--env E]", "show phases, budgets and how past runs fit the RTO" },
	{ "history", cmd_history, "history [RUNBOOK] [--limit N] [--json]", "list past runs, newest first" },
	{ "show", cmd_show, "show RUN_ID [--json]", "one run's timeline" },
	{ "report", cmd_report, "report RUN_ID --format json|junit|md|html|prom [-o FILE|-]",
	  "write a past run's report (default: <reports_dir>/<runbook>-<run>.<ext>)" },
	{ "confirm", cmd_confirm, "confirm RUN_ID [STEP]", "confirm a waiting manual step, from any terminal" },
	{ "decline", cmd_decline, "decline RUN_ID [STEP]", "decline a waiting manual step" },
	{ "note", cmd_note, "note RUN_ID TEXT", "add a note to a run's timeline" },
	{ "resume", cmd_resume, "resume RUN_ID [--yes] [--force]", "continue an interrupted run from its first unfinished step" },
	{ "audit", cmd_audit, "audit verify [--expect-head SEQ:HASH]", "check the audit log's hash chain" },
	{ "abort", cmd_abort, "abort RUN_ID", "abort a running run (cleanup phases still run)" },
	{ "scheduler", cmd_scheduler, "scheduler [--once]",
	  "run the config's scheduled drills when due (--once: those due now, then exit)" },
	{ "keygen", cmd_keygen, "keygen NAME", "make a minisign key pair: NAME.key (secret, 0600) and NAME.pub" },
	{ "sign", cmd_sign, "sign --key NAME.key FILE...", "write FILE.minisig beside each file (minisign's format)" },
	{ "verify", cmd_verify, "verify --pub KEY.pub [--sig SIG] FILE...",
	  "check FILE.minisig against the public key (made by lifeboat sign or minisign -S)" },
};

static const char global_usage[] =
	"global options: --db PATH  --config FILE  --as NAME  --no-color  -q  --help  --version";

static void print_usage(FILE *f)
{
	fprintf(f, "usage: lifeboat [global options] <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n%s\n\nexit codes: 0 ok, 1 step failed, 2 invalid input, 3 RTO missed, 4 RPO missed,\n"
		   "5 refused, 6 over budget (--strict-budgets), 130 aborted, 143 SIGTERM/SIGHUP\n",
		global_usage);
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void print_cmd_help(const char *name)
{
	const struct cmd *c = find_cmd(name);
	if (!c)
		return;
	printf("usage: lifeboat %s\n\n%s\n\n%s\n", c->usage, c->summary, global_usage);
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
	if (c)
		fprintf(stderr, "usage: lifeboat %s\n", c->usage);
	else
		print_usage(stderr);
	return EXIT_USAGE;
}

int is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int global_option(int argc, char **argv, int *i, const char *cmd)
{
	const char *a = argv[*i];
	const char **target = NULL;
	if (!strcmp(a, "--db"))
		target = &g_opts.db;
	else if (!strcmp(a, "--config"))
		target = &g_opts.config;
	else if (!strcmp(a, "--as"))
		target = &g_opts.as;
	if (target) {
		if (*i + 1 >= argc || !argv[*i + 1][0]) {
			usage_error(cmd, "option '%s' needs a value", a);
			return -1;
		}
		*target = argv[++*i];
		return 1;
	}
	if (!strncmp(a, "--db=", 5)) {
		g_opts.db = a + 5;
		return 1;
	}
	if (!strncmp(a, "--config=", 9)) {
		g_opts.config = a + 9;
		return 1;
	}
	if (!strncmp(a, "--as=", 5)) {
		g_opts.as = a + 5;
		return 1;
	}
	if (!strcmp(a, "--no-color")) {
		g_opts.no_color = 1;
		return 1;
	}
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		g_opts.quiet = 1;
		return 1;
	}
	return 0;
}

static void resolve_globals(void)
{
	const char *nc = getenv("NO_COLOR");
	g_opts.color = !g_opts.no_color && !(nc && *nc) && isatty(1);
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

	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		int g = global_option(argc, argv, &i, NULL);
		if (g < 0)
			return EXIT_USAGE;
		if (g)
			continue;
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("lifeboat %s\n", LIFEBOAT_VERSION);
			return finish_stdout(0);
		}
		if (is_help(a) || !strcmp(a, "help")) {
			if (!strcmp(a, "help") && i + 1 < argc && find_cmd(argv[i + 1])) {
				print_cmd_help(argv[i + 1]);
				return finish_stdout(0);
			}
			print_usage(stdout);
			return finish_stdout(0);
		}
		if (a[0] == '-')
			return usage_error(NULL, "unknown option '%s'", a);
		break;
	}
	if (i >= argc)
		return usage_error(NULL, "no command given");
	const struct cmd *c = find_cmd(argv[i]);
	if (!c)
		return usage_error(NULL, "'%s' is not a lifeboat command", argv[i]);
	/*
	 * The config decides the history's path, the secrets and more for every
	 * command, so it is loaded before the command runs; --config and --db
	 * may also follow the command's name, so look there first.
	 */
	int help = 0;
	for (int k = i + 1; k < argc && !help; k++) {
		if (!strcmp(argv[k], "--version")) {
			printf("lifeboat %s\n", LIFEBOAT_VERSION);
			return finish_stdout(0);
		}
		help = is_help(argv[k]);
		if (!help && global_option(argc, argv, &k, c->name) < 0)
			return EXIT_USAGE;
	}
	resolve_globals();
	int rc = help ? 0 : runner_config_load();
	if (!rc)
		rc = c->fn(argc - i, argv + i);
	rc = finish_stdout(rc);
	runner_config_free();
	free(g_opts.operator);
	return rc;
}
