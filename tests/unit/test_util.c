/* Table-driven unit tests: durations, timestamps, exit-code precedence, paths, mkdir_parents. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "engine.h"
#include "util.h"

static void test_duration_parse(void **state)
{
	(void)state;
	static const struct { const char *in; double out; } good[] = {
		{ "500ms", 0.5 }, { "90s", 90 }, { "15m", 900 }, { "1h30m", 5400 }, { "2d", 172800 },
		{ "30", 30 }, { "1.5", 1.5 }, { "0", 0 }, { "1h", 3600 }, { "2m30s", 150 },
		{ "1s500ms", 1.5 }, { "1d2h3m4s", 93784 }, { "0.5s", 0.5 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		double v = -1;
		assert_int_equal(duration_parse(good[i].in, &v), 0);
		assert_true(fabs(v - good[i].out) < 1e-9);
	}
	static const char *const bad[] = {
		"15 minutes", "", "m", "1h30", "30m1h", "1x", "-5s", "1.2.3", "1hh", " 5s", "5s ",
		"1e3", "15min", "1m1m", "abc", "1,5s",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		double v;
		if (duration_parse(bad[i], &v) != -1)
			fail_msg("'%s' should not parse", bad[i]);
	}
}

static void test_duration_format(void **state)
{
	(void)state;
	static const struct { double in; const char *out; } cases[] = {
		{ 0.25, "250ms" }, { 5, "5s" }, { 1.234, "1.23s" }, { 90, "1m30s" },
		{ 3725, "1h02m05s" }, { NAN, "-" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[32];
		assert_string_equal(duration_format(cases[i].in, buf, sizeof(buf)), cases[i].out);
	}
}

static void test_clock_parse(void **state)
{
	(void)state;
	static const struct { const char *in; int zone_required; int64_t ms; } good[] = {
		{ "2026-11-22T01:53:00Z", 1, 1795312380000LL },
		{ "2026-11-22T01:53:00.5Z", 1, 1795312380500LL },
		{ "2026-11-22T03:53:00+02:00", 1, 1795312380000LL },
		{ "2026-11-21T20:53:00-0500", 1, 1795312380000LL },
		{ "2026-11-22 01:53:00", 0, 1795312380000LL },
		{ "1795312380", 1, 1795312380000LL },
		{ "1795312380.25", 1, 1795312380250LL },
		{ "9223372036854774", 1, 9223372036854774000LL },
		{ "2026-11-22T15:53:00+14:00", 1, 1795312380000LL },
		{ "2028-02-29T00:00:00Z", 1, 1835395200000LL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		int64_t ms = 0;
		if (clock_parse(good[i].in, good[i].zone_required, &ms))
			fail_msg("'%s' should parse", good[i].in);
		assert_int_equal(ms, good[i].ms);
	}
	static const char *const bad[] = { "2026-11-22T01:53:00", "yesterday", "2026-13-01T00:00Z",
					   "2026-11-22T25:00:00Z", "", "12:00",
					   /* issue 10 item 14: overflow, no digit, impossible offsets and days */
					   "99999999999999999999", "9223372036854776", ".", "..",
					   "2026-11-22T01:53:00+99:99", "2026-11-22T01:53:00+24:00",
					   "2026-11-22T01:53:00+01:60", "2026-02-31T00:00:00Z" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t ms;
		if (!clock_parse(bad[i], 1, &ms))
			fail_msg("'%s' should not parse with a zone required", bad[i]);
	}
	char iso[32];
	assert_string_equal(clock_iso8601(1795312380007LL, iso), "2026-11-22T01:53:00.007Z");
	assert_string_equal(clock_iso8601(TS_NONE, iso), "");
}

static void test_exit_precedence(void **state)
{
	(void)state;
	static const struct { int a, b, want; } cases[] = {
		{ 0, 0, 0 }, { 1, 3, 1 }, { 3, 4, 3 }, { 4, 6, 4 }, { 6, 0, 6 }, { 130, 1, 130 },
		{ 143, 130, 143 }, { 5, 143, 5 }, { 2, 5, 2 }, { 0, 4, 4 }, { 6, 3, 3 },
		{ 7, 143, 7 }, { 7, 0, 7 }, { 5, 7, 5 }, { 2, 7, 2 }, { 1, 7, 7 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(exit_code_precedence(cases[i].a, cases[i].b), cases[i].want);
		assert_int_equal(exit_code_precedence(cases[i].b, cases[i].a), cases[i].want);
	}
}

static void test_sha256(void **state)
{
	(void)state;
	char hex[65];
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* mkdir -p of a file's folder: every missing level made, an existing one fine, a failure named. */
static void test_mkdir_parents(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/lb-test-util.XXXXXX";
	char *root = mkdtemp(tmpl);
	assert_non_null(root);
	char *path = xasprintf("%s/a/b/c/report.json", root), *failed = (char *)"unset";
	assert_int_equal(mkdir_parents(path, 0700, &failed), 0);
	assert_null(failed);
	char *dir = xasprintf("%s/a/b/c", root);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(mkdir_parents(path, 0700, NULL), 0);	/* all there already */
	assert_int_equal(access(path, F_OK), -1);		/* the file itself is not made */

	char *file = xasprintf("%s/a/plain", root), *under = xasprintf("%s/x/y", file);
	assert_int_equal(write_new_file(file, "x", 0600), 0);
	assert_int_equal(mkdir_parents(under, 0700, &failed), -1);
	assert_int_equal(errno, ENOTDIR);
	char *want = xasprintf("%s/x", file);	/* a file where a folder should be: EEXIST, then this */
	assert_string_equal(failed, want);
	free(want);
	free(failed);

	char *err = NULL;
	assert_int_equal(err_set(&err, "cannot %s '%s'", "open", "x"), -1);
	assert_string_equal(err, "cannot open 'x'");
	free(err);

	char *cmd = xasprintf("rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(under);
	free(file);
	free(dir);
	free(path);
}

static void test_strbuf(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	assert_int_equal(sb.len, strlen(sb.buf));
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	char *s = strbuf_detach(&sb);
	assert_null(sb.buf);
	free(s);
}

static void test_path_dirname(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "x.lua", "." }, { "/x.lua", "/" }, { "a/b.lua", "a" }, { "./b.lua", "." },
		{ "/srv/runbooks/db.lua", "/srv/runbooks" }, { "../x/y", "../x" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *d = path_dirname(cases[i].in);
		assert_string_equal(d, cases[i].out);
		free(d);
	}
}

/* An existing file: its canonical path (links resolved); a missing one: joined to the folder as written. */
static void test_path_absolute(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/lb-test-util-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *real_dir = realpath(dir, NULL);
	char *old = getcwd(NULL, 0);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(mkdir("sub", 0700), 0);
	assert_int_equal(write_new_file("sub/history.db", "", 0600), 0);
	assert_int_equal(symlink("sub/history.db", "link.db"), 0);
	static const struct { const char *in; int in_dir; const char *out; } cases[] = {
		{ "link.db", 1, "sub/history.db" },		/* a link: the file it names */
		{ "sub/../sub/history.db", 1, "sub/history.db" },
		{ "missing/new.db", 1, "missing/new.db" },	/* about to be created */
		{ "/nowhere/x.db", 0, "/nowhere/x.db" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *want = cases[i].in_dir ? xasprintf("%s/%s", real_dir, cases[i].out) :
					       xstrdup(cases[i].out);
		char *got = path_absolute(cases[i].in);
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
	unlink("link.db");
	unlink("sub/history.db");
	rmdir("sub");
	assert_int_equal(chdir(old), 0);
	rmdir(dir);
	free(old);
	free(real_dir);
}

/* Valid UTF-8 is left alone (NULL); each byte that starts no valid sequence becomes U+FFFD. */
static void test_utf8_fix(void **state)
{
	(void)state;
	static const struct { const char *in; const char *out; } cases[] = {
		{ "", NULL }, { "plain", NULL }, { "caf\xc3\xa9 \xe2\x82\xac", NULL },
		{ "op\xff", "op\xef\xbf\xbd" },
		{ "caf\xe9/x", "caf\xef\xbf\xbd/x" },
		{ "\xc3", "\xef\xbf\xbd" },				/* cut short */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong: two bad bytes */
		{ "a\xed\xa0\x80" "b", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b" },	/* a surrogate */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = 12345;
		char *got = utf8_fix(cases[i].in, strlen(cases[i].in), &n);
		if (!cases[i].out) {
			assert_null(got);
			continue;
		}
		assert_non_null(got);
		assert_string_equal(got, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_clock_parse),
		cmocka_unit_test(test_exit_precedence),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_path_dirname),
		cmocka_unit_test(test_path_absolute),
		cmocka_unit_test(test_mkdir_parents),
		cmocka_unit_test(test_utf8_fix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
