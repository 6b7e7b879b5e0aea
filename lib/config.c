/*
 * Loading lifeboat.yaml (SPEC 4) — the only file that talks to libyaml.
 *
 * The document API gives a tree whose every node carries its line and
 * column, which is what the messages need; the walk below follows the
 * schema, so a hostile file (aliases pointing at themselves, a billion
 * laughs) cannot make it recurse or expand without bound.
 *
 * Validation does not stop at the first problem: `check` should show them
 * all at once. Each is collected with its position and the whole list is
 * returned sorted by position, so the messages read in file order whatever
 * order the sections are checked in (roles before the permissions that
 * name them, environments before the schedules that name them).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "minisign.h"
#include "util.h"

#define MAX_ERRORS 50

static const char *const event_names[CONFIG_EVENT_COUNT + 1] = {
	"run_started", "phase_started", "phase_over_budget", "manual_waiting",
	"step_failed", "rto_at_risk", "run_finished", NULL
};

static const char *const top_keys[] = {
	"db", "reports_dir", "lua_memory", "sync", "roles", "environments", "permissions",
	"notify", "schedules", "timezone", "secrets", "trust", "evidence_key", "hosts", "ssh", NULL
};
static const char *const role_keys[] = { "members", "notify", NULL };
static const char *const env_keys[] = { "rto", "rpo", "params", "require_signed", "drills", "hosts", NULL };
static const char *const trust_keys[] = { "keys", NULL };
static const char *const policy_keys[] = { "keys", "require_signed", NULL };
static const char *const ssh_keys[] = { "config", "connect_timeout", "parallel", "options", NULL };
static const char *const permission_keys[] = { "run", NULL };
static const char *const notify_keys[] = { "webhook", "events", NULL };
static const char *const schedule_keys[] = { "runbook", "cron", "env", "yes", "evidence", NULL };
static const char *const sync_values[] = { "normal", "full", NULL };

/* As the runbook DSL refuses them (lib/lua/prelude.lua): params become environment variables. */
static const char *const reserved_params[] = {
	"PATH", "IFS", "HOME", "SHELL", "ENV", "BASH_ENV", "CDPATH", "SHELLOPTS", "PS4", NULL
};

struct problem {
	size_t line, column;	/* 1-based; 0 when the problem has no position */
	size_t seq;		/* order found, to keep the sort stable */
	char *msg;		/* xmalloc'd, the whole line */
};

struct loader {
	const char *file;		/* as given, for messages */
	const char *text;		/* the file's bytes, for reader errors' positions */
	size_t text_len;
	yaml_document_t doc;
	struct problem *problems;	/* xrealloc'd array */
	size_t nproblems;
	struct config *cfg;
};

/* ---- problems ---------------------------------------------------------- */

static void add_problem(struct loader *ld, size_t line, size_t column, const char *key, const char *fmt,
			va_list ap) LB_PRINTF(5, 0);

static void add_problem(struct loader *ld, size_t line, size_t column, const char *key, const char *fmt,
			va_list ap)
{
	if (ld->nproblems > MAX_ERRORS)
		return;
	struct strbuf sb;
	strbuf_init(&sb, 128);
	if (ld->nproblems == MAX_ERRORS) {
		strbuf_addf(&sb, "%s: too many problems; fix these first", ld->file);
		line = column = (size_t)-1;
	} else {
		if (line)
			strbuf_addf(&sb, "%s:%zu:%zu: ", ld->file, line, column);
		else
			strbuf_addf(&sb, "%s: ", ld->file);
		if (key)
			strbuf_addf(&sb, "%s: ", key);
		char *msg = xvasprintf(fmt, ap);
		strbuf_addstr(&sb, msg);
		free(msg);
	}
	ld->problems = xrealloc(ld->problems, (ld->nproblems + 1) * sizeof(*ld->problems));
	ld->problems[ld->nproblems] = (struct problem){ line, column, ld->nproblems, strbuf_detach(&sb) };
	ld->nproblems++;
}

static void problem_at(struct loader *ld, const yaml_node_t *n, const char *key, const char *fmt, ...)
	LB_PRINTF(4, 5);

static void problem_at(struct loader *ld, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (n)
		add_problem(ld, n->start_mark.line + 1, n->start_mark.column + 1, key, fmt, ap);
	else
		add_problem(ld, 0, 0, key, fmt, ap);
	va_end(ap);
}

static void problem_pos(struct loader *ld, size_t line, size_t column, const char *fmt, ...) LB_PRINTF(4, 5);

static void problem_pos(struct loader *ld, size_t line, size_t column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_problem(ld, line, column, NULL, fmt, ap);
	va_end(ap);
}

static int problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The problems, one per line in file order; frees them. */
static char *take_problems(struct loader *ld)
{
	qsort(ld->problems, ld->nproblems, sizeof(*ld->problems), problem_cmp);
	struct strbuf sb;
	strbuf_init(&sb, 256);
	for (size_t i = 0; i < ld->nproblems; i++) {
		if (i)
			strbuf_addch(&sb, '\n');
		strbuf_addstr(&sb, ld->problems[i].msg);
		free(ld->problems[i].msg);
	}
	free(ld->problems);
	ld->problems = NULL;
	ld->nproblems = 0;
	return strbuf_detach(&sb);
}

/* ---- did you mean ------------------------------------------------------ */

static size_t count_names(const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	return n;
}

/* " (did you mean 'x'?)" or "" — static storage, valid until the next call. */
static const char *did_you_mean(const char *word, const char *const *cands, size_t n)
{
	static char buf[160];
	const char *s = suggest_word(word, cands, n);
	if (!s)
		return "";
	snprintf(buf, sizeof(buf), " (did you mean '%s'?)", s);
	return buf;
}

/* "a, b, c" for messages; xmalloc'd. */
static char *join_names(const char *const *names, size_t n, const char *none)
{
	if (!n)
		return xstrdup(none);
	struct strbuf sb;
	strbuf_init(&sb, 64);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
	return strbuf_detach(&sb);
}

/* ---- nodes ------------------------------------------------------------- */

static yaml_node_t *node_at(struct loader *ld, int index)
{
	return yaml_document_get_node(&ld->doc, index);
}

static int is_null(const yaml_node_t *n)
{
	if (!n)
		return 1;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static const char *type_name(const yaml_node_t *n)
{
	if (is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a map";
	default:
		return "a single value";
	}
}

static char *child_key(const char *parent, const char *key)
{
	return parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

/* A scalar's text, or NULL after reporting that key needs `want` instead. */
static const char *get_text(struct loader *ld, const yaml_node_t *n, const char *key, const char *want)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n)) {
		problem_at(ld, n, key, "expected %s, found %s", want, type_name(n));
		return NULL;
	}
	const char *v = (const char *)n->data.scalar.value;
	if (strlen(v) != n->data.scalar.length) {
		problem_at(ld, n, key, "contains a NUL character; remove it");
		return NULL;
	}
	return v;
}

static const char *key_text(struct loader *ld, const yaml_node_pair_t *p)
{
	yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
	if (!k || k->type != YAML_SCALAR_NODE || is_null(k) || strlen((const char *)k->data.scalar.value)
							       != k->data.scalar.length)
		return NULL;
	return (const char *)k->data.scalar.value;
}

/* Whether pair p repeats a key of an earlier pair of map m. */
static int repeats_key(struct loader *ld, const yaml_node_t *m, const yaml_node_pair_t *p)
{
	const char *k = key_text(ld, p);
	for (const yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
		const char *kq = key_text(ld, q);
		if (k && kq && !strcmp(k, kq))
			return 1;
	}
	return 0;
}

/*
 * Checks that n is a map (`want` describes it for the message) with text
 * keys, none repeated and, when known is given, each one of known. Returns
 * 0 when n is a map (key problems are reported, not fatal), else -1.
 * Callers skip pairs with no key text or a repeated key.
 */
static int check_map(struct loader *ld, const yaml_node_t *n, const char *key, const char *want,
		     const char *const *known)
{
	if (n->type != YAML_MAPPING_NODE) {
		problem_at(ld, n, key, "expected %s, found %s", want, type_name(n));
		return -1;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(ld, p->key);
		const char *k = key_text(ld, p);
		if (!k) {
			problem_at(ld, kn, key, "keys must be plain text names, found %s", type_name(kn));
			continue;
		}
		char *path = child_key(key, k);
		if (repeats_key(ld, n, p)) {
			problem_at(ld, kn, path, "appears twice in the same map; keep one");
		} else if (known) {
			int ok = 0;
			for (size_t i = 0; known[i]; i++)
				if (!strcmp(known[i], k))
					ok = 1;
			if (!ok) {
				size_t nk = count_names(known);
				const char *s = suggest_word(k, known, nk);
				if (s) {
					problem_at(ld, kn, path, "unknown key; did you mean '%s'?", s);
				} else {
					char *all = join_names(known, nk, "");
					problem_at(ld, kn, path, "unknown key; the keys here are %s", all);
					free(all);
				}
			}
		}
		free(path);
	}
	return 0;
}

static yaml_node_t *map_get(struct loader *ld, const yaml_node_t *m, const char *name)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = key_text(ld, p);
		if (k && !strcmp(k, name))
			return node_at(ld, p->value);
	}
	return NULL;
}

#define FOR_PAIRS(m, p) \
	for (yaml_node_pair_t *p = (m)->data.mapping.pairs.start; p < (m)->data.mapping.pairs.top; p++)
#define FOR_ITEMS(s, it) \
	for (yaml_node_item_t *it = (s)->data.sequence.items.start; it < (s)->data.sequence.items.top; it++)

static int check_list(struct loader *ld, const yaml_node_t *n, const char *key, const char *want)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		problem_at(ld, n, key, "expected %s, found %s", want, type_name(n));
		return -1;
	}
	return 0;
}

static size_t list_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static size_t map_len(const yaml_node_t *n)
{
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* A list of text values (null: none) into *out; returns how many. */
static size_t get_text_list(struct loader *ld, const yaml_node_t *n, const char *key, const char *want,
			    const char *item_want, char ***out)
{
	*out = NULL;
	if (is_null(n) || check_list(ld, n, key, want))
		return 0;
	char **v = xcalloc(list_len(n) + 1, sizeof(*v));
	size_t count = 0, i = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *path = xasprintf("%s[%zu]", key, i++);
		const char *s = get_text(ld, item, path, item_want);
		if (s)
			v[count++] = xstrdup(s);
		free(path);
	}
	*out = v;
	return count;
}

static size_t line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- values ------------------------------------------------------------ */

static char *resolve_path(const struct config *cfg, const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	while (p[0] == '.' && p[1] == '/') {
		p += 2;
		while (*p == '/')
			p++;
	}
	if (!*p || !strcmp(p, "."))
		return xstrdup(cfg->dir);
	if (!strcmp(cfg->dir, "/"))
		return xasprintf("/%s", p);
	return xasprintf("%s/%s", cfg->dir, p);
}

/* The config file's folder, absolute when it can be made so. */
static char *folder_of(const char *path)
{
	char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *d = copy;
	if (!slash)
		d = ".";
	else if (slash == copy)
		d = "/";
	else
		*slash = '\0';
	char *real = realpath(d, NULL);
	char *res = real ? real : xstrdup(d);
	free(copy);
	return res;
}

static char *get_path(struct loader *ld, const yaml_node_t *n, const char *key)
{
	const char *s = get_text(ld, n, key, "a path");
	return s ? resolve_path(ld->cfg, s) : NULL;
}

/* "256MiB", "1GiB", "512KiB", "1048576" (bytes). */
static int parse_size(const char *s, size_t *out, const char **hint)
{
	static const struct { const char *unit; int shift; } units[] = {
		{ "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 },
	};
	*hint = NULL;
	const char *p = s;
	unsigned long long v = 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > (unsigned long long)SIZE_MAX / 10)
			return -1;
		v = v * 10 + (unsigned)(*p++ - '0');
	}
	if (*p == ' ')
		p++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		if (v > (unsigned long long)(SIZE_MAX >> units[i].shift))
			return -1;
		*out = (size_t)(v << units[i].shift);
		return 0;
	}
	static const char *const decimal[] = { "k", "kb", "m", "mb", "g", "gb", "kib", "mib", "gib" };
	static const char *const binary[] = { "KiB", "KiB", "MiB", "MiB", "GiB", "GiB", "KiB", "MiB", "GiB" };
	for (size_t i = 0; i < ARRAY_SIZE(decimal); i++)
		if (!strcasecmp(p, decimal[i]))
			*hint = binary[i];
	return -1;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A true/false value into *out: 0, or -1 with the problem recorded. */
static int get_bool(struct loader *ld, const yaml_node_t *n, const char *key, int *out)
{
	const char *s = get_text(ld, n, key, "true or false");
	if (!s)
		return -1;
	if (parse_bool(s, out)) {
		problem_at(ld, n, key, "'%s' is not true or false", s);
		return -1;
	}
	return 0;
}

static void check_url(struct loader *ld, const yaml_node_t *n, const char *key, const char *url)
{
	if ((strncmp(url, "http://", 7) || !url[7]) && (strncmp(url, "https://", 8) || !url[8]))
		problem_at(ld, n, key, "'%s' is not an http:// or https:// URL; give the webhook's full URL", url);
}

static int is_identifier(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static const char *param_name_problem(const char *name)
{
	if (!is_identifier(name))
		return "is not a valid param name: use letters, digits and '_', not starting with a digit";
	for (size_t i = 0; reserved_params[i]; i++)
		if (!strcmp(name, reserved_params[i]))
			return "is reserved (it would change how commands run); choose another name";
	if (!strncmp(name, "LD_", 3) || !strncmp(name, "DYLD_", 5) || !strncmp(name, "LIFEBOAT_", 9))
		return "is reserved (LD_, DYLD_ and LIFEBOAT_ names are); choose another name";
	return NULL;
}

static double get_duration(struct loader *ld, const yaml_node_t *n, const char *key)
{
	const char *s = get_text(ld, n, key, "a duration such as 15m");
	double secs;
	if (!s)
		return NAN;
	if (duration_parse(s, &secs)) {
		problem_at(ld, n, key, "'%s' is not a duration; use 500ms, 90s, 15m, 1h30m, 2d or a number of seconds",
			   s);
		return NAN;
	}
	return secs;
}

/* ---- time zones -------------------------------------------------------- */

static const char *tz_dir(void)
{
	const char *d = getenv("TZDIR");
	return d && *d ? d : "/usr/share/zoneinfo";
}

static int tz_exists(const char *name)
{
	if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
		return 1;	/* the C library knows UTC without tzdata */
	if (!*name || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return 0;
	char *path = xasprintf("%s/%s", tz_dir(), name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	char magic[4];
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && !memcmp(magic, "TZif", 4);
}

/* The closest zone name, corrected one component at a time; xmalloc'd or NULL. */
static char *tz_suggest(const char *name)
{
	struct strbuf found;
	strbuf_init(&found, 64);
	char *copy = xstrdup(name), *save = NULL;
	int ok = 1;
	for (char *part = strtok_r(copy, "/", &save); part && ok; part = strtok_r(NULL, "/", &save)) {
		char *dir = xasprintf("%s%s%s", tz_dir(), found.len ? "/" : "", found.buf);
		DIR *d = opendir(dir);
		free(dir);
		if (!d) {
			ok = 0;
			break;
		}
		char **names = NULL;
		size_t n = 0;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
		closedir(d);
		const char *best = NULL;
		for (size_t i = 0; i < n && !best; i++)
			if (!strcmp(names[i], part))
				best = names[i];
		if (!best)
			best = suggest_word(part, (const char *const *)names, n);
		if (best)
			strbuf_addf(&found, "%s%s", found.len ? "/" : "", best);
		else
			ok = 0;
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	free(copy);
	if (!ok || !tz_exists(found.buf) || !strcmp(found.buf, name)) {
		strbuf_release(&found);
		return NULL;
	}
	return strbuf_detach(&found);
}

/* ---- sections ---------------------------------------------------------- */

static void load_roles(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "roles", "a map of role names to { members: [...], notify: URL }",
				    NULL))
		return;
	cfg->roles = xcalloc(map_len(n) + 1, sizeof(*cfg->roles));
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		struct config_role *role = &cfg->roles[cfg->nroles++];
		role->name = xstrdup(name);
		role->line = (int)line_of(node_at(ld, p->key));
		yaml_node_t *v = node_at(ld, p->value);
		char *key = child_key("roles", name);
		if (!is_null(v) && !check_map(ld, v, key, "a map such as { members: [alice, bob] }", role_keys)) {
			yaml_node_t *m = map_get(ld, v, "members");
			if (m) {
				char *mkey = child_key(key, "members");
				role->nmembers = get_text_list(ld, m, mkey, "a list of operator names such as [alice, bob]",
							       "an operator name", &role->members);
				free(mkey);
			}
			yaml_node_t *u = map_get(ld, v, "notify");
			if (u) {
				char *ukey = child_key(key, "notify");
				const char *url = get_text(ld, u, ukey, "a webhook URL");
				if (url) {
					check_url(ld, u, ukey, url);
					role->notify = xstrdup(url);
				}
				free(ukey);
			}
		}
		free(key);
	}
}

static void load_params(struct loader *ld, struct config_env *env, const yaml_node_t *n, const char *key)
{
	if (is_null(n) || check_map(ld, n, key, "a map of param names to values", NULL))
		return;
	env->params = xcalloc(map_len(n) + 1, sizeof(*env->params));
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		char *pkey = child_key(key, name);
		const char *why = param_name_problem(name);
		yaml_node_t *v = node_at(ld, p->value);
		if (why) {
			problem_at(ld, node_at(ld, p->key), pkey, "'%s' %s", name, why);
		} else if (is_null(v)) {
			problem_at(ld, v, pkey, "has no value; write \"\" for an empty one");
		} else {
			const char *s = get_text(ld, v, pkey, "a single value (text or number)");
			if (s) {
				env->params[env->nparams].name = xstrdup(name);
				env->params[env->nparams].value = xstrdup(s);
				env->params[env->nparams].line = (int)line_of(node_at(ld, p->key));
				env->nparams++;
			}
		}
		free(pkey);
	}
}

/* ---- the inventory (SPEC 8) -------------------------------------------- */

static int is_group_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/*
 * What is wrong with an ssh destination, or NULL. It becomes one argument of
 * ssh after "--", but a leading '-' or a space is a mistake however it is passed.
 */
static const char *destination_problem(const char *s)
{
	if (!*s)
		return "is empty";
	if (*s == '-')
		return "starts with '-'";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!isalnum(c) && !strchr("._-@:[]%+", c))
			return "has a character that is not in a host name, user@host:port or an ssh config name";
	}
	return NULL;
}

/* hosts: { group: [dest, ...] } into *out; returns how many groups. */
static size_t load_groups(struct loader *ld, const yaml_node_t *n, const char *key, struct config_group **out)
{
	*out = NULL;
	if (is_null(n) || check_map(ld, n, key, "a map of group names to lists of hosts, such as "
				    "{ serving: [serve-1, serve-2] }", NULL))
		return 0;
	struct config_group *g = xcalloc(map_len(n) + 1, sizeof(*g));
	size_t count = 0;
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		char *gkey = child_key(key, name);
		yaml_node_t *kn = node_at(ld, p->key), *v = node_at(ld, p->value);
		if (!is_group_name(name)) {
			problem_at(ld, kn, gkey, "'%s' is not a group name; use letters, digits, '_', '-' and '.'",
				   name);
		} else if (is_null(v)) {
			problem_at(ld, v, gkey, "the group lists no host; give a list such as [serve-1, serve-2]");
		} else {
			struct config_group *gr = &g[count++];
			gr->name = xstrdup(name);
			gr->line = (int)line_of(kn);
			gr->nhosts = get_text_list(ld, v, gkey, "a list of hosts such as [serve-1, admin@10.0.0.5:2222]",
						   "a host (an ssh config name or user@host:port)", &gr->hosts);
			if (v->type == YAML_SEQUENCE_NODE) {
				size_t i = 0;
				FOR_ITEMS(v, it) {
					yaml_node_t *item = node_at(ld, *it);
					if (item->type == YAML_SCALAR_NODE && !is_null(item)) {
						const char *h = (const char *)item->data.scalar.value, *why;
						if ((why = destination_problem(h)))
							problem_at(ld, item, gkey, "host '%s' %s", h, why);
					}
					i++;
				}
				if (!i)
					problem_at(ld, v, gkey, "the group lists no host; give a list such as [serve-1, serve-2]");
			}
		}
		free(gkey);
	}
	*out = g;
	return count;
}

static void load_ssh(struct loader *ld, const yaml_node_t *n)
{
	struct config_ssh *ssh = &ld->cfg->ssh;
	if (is_null(n) || check_map(ld, n, "ssh", "a map such as { config: ssh_config, connect_timeout: 5s, "
				    "parallel: 10 }", ssh_keys))
		return;
	yaml_node_t *v;
	if ((v = map_get(ld, n, "config"))) {
		ssh->config = get_path(ld, v, "ssh.config");
		struct stat sb;
		if (ssh->config && stat(ssh->config, &sb))
			problem_at(ld, v, "ssh.config", "cannot read '%s': %s; give the path of an ssh client "
				   "config file (ssh -F)", ssh->config, strerror(errno));
	}
	if ((v = map_get(ld, n, "connect_timeout"))) {
		double d = get_duration(ld, v, "ssh.connect_timeout");
		if (!isnan(d) && d < 1)
			problem_at(ld, v, "ssh.connect_timeout", "must be at least 1s (ssh counts whole seconds)");
		else if (!isnan(d))
			ssh->connect_timeout_s = d;
	}
	if ((v = map_get(ld, n, "parallel"))) {
		const char *s = get_text(ld, v, "ssh.parallel", "a whole number of connections such as 10");
		char *end = NULL;
		long k = s ? strtol(s, &end, 10) : 0;
		if (s && (end == s || *end || k < 1 || k > 1000))
			problem_at(ld, v, "ssh.parallel", "'%s' is not a whole number from 1 to 1000", s);
		else if (s)
			ssh->parallel = (int)k;
	}
	if ((v = map_get(ld, n, "options"))) {
		free(ssh->options);
		ssh->options = NULL;
		ssh->noptions = get_text_list(ld, v, "ssh.options", "a list of ssh arguments such as "
					      "[\"-o\", \"ServerAliveInterval=5\"]", "an ssh argument", &ssh->options);
		if (!ssh->options)
			ssh->options = xcalloc(1, sizeof(char *));
	}
}

static void load_environments(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "environments",
				    "a map of environment names to { rto, rpo, params }", NULL))
		return;
	cfg->envs = xcalloc(map_len(n) + 1, sizeof(*cfg->envs));
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		struct config_env *env = &cfg->envs[cfg->nenvs++];
		env->name = xstrdup(name);
		env->rto_s = env->rpo_s = NAN;
		env->drills = 1;
		env->line = (int)line_of(node_at(ld, p->key));
		yaml_node_t *v = node_at(ld, p->value);
		char *key = child_key("environments", name);
		if (!is_null(v) && !check_map(ld, v, key, "a map such as { rto: 15m, rpo: 1h, params: {...} }",
					      env_keys)) {
			yaml_node_t *d;
			if ((d = map_get(ld, v, "rto"))) {
				char *k = child_key(key, "rto");
				env->rto_s = get_duration(ld, d, k);
				free(k);
			}
			if ((d = map_get(ld, v, "rpo"))) {
				char *k = child_key(key, "rpo");
				env->rpo_s = get_duration(ld, d, k);
				free(k);
			}
			if ((d = map_get(ld, v, "params"))) {
				char *k = child_key(key, "params");
				load_params(ld, env, d, k);
				free(k);
			}
			if ((d = map_get(ld, v, "require_signed"))) {
				char *k = child_key(key, "require_signed");
				get_bool(ld, d, k, &env->require_signed);
				free(k);
			}
			if ((d = map_get(ld, v, "drills"))) {
				char *k = child_key(key, "drills");
				const char *t = get_text(ld, d, k, "true or false");
				if (t && parse_bool(t, &env->drills))
					problem_at(ld, d, k, "'%s' is not true or false", t);
				free(k);
			}
			if ((d = map_get(ld, v, "hosts"))) {
				char *k = child_key(key, "hosts");
				env->ngroups = load_groups(ld, d, k, &env->groups);
				free(k);
			}
		}
		free(key);
	}
}

static const char **role_names(const struct config *cfg)
{
	const char **names = xcalloc(cfg->nroles + 1, sizeof(*names));
	for (size_t i = 0; i < cfg->nroles; i++)
		names[i] = cfg->roles[i].name;
	return names;
}

static const char **env_names(const struct config *cfg)
{
	const char **names = xcalloc(cfg->nenvs + 1, sizeof(*names));
	for (size_t i = 0; i < cfg->nenvs; i++)
		names[i] = cfg->envs[i].name;
	return names;
}

/* The environment named by node n (reported when undefined), or NULL. */
static struct config_env *env_named(struct loader *ld, const yaml_node_t *n, const char *key, const char *name)
{
	struct config_env *env = NULL;
	for (size_t i = 0; i < ld->cfg->nenvs && !env; i++)
		if (!strcmp(ld->cfg->envs[i].name, name))
			env = &ld->cfg->envs[i];
	if (!env) {
		const char **names = env_names(ld->cfg);
		problem_at(ld, n, key, "environment '%s' is not defined under environments; define it there or fix "
			   "the name%s", name, did_you_mean(name, names, ld->cfg->nenvs));
		free(names);
	}
	return env;
}

/* Each role named in list n must be defined under roles. */
static void check_role_refs(struct loader *ld, const yaml_node_t *n, const char *key, const char **roles)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return;
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		const char *role = item->type == YAML_SCALAR_NODE && !is_null(item)
					   ? (const char *)item->data.scalar.value : NULL;
		if (role && !config_role(ld->cfg, role)) {
			char *ikey = xasprintf("%s[%zu]", key, idx);
			problem_at(ld, item, ikey, "role '%s' is not defined under roles; define it there or fix the "
				   "name%s", role, did_you_mean(role, roles, ld->cfg->nroles));
			free(ikey);
		}
		idx++;
	}
}

static void load_permissions(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "permissions", "a map of environment names to { run: [roles] }", NULL))
		return;
	const char **roles = role_names(cfg);
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		char *key = child_key("permissions", name);
		struct config_env *env = env_named(ld, node_at(ld, p->key), key, name);
		yaml_node_t *v = node_at(ld, p->value);
		yaml_node_t *run = NULL;
		if (is_null(v))
			problem_at(ld, v, key, "needs run: [roles] listing the roles whose members may run here");
		else if (!check_map(ld, v, key, "a map such as { run: [commander, sre] }", permission_keys)
			 && !(run = map_get(ld, v, "run")))
			problem_at(ld, v, key, "needs run: [roles] listing the roles whose members may run here");
		if (run && is_null(run)) {
			char *rkey = child_key(key, "run");
			problem_at(ld, run, rkey, "has no roles; list the roles whose members may run here, or write "
				   "run: [] to let nobody");
			free(rkey);
			run = NULL;
		}
		if (run) {
			char *rkey = child_key(key, "run");
			char **list;
			size_t count = get_text_list(ld, run, rkey, "a list of role names such as [commander, sre]",
						     "a role name", &list);
			check_role_refs(ld, run, rkey, roles);
			if (env && list) {
				env->restricted = 1;
				env->run_roles = list;
				env->nrun_roles = count;
			} else if (list) {
				for (size_t i = 0; i < count; i++)
					free(list[i]);
				free(list);
			}
			free(rkey);
		}
		free(key);
	}
	free(roles);
}

static void load_notify(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "notify", "a map such as { webhook: URL, events: [...] }", notify_keys))
		return;
	yaml_node_t *w = map_get(ld, n, "webhook");
	if (w) {
		const char *url = get_text(ld, w, "notify.webhook", "a webhook URL");
		if (url) {
			check_url(ld, w, "notify.webhook", url);
			cfg->webhook = xstrdup(url);
		}
	}
	yaml_node_t *e = map_get(ld, n, "events");
	if (!e || is_null(e) || check_list(ld, e, "notify.events", "a list of event names such as [run_started]"))
		return;
	cfg->events = 0;
	size_t idx = 0;
	FOR_ITEMS(e, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *key = xasprintf("notify.events[%zu]", idx++);
		const char *name = get_text(ld, item, key, "an event name");
		int ev = name ? config_event_parse(name) : -1;
		if (ev >= 0) {
			cfg->events |= 1u << ev;
		} else if (name) {
			const char *s = suggest_word(name, event_names, CONFIG_EVENT_COUNT);
			char *all = join_names(event_names, CONFIG_EVENT_COUNT, "");
			if (s)
				problem_at(ld, item, key, "unknown event '%s'; did you mean '%s'?", name, s);
			else
				problem_at(ld, item, key, "unknown event '%s'; the events are %s", name, all);
			free(all);
		}
		free(key);
	}
}

static void load_schedules(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_list(ld, n, "schedules",
				     "a list of { runbook: FILE, cron: \"m h dom mon dow\", env: NAME, yes: BOOL }"))
		return;
	cfg->schedules = xcalloc(list_len(n) + 1, sizeof(*cfg->schedules));
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *v = node_at(ld, *it);
		char *key = xasprintf("schedules[%zu]", idx++);
		if (check_map(ld, v, key, "a map such as { runbook: FILE, cron: \"0 3 * * 1\" }", schedule_keys)) {
			free(key);
			continue;
		}
		struct config_schedule sc = { .line = (int)line_of(v) };
		int ok = 1;
		char *k;
		yaml_node_t *r = map_get(ld, v, "runbook"), *c = map_get(ld, v, "cron");
		yaml_node_t *e = map_get(ld, v, "env"), *y = map_get(ld, v, "yes");
		yaml_node_t *ev = map_get(ld, v, "evidence");
		if (ev) {
			k = child_key(key, "evidence");
			if (get_bool(ld, ev, k, &sc.evidence))
				ok = 0;
			free(k);
		}
		if (!r) {
			problem_at(ld, v, key, "needs runbook: FILE, the runbook to drill");
			ok = 0;
		} else {
			k = child_key(key, "runbook");
			sc.runbook = get_path(ld, r, k);
			struct stat st;
			if (!sc.runbook) {
				ok = 0;
			} else if (stat(sc.runbook, &st) || !S_ISREG(st.st_mode)) {
				problem_at(ld, r, k, "runbook '%s' %s; fix the path (relative paths start from the "
					   "config file's folder, %s)", (const char *)r->data.scalar.value,
					   stat(sc.runbook, &st) ? "does not exist" : "is not a file", cfg->dir);
				ok = 0;
			}
			free(k);
		}
		if (!c) {
			problem_at(ld, v, key, "needs cron: \"MIN HOUR DAY MONTH WEEKDAY\", when to drill");
			ok = 0;
		} else {
			k = child_key(key, "cron");
			const char *expr = get_text(ld, c, k, "a cron expression such as \"0 3 * * 1\"");
			char *why = NULL;
			if (!expr) {
				ok = 0;
			} else if (cron_parse(expr, &sc.cron, &why)) {
				problem_at(ld, c, k, "invalid cron expression '%s': %s", expr, why);
				ok = 0;
			} else {
				sc.cron_expr = xstrdup(expr);
			}
			free(why);
			free(k);
		}
		if (e) {
			k = child_key(key, "env");
			const char *name = get_text(ld, e, k, "an environment name");
			if (name && env_named(ld, e, k, name))
				sc.env = xstrdup(name);
			else
				ok = 0;
			free(k);
		}
		if (y) {
			k = child_key(key, "yes");
			const char *s = get_text(ld, y, k, "true or false");
			if (s && parse_bool(s, &sc.yes)) {
				problem_at(ld, y, k, "'%s' is not true or false", s);
				ok = 0;
			}
			free(k);
		}
		if (ok) {
			sc.key = xasprintf("%s|%s|%s", sc.runbook, sc.cron_expr, sc.env ? sc.env : "");
			cfg->schedules[cfg->nschedules++] = sc;
		} else {
			free(sc.runbook);
			free(sc.cron_expr);
			free(sc.env);
		}
		free(key);
	}
}

static void load_timezone(struct loader *ld, const yaml_node_t *n)
{
	const char *tz = get_text(ld, n, "timezone", "a time zone name such as Europe/Berlin");
	if (!tz)
		return;
	if (!tz_exists(tz)) {
		char *s = tz_suggest(tz);
		if (s)
			problem_at(ld, n, "timezone", "unknown time zone '%s'; did you mean '%s'?", tz, s);
		else
			problem_at(ld, n, "timezone", "unknown time zone '%s'; use an IANA name such as UTC or "
				   "Europe/Berlin, as found under %s", tz, tz_dir());
		free(s);
		return;
	}
	free(ld->cfg->timezone);
	ld->cfg->timezone = xstrdup(tz);
}

static int has_secret(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (!strcmp(cfg->secrets[i].name, name))
			return 1;
	return 0;
}

static void load_secrets(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_list(ld, n, "secrets", "a list of environment variable names such as [DB_PASSWORD]"))
		return;
	cfg->secrets = xcalloc(list_len(n) + 1, sizeof(*cfg->secrets));
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *key = xasprintf("secrets[%zu]", idx++);
		const char *name = get_text(ld, item, key, "an environment variable name");
		if (!name) {
			free(key);
			continue;
		}
		const char *value = getenv(name);
		if (!is_identifier(name)) {
			problem_at(ld, item, key, "'%s' is not an environment variable name: use letters, digits and "
				   "'_', not starting with a digit", name);
		} else if (has_secret(cfg, name)) {
			problem_at(ld, item, key, "secret '%s' is listed twice; keep one", name);
		} else if (value && strlen(value) < CONFIG_SECRET_MIN) {
			problem_at(ld, item, key, "the value of secret '%s' is shorter than %d characters; set a longer "
				   "one (a short value would mask ordinary text)", name, CONFIG_SECRET_MIN);
		} else {
			cfg->secrets[cfg->nsecrets].name = xstrdup(name);
			cfg->secrets[cfg->nsecrets].value = xstrdup(value);
			cfg->secrets[cfg->nsecrets].line = (int)item->start_mark.line + 1;
			cfg->nsecrets++;
		}
		free(key);
	}
}

/* A list of public key files: each must be a minisign public key, read now. */
static void load_keys(struct loader *ld, const yaml_node_t *n, const char *key, char ***paths,
		      struct minisign_pub **pubs, size_t *count)
{
	if (is_null(n) || check_list(ld, n, key, "a list of minisign public key files such as [keys/ci.pub]"))
		return;
	*paths = xcalloc(list_len(n) + 1, sizeof(**paths));
	*pubs = xcalloc(list_len(n) + 1, sizeof(**pubs));
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *k = xasprintf("%s[%zu]", key, idx++);
		char *path = get_path(ld, item, k);
		char *err = NULL;
		if (path && minisign_pub_load(path, &(*pubs)[*count], &err)) {
			problem_at(ld, item, k, "%s; give a public key made by lifeboat keygen or minisign -G", err);
			free(err);
			free(path);
		} else if (path) {
			(*paths)[(*count)++] = path;
		}
		free(k);
	}
}

static void load_trust(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "trust", "a map such as { keys: [keys/ci.pub] }", trust_keys))
		return;
	yaml_node_t *k = map_get(ld, n, "keys");
	if (k)
		load_keys(ld, k, "trust.keys", &cfg->trust_keys, &cfg->trust_pubs, &cfg->ntrust_keys);
}

static void load_root(struct loader *ld, const yaml_node_t *root)
{
	struct config *cfg = ld->cfg;
	if (is_null(root))
		return;
	if (check_map(ld, root, NULL, "a map of settings (db, roles, environments, ...)", top_keys))
		return;
	yaml_node_t *n;
	if ((n = map_get(ld, root, "db")))
		cfg->db = get_path(ld, n, "db");
	if ((n = map_get(ld, root, "reports_dir")))
		cfg->reports_dir = get_path(ld, n, "reports_dir");
	if ((n = map_get(ld, root, "lua_memory"))) {
		const char *s = get_text(ld, n, "lua_memory", "a size such as 256MiB");
		const char *hint;
		size_t bytes;
		if (s && parse_size(s, &bytes, &hint)) {
			if (hint)
				problem_at(ld, n, "lua_memory", "'%s' is not a size; sizes use binary units: write %.*s%s",
					   s, (int)strspn(s, "0123456789"), s, hint);
			else
				problem_at(ld, n, "lua_memory", "'%s' is not a size; use a number of bytes or KiB, MiB, "
					   "GiB, such as 256MiB", s);
		} else if (s && bytes < CONFIG_LUA_MEMORY_MIN) {
			problem_at(ld, n, "lua_memory", "'%s' is too small for Lua to run; give at least 1MiB", s);
		} else if (s) {
			cfg->lua_memory = bytes;
		}
	}
	if ((n = map_get(ld, root, "sync"))) {
		const char *s = get_text(ld, n, "sync", "normal or full");
		if (s && !strcmp(s, "full"))
			cfg->sync = CONFIG_SYNC_FULL;
		else if (s && strcmp(s, "normal"))
			problem_at(ld, n, "sync", "'%s' is not normal or full%s", s, did_you_mean(s, sync_values, 2));
	}
	if ((n = map_get(ld, root, "roles")))
		load_roles(ld, n);
	if ((n = map_get(ld, root, "environments")))
		load_environments(ld, n);
	if ((n = map_get(ld, root, "permissions")))
		load_permissions(ld, n);
	if ((n = map_get(ld, root, "notify")))
		load_notify(ld, n);
	if ((n = map_get(ld, root, "schedules")))
		load_schedules(ld, n);
	if ((n = map_get(ld, root, "timezone")))
		load_timezone(ld, n);
	if ((n = map_get(ld, root, "secrets")))
		load_secrets(ld, n);
	if ((n = map_get(ld, root, "trust")))
		load_trust(ld, n);
	if ((n = map_get(ld, root, "evidence_key")))
		cfg->evidence_key = get_path(ld, n, "evidence_key");
	if ((n = map_get(ld, root, "hosts")))
		cfg->ngroups = load_groups(ld, n, "hosts", &cfg->groups);
	if ((n = map_get(ld, root, "ssh")))
		load_ssh(ld, n);
}

/* ---- loading ----------------------------------------------------------- */

/* A libyaml parse error, with its position (reader errors only know a byte offset). */
static void syntax_problem(struct loader *ld, const yaml_parser_t *parser)
{
	const char *problem = parser->problem ? parser->problem : "cannot parse";
	if (parser->error == YAML_MEMORY_ERROR)
		die_oom(0);
	if (parser->error == YAML_READER_ERROR) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < parser->problem_offset && i < ld->text_len; i++) {
			if (ld->text[i] == '\n')
				line++, col = 1;
			else
				col++;
		}
		problem_pos(ld, line, col, "invalid text (%s); save the file as UTF-8", problem);
		return;
	}
	const yaml_mark_t *m = &parser->problem_mark;
	if (parser->context)
		problem_pos(ld, m->line + 1, m->column + 1, "invalid YAML: %s, %s at line %zu; check the "
			    "indentation, quotes and brackets", problem, parser->context, parser->context_mark.line + 1);
	else
		problem_pos(ld, m->line + 1, m->column + 1, "invalid YAML: %s; check the indentation, quotes and "
			    "brackets", problem);
}

int config_find(const char *explicit_path, char **path_out)
{
	*path_out = NULL;
	if (explicit_path) {
		*path_out = xstrdup(explicit_path);
		return 1;
	}
	if (!access(CONFIG_FILE_DEFAULT, F_OK)) {
		*path_out = xstrdup(CONFIG_FILE_DEFAULT);
		return 1;
	}
	return 0;
}

/*
 * Parses the YAML of ld->text into root's callback; problems collect in ld.
 * Shared by the config file and the machine policy.
 */
static void parse_yaml(struct loader *ld, void (*load)(struct loader *ld, const yaml_node_t *root))
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		die_oom(sizeof(parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->text, ld->text_len);
	if (!yaml_parser_load(&parser, &ld->doc)) {
		syntax_problem(ld, &parser);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
		if (root) {
			yaml_document_t next;
			if (!yaml_parser_load(&parser, &next)) {
				syntax_problem(ld, &parser);
			} else {
				yaml_node_t *more = yaml_document_get_root_node(&next);
				if (more)
					problem_pos(ld, more->start_mark.line + 1, more->start_mark.column + 1,
						    "a second YAML document; the config is one document, remove the '---'");
				yaml_document_delete(&next);
			}
			load(ld, root);
		}
		yaml_document_delete(&ld->doc);
	}
	yaml_parser_delete(&parser);
}

static struct config_policy *loading_policy;	/* the policy load_policy fills (one load at a time) */

static void load_policy(struct loader *ld, const yaml_node_t *root)
{
	struct config_policy *p = loading_policy;
	if (is_null(root) || check_map(ld, root, NULL, "a map such as { keys: [...], require_signed: always }",
				       policy_keys))
		return;
	yaml_node_t *n;
	if ((n = map_get(ld, root, "keys")))
		load_keys(ld, n, "keys", &p->keys, &p->pubs, &p->nkeys);
	if ((n = map_get(ld, root, "require_signed"))) {
		if (n->type == YAML_SCALAR_NODE) {
			const char *s = (const char *)n->data.scalar.value;
			int b = 0;
			if (!strcmp(s, "always") || (!parse_bool(s, &b) && b))
				p->require_always = 1;
			else if (parse_bool(s, &b))
				problem_at(ld, n, "require_signed", "'%s' is not 'always' or a list of environments such as [prod]", s);
		} else {
			p->nrequire_envs = get_text_list(ld, n, "require_signed",
							 "'always' or a list of environments such as [prod]",
							 "an environment name", &p->require_envs);
		}
	}
}

/* The reason a policy file is not honoured, or NULL: it and its folder are root's alone. */
static char *policy_unsafe(const char *path)
{
	struct stat sb;
	char *dir = folder_of(path);
	char *why = NULL;
	const char *what[2] = { path, dir };
	for (int i = 0; i < 2 && !why; i++) {
		if (stat(what[i], &sb))
			why = xasprintf("cannot stat '%s': %s", what[i], strerror(errno));
		else if (sb.st_uid != 0)
			why = xasprintf("'%s' is not owned by root", what[i]);
		else if (sb.st_mode & (S_IWGRP | S_IWOTH))
			why = xasprintf("'%s' is writable by its group or others", what[i]);
	}
	free(dir);
	return why;
}

int config_policy_load(const char *path, struct config_policy **out, char **warning, char **err)
{
	*out = NULL;
	*warning = *err = NULL;
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	char *unsafe = policy_unsafe(path);
	if (unsafe) {
		*warning = xasprintf("ignoring the machine policy %s: %s; it counts only when only root can change it",
				     path, unsafe);
		free(unsafe);
		return 0;
	}
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read the machine policy '%s': %s", path, strerror(errno));
		return -1;
	}
	struct config dummy = { .dir = folder_of(path) };	/* where relative key paths start */
	struct loader ld = { .file = path, .text = text, .text_len = len, .cfg = &dummy };
	struct config_policy *p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(path);
	loading_policy = p;
	parse_yaml(&ld, load_policy);
	loading_policy = NULL;
	free(dummy.dir);
	free(text);
	if (ld.nproblems) {
		*err = take_problems(&ld);
		config_policy_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void config_policy_free(struct config_policy *p)
{
	if (!p)
		return;
	free(p->path);
	free_list(p->keys, p->nkeys);
	free(p->pubs);
	free_list(p->require_envs, p->nrequire_envs);
	free(p);
}

int config_policy_requires(const struct config_policy *p, const char *env)
{
	if (!p)
		return 0;
	if (p->require_always)
		return 1;
	for (size_t i = 0; env && i < p->nrequire_envs; i++)
		if (!strcmp(p->require_envs[i], env))
			return 1;
	return 0;
}

int config_read_params(const char *path, struct config_param **out, size_t *n, char **err)
{
	*out = NULL;
	*n = 0;
	*err = NULL;
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read params file '%s': %s", path, strerror(errno));
		return -1;
	}
	struct loader ld = { .file = path, .text = text, .text_len = len };
	struct config_env env;
	memset(&env, 0, sizeof(env));
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		die_oom(sizeof(parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		syntax_problem(&ld, &parser);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
		if (!root || is_null(root))
			problem_pos(&ld, 1, 1, "the file is empty; write a mapping such as 'registry: reg.example'");
		else
			load_params(&ld, &env, root, "params");
		yaml_document_delete(&ld.doc);
	}
	yaml_parser_delete(&parser);
	free(text);
	if (ld.nproblems) {
		*err = take_problems(&ld);
		for (size_t i = 0; i < env.nparams; i++) {
			free(env.params[i].name);
			free(env.params[i].value);
		}
		free(env.params);
		return -1;
	}
	*out = env.params;
	*n = env.nparams;
	return 0;
}

int config_load(const char *path, struct config **out, char **err)
{
	*out = NULL;
	*err = NULL;
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read config '%s': %s; check the path given to --config", path,
				 read_file_strerror(errno, READ_FILE_MAX));
		return -1;
	}
	struct loader ld = { .file = path, .text = text, .text_len = len };
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	cfg->dir = folder_of(path);
	cfg->lua_memory = CONFIG_LUA_MEMORY_DEFAULT;
	cfg->sync = CONFIG_SYNC_NORMAL;
	cfg->events = CONFIG_EVENTS_ALL;
	cfg->timezone = xstrdup("UTC");
	cfg->ssh.connect_timeout_s = CONFIG_SSH_CONNECT_TIMEOUT_DEFAULT;
	cfg->ssh.parallel = CONFIG_SSH_PARALLEL_DEFAULT;
	cfg->ssh.options = xcalloc(1, sizeof(char *));
	ld.cfg = cfg;
	parse_yaml(&ld, load_root);
	free(text);
	if (ld.nproblems) {
		*err = take_problems(&ld);
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}


static void free_groups(struct config_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].name);
		free_list(g[i].hosts, g[i].nhosts);
	}
	free(g);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free_groups(cfg->groups, cfg->ngroups);
	free(cfg->ssh.config);
	free_list(cfg->ssh.options, cfg->ssh.noptions);
	for (size_t i = 0; i < cfg->nroles; i++) {
		free(cfg->roles[i].name);
		free_list(cfg->roles[i].members, cfg->roles[i].nmembers);
		free(cfg->roles[i].notify);
	}
	free(cfg->roles);
	for (size_t i = 0; i < cfg->nenvs; i++) {
		struct config_env *e = &cfg->envs[i];
		free(e->name);
		for (size_t k = 0; k < e->nparams; k++) {
			free(e->params[k].name);
			free(e->params[k].value);
		}
		free(e->params);
		free_list(e->run_roles, e->nrun_roles);
		free_groups(e->groups, e->ngroups);
	}
	free(cfg->envs);
	for (size_t i = 0; i < cfg->nschedules; i++) {
		free(cfg->schedules[i].runbook);
		free(cfg->schedules[i].cron_expr);
		free(cfg->schedules[i].env);
		free(cfg->schedules[i].key);
	}
	free(cfg->schedules);
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		free(cfg->secrets[i].name);
		free(cfg->secrets[i].value);
	}
	free(cfg->secrets);
	free_list(cfg->trust_keys, cfg->ntrust_keys);
	free(cfg->trust_pubs);
	free(cfg->evidence_key);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->db);
	free(cfg->reports_dir);
	free(cfg->webhook);
	free(cfg->timezone);
	free(cfg);
}

/* ---- queries ----------------------------------------------------------- */

const char *config_event_name(enum config_event ev)
{
	return (unsigned)ev < CONFIG_EVENT_COUNT ? event_names[ev] : NULL;
}

int config_event_parse(const char *name)
{
	for (int i = 0; i < CONFIG_EVENT_COUNT; i++)
		if (!strcmp(event_names[i], name))
			return i;
	return -1;
}

int config_wants_event(const struct config *cfg, enum config_event ev)
{
	return cfg && (unsigned)ev < CONFIG_EVENT_COUNT && (cfg->events >> ev & 1);
}

const struct config_role *config_role(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nroles; i++)
		if (!strcmp(cfg->roles[i].name, name))
			return &cfg->roles[i];
	return NULL;
}

const struct config_env *config_env(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nenvs; i++)
		if (!strcmp(cfg->envs[i].name, name))
			return &cfg->envs[i];
	return NULL;
}

const char *config_secret(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nsecrets; i++)
		if (!strcmp(cfg->secrets[i].name, name))
			return cfg->secrets[i].value;
	return NULL;
}

int config_role_has_member(const struct config *cfg, const char *role, const char *operator)
{
	const struct config_role *r = config_role(cfg, role);
	for (size_t i = 0; r && operator && i < r->nmembers; i++)
		if (!strcmp(r->members[i], operator))
			return 1;
	return 0;
}

/* "alice, bob" — the members of the given roles, each once; xmalloc'd. */
static char *members_of(const struct config *cfg, char *const *roles, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb, 64);
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct config_role *r = config_role(cfg, roles[i]);
		for (size_t k = 0; r && k < r->nmembers; k++) {
			int seen = 0;
			for (size_t j = 0; j < i && !seen; j++)
				seen = config_role_has_member(cfg, roles[j], r->members[k]);
			for (size_t j = 0; j < k && !seen; j++)
				seen = !strcmp(r->members[j], r->members[k]);
			if (!seen)
				strbuf_addf(&sb, "%s%s", count++ ? ", " : "", r->members[k]);
		}
	}
	if (!count)
		strbuf_addstr(&sb, "nobody");
	return strbuf_detach(&sb);
}

int config_may_run(const struct config *cfg, const char *env, const char *operator, char **why)
{
	*why = NULL;
	const struct config_env *e = config_env(cfg, env);
	if (!e || !e->restricted)
		return 1;
	for (size_t i = 0; i < e->nrun_roles; i++)
		if (config_role_has_member(cfg, e->run_roles[i], operator))
			return 1;
	char *roles = join_names((const char *const *)e->run_roles, e->nrun_roles, "no roles");
	char *members = members_of(cfg, e->run_roles, e->nrun_roles);
	const struct config_role *first = NULL;
	for (size_t i = 0; i < e->nrun_roles && !(first && first->nmembers); i++)
		first = config_role(cfg, e->run_roles[i]);
	if (first && first->nmembers)
		*why = xasprintf("'%s' may not run in environment '%s': permissions.%s.run allows members of %s (%s): run as one of them with --as %s (or LIFEBOAT_USER)",
				 operator ? operator : "", env, env, roles, members, first->members[0]);
	else
		*why = xasprintf("'%s' may not run in environment '%s': permissions.%s.run allows members of %s (%s)",
				 operator ? operator : "", env, env, roles, members);
	free(roles);
	free(members);
	return 0;
}

int config_may_confirm(const struct config *cfg, const char *role, const char *operator, char **why)
{
	*why = NULL;
	const struct config_role *r = config_role(cfg, role);
	if (!r || !r->nmembers || config_role_has_member(cfg, role, operator))
		return 1;
	char *const roles[1] = { r->name };
	char *members = members_of(cfg, roles, 1);
	*why = xasprintf("'%s' may not confirm a step of role '%s': its members are %s: run as one of them with --as %s (or LIFEBOAT_USER)",
			 operator ? operator : "", role, members, r->members[0]);
	free(members);
	return 0;
}

int config_check_roles(const struct config *cfg, const char *const *roles, size_t n, char **err)
{
	*err = NULL;
	if (!cfg)
		return 0;
	struct strbuf sb;
	strbuf_init(&sb, 0);
	const char **names = role_names(cfg);
	for (size_t i = 0; i < n; i++) {
		if (config_role(cfg, roles[i]))
			continue;
		strbuf_addf(&sb, "%srole '%s' is not defined in %s; add it under roles%s", sb.len ? "\n" : "",
			    roles[i], cfg->path, did_you_mean(roles[i], names, cfg->nroles));
	}
	free(names);
	if (!sb.len) {
		strbuf_release(&sb);
		return 0;
	}
	*err = strbuf_detach(&sb);
	return -1;
}

/* ---- the inventory ----------------------------------------------------- */

static const struct config_group *group_in(const struct config_group *g, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i].name, name))
			return &g[i];
	return NULL;
}

const struct config_group *config_group(const struct config *cfg, const char *env, const char *name)
{
	if (!cfg)
		return NULL;
	const struct config_env *e = env ? config_env(cfg, env) : NULL;
	const struct config_group *g = e ? group_in(e->groups, e->ngroups, name) : NULL;
	return g ? g : group_in(cfg->groups, cfg->ngroups, name);
}

static int listed_in(const struct config_group *g, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < g[i].nhosts; k++)
			if (!strcmp(g[i].hosts[k], name))
				return 1;
	return 0;
}

int config_is_host(const struct config *cfg, const char *env, const char *name)
{
	if (!cfg)
		return 0;
	const struct config_env *e = env ? config_env(cfg, env) : NULL;
	return listed_in(cfg->groups, cfg->ngroups, name) || (e && listed_in(e->groups, e->ngroups, name));
}

static void add_dest(const char ***hosts, size_t *n, const char *h)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*hosts)[i], h))
			return;
	*hosts = xrealloc(*hosts, (*n + 1) * sizeof(**hosts));
	(*hosts)[(*n)++] = h;
}

static void add_names(const char ***v, size_t *n, const struct config_group *g, size_t ng, int hosts)
{
	for (size_t i = 0; i < ng; i++) {
		if (!hosts) {
			add_dest(v, n, g[i].name);
			continue;
		}
		for (size_t k = 0; k < g[i].nhosts; k++)
			add_dest(v, n, g[i].hosts[k]);
	}
}

int config_resolve_target(const struct config *cfg, const char *env, const char *name, int all_envs,
			  const char ***hosts, size_t *nhosts, char **err)
{
	*err = NULL;
	if (!cfg || (!cfg->ngroups && !all_envs && !(env && config_env(cfg, env) &&
						       config_env(cfg, env)->ngroups))) {
		int any = 0;
		for (size_t i = 0; cfg && i < cfg->nenvs; i++)
			any |= cfg->envs[i].ngroups > 0;
		if (!cfg || (!cfg->ngroups && !any)) {
			*err = xasprintf("'%s' names no host: %s has no inventory; list the hosts under hosts: "
					 "(SPEC 8), e.g. hosts: { serving: [serve-1, serve-2] }", name,
					 cfg ? cfg->path : "there is no lifeboat.yaml, so there");
			return -1;
		}
	}
	const struct config_group *g = config_group(cfg, env, name);
	if (!g && all_envs)
		for (size_t i = 0; i < cfg->nenvs && !g; i++)
			g = group_in(cfg->envs[i].groups, cfg->envs[i].ngroups, name);
	if (g) {
		for (size_t k = 0; k < g->nhosts; k++)
			add_dest(hosts, nhosts, g->hosts[k]);
		return 0;
	}
	int known = config_is_host(cfg, env, name);
	for (size_t i = 0; all_envs && !known && i < cfg->nenvs; i++)
		known = listed_in(cfg->envs[i].groups, cfg->envs[i].ngroups, name);
	if (known) {
		add_dest(hosts, nhosts, name);
		return 0;
	}
	/* did you mean: any group or host name */
	const char **cands = NULL;
	size_t nc = 0;
	add_names(&cands, &nc, cfg->groups, cfg->ngroups, 0);
	add_names(&cands, &nc, cfg->groups, cfg->ngroups, 1);
	for (size_t i = 0; i < cfg->nenvs; i++)
		if (all_envs || (env && !strcmp(cfg->envs[i].name, env))) {
			add_names(&cands, &nc, cfg->envs[i].groups, cfg->envs[i].ngroups, 0);
			add_names(&cands, &nc, cfg->envs[i].groups, cfg->envs[i].ngroups, 1);
		}
	const char *s = suggest_word(name, cands, nc);
	char *groups = NULL;
	{
		const char **gn = NULL;
		size_t ngn = 0;
		add_names(&gn, &ngn, cfg->groups, cfg->ngroups, 0);
		groups = join_names(gn, ngn, "none");
		free(gn);
	}
	if (s)
		*err = xasprintf("'%s' is neither a group nor a host of the inventory in %s (did you mean '%s'?)",
				 name, cfg->path, s);
	else
		*err = xasprintf("'%s' is neither a group nor a host of the inventory in %s (groups: %s); add it "
				 "under hosts: or fix the name", name, cfg->path, groups);
	free(groups);
	free(cands);
	return -1;
}
