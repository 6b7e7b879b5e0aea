/*
 * Command-line options: one table per command, with the help text beside
 * each option, parsed by getopt_long (options.c). main parses a command's
 * whole line with its table before the command runs, so `--opt=value` and
 * `--opt value` both work, options may follow arguments and `--` ends the
 * options for every command alike; --help, the man page test and the bash
 * completion all read the same tables.
 */
#ifndef LB_OPTIONS_H
#define LB_OPTIONS_H
#include <stddef.h>
#include <stdio.h>

struct opt {
	int id;			/* the short option's letter, or a code >= OPT_CODE */
	const char *name;	/* long name without "--"; NULL: short only */
	/*
	 * The value's name in help ("FILE", "ENV", "RUN_ID", "json|md"); NULL for
	 * a flag. The completion reads it: a list with '|' offers its words.
	 */
	const char *arg;
	const char *help;	/* one line; NULL: hidden from help */
};
#define OPT_END { 0, NULL, NULL, NULL }
/* Codes for options without a letter; a command numbers its own from OPT_CODE + 64. */
#define OPT_CODE 256

/* The global options, accepted before the command and anywhere after it. */
enum {
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_QUIET = 'q',
	OPT_DB = OPT_CODE,
	OPT_CONFIG,
	OPT_AS,
	OPT_NO_COLOR,
	OPT_LIST_OPTIONS,	/* hidden: what the bash completion asks */
	OPT_LIST_COMMANDS,	/* hidden */
	OPT_LIST_ENVIRONMENTS,	/* hidden: the config's environments, for the completion */
	OPT_LIST_PARAMS,	/* hidden: the params a runbook declares, for the completion */
	OPT_CENTRAL,		/* --central: in the tables of the commands that read the team history */
};
extern const struct opt global_options[];

/* One option as given: its id and its value (argv's storage, NULL for a flag). */
struct opt_val {
	int id;
	const char *value;
};

struct cmd;
/* A command's line, parsed: options and arguments, each in command-line order. */
struct cmd_args {
	const struct cmd *cmd;
	struct opt_val *opts;		/* xmalloc'd; values point into argv */
	size_t nopts;
	const char **args;		/* xmalloc'd; the positional arguments */
	size_t nargs;
	int end;			/* argv's index after the last element parsed */
};

/*
 * Parses argv[1..argc) (argv[0] is the command's name) with opts and the
 * global options. With stop_at_arg (the global options before the command)
 * parsing stops at the first argument, which is then the last one in out.
 * Returns 0, or EXIT_USAGE with the problem reported (naming cmd, which may
 * be NULL). Release out with cmd_args_release either way.
 */
int opt_parse(const struct cmd *cmd, const struct opt *opts, int argc, char **argv,
	      int stop_at_arg, struct cmd_args *out);
void cmd_args_release(struct cmd_args *a);

/* How many times option id was given. */
int opt_count(const struct cmd_args *a, int id);
/* The value option id was given last, or NULL. */
const char *opt_value(const struct cmd_args *a, int id);

/* "  -p, --param NAME=VALUE   help" lines for a table, columns aligned. */
void opt_print_table(FILE *f, const struct opt *opts);
/* The table in brief, "-q, --quiet, --db PATH, ...", folded within 79 columns after a prefix. */
void opt_print_brief(FILE *f, const char *prefix, const struct opt *opts, const char *suffix);
/* The table for the completion: "-p NAME=VALUE", "--param NAME=VALUE", "--yes", one a line. */
void opt_print_list(FILE *f, const struct opt *opts);

#endif
