/*
 * Named placeholders for secrets in what the history keeps for resume
 * (SPEC 3, issue 10 item 5): a param or a ctx.state value that holds a
 * secret is stored as "<secret:NAME>" (never the value, never "***"), and
 * resume puts the value back from the environment. A value given to mask()
 * has no name to come back from: it is stored as "<masked>".
 *
 * Both directions walk the JSON document's strings, so a value that JSON
 * escapes (quotes, backslashes) is found as it is, not in its encoded form.
 */
#ifndef LB_SECRETREF_H
#define LB_SECRETREF_H
#include <stddef.h>

#define SECRETREF_MASKED "<masked>"

struct secretref {
	const char *const *names;	/* the config's secrets that are set */
	const char *const *values;	/* their values, same order */
	size_t n;
	const char *const *masked;	/* mask()'d values, no name */
	size_t nmasked;
};

/* json with every secret value in its strings replaced by its placeholder; owned. NULL in, NULL out. */
char *secretref_hide(const struct secretref *s, const char *json);
/*
 * json with every "<secret:NAME>" put back from s; owned. When a name has
 * no value in s, returns NULL with *missing (owned) its name.
 */
char *secretref_fill(const struct secretref *s, const char *json, char **missing);

#endif
