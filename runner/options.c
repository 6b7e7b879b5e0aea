/*
 * The option parser every command shares: a command's table and the global
 * options become getopt_long's arguments, and getopt_long does the parsing
 * (abbreviations, `--opt=value` and `--opt value`, `-pVALUE`, `--`), in
 * RETURN_IN_ORDER mode so arguments keep their place among the options
 * whatever POSIXLY_CORRECT says. The messages are ours: they name the
 * option as it was typed and suggest the nearest one.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "runner.h"

const struct opt global_options[] = {
	{ OPT_DB, "db", "PATH", "the history database (default: the config's db, else .lifeboat/history.db)" },
	{ OPT_CONFIG, "config", "FILE", "the config file (default: lifeboat.yaml here, when present)" },
	{ OPT_AS, "as", "NAME", "act as NAME (default: $LIFEBOAT_USER, else the login name)" },
	{ OPT_NO_COLOR, "no-color", NULL, "no colours (also when NO_COLOR is set)" },
	{ OPT_QUIET, "quiet", NULL, "print less" },
	{ OPT_HELP, "help", NULL, "show the help (of the command, after one)" },
	{ OPT_VERSION, "version", NULL, "show lifeboat's version" },
	{ OPT_LIST_OPTIONS, "list-options", NULL, NULL },
	{ OPT_LIST_COMMANDS, "list-commands", NULL, NULL },
	{ OPT_LIST_ENVIRONMENTS, "list-environments", NULL, NULL },
	{ OPT_LIST_PARAMS, "list-params", "FILE", NULL },
	OPT_END
};

static size_t table_len(const struct opt *t)
{
	size_t n = 0;
	while (t && t[n].id)
		n++;
	return n;
}

static const struct opt *find_id(const struct opt *opts, int id)
{
	for (size_t i = 0; opts && opts[i].id; i++)
		if (opts[i].id == id)
			return &opts[i];
	for (size_t i = 0; global_options[i].id; i++)
		if (global_options[i].id == id)
			return &global_options[i];
	return NULL;
}

static int is_letter(int id)
{
	return id > 0 && id < 128 && isalnum(id);
}

/* The option as typed at elem: "--env" (without any "=value") or "-p". */
static char *spelled(const char *elem, int id)
{
	if (elem && !strncmp(elem, "--", 2))
		return xstrndup(elem, strcspn(elem, "="));
	return is_letter(id) ? xasprintf("-%c", id) : xstrdup(elem ? elem : "?");
}

/* Every visible long name of both tables, NULL-terminated (xmalloc'd array, borrowed strings). */
static const char **long_names(const struct opt *opts)
{
	const struct opt *tables[] = { opts, global_options };
	const char **names = xcalloc(table_len(opts) + table_len(global_options) + 1, sizeof(*names));
	size_t n = 0;
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (size_t i = 0; tables[t] && tables[t][i].id; i++)
			if (tables[t][i].name && tables[t][i].help)
				names[n++] = tables[t][i].name;
	return names;
}

static int unknown_option(const struct cmd *cmd, const struct opt *opts, const char *elem, int optopt_)
{
	const char *cname = cmd ? cmd->name : NULL;
	if (!elem || strncmp(elem, "--", 2)) {
		/* text such as a note "-5% traffic" or "- restored": say how to give it */
		if (cname && elem && strlen(elem) > 2)
			return usage_error(cname, "unknown option '%s' (text that starts with '-' goes after --: lifeboat %s ... -- '%s')",
					   elem, cname, elem);
		if (is_letter(optopt_))
			return usage_error(cname, "unknown option '-%c'", optopt_);
		return usage_error(cname, "unknown option '%s'", elem ? elem : "?");
	}
	char *typed = spelled(elem, 0);
	const struct opt *o = find_id(opts, optopt_);
	int rc;
	if (!strcmp(typed, "--central")) {
		rc = usage_error(cname, "--central works with history, show, report, plan, evidence and audit verify%s%s",
				 cname ? ", not " : "", cname ? cname : "");
		free(typed);
		return rc;
	}
	if (optopt_ && o && !o->arg) {
		rc = usage_error(cname, "option '%s' takes no value", typed);
		free(typed);
		return rc;
	}
	const char **names = long_names(opts);
	size_t n = 0, prefixed = 0;
	while (names[n])
		n++;
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 64);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(names[i], typed + 2, strlen(typed + 2))) {
			strbuf_addf(&sb, "%s--%s", prefixed ? ", " : "", names[i]);
			prefixed++;
		}
	if (prefixed > 1) {
		rc = usage_error(cname, "option '%s' is ambiguous: %s", typed, sb.buf);
	} else {
		const char *near = suggest_word(typed + 2, names, n);
		if (near)
			rc = usage_error(cname, "unknown option '%s' (did you mean '--%s'?)", typed, near);
		else
			rc = usage_error(cname, "unknown option '%s'", typed);
	}
	strbuf_release(&sb);
	free(names);
	free(typed);
	return rc;
}

static void add_arg(struct cmd_args *out, const char *arg)
{
	out->args = xrealloc(out->args, (out->nargs + 1) * sizeof(*out->args));
	out->args[out->nargs++] = arg;
}

int opt_parse(const struct cmd *cmd, const struct opt *opts, int argc, char **argv,
	      int stop_at_arg, struct cmd_args *out)
{
	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	const char *cname = cmd ? cmd->name : NULL;
	size_t nopts = table_len(opts), nglobal = table_len(global_options);
	struct option *longs = xcalloc(nopts + nglobal + 1, sizeof(*longs));
	/* "-": arguments come back in order as code 1; ":": a missing value as ':' */
	char *shorts = xcalloc(2 * (nopts + nglobal) + 3, 1);
	size_t nl = 0, ns = 0;
	shorts[ns++] = '-';
	shorts[ns++] = ':';
	const struct opt *tables[] = { opts, global_options };
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (size_t i = 0; tables[t] && tables[t][i].id; i++) {
			const struct opt *o = &tables[t][i];
			if (o->name)
				longs[nl++] = (struct option){ o->name, o->arg ? required_argument : no_argument,
							       NULL, o->id };
			if (is_letter(o->id)) {
				shorts[ns++] = (char)o->id;
				if (o->arg)
					shorts[ns++] = ':';
			}
		}
	int rc = 0;
	optind = 0;		/* glibc: start afresh */
	opterr = 0;
	for (;;) {
		/* in order mode nothing is permuted: the element looked at is argv[optind] */
		int at = optind ? optind : 1;
		const char *elem = at < argc ? argv[at] : NULL;
		int ch = getopt_long(argc, argv, shorts, longs, NULL);
		if (ch == -1)
			break;
		if (ch == 1) {
			add_arg(out, optarg);
			if (stop_at_arg)
				goto done;
			continue;
		}
		if (ch == '?') {
			rc = unknown_option(cmd, opts, elem, optopt);
			goto done;
		}
		if (ch == ':' || (optarg && !*optarg)) {
			char *typed = spelled(elem, ch == ':' ? optopt : ch);
			const struct opt *o = find_id(opts, ch == ':' ? optopt : ch);
			rc = usage_error(cname, "option '%s' needs a value%s%s%s", typed,
					 o && o->arg ? " (" : "", o && o->arg ? o->arg : "",
					 o && o->arg ? ")" : "");
			free(typed);
			goto done;
		}
		out->opts = xrealloc(out->opts, (out->nopts + 1) * sizeof(*out->opts));
		out->opts[out->nopts++] = (struct opt_val){ ch, optarg };
	}
	/* after "--": all arguments (with stop_at_arg, only the first is taken) */
	for (; optind < argc; optind++) {
		add_arg(out, argv[optind]);
		if (stop_at_arg) {
			optind++;
			break;
		}
	}
done:
	out->end = optind;
	free(longs);
	free(shorts);
	return rc;
}

void cmd_args_release(struct cmd_args *a)
{
	free(a->opts);
	free(a->args);
	a->opts = NULL;
	a->args = NULL;
	a->nopts = a->nargs = 0;
}

int opt_count(const struct cmd_args *a, int id)
{
	int n = 0;
	for (size_t i = 0; i < a->nopts; i++)
		n += a->opts[i].id == id;
	return n;
}

const char *opt_value(const struct cmd_args *a, int id)
{
	const char *v = NULL;
	for (size_t i = 0; i < a->nopts; i++)
		if (a->opts[i].id == id)
			v = a->opts[i].value;
	return v;
}

static char *label(const struct opt *o)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 40);
	if (is_letter(o->id))
		strbuf_addf(&sb, "  -%c%s", o->id, o->name ? ", " : "");
	else
		strbuf_addstr(&sb, "      ");
	if (o->name)
		strbuf_addf(&sb, "--%s", o->name);
	if (o->arg)
		strbuf_addf(&sb, " %s", o->arg);
	return strbuf_detach(&sb);
}

/* text at column col, folded at spaces to stay within 79 columns */
static void print_wrapped(FILE *f, const char *text, size_t col)
{
	size_t width = col < 50 ? 79 - col : 29;
	while (strlen(text) > width) {
		size_t cut = width;
		while (cut > 0 && text[cut] != ' ')
			cut--;
		if (!cut)
			break;
		fprintf(f, "%.*s\n%*s", (int)cut, text, (int)col, "");
		text += cut + 1;
	}
	fprintf(f, "%s\n", text);
}

void opt_print_table(FILE *f, const struct opt *opts)
{
	enum { MAX_COL = 28 };
	size_t col = 0;
	for (size_t i = 0; opts && opts[i].id; i++) {
		if (!opts[i].help)
			continue;
		char *l = label(&opts[i]);
		if (strlen(l) > col && strlen(l) <= MAX_COL)
			col = strlen(l);
		free(l);
	}
	for (size_t i = 0; opts && opts[i].id; i++) {
		if (!opts[i].help)
			continue;
		char *l = label(&opts[i]);
		if (strlen(l) > col)
			fprintf(f, "%s\n%*s   ", l, (int)col, "");
		else
			fprintf(f, "%-*s   ", (int)col, l);
		print_wrapped(f, opts[i].help, col + 3);
		free(l);
	}
}

void opt_print_brief(FILE *f, const char *prefix, const struct opt *opts, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 160);
	strbuf_addstr(&sb, prefix);
	for (size_t i = 0; opts && opts[i].id; i++) {
		const struct opt *o = &opts[i];
		if (!o->help)
			continue;
		if (is_letter(o->id))
			strbuf_addf(&sb, " -%c,", o->id);
		if (o->name)
			strbuf_addf(&sb, " --%s%s%s,", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	}
	if (sb.len && sb.buf[sb.len - 1] == ',')
		sb.buf[--sb.len] = '\0';
	strbuf_addf(&sb, " %s", suffix);
	/* fold at the spaces between options, never inside "--db PATH" */
	const char *p = sb.buf;
	while (strlen(p) > 79) {
		const char *cut = p + 79;
		while (cut > p && !(cut[0] == ' ' && cut[-1] == ','))
			cut--;
		if (cut == p)
			break;
		fprintf(f, "%.*s\n", (int)(cut - p), p);
		p = cut + 1;
	}
	fprintf(f, "%s\n", p);
	strbuf_release(&sb);
}

void opt_print_list(FILE *f, const struct opt *opts)
{
	for (size_t i = 0; opts && opts[i].id; i++) {
		const struct opt *o = &opts[i];
		if (!o->help)
			continue;
		if (is_letter(o->id))
			fprintf(f, "-%c%s%s\n", o->id, o->arg ? " " : "", o->arg ? o->arg : "");
		if (o->name)
			fprintf(f, "--%s%s%s\n", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
	}
}
