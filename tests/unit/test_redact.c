/*
 * Secret redaction: whole strings against a table; streams cut at every
 * byte boundary, fed a byte at a time, and — for short inputs — cut in
 * every possible way, each compared with a plain reference that masks the
 * union of all occurrences; overlapping and prefix secrets, NUL bytes,
 * what is held back and when it comes out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"
#include "util.h"

static void collect(void *ud, const char *data, size_t len)
{
	struct strbuf *sb = ud;
	assert_true(len > 0);
	strbuf_add(sb, data, len);
}

static struct redactor *make(const char *const *secrets, size_t n)
{
	char *err = NULL;
	struct redactor *r = redact_new(secrets, n, &err);
	if (!r)
		fail_msg("redact_new: %s", err);
	return r;
}

/* The reference: mark every byte of every occurrence, one "***" per masked run. */
static char *reference(const char *const *secrets, size_t n, const char *in, size_t len, size_t *out_len)
{
	unsigned char *mask = xcalloc(len + 1, 1);
	for (size_t k = 0; k < n; k++) {
		size_t sl = strlen(secrets[k]);
		for (size_t i = 0; i + sl <= len; i++)
			if (!memcmp(in + i, secrets[k], sl))
				memset(mask + i, 1, sl);
	}
	struct strbuf sb;
	strbuf_init(&sb, len + 1);
	for (size_t i = 0; i < len; i++) {
		if (!mask[i])
			strbuf_addch(&sb, in[i]);
		else if (!i || !mask[i - 1])
			strbuf_addstr(&sb, "***");
	}
	free(mask);
	*out_len = sb.len;
	return strbuf_detach(&sb);
}

static int contains(const char *hay, size_t hay_len, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= hay_len; i++)
		if (!memcmp(hay + i, needle, nl))
			return 1;
	return 0;
}

/* Feeds in into r cut at the given lengths (summing to len), then flushes. */
static void feed_chunks(struct redactor *r, const char *in, const size_t *cuts, size_t ncuts, struct strbuf *out,
			size_t maxlen)
{
	size_t off = 0;
	for (size_t i = 0; i < ncuts; i++) {
		redact_feed(r, in + off, cuts[i], collect, out);
		off += cuts[i];
		assert_true(redact_pending(r) < maxlen);
	}
	redact_flush(r, collect, out);
	assert_int_equal(redact_pending(r), 0);
}

static void test_refuses_short(void **state)
{
	(void)state;
	const char *secrets[] = { "long-enough", "abc12" };
	char *err = NULL;
	assert_null(redact_new(secrets, 2, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "at least 6"));
	assert_null(strstr(err, "abc12"));	/* the message never shows the value */
	free(err);
	const char *empty[] = { "" };
	assert_null(redact_new(empty, 1, &err));
	free(err);
	struct redactor *r = redact_new(secrets, 1, &err);
	assert_non_null(r);
	assert_null(err);
	redact_free(r);
	r = redact_new(NULL, 0, &err);	/* no secrets: passes everything */
	char *s = redact_string(r, "hello");
	assert_string_equal(s, "hello");
	free(s);
	redact_free(r);
}

/* A value is masked in its JSON (once and twice) and XML forms too: an encoding before the redaction. */
static void test_encoded_forms(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "pw=pa\"ss\\word1.", "pw=***." },
		{ "{\"pw\":\"pa\\\"ss\\\\word1\"}", "{\"pw\":\"***\"}" },
		{ "\"{\\\"pw\\\":\\\"pa\\\\\\\"ss\\\\\\\\word1\\\"}\"", "\"{\\\"pw\\\":\\\"***\\\"}\"" },
		{ "<v a=\"pa&quot;ss\\word1\">", "<v a=\"***\">" },
		{ "k&lt;l&amp;m&gt;&apos;n&quot;z and k<l&m>'n\"z", "*** and ***" },
		{ "tab\\there and tab\there", "*** and ***" },
		{ "pa\"ss\\word", "pa\"ss\\word" },	/* a prefix of one form is not masked */
	};
	const char *secrets[] = { "pa\"ss\\word1", "k<l&m>'n\"z", "tab\there" };
	struct redactor *r = make(secrets, 3);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = redact_string(r, cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	redact_free(r);
}

static void test_strings(void **state)
{
	(void)state;
	static const struct { const char *secrets[3]; const char *in, *out; } cases[] = {
		{ { "hunter22" }, "pw=hunter22!", "pw=***!" },
		{ { "hunter22" }, "hunter22 and hunter22", "*** and ***" },
		{ { "hunter22" }, "hunter22hunter22", "***" },
		{ { "hunter22" }, "hunter2", "hunter2" },
		{ { "hunter22" }, "hunter2 hunter222", "hunter2 ***2" },
		{ { "hunter22" }, "", "" },
		{ { "abcdef", "defghi" }, "xabcdefghiy", "x***y" },	/* overlapping: the union goes */
		{ { "abcdef", "defghi" }, "xdefghiabcdefy", "x***y" },	/* touching */
		{ { "secret", "secret12" }, "secret12", "***" },	/* prefix: the longer one wins */
		{ { "secret", "secret12" }, "secret1", "***1" },
		{ { "secret", "secret12" }, "a secret", "a ***" },
		{ { "secret12", "secret" }, "secret12 secret", "*** ***" },
		{ { "aaaaaa" }, "aaaaaaa", "***" },			/* self-overlapping */
		{ { "aaaaaa" }, "aaaaa-aaaaaa-aaaaa", "aaaaa-***-aaaaa" },
		{ { "ababab" }, "abababab", "***" },
		{ { "ababab" }, "xababa", "xababa" },
		{ { "hunter22", "hunter22" }, "(hunter22)", "(***)" },	/* duplicates */
		{ { "p@ss w0rd\n" }, "line p@ss w0rd\nnext", "line ***next" },
		{ { "\xc3\xa9t\xc3\xa9-secret" }, "v=\xc3\xa9t\xc3\xa9-secret;", "v=***;" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = 0;
		while (n < 3 && cases[i].secrets[n])
			n++;
		struct redactor *r = make(cases[i].secrets, n);
		char *got = redact_string(r, cases[i].in);
		if (strcmp(got, cases[i].out))
			fail_msg("case %zu: '%s' gave '%s', want '%s'", i, cases[i].in, got, cases[i].out);
		free(got);
		redact_free(r);
	}
	assert_null(redact_string(NULL, NULL));
	char *s = redact_string(NULL, "as is");
	assert_string_equal(s, "as is");
	free(s);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	const char *secrets[] = { "hunter22" };
	struct redactor *r = make(secrets, 1);
	static const char in[] = "\0\0hunter22\0x\0hunt\0er22hunter22";
	size_t len = sizeof(in) - 1, out_len;
	char *got = redact_bytes(r, in, len, &out_len);
	static const char want[] = "\0\0***\0x\0hunt\0er22***";
	assert_int_equal(out_len, sizeof(want) - 1);
	assert_memory_equal(got, want, out_len);
	free(got);
	/* The same, a byte at a time. */
	struct strbuf sb;
	strbuf_init(&sb, 0);
	for (size_t i = 0; i < len; i++)
		redact_feed(r, in + i, 1, collect, &sb);
	redact_flush(r, collect, &sb);
	assert_int_equal(sb.len, sizeof(want) - 1);
	assert_memory_equal(sb.buf, want, sb.len);
	strbuf_release(&sb);
	redact_free(r);
}

/* Every input of the table, split once at every byte boundary, and fed a byte at a time. */
static void test_every_split(void **state)
{
	(void)state;
	const char *valid[] = { "s3cr3t-value", "s3cr3t", "value-xyz", "zzzzzzz" };
	static const char *const inputs[] = {
		"token=s3cr3t-value; next",
		"s3cr3t-value-xyz",
		"s3cr3s3cr3t-valu s3cr3t-value",
		"zzzzzzzzzzzzzz and zzzzzz",
		"no secrets in here at all, just text",
		"s3cr3t",
		"s3cr3t-valu",
		"xs3cr3t-value-xyzs3cr3t",
	};
	for (size_t t = 0; t < ARRAY_SIZE(inputs); t++) {
		const char *in = inputs[t];
		size_t len = strlen(in), want_len;
		char *want = reference(valid, 4, in, len, &want_len);
		struct redactor *r = make(valid, 4);
		char *whole = redact_bytes(r, in, len, NULL);
		assert_string_equal(whole, want);
		free(whole);
		for (size_t k = 0; k <= len; k++) {
			struct strbuf sb;
			strbuf_init(&sb, 0);
			size_t cuts[2] = { k, len - k };
			feed_chunks(r, in, cuts, 2, &sb, 12);
			if (sb.len != want_len || memcmp(sb.buf, want, want_len))
				fail_msg("'%s' split at %zu gave '%s', want '%s'", in, k, sb.buf, want);
			strbuf_release(&sb);
		}
		struct strbuf sb;
		strbuf_init(&sb, 0);
		size_t *ones = xcalloc(len + 1, sizeof(*ones));
		for (size_t i = 0; i < len; i++)
			ones[i] = 1;
		feed_chunks(r, in, ones, len, &sb, 12);
		assert_string_equal(sb.buf, want);
		free(ones);
		strbuf_release(&sb);
		free(want);
		redact_free(r);
	}
}

/* Over a two-letter alphabet, every input of 9 bytes cut in every one of its 256 ways. */
static void test_all_chunkings(void **state)
{
	(void)state;
	const char *secrets[] = { "aababa", "abaabb", "babbaa", "aabababa", "bbbbbb" };
	size_t nsec = ARRAY_SIZE(secrets), maxlen = 8;
	struct redactor *r = make(secrets, nsec);
	enum { LEN = 9 };
	char in[LEN + 1];
	size_t cuts[LEN];
	size_t checked = 0;
	for (unsigned bits = 0; bits < 1u << LEN; bits++) {
		for (int i = 0; i < LEN; i++)
			in[i] = (bits >> i & 1) ? 'b' : 'a';
		in[LEN] = '\0';
		size_t want_len;
		char *want = reference(secrets, nsec, in, LEN, &want_len);
		for (size_t k = 0; k < nsec; k++)
			assert_false(contains(want, want_len, secrets[k]));
		/* Each subset of the LEN-1 inner boundaries is one chunking. */
		for (unsigned split = 0; split < 1u << (LEN - 1); split++) {
			size_t n = 0, start = 0;
			for (size_t i = 1; i < LEN; i++) {
				if (split >> (i - 1) & 1) {
					cuts[n++] = i - start;
					start = i;
				}
			}
			cuts[n++] = LEN - start;
			struct strbuf sb;
			strbuf_init(&sb, 32);
			feed_chunks(r, in, cuts, n, &sb, maxlen);
			if (sb.len != want_len || memcmp(sb.buf, want, want_len))
				fail_msg("'%s' cut %#x gave '%s', want '%s'", in, split, sb.buf, want);
			for (size_t k = 0; k < nsec; k++)
				assert_false(contains(sb.buf, sb.len, secrets[k]));
			strbuf_release(&sb);
			checked++;
		}
		free(want);
	}
	assert_int_equal(checked, (size_t)1 << (2 * LEN - 1));
	redact_free(r);
}

/* Longer random inputs in random chunks (a fixed seed: the same run every time). */
static void test_random_chunkings(void **state)
{
	(void)state;
	const char *secrets[] = { "abcabd", "abcabcabd", "cabdab", "dddddd\n" };
	size_t nsec = ARRAY_SIZE(secrets);
	struct redactor *r = make(secrets, nsec);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 3000; round++) {
		char in[96];
		size_t len = 1 + (size_t)(seed % sizeof(in));
		for (size_t i = 0; i < len; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			in[i] = "abcd\n\0"[(seed >> 33) % 6];
		}
		size_t want_len;
		char *want = reference(secrets, nsec, in, len, &want_len);
		struct strbuf sb;
		strbuf_init(&sb, 0);
		size_t off = 0;
		while (off < len) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t n = 1 + (size_t)((seed >> 33) % 12);
			if (n > len - off)
				n = len - off;
			redact_feed(r, in + off, n, collect, &sb);
			assert_true(redact_pending(r) < 9);
			off += n;
		}
		redact_flush(r, collect, &sb);
		assert_int_equal(sb.len, want_len);
		assert_memory_equal(sb.buf, want, want_len);
		for (size_t k = 0; k < nsec; k++)
			assert_false(contains(sb.buf, sb.len, secrets[k]));
		strbuf_release(&sb);
		free(want);
	}
	redact_free(r);
}

/* What is held back, when it comes out, and that streams are independent. */
static void test_hold_and_flush(void **state)
{
	(void)state;
	const char *secrets[] = { "hunter22" };
	struct redactor *r = make(secrets, 1);
	struct strbuf sb;
	strbuf_init(&sb, 0);
	redact_feed(r, "log: hunt", 9, collect, &sb);
	assert_string_equal(sb.buf, "log: ");	/* "hunt" may begin the secret */
	assert_int_equal(redact_pending(r), 4);
	redact_feed(r, "ing", 3, collect, &sb);
	assert_string_equal(sb.buf, "log: hunting");	/* it did not */
	assert_int_equal(redact_pending(r), 0);
	redact_feed(r, " hunter2", 8, collect, &sb);
	assert_string_equal(sb.buf, "log: hunting ");
	redact_flush(r, collect, &sb);	/* the end of the stream: it never completed */
	assert_string_equal(sb.buf, "log: hunting hunter2");
	/* A new stream after a flush starts clean. */
	strbuf_reset(&sb);
	redact_feed(r, "hunter22", 8, collect, &sb);
	redact_flush(r, collect, &sb);
	assert_string_equal(sb.buf, "***");
	/* A masked span ending a feed: nothing more is emitted for it. */
	strbuf_reset(&sb);
	redact_feed(r, "x hunter22", 10, collect, &sb);
	assert_string_equal(sb.buf, "x ***");
	redact_feed(r, "hunter22 y", 10, collect, &sb);
	assert_string_equal(sb.buf, "x *** y");
	redact_flush(r, collect, &sb);
	/* Two streams from one set of secrets do not mix their tails. */
	struct redactor *other = redact_dup(r);
	struct strbuf a, b;
	strbuf_init(&a, 0);
	strbuf_init(&b, 0);
	redact_feed(r, "out hunt", 8, collect, &a);
	redact_feed(other, "err hun", 7, collect, &b);
	redact_feed(other, "ter22!", 6, collect, &b);
	redact_feed(r, "er22.", 5, collect, &a);
	redact_flush(r, collect, &a);
	redact_flush(other, collect, &b);
	assert_string_equal(a.buf, "out ***.");
	assert_string_equal(b.buf, "err ***!");
	redact_free(other);
	/* A NULL redactor passes bytes through. */
	strbuf_reset(&sb);
	redact_feed(NULL, "as is", 5, collect, &sb);
	redact_flush(NULL, collect, &sb);
	assert_string_equal(sb.buf, "as is");
	assert_null(redact_dup(NULL));
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&sb);
	redact_free(r);
}

/* A megabyte in pipe-sized reads with the secret straddling every read boundary. */
static void test_large_stream(void **state)
{
	(void)state;
	const char *secrets[] = { "TOPSECRET-0123456789" };
	struct redactor *r = make(secrets, 1);
	size_t chunk = 4096, total = 256 * chunk;
	char *in = xmalloc(total);
	memset(in, '.', total);
	size_t planted = 0;
	for (size_t off = chunk - 7; off + 20 <= total; off += chunk) {
		memcpy(in + off, secrets[0], 20);
		planted++;
	}
	struct strbuf sb;
	strbuf_init(&sb, total);
	for (size_t off = 0; off < total; off += chunk)
		redact_feed(r, in + off, chunk, collect, &sb);
	redact_flush(r, collect, &sb);
	assert_int_equal(sb.len, total - planted * (20 - 3));
	assert_false(contains(sb.buf, sb.len, "TOPSECRET"));
	strbuf_release(&sb);
	free(in);
	redact_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_short),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_encoded_forms),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_all_chunkings),
		cmocka_unit_test(test_random_chunkings),
		cmocka_unit_test(test_hold_and_flush),
		cmocka_unit_test(test_large_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
