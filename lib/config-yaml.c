/*
 * Reading lifeboat.yaml's nodes: each problem collected with its position
 * (sorted into file order at the end), the checks every section uses (a
 * map with known keys, a list, a text, a path, a size, a duration, true or
 * false) and "did you mean" for names.
 */
#include "config-int.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define MAX_ERRORS 50

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

void problem_at(struct loader *ld, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (n)
		add_problem(ld, n->start_mark.line + 1, n->start_mark.column + 1, key, fmt, ap);
	else
		add_problem(ld, 0, 0, key, fmt, ap);
	va_end(ap);
}

void problem_pos(struct loader *ld, size_t line, size_t column, const char *fmt, ...)
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
char *take_problems(struct loader *ld)
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
const char *did_you_mean(const char *word, const char *const *cands, size_t n)
{
	static char buf[160];
	const char *s = suggest_word(word, cands, n);
	if (!s)
		return "";
	snprintf(buf, sizeof(buf), " (did you mean '%s'?)", s);
	return buf;
}

/* "a, b, c" for messages; xmalloc'd. */
char *join_names(const char *const *names, size_t n, const char *none)
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

yaml_node_t *node_at(struct loader *ld, int index)
{
	return yaml_document_get_node(&ld->doc, index);
}

int is_null(const yaml_node_t *n)
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

char *child_key(const char *parent, const char *key)
{
	return parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

/* A scalar's text, or NULL after reporting that key needs `want` instead. */
const char *get_text(struct loader *ld, const yaml_node_t *n, const char *key, const char *want)
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

const char *key_text(struct loader *ld, const yaml_node_pair_t *p)
{
	yaml_node_t *k = yaml_document_get_node(&ld->doc, p->key);
	if (!k || k->type != YAML_SCALAR_NODE || is_null(k) || strlen((const char *)k->data.scalar.value)
							       != k->data.scalar.length)
		return NULL;
	return (const char *)k->data.scalar.value;
}

/* Whether pair p repeats a key of an earlier pair of map m. */
int repeats_key(struct loader *ld, const yaml_node_t *m, const yaml_node_pair_t *p)
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
int check_map(struct loader *ld, const yaml_node_t *n, const char *key, const char *want,
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

yaml_node_t *map_get(struct loader *ld, const yaml_node_t *m, const char *name)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = key_text(ld, p);
		if (k && !strcmp(k, name))
			return node_at(ld, p->value);
	}
	return NULL;
}
int check_list(struct loader *ld, const yaml_node_t *n, const char *key, const char *want)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		problem_at(ld, n, key, "expected %s, found %s", want, type_name(n));
		return -1;
	}
	return 0;
}

size_t list_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

size_t map_len(const yaml_node_t *n)
{
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* A list of text values (null: none) into *out; returns how many. */
size_t get_text_list(struct loader *ld, const yaml_node_t *n, const char *key, const char *want,
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

size_t line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

void free_list(char **v, size_t n)
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
char *folder_of(const char *path)
{
	char *d = path_dirname(path);
	char *real = realpath(d, NULL);
	if (!real)
		return d;
	free(d);
	return real;
}

char *get_path(struct loader *ld, const yaml_node_t *n, const char *key)
{
	const char *s = get_text(ld, n, key, "a path");
	return s ? resolve_path(ld->cfg, s) : NULL;
}

/* "256MiB", "1GiB", "512KiB", "1048576" (bytes). */
int parse_size(const char *s, size_t *out, const char **hint)
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

int parse_bool(const char *s, int *out)
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
int get_bool(struct loader *ld, const yaml_node_t *n, const char *key, int *out)
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

void check_url(struct loader *ld, const yaml_node_t *n, const char *key, const char *url)
{
	if ((strncmp(url, "http://", 7) || !url[7]) && (strncmp(url, "https://", 8) || !url[8]))
		problem_at(ld, n, key, "'%s' is not an http:// or https:// URL; give the webhook's full URL", url);
}

int is_identifier(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

double get_duration(struct loader *ld, const yaml_node_t *n, const char *key)
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
