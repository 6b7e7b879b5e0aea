/*
 * Streaming secret redaction (see redact.h for the contract).
 *
 * One scan decides bytes left to right. At each position it looks for the
 * secrets that start there: a full match extends the masked span, and the
 * bytes left being a proper prefix of a secret means the answer depends on
 * bytes not yet read — the scan stops there and keeps the rest for the next
 * feed. Everything before that point is final, so a byte is emitted as soon
 * as no secret can cover it, and what is held is always a tail shorter than
 * the longest secret. A masked span emits "***" once, when it starts.
 *
 * Secrets are a handful of short values, so a table of their first bytes is
 * all the speed needed: most bytes start no secret and pass in one test.
 */
#include "redact.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * mask() adds a secret while other threads (the console, the webhook
 * sender, the history's writers) redact with the same redactor: the
 * one-shot functions and redact_dup read under this lock, redact_add
 * writes under it. Streams work on their own redact_dup copies.
 */
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

struct secret {
	char *bytes;	/* xmalloc'd copy of the value */
	size_t len;
};

struct redactor {
	struct secret *secrets;		/* xmalloc'd array of nsecrets, owned */
	size_t nsecrets;
	size_t maxlen;			/* of the longest secret */
	unsigned char first[256];	/* first[c]: some secret begins with byte c */
	struct strbuf hold;		/* undecided tail of the stream */
	size_t mask_left;		/* bytes at the start of hold already known masked */
	int in_mask;			/* the last byte decided was masked ("***" is out) */
	struct strbuf out;		/* scratch for one feed's output */
};

/* Where a scan stands between calls: relative to the first undecided byte. */
struct scan_state {
	size_t mask_left;
	int in_mask;
};

/*
 * Decides the bytes of buf (len) from the left, appending their redaction to
 * out; stops at the first position where a secret may begin in bytes not yet
 * seen, unless final. Returns how many bytes were decided.
 */
static size_t scan(const struct redactor *r, const unsigned char *buf, size_t len, int final,
		   struct scan_state *st, struct strbuf *out)
{
	size_t mask_end = st->mask_left;	/* buf[i] is masked while i < mask_end */
	size_t raw_start = 0;			/* undelivered unmasked bytes begin here */
	size_t i = 0;
	for (; i < len; i++) {
		if (i >= mask_end && !r->first[buf[i]])
			continue;
		int partial = 0;
		if (r->first[buf[i]]) {
			for (size_t k = 0; k < r->nsecrets; k++) {
				const struct secret *s = &r->secrets[k];
				if (s->bytes[0] != (char)buf[i])
					continue;
				if (s->len <= len - i) {
					if (!memcmp(buf + i, s->bytes, s->len) && i + s->len > mask_end)
						mask_end = i + s->len;
				} else if (!final && !memcmp(buf + i, s->bytes, len - i)) {
					partial = 1;
				}
			}
		}
		if (partial)
			break;
		if (i < mask_end) {
			if (raw_start < i) {
				strbuf_add(out, buf + raw_start, i - raw_start);
				st->in_mask = 0;
			}
			if (!st->in_mask) {
				strbuf_addstr(out, REDACT_MASK);
				st->in_mask = 1;
			}
			raw_start = i + 1;
		}
	}
	if (raw_start < i) {
		strbuf_add(out, buf + raw_start, i - raw_start);
		st->in_mask = 0;
	}
	st->mask_left = mask_end > i ? mask_end - i : 0;
	return i;
}

static void add_secret(struct redactor *r, const char *v, size_t len)
{
	for (size_t k = 0; k < r->nsecrets; k++)
		if (r->secrets[k].len == len && !memcmp(r->secrets[k].bytes, v, len))
			return;
	r->secrets = xrealloc(r->secrets, (r->nsecrets + 1) * sizeof(*r->secrets));
	r->secrets[r->nsecrets].bytes = xstrndup(v, len);
	r->secrets[r->nsecrets].len = len;
	r->nsecrets++;
	r->first[(unsigned char)v[0]] = 1;
	if (len > r->maxlen)
		r->maxlen = len;
}

/* v as the inside of a JSON string, escaped the way jansson's json_dumps does. */
static void json_escape(struct strbuf *sb, const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		switch (c) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\b': strbuf_addstr(sb, "\\b"); break;
		case '\f': strbuf_addstr(sb, "\\f"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		default:
			if (c < 0x20)
				strbuf_addf(sb, "\\u%04X", c);
			else
				strbuf_addch(sb, (char)c);
		}
	}
}

/* v as XML or HTML text or attribute (report.c's entities). */
static void xml_escape(struct strbuf *sb, const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (v[i]) {
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		case '\'': strbuf_addstr(sb, "&apos;"); break;
		default: strbuf_addch(sb, v[i]);
		}
	}
}

/*
 * A value and the forms it takes once encoded: the history keeps JSON
 * (params, ctx.state, audit details), which may itself sit in a JSON string,
 * and reports are JSON, XML and HTML. A secret with a quote or a backslash
 * is a different byte string in each, and each is masked.
 */
static void add_forms(struct redactor *r, const char *v, size_t len)
{
	/*
	 * Text that is not UTF-8 is stored with U+FFFD for each bad byte
	 * (lib/json.c's rule, the audit log's): a secret holding such a byte
	 * is masked in that form too.
	 */
	size_t fixed_len;
	char *fixed = utf8_fix(v, len, &fixed_len);	/* NULL: it is UTF-8 already */
	if (fixed)
		add_forms(r, fixed, fixed_len);
	free(fixed);
	add_secret(r, v, len);
	struct strbuf once = STRBUF_INIT, twice = STRBUF_INIT, xml = STRBUF_INIT;
	strbuf_init(&once, len * 2);
	json_escape(&once, v, len);
	add_secret(r, once.buf, once.len);
	strbuf_init(&twice, once.len * 2);
	json_escape(&twice, once.buf, once.len);
	add_secret(r, twice.buf, twice.len);
	strbuf_init(&xml, len * 2);
	xml_escape(&xml, v, len);
	add_secret(r, xml.buf, xml.len);
	strbuf_release(&once);
	strbuf_release(&twice);
	strbuf_release(&xml);
}

struct redactor *redact_new(const char *const *secrets, size_t n, char **err)
{
	*err = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(secrets[i]);
		if (len < REDACT_MIN_LEN) {
			*err = xasprintf("secret value %zu of %zu is %zu bytes long; secrets must be at least %d",
					 i + 1, n, len, REDACT_MIN_LEN);
			return NULL;
		}
	}
	struct redactor *r = xcalloc(1, sizeof(*r));
	r->secrets = xcalloc(1, sizeof(*r->secrets));
	for (size_t i = 0; i < n; i++)
		add_forms(r, secrets[i], strlen(secrets[i]));
	strbuf_init(&r->hold, 0);
	strbuf_init(&r->out, 0);
	return r;
}

struct redactor *redact_dup(const struct redactor *r)
{
	if (!r)
		return NULL;
	pthread_rwlock_rdlock(&lock);
	if (!r->nsecrets) {
		/* nothing to mask (yet): the stream passes through untouched, at no cost */
		pthread_rwlock_unlock(&lock);
		return NULL;
	}
	struct redactor *d = xcalloc(1, sizeof(*d));
	d->secrets = xcalloc(r->nsecrets ? r->nsecrets : 1, sizeof(*d->secrets));
	for (size_t k = 0; k < r->nsecrets; k++) {
		d->secrets[k].bytes = xstrndup(r->secrets[k].bytes, r->secrets[k].len);
		d->secrets[k].len = r->secrets[k].len;
	}
	d->nsecrets = r->nsecrets;
	d->maxlen = r->maxlen;
	memcpy(d->first, r->first, sizeof(d->first));
	strbuf_init(&d->hold, 0);
	strbuf_init(&d->out, 0);
	pthread_rwlock_unlock(&lock);
	return d;
}

void redact_free(struct redactor *r)
{
	if (!r)
		return;
	for (size_t k = 0; k < r->nsecrets; k++)
		free(r->secrets[k].bytes);
	free(r->secrets);
	strbuf_release(&r->hold);
	strbuf_release(&r->out);
	free(r);
}

/* Runs a scan over hold (+ data when hold is not empty) and keeps the undecided tail. */
static void feed(struct redactor *r, const void *data, size_t len, int final, redact_out_fn out, void *ud)
{
	struct scan_state st = { r->mask_left, r->in_mask };
	strbuf_reset(&r->out);
	if (!r->hold.len) {
		/* The common case: nothing held, so scan the caller's bytes in place. */
		size_t done = scan(r, data, len, final, &st, &r->out);
		strbuf_add(&r->hold, (const char *)data + done, len - done);
	} else {
		strbuf_add(&r->hold, data, len);
		size_t done = scan(r, (const unsigned char *)r->hold.buf, r->hold.len, final, &st, &r->out);
		memmove(r->hold.buf, r->hold.buf + done, r->hold.len - done);
		r->hold.len -= done;
		r->hold.buf[r->hold.len] = '\0';
	}
	r->mask_left = st.mask_left;
	r->in_mask = st.in_mask;
	if (final) {
		r->mask_left = 0;
		r->in_mask = 0;
	}
	if (r->out.len && out)
		out(ud, r->out.buf, r->out.len);
}

void redact_feed(struct redactor *r, const void *data, size_t len, redact_out_fn out, void *ud)
{
	if (!r) {
		if (len && out)
			out(ud, data, len);
		return;
	}
	if (len)
		feed(r, data, len, 0, out, ud);
}

void redact_flush(struct redactor *r, redact_out_fn out, void *ud)
{
	if (!r)
		return;
	feed(r, "", 0, 1, out, ud);
	/* A long stream's scratch space need not live as long as the redactor. */
	if (r->out.alloc > 65536)
		strbuf_release(&r->out);
	if (r->hold.alloc > 65536)
		strbuf_release(&r->hold);
}

size_t redact_pending(const struct redactor *r)
{
	return r ? r->hold.len : 0;
}

char *redact_bytes(const struct redactor *r, const void *data, size_t len, size_t *out_len)
{
	struct strbuf sb;
	strbuf_init(&sb, len + 1);
	if (r) {
		struct scan_state st = { 0, 0 };
		pthread_rwlock_rdlock(&lock);
		scan(r, data, len, 1, &st, &sb);
		pthread_rwlock_unlock(&lock);
	} else {
		strbuf_add(&sb, data, len);
	}
	if (out_len)
		*out_len = sb.len;
	return strbuf_detach(&sb);
}

char *redact_string(const struct redactor *r, const char *s)
{
	if (!s)
		return NULL;
	return redact_bytes(r, s, strlen(s), NULL);
}

int redact_add(struct redactor *r, const char *value, char **err)
{
	size_t len = strlen(value);
	*err = NULL;
	if (len < REDACT_MIN_LEN) {
		*err = xasprintf("a value of %zu bytes cannot be masked: secrets must be at least %d (a short one would mask ordinary text)",
				 len, REDACT_MIN_LEN);
		return -1;
	}
	pthread_rwlock_wrlock(&lock);
	add_forms(r, value, len);
	pthread_rwlock_unlock(&lock);
	return 0;
}

size_t redact_count(const struct redactor *r)
{
	if (!r)
		return 0;
	pthread_rwlock_rdlock(&lock);
	size_t n = r->nsecrets;
	pthread_rwlock_unlock(&lock);
	return n;
}
