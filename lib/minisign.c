/*
 * minisign's formats over libcrypto (see minisign.h). Two things decide
 * the shape of this file: minisign's files are line-based text a person may
 * have edited, so every parser checks each line's prefix, base64 and length
 * and says which line is wrong; and artifacts may be large, so a prehashed
 * signature is checked by streaming the file through BLAKE2b-512 in fixed
 * chunks, never by reading it whole (only the legacy format needs that).
 */
#include "minisign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

void minisign_init_alone(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT |
			    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS, NULL);
}

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define PUB_BYTES (2 + MINISIGN_KEYNUM + 32)
#define SIG_BYTES (2 + MINISIGN_KEYNUM + 64)
/* alg, kdf alg, checksum alg, salt, opslimit, memlimit, key id, seed ‖ pk, checksum */
#define SEC_BYTES (2 + 2 + 2 + 32 + 8 + 8 + MINISIGN_KEYNUM + 64 + 32)
#define SEC_KEYNUM_AT (2 + 2 + 2 + 32 + 8 + 8)
#define MAX_KEY_FILE 65536	/* key and signature files are small; anything bigger is not one */
#define CHUNK (64 * 1024)

void minisign_keyid(const unsigned char keynum[MINISIGN_KEYNUM], char out[17])
{
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 0; i < MINISIGN_KEYNUM; i++) {
		unsigned char b = keynum[MINISIGN_KEYNUM - 1 - i];
		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	out[16] = '\0';
}

/* ------------------------------------------------------------------------ */
/* base64: strict, as libsodium's original variant with padding */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *minisign_base64(const unsigned char *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long minisign_unbase64(const char *text, size_t len, unsigned char *out, size_t cap)
{
	if (len == 0 || len % 4)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)text[i + k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -1;	/* a character after padding */
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		unsigned char bytes[3] = { (unsigned char)(w >> 16), (unsigned char)(w >> 8),
					   (unsigned char)w };
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;	/* non-zero bits under the padding: not canonical */
		for (int k = 0; k < 3 - pad; k++) {
			if (n >= cap)
				return -1;
			out[n++] = bytes[k];
		}
	}
	return (long)n;
}

/* ------------------------------------------------------------------------ */
/* the line structure of the files */

#define MAX_LINES 4

struct lines {
	const char *p[MAX_LINES];
	size_t n[MAX_LINES];
	int count;
};

/* Splits text into lines (\n or \r\n); trailing blank lines are ignored. */
static int split_lines(const char *text, size_t len, const char *what, int want, struct lines *l,
		       char **err)
{
	memset(l, 0, sizeof(*l));
	if (memchr(text, '\0', len))
		return err_set(err, "%s: contains a NUL byte: not a minisign file", what);
	size_t i = 0;
	int line = 0;
	while (i < len) {
		const char *start = text + i;
		const char *nl = memchr(start, '\n', len - i);
		size_t n = nl ? (size_t)(nl - start) : len - i;
		i += n + (nl ? 1 : 0);
		line++;
		if (n && start[n - 1] == '\r')
			n--;
		if (line > want) {
			if (n)
				return err_set(err, "%s:%d: unexpected line: a minisign %s has %d lines",
					    what, line, want == 2 ? "key" : "signature", want);
			continue;
		}
		l->p[line - 1] = start;
		l->n[line - 1] = n;
		l->count = line;
	}
	return 0;
}

static int need_line(const struct lines *l, int idx, const char *what, const char *which,
		     char **err)
{
	if (idx >= l->count || (l->n[idx] == 0 && idx > 0))
		return err_set(err, "%s:%d: missing %s", what, idx + 1, which);
	return 0;
}

static int untrusted_line(const struct lines *l, const char *what, char **err)
{
	size_t pn = strlen(UNTRUSTED_PREFIX);
	if (l->count == 0 || l->n[0] == 0)
		return err_set(err, "%s: empty: not a minisign file", what);
	if (l->n[0] < pn || memcmp(l->p[0], UNTRUSTED_PREFIX, pn))
		return err_set(err, "%s:1: must start with '" UNTRUSTED_PREFIX "' (not a minisign file?)",
			    what);
	return 0;
}

/* Line idx as exactly want bytes of base64. */
static int b64_line(const struct lines *l, int idx, const char *what, const char *which,
		    unsigned char *out, size_t want, char **err)
{
	if (need_line(l, idx, what, which, err))
		return -1;
	unsigned char buf[256];
	long n = minisign_unbase64(l->p[idx], l->n[idx], buf, sizeof(buf));
	if (n < 0)
		return err_set(err, "%s:%d: %s is not valid base64", what, idx + 1, which);
	if ((size_t)n != want)
		return err_set(err, "%s:%d: %s is %ld bytes, not %zu: damaged or not a minisign file",
			    what, idx + 1, which, n, want);
	memcpy(out, buf, want);
	return 0;
}

static char *one_line(const char *s)
{
	char *c = xstrdup(s ? s : "");
	for (char *p = c; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return c;
}

/* ------------------------------------------------------------------------ */
/* Ed25519 over libcrypto */

static int ed_sign(const unsigned char seed[32], const void *msg, size_t len,
		   unsigned char sig[64], char **err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t siglen = 64;
	int ok = k && c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestSign(c, sig, &siglen, msg, len) == 1 && siglen == 64;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok ? 0 : err_set(err, "Ed25519 signing failed in libcrypto");
}

/* 1 when sig is pk's signature of msg, 0 when not, -1 when libcrypto failed. */
static int ed_verify(const unsigned char pk[32], const void *msg, size_t len,
		     const unsigned char sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	if (!k)
		return 0;	/* not a point on the curve: no signature verifies */
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc = -1;
	if (c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1)
		rc = EVP_DigestVerify(c, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return rc;
}

static int public_of(const unsigned char seed[32], unsigned char pk[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t n = 32;
	int ok = k && EVP_PKEY_get_raw_public_key(k, pk, &n) == 1 && n == 32;
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

int minisign_keygen(struct minisign_sec *sk, struct minisign_pub *pk, char **err)
{
	memset(sk, 0, sizeof(*sk));
	if (RAND_bytes(sk->seed, sizeof(sk->seed)) != 1 ||
	    RAND_bytes(sk->keynum, sizeof(sk->keynum)) != 1)
		return err_set(err, "the system's random generator failed");
	if (public_of(sk->seed, sk->pk))
		return err_set(err, "Ed25519 key generation failed in libcrypto");
	memcpy(pk->keynum, sk->keynum, MINISIGN_KEYNUM);
	memcpy(pk->pk, sk->pk, 32);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* keys */

char *minisign_pub_format(const struct minisign_pub *pk, const char *comment)
{
	unsigned char raw[PUB_BYTES];
	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, pk->keynum, MINISIGN_KEYNUM);
	memcpy(raw + 2 + MINISIGN_KEYNUM, pk->pk, 32);
	char *b = minisign_base64(raw, sizeof(raw));
	char *c = one_line(comment);
	char *out = xasprintf(UNTRUSTED_PREFIX "%s\n%s\n", c, b);
	free(c);
	free(b);
	return out;
}

char *minisign_sec_format(const struct minisign_sec *sk, const char *comment)
{
	/*
	 * minisign -G -W's layout: no key derivation ("\0\0"), zero salt and
	 * limits, and a zero checksum (minisign writes none for an unencrypted key).
	 */
	unsigned char raw[SEC_BYTES];
	memset(raw, 0, sizeof(raw));
	memcpy(raw, "Ed", 2);
	memcpy(raw + 4, "B2", 2);
	memcpy(raw + SEC_KEYNUM_AT, sk->keynum, MINISIGN_KEYNUM);
	memcpy(raw + SEC_KEYNUM_AT + MINISIGN_KEYNUM, sk->seed, 32);
	memcpy(raw + SEC_KEYNUM_AT + MINISIGN_KEYNUM + 32, sk->pk, 32);
	char *b = minisign_base64(raw, sizeof(raw));
	char *c = one_line(comment);
	char *out = xasprintf(UNTRUSTED_PREFIX "%s\n%s\n", c, b);
	OPENSSL_cleanse(raw, sizeof(raw));
	free(c);
	free(b);
	return out;
}

int minisign_pub_parse(const char *text, size_t len, const char *what, struct minisign_pub *out,
		       char **err)
{
	struct lines l;
	unsigned char raw[PUB_BYTES];
	if (split_lines(text, len, what, 2, &l, err) || untrusted_line(&l, what, err) ||
	    b64_line(&l, 1, what, "the public key", raw, sizeof(raw), err))
		return -1;
	if (memcmp(raw, "Ed", 2))
		return err_set(err, "%s:2: unknown key algorithm '%c%c' (minisign public keys are 'Ed')",
			    what, raw[0] >= 32 && raw[0] < 127 ? raw[0] : '?',
			    raw[1] >= 32 && raw[1] < 127 ? raw[1] : '?');
	memcpy(out->keynum, raw + 2, MINISIGN_KEYNUM);
	memcpy(out->pk, raw + 2 + MINISIGN_KEYNUM, 32);
	return 0;
}

int minisign_sec_parse(const char *text, size_t len, const char *what, struct minisign_sec *out,
		       char **err)
{
	struct lines l;
	unsigned char raw[SEC_BYTES];
	int rc = -1;
	if (split_lines(text, len, what, 2, &l, err) || untrusted_line(&l, what, err) ||
	    b64_line(&l, 1, what, "the secret key", raw, sizeof(raw), err))
		goto out;
	if (memcmp(raw, "Ed", 2) || memcmp(raw + 4, "B2", 2)) {
		err_set(err, "%s:2: not a minisign Ed25519 secret key", what);
		goto out;
	}
	if (raw[2] || raw[3]) {
		err_set(err, "%s: the secret key is encrypted with a password; lifeboat reads unencrypted keys only (lifeboat keygen, or minisign -G -W; minisign -C -s KEY -W removes a password)",
		     what);
		goto out;
	}
	memcpy(out->keynum, raw + SEC_KEYNUM_AT, MINISIGN_KEYNUM);
	memcpy(out->seed, raw + SEC_KEYNUM_AT + MINISIGN_KEYNUM, 32);
	memcpy(out->pk, raw + SEC_KEYNUM_AT + MINISIGN_KEYNUM + 32, 32);
	/* the seed must give the public key stored beside it: a damaged key would sign garbage */
	unsigned char derived[32];
	if (public_of(out->seed, derived) || memcmp(derived, out->pk, 32)) {
		err_set(err, "%s:2: the secret key is damaged (its public half does not match)", what);
		OPENSSL_cleanse(out, sizeof(*out));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int minisign_sig_parse(const char *text, size_t len, const char *what, struct minisign_sig *out,
		       char **err)
{
	struct lines l;
	unsigned char raw[SIG_BYTES];
	memset(out, 0, sizeof(*out));
	if (split_lines(text, len, what, 4, &l, err) || untrusted_line(&l, what, err) ||
	    b64_line(&l, 1, what, "the signature", raw, sizeof(raw), err))
		return -1;
	if (!memcmp(raw, "ED", 2))
		out->prehashed = 1;
	else if (memcmp(raw, "Ed", 2))
		return err_set(err, "%s:2: unknown signature algorithm (minisign signs with 'ED' or the legacy 'Ed')",
			    what);
	memcpy(out->keynum, raw + 2, MINISIGN_KEYNUM);
	memcpy(out->sig, raw + 2 + MINISIGN_KEYNUM, 64);
	if (need_line(&l, 2, what, "the trusted comment", err))
		return -1;
	size_t pn = strlen(TRUSTED_PREFIX);
	if (l.n[2] < pn || memcmp(l.p[2], TRUSTED_PREFIX, pn))
		return err_set(err, "%s:3: must start with '" TRUSTED_PREFIX "'", what);
	if (l.n[2] - pn > MINISIGN_TRUSTED_MAX)
		return err_set(err, "%s:3: the trusted comment is longer than %d bytes", what,
			    MINISIGN_TRUSTED_MAX);
	if (b64_line(&l, 3, what, "the trusted comment's signature", out->global_sig, 64, err))
		return -1;
	out->trusted = xstrndup(l.p[2] + pn, l.n[2] - pn);
	return 0;
}

void minisign_sig_release(struct minisign_sig *sig)
{
	free(sig->trusted);
	sig->trusted = NULL;
}

static char *read_small(const char *path, size_t *len, char **err)
{
	/* never waits: a FIFO put where a key or a signature should be is refused, not opened to wait */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err_set(err, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		err_set(err, "cannot read '%s': not a regular file (a FIFO, a device or a folder)", path);
		close(fd);
		return NULL;
	}
	char *buf = xmalloc(MAX_KEY_FILE + 1);
	size_t n = 0;
	for (;;) {
		ssize_t got = read(fd, buf + n, MAX_KEY_FILE + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err_set(err, "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > MAX_KEY_FILE) {
			err_set(err, "%s: larger than %d bytes: not a minisign file", path, MAX_KEY_FILE);
			close(fd);
			free(buf);
			return NULL;
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int minisign_pub_load(const char *path, struct minisign_pub *out, char **err)
{
	size_t len;
	char *text = read_small(path, &len, err);
	if (!text)
		return -1;
	int rc = minisign_pub_parse(text, len, path, out, err);
	free(text);
	return rc;
}

int minisign_sec_load(const char *path, struct minisign_sec *out, char **err)
{
	size_t len;
	char *text = read_small(path, &len, err);
	if (!text)
		return -1;
	int rc = minisign_sec_parse(text, len, path, out, err);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int minisign_sig_load_text(const char *path, struct minisign_sig *out, char **text, char **err)
{
	size_t len;
	memset(out, 0, sizeof(*out));
	*text = read_small(path, &len, err);
	if (!*text)
		return -1;
	int rc = minisign_sig_parse(*text, len, path, out, err);
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

int minisign_sig_load(const char *path, struct minisign_sig *out, char **err)
{
	char *text = NULL;
	int rc = minisign_sig_load_text(path, out, &text, err);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* hashing, signing, verifying */

/* BLAKE2b-512 of the file, streamed. */
static int blake2b_fd(int fd, const char *path, unsigned char md[64], char **err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_blake2b512(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return err_set(err, "BLAKE2b-512 is not available in libcrypto");
	}
	unsigned char *buf = xmalloc(CHUNK);
	int rc = 0;
	for (;;) {
		ssize_t got = read(fd, buf, CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_set(err, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (got == 0)
			break;
		EVP_DigestUpdate(c, buf, (size_t)got);
	}
	unsigned int n = 0;
	if (!rc && (EVP_DigestFinal_ex(c, md, &n) != 1 || n != 64))
		rc = err_set(err, "BLAKE2b-512 failed in libcrypto");
	free(buf);
	EVP_MD_CTX_free(c);
	return rc;
}

static int blake2b_path(const char *path, unsigned char md[64], char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, "cannot read '%s': %s", path, strerror(errno));
	int rc = blake2b_fd(fd, path, md, err);
	close(fd);
	return rc;
}

int minisign_blake2b_file(const char *path, char out[129], char **err)
{
	unsigned char md[64];
	if (blake2b_path(path, md, err))
		return -1;
	for (int i = 0; i < 64; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int blake2b_mem(const void *data, size_t len, unsigned char md[64], char **err)
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, md, &n, EVP_blake2b512(), NULL) != 1 || n != 64)
		return err_set(err, "BLAKE2b-512 failed in libcrypto");
	return 0;
}

static int sign_hash(const struct minisign_sec *sk, const unsigned char md[64],
		     const char *trusted, char **out, char **err)
{
	if (strchr(trusted, '\n') || strchr(trusted, '\r'))
		return err_set(err, "a trusted comment is one line");
	size_t tlen = strlen(trusted);
	if (tlen > MINISIGN_TRUSTED_MAX)
		return err_set(err, "the trusted comment is longer than %d bytes", MINISIGN_TRUSTED_MAX);
	unsigned char raw[SIG_BYTES];
	memcpy(raw, "ED", 2);
	memcpy(raw + 2, sk->keynum, MINISIGN_KEYNUM);
	if (ed_sign(sk->seed, md, 64, raw + 2 + MINISIGN_KEYNUM, err))
		return -1;
	unsigned char *global = xmalloc(64 + tlen);
	memcpy(global, raw + 2 + MINISIGN_KEYNUM, 64);
	memcpy(global + 64, trusted, tlen);
	unsigned char gsig[64];
	int rc = ed_sign(sk->seed, global, 64 + tlen, gsig, err);
	free(global);
	if (rc)
		return -1;
	char keyid[17];
	minisign_keyid(sk->keynum, keyid);
	char *b1 = minisign_base64(raw, sizeof(raw)), *b2 = minisign_base64(gsig, 64);
	*out = xasprintf(UNTRUSTED_PREFIX "signature from lifeboat secret key %s\n%s\n"
			 TRUSTED_PREFIX "%s\n%s\n", keyid, b1, trusted, b2);
	free(b1);
	free(b2);
	return 0;
}

int minisign_sign(const struct minisign_sec *sk, const void *data, size_t len,
		  const char *trusted, char **out, char **err)
{
	unsigned char md[64];
	if (blake2b_mem(data, len, md, err))
		return -1;
	return sign_hash(sk, md, trusted, out, err);
}

int minisign_sign_file(const struct minisign_sec *sk, const char *path, const char *trusted,
		       char **out, char **err)
{
	unsigned char md[64];
	if (blake2b_path(path, md, err))
		return -1;
	return sign_hash(sk, md, trusted, out, err);
}

/*
 * The name a signature records for path: the path as given when it is
 * relative and goes down only (so "runbooks/prod/util.lua" tells that file
 * from another folder's util.lua), else the base name, as minisign writes it.
 */
static const char *signed_name(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (path[0] == '/' || !strcmp(path, "..") || !strncmp(path, "../", 3) ||
	    strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//"))
		return base;
	size_t n = strlen(path);
	if (n >= 3 && !strcmp(path + n - 3, "/.."))
		return base;
	return path;
}

char *minisign_default_trusted(const char *path)
{
	char *name = one_line(signed_name(path));
	for (char *p = name; *p; p++)
		if (*p == '\t')
			*p = ' ';
	char *t = xasprintf("timestamp:%lld\tfile:%s\thashed", (long long)time(NULL), name);
	free(name);
	return t;
}

/* Key ids, then (after the message was checked by the caller) the trusted comment. */
static int check_keyid(const struct minisign_pub *pk, const struct minisign_sig *sig, char **err)
{
	if (memcmp(pk->keynum, sig->keynum, MINISIGN_KEYNUM)) {
		char a[17], b[17];
		minisign_keyid(sig->keynum, a);
		minisign_keyid(pk->keynum, b);
		return err_set(err, "the signature was made by key %s, but the public key is %s", a, b);
	}
	return 0;
}

static int check_trusted(const struct minisign_pub *pk, const struct minisign_sig *sig,
			 char **err)
{
	size_t tlen = strlen(sig->trusted);
	unsigned char *global = xmalloc(64 + tlen);
	memcpy(global, sig->sig, 64);
	memcpy(global + 64, sig->trusted, tlen);
	int ok = ed_verify(pk->pk, global, 64 + tlen, sig->global_sig);
	free(global);
	if (ok != 1)
		return err_set(err, "the trusted comment does not match its signature: it was changed after signing (or the signature is damaged)");
	return 0;
}

static int message_failed(char **err)
{
	return err_set(err, "signature verification failed: the file does not match its signature (changed after signing, or the signature is damaged)");
}

int minisign_verify(const struct minisign_pub *pk, const struct minisign_sig *sig,
		    const void *data, size_t len, char **err)
{
	if (check_keyid(pk, sig, err))
		return -1;
	int ok;
	if (sig->prehashed) {
		unsigned char md[64];
		if (blake2b_mem(data, len, md, err))
			return -1;
		ok = ed_verify(pk->pk, md, 64, sig->sig);
	} else {
		ok = ed_verify(pk->pk, data, len, sig->sig);
	}
	if (ok != 1)
		return message_failed(err);
	return check_trusted(pk, sig, err);
}

int minisign_verify_file(const struct minisign_pub *pk, const struct minisign_sig *sig,
			 const char *path, char **err)
{
	if (check_keyid(pk, sig, err))
		return -1;
	int ok;
	if (sig->prehashed) {
		unsigned char md[64];
		if (blake2b_path(path, md, err))
			return -1;
		ok = ed_verify(pk->pk, md, 64, sig->sig);
	} else {
		/* the legacy format signs the file itself: Ed25519 needs it whole */
		size_t len;
		char *data = read_file(path, &len);
		if (!data)
			return err_set(err, "cannot read '%s': %s", path, strerror(errno));
		ok = ed_verify(pk->pk, data, len, sig->sig);
		free(data);
	}
	if (ok != 1)
		return message_failed(err);
	return check_trusted(pk, sig, err);
}

int minisign_trusted_field(const char *trusted, const char *name, const char **val, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = trusted;
	while (p && *p) {
		const char *end = strchr(p, '\t');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > nl && !memcmp(p, name, nl) && p[nl] == ':') {
			*val = p + nl + 1;
			*len = n - nl - 1;
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

const struct minisign_pub *minisign_key_for(const struct minisign_pub *keys, size_t n,
					    const struct minisign_sig *sig)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(keys[i].keynum, sig->keynum, MINISIGN_KEYNUM))
			return &keys[i];
	return NULL;
}

/* Whether the path name[len] is path, or path ends with "/" and it. */
static int path_ends_with(const char *path, const char *name, size_t len)
{
	size_t plen = strlen(path);
	if (plen < len || memcmp(path + plen - len, name, len))
		return 0;
	return plen == len || path[plen - len - 1] == '/';
}

int minisign_check_name(const struct minisign_sig *sig, const char *path, char **err)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *val;
	size_t len;
	if (!minisign_trusted_field(sig->trusted, "file", &val, &len))
		return err_set(err, "the signature's trusted comment names no file (file:%s expected; sign with lifeboat sign or minisign -S, which write it)",
			    base);
	if (!memchr(val, '/', len)) {
		if (len != strlen(base) || memcmp(val, base, len))
			return err_set(err, "the signature is for file '%.*s', not '%s' (a renamed file, or another file's signature)",
				       (int)len, val, base);
		return 0;
	}
	/*
	 * A signed path ("runbooks/prod/util.lua"): the file's path must end
	 * with it, made absolute as given (runbooks/current -> releases/v7 was
	 * signed as runbooks/current/...) or with its links resolved.
	 */
	char *real = realpath(path, NULL), *cwd = path[0] == '/' ? NULL : getcwd(NULL, 0);
	char *abs = cwd ? xasprintf("%s/%s", cwd, path) : xstrdup(path);	/* links kept */
	free(cwd);
	int ok = path_ends_with(abs, val, len) || (real && path_ends_with(real, val, len));
	if (!ok)
		err_set(err, "the signature is for '%.*s', not '%s' (%s%s%s; a file of the same name from another folder, or a renamed one)",
			(int)len, val, path, abs, real && strcmp(real, abs) ? ", really " : "", real && strcmp(real, abs) ? real : "");
	free(abs);
	free(real);
	return ok ? 0 : -1;
}
