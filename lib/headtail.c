/*
 * Bounded output (headtail.h): a strbuf for the head, a ring for the tail,
 * so a process printing without end costs keep_head + keep_tail bytes.
 */
#include "headtail.h"

#include <stdlib.h>
#include <string.h>

void headtail_init(struct headtail *h, size_t keep_head, size_t keep_tail)
{
	memset(h, 0, sizeof(*h));
	h->keep_head = keep_head;
	h->keep_tail = keep_tail;
	h->head = (struct strbuf)STRBUF_INIT;
}

static void keep_ring(struct headtail *h, const char *d, size_t n)
{
	size_t cap = h->keep_tail;
	if (!h->ring)
		h->ring = xmalloc(cap);
	if (n >= cap) {
		h->cut += (int64_t)(h->ring_len + n - cap);
		memcpy(h->ring, d + n - cap, cap);
		h->ring_pos = 0;
		h->ring_len = cap;
		return;
	}
	if (h->ring_len + n > cap)
		h->cut += (int64_t)(h->ring_len + n - cap);
	size_t first = cap - h->ring_pos < n ? cap - h->ring_pos : n;
	memcpy(h->ring + h->ring_pos, d, first);
	memcpy(h->ring, d + first, n - first);
	h->ring_pos = (h->ring_pos + n) % cap;
	h->ring_len = h->ring_len + n > cap ? cap : h->ring_len + n;
}

void headtail_add(struct headtail *h, const char *d, size_t n)
{
	size_t room = h->keep_head - h->head.len;
	size_t k = n < room ? n : room;
	if (k)
		strbuf_add(&h->head, d, k);
	d += k;
	n -= k;
	if (!n)
		return;
	if (!h->keep_tail)
		h->cut += (int64_t)n;
	else
		keep_ring(h, d, n);
}

char *headtail_text(const struct headtail *h, int64_t *cut)
{
	struct strbuf sb;
	strbuf_init(&sb, h->head.len + h->ring_len + 48);
	if (h->head.len)
		strbuf_add_output(&sb, h->head.buf, h->head.len);
	if (h->cut)
		strbuf_addf(&sb, "\n[... %lld bytes cut ...]\n", (long long)h->cut);
	if (h->ring_len) {
		size_t cap = h->keep_tail;
		size_t start = (h->ring_pos + cap - h->ring_len) % cap;
		size_t first = cap - start < h->ring_len ? cap - start : h->ring_len;
		strbuf_add_output(&sb, h->ring + start, first);
		if (h->ring_len > first)
			strbuf_add_output(&sb, h->ring, h->ring_len - first);
	}
	if (cut)
		*cut = h->cut;
	return strbuf_detach(&sb);
}

void headtail_release(struct headtail *h)
{
	strbuf_release(&h->head);
	free(h->ring);
	headtail_init(h, h->keep_head, h->keep_tail);
}
