/* lib/json.c: one rule for text that is not UTF-8, hostile text stays valid JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "util.h"

static void test_quote(void **state)
{
	(void)state;
	static const struct { const char *in; size_t len; const char *out; } cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "out1 <&\"'>]]>", 13, "\"out1 <&\\\"'>]]>\"" },
		{ "\x1b[2J\n", 5, "\"\\u001B[2J\\n\"" },
		{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
		{ "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"" },		/* a stray byte: U+FFFD */
		{ "\xc3", 1, "\"\xef\xbf\xbd\"" },			/* a cut sequence */
		{ "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },	/* a surrogate */
		{ "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },	/* overlong */
		{ "a\0b", 3, "\"a\\u0000b\"" },				/* NUL kept, with what follows */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = lbjson_dump(lbjson_stringn(cases[i].in, cases[i].len));
		assert_string_equal(s, cases[i].out);
		json_t *back = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		assert_non_null(back);	/* always valid JSON */
		json_decref(back);
		free(s);
	}
	char *q = lbjson_quote(NULL);
	assert_string_equal(q, "\"\"");
	free(q);
	q = lbjson_dump(lbjson_string(NULL));
	assert_string_equal(q, "null");
	free(q);
}

static void test_object(void **state)
{
	(void)state;
	char *s = lbjson_dump(json_pack("{s:o, s:o, s:i}", "runbook", lbjson_string("x\xfe"),
					"params", lbjson_parse("{\"a\":\"b\"}"), "n", 3));
	assert_string_equal(s, "{\"runbook\":\"x\xef\xbf\xbd\",\"params\":{\"a\":\"b\"},\"n\":3}");
	free(s);
	s = lbjson_dump(lbjson_parse("not json"));
	assert_string_equal(s, "null");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
