/*
 * Secret redaction on raw bytes (SPEC 5): every occurrence of a secret value
 * becomes "***" before anything else sees the bytes — prefixing, merging,
 * truncation, escaping, storing, sending.
 *
 * A stream is redacted as it arrives: redact_feed emits at once every byte
 * that cannot be part of a secret and holds back only the longest tail that
 * could still begin one (always fewer bytes than the longest secret), so a
 * value split across reads, or arriving one byte at a time, is masked all
 * the same. The output does not depend on how the input was cut: feeding a
 * stream in any chunks and then flushing gives exactly redact_bytes of the
 * whole.
 *
 * Each value is masked in the forms it takes once encoded too: escaped
 * inside a JSON string (once, and twice for JSON kept in a JSON string) and
 * as XML/HTML text. So `pa"ss\word1` is masked as `pa\"ss\\word1` in
 * params_json, ctx.state, the audit log and the reports, wherever the
 * encoding happened before the redaction.
 *
 * Where occurrences overlap or touch (two secrets sharing bytes, one secret
 * the prefix of another, a value repeated back to back), the union of their
 * bytes becomes a single "***", so no part of any occurrence shows.
 *
 * One redactor per stream: it carries the stream's held-back tail. Use
 * redact_dup for another stream with the same secrets. A NULL redactor
 * redacts nothing, so callers need not special-case "no secrets".
 */
#ifndef LB_REDACT_H
#define LB_REDACT_H
#include <stddef.h>

#define REDACT_MIN_LEN 6	/* shorter secret values are refused */
#define REDACT_MASK "***"

struct redactor;

/* Receives redacted bytes; data is valid only during the call. */
typedef void (*redact_out_fn)(void *ud, const char *data, size_t len);

/*
 * A redactor for n NUL-terminated secret values (duplicates allowed; n may
 * be 0). Returns NULL with *err (xmalloc'd) when a value is shorter than
 * REDACT_MIN_LEN bytes; the message never contains the value.
 */
struct redactor *redact_new(const char *const *secrets, size_t n, char **err);
/* A redactor with the same secrets and an empty stream. NULL in (or no secrets yet), NULL out. */
struct redactor *redact_dup(const struct redactor *r);
void redact_free(struct redactor *r);

/* Redacts the next len bytes of the stream; out is called at most once. */
void redact_feed(struct redactor *r, const void *data, size_t len, redact_out_fn out, void *ud);
/* End of stream: emits what was held back; the redactor can start a new stream. */
void redact_flush(struct redactor *r, redact_out_fn out, void *ud);
/* Bytes held back so far (less than the longest secret). */
size_t redact_pending(const struct redactor *r);

/* One-shot, independent of any stream in progress: xmalloc'd results, caller frees. */
char *redact_string(const struct redactor *r, const char *s);	/* NULL in, NULL out */
char *redact_bytes(const struct redactor *r, const void *data, size_t len, size_t *out_len);

/*
 * mask(): one more secret from now on (thread-safe against the one-shot
 * functions above and redact_dup). 0, or -1 with *err (xmalloc'd) when the
 * value is shorter than REDACT_MIN_LEN.
 */
int redact_add(struct redactor *r, const char *value, char **err);
/* How many secrets r masks (0 for NULL): with none, callers can skip redacting. */
size_t redact_count(const struct redactor *r);

#endif
