/*
 * libFuzzer harness: the redaction stream (lib/redact.c). The input is split
 * into secrets and a stream fed in chunks; whatever the chunking, the output
 * must be the same as redacting the whole at once (redact.h promises it), and
 * no secret may survive (one made of '*' could be the mask itself).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void collect(void *ud, const char *d, size_t len)
{
	strbuf_add(ud, d, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* first byte: chunk size; then up to 3 secrets separated by '\n' before a '\0'; the rest is the stream */
	size_t chunk = (size_t)data[0] % 17 + 1;
	const uint8_t *p = data + 1, *end = data + size;
	const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
	if (!nul)
		return 0;
	char *spec = xstrndup((const char *)p, (size_t)(nul - p));
	const char *secrets[3];
	size_t n = 0;
	for (char *tok = spec, *next; tok && n < 3; tok = next) {
		next = strchr(tok, '\n');
		if (next)
			*next++ = '\0';
		if (*tok)
			secrets[n++] = tok;
	}
	char *err = NULL;
	struct redactor *r = redact_new(secrets, n, &err);
	free(err);
	if (r) {
		const uint8_t *stream = nul + 1;
		size_t len = (size_t)(end - stream);
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		for (size_t off = 0; off < len; off += chunk)
			redact_feed(r, stream + off, off + chunk < len ? chunk : len - off, collect, &a);
		redact_flush(r, collect, &a);
		size_t whole_len = 0;
		struct redactor *r2 = redact_dup(r);
		char *whole = redact_bytes(r2, stream, len, &whole_len);
		redact_free(r2);
		strbuf_add(&b, whole, whole_len);
		free(whole);
		if (a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len)))
			abort();	/* chunking changed the result */
		for (size_t i = 0; i < n; i++)
			if (!strchr(secrets[i], '*') && a.len && memmem(a.buf, a.len, secrets[i], strlen(secrets[i])))
				abort();	/* a secret got through */
		strbuf_release(&a);
		strbuf_release(&b);
		redact_free(r);
	}
	free(spec);
	return 0;
}
