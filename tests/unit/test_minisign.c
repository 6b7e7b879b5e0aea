/*
 * The minisign formats (lib/minisign.c) on malformed input: every broken
 * file gives a clear error naming the line, never a crash (the suite also
 * runs under ASan and UBSan), and good ones round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minisign.h"
#include "util.h"

/* errp, not *errp: the arguments are evaluated in no set order, the call included */
static void expect_error(int rc, char **errp, const char *want)
{
	char *err = *errp;
	*errp = NULL;
	assert_int_equal(rc, -1);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
	free(err);
}

static char *b64_of(const char *prefix, size_t len, unsigned char fill)
{
	unsigned char buf[256];
	memset(buf, fill, sizeof(buf));
	memcpy(buf, prefix, strlen(prefix));
	return minisign_base64(buf, len);
}

static void test_base64(void **state)
{
	(void)state;
	static const struct { const char *raw, *enc; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *e = minisign_base64((const unsigned char *)v[i].raw, strlen(v[i].raw));
		assert_string_equal(e, v[i].enc);
		free(e);
		if (!*v[i].raw)
			continue;
		unsigned char out[16];
		long n = minisign_unbase64(v[i].enc, strlen(v[i].enc), out, sizeof(out));
		assert_int_equal(n, (long)strlen(v[i].raw));
		assert_memory_equal(out, v[i].raw, (size_t)n);
	}
	static const char *const bad[] = {
		"", "Zg=", "Zg", "Z===", "Zm9v!", "Zm9v Yg==", "Zg==Zm9v", "Zh==", "Zm9=",
		"Zm=v", "=Zm9", "Zm9vYg=\n", "Zm9vYmFy====",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned char out[16];
		if (minisign_unbase64(bad[i], strlen(bad[i]), out, sizeof(out)) != -1)
			fail_msg("'%s' should not decode", bad[i]);
	}
	unsigned char small[2];
	assert_int_equal(minisign_unbase64("Zm9v", 4, small, sizeof(small)), -1);
}

static void test_keyid(void **state)
{
	(void)state;
	const unsigned char k[8] = { 0xd3, 0x98, 0x35, 0xc4, 0x60, 0xf3, 0x17, 0x95 };
	char id[17];
	minisign_keyid(k, id);
	assert_string_equal(id, "9517F360C43598D3");	/* as minisign printed it for these bytes */
}

static void test_pub_malformed(void **state)
{
	(void)state;
	struct minisign_pub pk;
	char *err = NULL;
	char *short_key = b64_of("Ed", 41, 7), *long_key = b64_of("Ed", 43, 7);
	char *sig_alg = b64_of("ED", 42, 7), *good = b64_of("Ed", 42, 7);
	struct { const char *text; const char *want; } cases[] = {
		{ "", "empty" },
		{ "\n\n", "empty" },
		{ "untrusted comment: k\n", "k.pub:2: missing the public key" },
		{ "comment: k\nRWQ=\n", "k.pub:1: must start with 'untrusted comment: '" },
		{ "untrusted comment: k\nRWQ@AAAA\n", "k.pub:2: the public key is not valid base64" },
		{ "untrusted comment: k\n%s\n", "is 41 bytes, not 42" },
		{ "untrusted comment: k\n%s\n", "is 43 bytes, not 42" },
		{ "untrusted comment: k\n%s\n", "unknown key algorithm 'ED'" },
		{ "untrusted comment: k\n%s\nextra\n", "k.pub:3: unexpected line" },
	};
	const char *fill[] = { NULL, NULL, NULL, NULL, NULL, short_key, long_key, sig_alg, good };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text = xstrdup(cases[i].text);
		if (fill[i]) {	/* the one %s of the case, replaced by its base64 */
			char *at = strstr(text, "%s");
			char *t = xasprintf("%.*s%s%s", (int)(at - text), text, fill[i], at + 2);
			free(text);
			text = t;
		}
		err = NULL;
		expect_error(minisign_pub_parse(text, strlen(text), "k.pub", &pk, &err), &err,
			     cases[i].want);
		free(text);
	}
	/* a NUL byte inside */
	const char nul[] = "untrusted comment: k\0x\nRWQ=\n";
	err = NULL;
	expect_error(minisign_pub_parse(nul, sizeof(nul) - 1, "k.pub", &pk, &err), &err, "NUL");
	/* CRLF line ends and trailing blank lines are fine */
	char *crlf = xasprintf("untrusted comment: k\r\n%s\r\n\r\n\n", good);
	assert_int_equal(minisign_pub_parse(crlf, strlen(crlf), "k.pub", &pk, &err), 0);
	assert_int_equal(pk.keynum[0], 7);
	free(crlf);
	free(short_key);
	free(long_key);
	free(sig_alg);
	free(good);
}

static void test_sec_malformed(void **state)
{
	(void)state;
	struct minisign_sec sk;
	struct minisign_pub pk;
	char *err = NULL;
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	char *text = minisign_sec_format(&sk, "test key");
	struct minisign_sec back;
	assert_int_equal(minisign_sec_parse(text, strlen(text), "s.key", &back, &err), 0);
	assert_memory_equal(&back, &sk, sizeof(sk));
	/* a damaged seed no longer gives its public key */
	char *line2 = strchr(text, '\n') + 1;
	unsigned char raw[200];
	long n = minisign_unbase64(line2, strcspn(line2, "\n"), raw, sizeof(raw));
	assert_int_equal(n, 158);
	raw[80] ^= 1;
	char *b = minisign_base64(raw, (size_t)n);
	char *damaged = xasprintf("untrusted comment: x\n%s\n", b);
	expect_error(minisign_sec_parse(damaged, strlen(damaged), "s.key", &back, &err), &err,
		     "damaged");
	free(damaged);
	free(b);
	/* an encrypted key (kdf "Sc") is refused, saying how to remove the password */
	raw[80] ^= 1;
	memcpy(raw + 2, "Sc", 2);
	b = minisign_base64(raw, (size_t)n);
	char *enc = xasprintf("untrusted comment: x\n%s\n", b);
	err = NULL;
	expect_error(minisign_sec_parse(enc, strlen(enc), "s.key", &back, &err), &err,
		     "encrypted with a password");
	free(enc);
	free(b);
	/* a public key where a secret key belongs: wrong length */
	char *pub = minisign_pub_format(&pk, "pk");
	err = NULL;
	expect_error(minisign_sec_parse(pub, strlen(pub), "s.key", &back, &err), &err,
		     "is 42 bytes, not 158");
	free(pub);
	free(text);
}

struct signed_doc {
	struct minisign_sec sk;
	struct minisign_pub pk;
	char *sig_text;
};

static const char doc[] = "return runbook { name = \"x\" }\n";

static void make_doc(struct signed_doc *d)
{
	char *err = NULL;
	assert_int_equal(minisign_keygen(&d->sk, &d->pk, &err), 0);
	assert_int_equal(minisign_sign(&d->sk, doc, strlen(doc),
				       "timestamp:1\tfile:x.lua\thashed", &d->sig_text, &err), 0);
}

static void test_sign_verify(void **state)
{
	(void)state;
	struct signed_doc d;
	make_doc(&d);
	struct minisign_sig sig;
	char *err = NULL;
	assert_int_equal(minisign_sig_parse(d.sig_text, strlen(d.sig_text), "x.minisig", &sig, &err), 0);
	assert_true(sig.prehashed);
	assert_string_equal(sig.trusted, "timestamp:1\tfile:x.lua\thashed");
	assert_int_equal(minisign_verify(&d.pk, &sig, doc, strlen(doc), &err), 0);
	assert_int_equal(minisign_check_name(&sig, "/some/where/x.lua", &err), 0);
	expect_error(minisign_check_name(&sig, "/some/where/y.lua", &err), &err,
		     "the signature is for file 'x.lua', not 'y.lua'");
	/* a signed path must end the file's path, folder by folder */
	char *kept = sig.trusted;
	sig.trusted = xstrdup("timestamp:1\tfile:runbooks/prod/util.lua\thashed");
	assert_int_equal(minisign_check_name(&sig, "/nowhere-t1/runbooks/prod/util.lua", &err), 0);
	assert_int_equal(minisign_check_name(&sig, "runbooks/prod/util.lua", &err), 0);
	expect_error(minisign_check_name(&sig, "/nowhere-t1/runbooks/staging/util.lua", &err), &err,
		     "the signature is for 'runbooks/prod/util.lua', not '/nowhere-t1/runbooks/staging/util.lua'");
	expect_error(minisign_check_name(&sig, "/nowhere-t1/myrunbooks/prod/util.lua", &err), &err,
		     "from another folder");
	expect_error(minisign_check_name(&sig, "prod/util.lua", &err), &err, "from another folder");
	free(sig.trusted);
	sig.trusted = kept;
	const char *v;
	size_t len;
	assert_int_equal(minisign_trusted_field(sig.trusted, "timestamp", &v, &len), 1);
	assert_int_equal(len, 1);
	assert_int_equal(minisign_trusted_field(sig.trusted, "hashed", &v, &len), 0);
	assert_int_equal(minisign_trusted_field(sig.trusted, "fil", &v, &len), 0);
	/* one byte more in the document */
	err = NULL;
	expect_error(minisign_verify(&d.pk, &sig, doc, strlen(doc) - 1, &err), &err,
		     "does not match its signature");
	/* another trusted comment */
	free(sig.trusted);
	sig.trusted = xstrdup("timestamp:1\tfile:y.lua\thashed");
	err = NULL;
	expect_error(minisign_verify(&d.pk, &sig, doc, strlen(doc), &err), &err,
		     "trusted comment does not match");
	/* another key */
	struct signed_doc other;
	make_doc(&other);
	err = NULL;
	expect_error(minisign_verify(&other.pk, &sig, doc, strlen(doc), &err), &err,
		     "the signature was made by key");
	assert_null(minisign_key_for(&other.pk, 1, &sig));
	struct minisign_pub both[2] = { other.pk, d.pk };
	assert_ptr_equal(minisign_key_for(both, 2, &sig), &both[1]);
	/* the right key id with another key's public half */
	memcpy(other.pk.keynum, d.pk.keynum, MINISIGN_KEYNUM);
	err = NULL;
	expect_error(minisign_verify(&other.pk, &sig, doc, strlen(doc), &err), &err,
		     "does not match its signature");
	minisign_sig_release(&sig);
	/* a trusted comment is one line */
	char *out = NULL;
	err = NULL;
	expect_error(minisign_sign(&d.sk, doc, 3, "a\nb", &out, &err), &err, "one line");
	assert_null(out);
	free(d.sig_text);
	free(other.sig_text);
}

static void test_sig_malformed(void **state)
{
	(void)state;
	struct signed_doc d;
	make_doc(&d);
	/* the four lines of a good signature, to break one at a time */
	char *lines[4];
	char *p = d.sig_text;
	for (int i = 0; i < 4; i++) {
		size_t n = strcspn(p, "\n");
		lines[i] = xstrndup(p, n);
		p += n + 1;
	}
	char *short_sig = b64_of("ED", 73, 1), *long_sig = b64_of("ED", 75, 1);
	char *alg = b64_of("XX", 74, 1), *short_global = b64_of("", 63, 1);
	char *big_comment = xmalloc(MINISIGN_TRUSTED_MAX + 100);
	memset(big_comment, 'c', MINISIGN_TRUSTED_MAX + 99);
	big_comment[MINISIGN_TRUSTED_MAX + 99] = '\0';
	struct { char *text; const char *want; } cases[] = {
		{ xasprintf("%s\n", lines[0]), ":2: missing the signature" },
		{ xasprintf("%s\n%s\n", lines[0], lines[1]), ":3: missing the trusted comment" },
		{ xasprintf("%s\n%s\n%s\n", lines[0], lines[1], lines[2]),
		  ":4: missing the trusted comment's signature" },
		{ xasprintf("%s\n%s\n\n%s\n", lines[0], lines[1], lines[3]),
		  ":3: missing the trusted comment" },
		{ xasprintf("%s\n%s\n%s\n%s\n", lines[0], lines[1], lines[3], lines[2]),
		  ":3: must start with 'trusted comment: '" },
		{ xasprintf("%s\n%s\n%s\n%s\n", lines[1], lines[0], lines[2], lines[3]),
		  ":1: must start with 'untrusted comment: '" },
		{ xasprintf("%s\n%s\n%s\n%s\n", lines[0], short_sig, lines[2], lines[3]),
		  "is 73 bytes, not 74" },
		{ xasprintf("%s\n%s\n%s\n%s\n", lines[0], long_sig, lines[2], lines[3]),
		  "is 75 bytes, not 74" },
		{ xasprintf("%s\n%s\n%s\n%s\n", lines[0], alg, lines[2], lines[3]),
		  "unknown signature algorithm" },
		{ xasprintf("%s\n%s\n%s\n%s\n", lines[0], lines[1], lines[2], short_global),
		  ":4: the trusted comment's signature is 63 bytes, not 64" },
		{ xasprintf("%s\n%s!\n%s\n%s\n", lines[0], lines[1], lines[2], lines[3]),
		  ":2: the signature is not valid base64" },
		{ xasprintf("%s\n%s\ntrusted comment: %s\n%s\n", lines[0], lines[1], big_comment,
			    lines[3]), "longer than" },
		{ xasprintf("%s\n%s\n%s\n%s\nfifth\n", lines[0], lines[1], lines[2], lines[3]),
		  ":5: unexpected line" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct minisign_sig sig;
		char *err = NULL;
		int rc = minisign_sig_parse(cases[i].text, strlen(cases[i].text), "x.minisig", &sig, &err);
		if (!err || !strstr(err, cases[i].want))
			fail_msg("case %zu: error '%s' does not say '%s'", i, err ? err : "(none)",
				 cases[i].want);
		assert_int_equal(rc, -1);
		assert_null(sig.trusted);
		free(err);
		free(cases[i].text);
	}
	/* every truncation of a good file fails cleanly, never reads past the end */
	size_t len = strlen(d.sig_text);
	for (size_t cut = 0; cut < len - 1; cut++) {
		char *copy = xmalloc(cut ? cut : 1);
		memcpy(copy, d.sig_text, cut);
		struct minisign_sig sig;
		char *err = NULL;
		int rc = minisign_sig_parse(copy, cut, "x.minisig", &sig, &err);
		if (rc == 0) {	/* only a cut inside the last newline leaves a whole file */
			minisign_sig_release(&sig);
		} else {
			assert_non_null(err);
			free(err);
		}
		free(copy);
	}
	for (int i = 0; i < 4; i++)
		free(lines[i]);
	free(short_sig);
	free(long_sig);
	free(alg);
	free(short_global);
	free(big_comment);
	free(d.sig_text);
}

static void test_files(void **state)
{
	(void)state;
	char *err = NULL;
	struct minisign_pub pk;
	expect_error(minisign_pub_load("/nonexistent/k.pub", &pk, &err), &err, "cannot read");
	err = NULL;
	struct minisign_sig sig;
	expect_error(minisign_sig_load("/nonexistent/x.minisig", &sig, &err), &err, "cannot read");
	err = NULL;
	char out[129];
	expect_error(minisign_blake2b_file("/nonexistent", out, &err), &err, "cannot read");
	err = NULL;
	/* BLAKE2b-512 of the empty input, as b2sum prints it */
	assert_int_equal(minisign_blake2b_file("/dev/null", out, &err), 0);
	assert_string_equal(out, "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
				 "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_pub_malformed),
		cmocka_unit_test(test_sec_malformed),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_sig_malformed),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
