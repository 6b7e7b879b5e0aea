/*
 * Secret placeholders in stored JSON (see secretref.h).
 */
#include "secretref.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* s with every occurrence of what replaced by with; NULL when what does not occur. */
static char *replace_all(const char *s, const char *what, const char *with)
{
	size_t wl = strlen(what);
	if (!wl || !strstr(s, what))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, strlen(s));
	for (const char *p = s, *hit; *p; p = hit + wl) {
		hit = strstr(p, what);
		if (!hit) {
			strbuf_addstr(&sb, p);
			break;
		}
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addstr(&sb, with);
	}
	return strbuf_detach(&sb);
}

static char *hide_text(const struct secretref *s, const char *text)
{
	char *cur = NULL;
	/* the longest first, so a secret containing another is named as itself */
	size_t total = s->n + s->nmasked;
	int *done = xcalloc(total + 1, sizeof(*done));
	for (;;) {
		size_t best = total, bestlen = 0;
		for (size_t i = 0; i < total; i++) {
			const char *v = i < s->n ? s->values[i] : s->masked[i - s->n];
			if (!done[i] && v && strlen(v) > bestlen) {
				best = i;
				bestlen = strlen(v);
			}
		}
		if (best == total)
			break;
		done[best] = 1;
		char *with = best < s->n ? xasprintf("<secret:%s>", s->names[best]) : xstrdup(SECRETREF_MASKED);
		const char *v = best < s->n ? s->values[best] : s->masked[best - s->n];
		char *next = replace_all(cur ? cur : text, v, with);
		free(with);
		if (next) {
			free(cur);
			cur = next;
		}
	}
	free(done);
	return cur;
}

/* "<secret:NAME>" put back; *missing set (owned) for the first name without a value. */
static char *fill_text(const struct secretref *s, const char *text, char **missing)
{
	if (!strstr(text, "<secret:"))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, strlen(text));
	const char *p = text;
	for (;;) {
		const char *open = strstr(p, "<secret:");
		const char *close = open ? strchr(open + 8, '>') : NULL;
		if (!open || !close) {
			strbuf_addstr(&sb, p);
			break;
		}
		strbuf_add(&sb, p, (size_t)(open - p));
		size_t nl = (size_t)(close - open - 8);
		const char *value = NULL;
		for (size_t i = 0; i < s->n && !value; i++)
			if (strlen(s->names[i]) == nl && !strncmp(s->names[i], open + 8, nl))
				value = s->values[i];
		if (!value) {
			if (!*missing)
				*missing = xstrndup(open + 8, nl);
			strbuf_add(&sb, open, (size_t)(close - open + 1));
		} else {
			strbuf_addstr(&sb, value);
		}
		p = close + 1;
	}
	return strbuf_detach(&sb);
}

typedef char *(*text_fn)(const struct secretref *s, const char *text, char **missing);

static char *hide_fn(const struct secretref *s, const char *text, char **missing)
{
	(void)missing;
	return hide_text(s, text);
}

/* Applies fn to every string value of j (in place). */
static void walk(json_t *j, const struct secretref *s, text_fn fn, char **missing)
{
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			if (json_is_string(v)) {
				char *t = fn(s, json_string_value(v), missing);
				if (t) {
					json_object_set_new(j, k, json_string(t));
					free(t);
				}
			} else {
				walk(v, s, fn, missing);
			}
		}
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			json_t *v = json_array_get(j, i);
			if (json_is_string(v)) {
				char *t = fn(s, json_string_value(v), missing);
				if (t) {
					json_array_set_new(j, i, json_string(t));
					free(t);
				}
			} else {
				walk(v, s, fn, missing);
			}
		}
	}
}

static char *apply(const struct secretref *s, const char *json, text_fn fn, char **missing)
{
	if (!json)
		return NULL;
	json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
	if (!j)
		return xstrdup(json);
	if (json_is_string(j)) {
		char *t = fn(s, json_string_value(j), missing);
		if (t) {
			json_decref(j);
			j = json_string(t);
			free(t);
		}
	} else {
		walk(j, s, fn, missing);
	}
	char *out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_decref(j);
	return out ? out : xstrdup(json);
}

char *secretref_hide(const struct secretref *s, const char *json)
{
	if (!s || (!s->n && !s->nmasked))
		return json ? xstrdup(json) : NULL;
	return apply(s, json, hide_fn, NULL);
}

char *secretref_fill(const struct secretref *s, const char *json, char **missing)
{
	*missing = NULL;
	if (!json)
		return NULL;
	if (!strstr(json, "<secret:"))
		return xstrdup(json);
	char *out = apply(s, json, fill_text, missing);
	if (*missing) {
		free(out);
		return NULL;
	}
	return out;
}
