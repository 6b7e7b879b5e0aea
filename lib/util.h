/*
 * Small shared helpers: allocation that aborts in one place on failure (as tmux
 * and htop do), a growable string buffer in git's strbuf style, durations,
 * and SHA-256 over libcrypto.
 */
#ifndef LB_UTIL_H
#define LB_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#if defined(__GNUC__)
#define LB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LB_NORETURN __attribute__((noreturn))
#else
#define LB_PRINTF(f, a)
#define LB_NORETURN
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

LB_NORETURN void die_oom(size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);			/* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) LB_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) LB_PRINTF(1, 0);

/* A growable, always NUL-terminated buffer. buf is never NULL after init. */
struct strbuf {
	char *buf;	/* xmalloc'd, owned */
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) LB_PRINTF(2, 3);
/*
 * Output kept as text (the history, show, reports): a NUL byte becomes
 * STRBUF_NUL, so what follows it is kept and the NUL can be seen.
 */
#define STRBUF_NUL "^@"
void strbuf_add_output(struct strbuf *sb, const void *data, size_t len);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);	/* frees contents, back to empty */
char *strbuf_detach(struct strbuf *sb);	/* caller owns the result */

/*
 * Durations: "500ms", "90s", "15m", "1h30m", "2d", or a plain number of
 * seconds ("30", "1.5"). Returns 0 and sets *secs, or -1 when s is not one.
 */
int duration_parse(const char *s, double *secs);
/* "850ms", "12.3s", "4m12s", "1h02m": human form for summaries. */
const char *duration_format(double secs, char *buf, size_t n);

/* SHA-256 as 64 lowercase hex digits plus NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);
int sha256_file(const char *path, char out[65]);	/* 0, or -1 with errno */
/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), 0 when there is none. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* The same, and the sequence's code point in *cp. */
size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp);
/*
 * lifeboat's one rule for text that is not UTF-8 (JSON, the audit chain):
 * NULL when the len bytes of s are valid UTF-8 already, else a copy
 * (xmalloc'd, NUL-terminated, its length in *out_len) in which each byte
 * that starts no valid sequence is U+FFFD.
 */
char *utf8_fix(const char *s, size_t len, size_t *out_len);
/* Writes text to a new file (O_EXCL) with mode, fsync'ed; 0, or -1 with errno and nothing left. */
int write_new_file(const char *path, const char *text, mode_t mode);
/* All len bytes to fd, through short writes and EINTR; 0, or -1 with errno. */
int write_all(int fd, const void *data, size_t len);
/*
 * mkdir -p of the folder that will hold path (each missing folder with
 * mode): 0, or -1 with errno, and then *failed, when failed is not NULL,
 * the folder that could not be made (caller frees).
 */
int mkdir_parents(const char *path, mode_t mode, char **failed);

/* Sets *err to a new message (caller frees) and returns -1: `return err_set(err, "cannot ...")`. */
int err_set(char **err, const char *fmt, ...) LB_PRINTF(2, 3);

/*
 * The candidate closest to word (optimal string alignment distance, any
 * case) when close enough to be a typo, else NULL: for "did you mean".
 */
const char *suggest_word(const char *word, const char *const *cands, size_t n);

/*
 * Reads a whole regular file of at most max bytes (runbooks, configs: a device,
 * a FIFO or /dev/zero would block or never end). NULL with errno on failure:
 * EISDIR a folder, EINVAL not a regular file, EFBIG over max. *len may be NULL.
 * read_file is read_file_max with READ_FILE_MAX.
 */
char *read_file_max(const char *path, size_t max, size_t *len);
char *read_file(const char *path, size_t *len);
/* What read_file's errno means, for a message: "not a regular file (...)", strerror. */
const char *read_file_strerror(int err, size_t max);
#define READ_FILE_MAX (16u * 1024 * 1024)	/* runbooks and configs */

/*
 * Paths (xmalloc'd). path_absolute: the canonical path (realpath) when the
 * file exists, else path made absolute against the working folder as it
 * is written (a file about to be created). path_dirname: the folder part
 * as dirname(1) gives it: "." without a slash, "/" for "/x".
 */
char *path_absolute(const char *path);
char *path_dirname(const char *path);

/*
 * A library loaded with dlopen on first use rather than linked (libcurl,
 * libpq: their dependencies cost every process its start-up): soname, and
 * each of n symbols into the function pointer at syms[i].fn. 0, or -1 with
 * *err (owned) naming the Debian package to install.
 */
struct dl_symbol {
	const char *name;
	void *fn;	/* a pointer to the function pointer to fill */
};
int dl_load(const char *soname, const char *package, const struct dl_symbol *syms, size_t n,
	    char **err);

/* Random lowercase hex id of n digits (n < 64) into out (n+1 bytes). */
void random_hex(char *out, size_t n);

#endif
