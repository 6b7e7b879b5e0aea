/* JSON text from lifeboat's data over jansson: see json.h. */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

json_t *lbjson_stringn(const char *s, size_t len)
{
	size_t fixed_len;
	char *fixed = utf8_fix(s, len, &fixed_len);
	json_t *j = fixed ? json_stringn_nocheck(fixed, fixed_len) : json_stringn_nocheck(s, len);
	free(fixed);
	if (!j)
		die_oom(len);
	return j;
}

json_t *lbjson_string(const char *s)
{
	return s ? lbjson_stringn(s, strlen(s)) : json_null();
}

json_t *lbjson_secs(double s)
{
	return isfinite(s) ? json_real(round(s * 1000.0) / 1000.0) : json_null();
}

json_t *lbjson_tri(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

json_t *lbjson_parse(const char *text)
{
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	return j ? j : json_null();
}

char *lbjson_dump(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12)) : NULL;
	json_decref(j);
	return text ? text : xstrdup("null");	/* jansson allocates with malloc: free() it */
}

char *lbjson_quote(const char *s)
{
	return lbjson_dump(lbjson_string(s ? s : ""));
}
