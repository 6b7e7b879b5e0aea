/*
 * The one way lifeboat builds JSON text from its own data: jansson values,
 * with one rule for text that is not UTF-8 (JSON cannot hold it): each byte
 * that is not part of a valid UTF-8 sequence becomes U+FFFD, so a value is
 * never dropped, never cut short and never makes the document invalid.
 * Names, files, errors, hosts: anything a runbook, a config, a person or a
 * step wrote goes through lbjson_string; jansson's "s" is for our own words.
 */
#ifndef LB_JSON_H
#define LB_JSON_H
#include <stddef.h>

#include <jansson.h>

/* A new JSON string of s (NULL: JSON null), by the rule above. Never NULL. */
json_t *lbjson_string(const char *s);
json_t *lbjson_stringn(const char *s, size_t len);
/* Seconds rounded to the millisecond; JSON null when not a finite number (absent). */
json_t *lbjson_secs(double s);
/* true or false; JSON null when v < 0 (not known yet). */
json_t *lbjson_tri(int v);
/* Parsed JSON text we wrote earlier (params, sources); JSON null when NULL or unreadable. */
json_t *lbjson_parse(const char *text);
/* Compact text of j, then drops the reference to j (NULL j: "null"). Never NULL; free() it. */
char *lbjson_dump(json_t *j);
/* The JSON string literal of s with its quotes, by the rule above; free() it. */
char *lbjson_quote(const char *s);

#endif
