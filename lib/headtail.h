/*
 * Bounded output: the first keep_head bytes and the last keep_tail bytes of
 * a stream are kept, the bytes between them only counted. A step can print
 * gigabytes; this is what the history keeps of it. One buffer for proc.c (a
 * process's merged output) and the engine (what a Lua step printed).
 */
#ifndef LB_HEADTAIL_H
#define LB_HEADTAIL_H
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct headtail {
	size_t keep_head, keep_tail;
	struct strbuf head;	/* the first keep_head bytes */
	char *ring;		/* xmalloc'd keep_tail bytes on the first spill, or NULL */
	size_t ring_pos;	/* where the next byte goes */
	size_t ring_len;	/* bytes held, <= keep_tail */
	int64_t cut;		/* bytes in neither head nor ring */
};

/* Empty, allocating nothing until bytes come. */
void headtail_init(struct headtail *h, size_t keep_head, size_t keep_tail);
void headtail_add(struct headtail *h, const char *data, size_t len);
/*
 * The head, "\n[... N bytes cut ...]\n" when bytes were cut, and the tail,
 * made printable (strbuf_add_output); xmalloc'd. *cut (NULL: not wanted)
 * receives the number of bytes left out.
 */
char *headtail_text(const struct headtail *h, int64_t *cut);
/* Frees the contents; the buffer is empty again, with the same limits. */
void headtail_release(struct headtail *h);
#endif
