/*
 * Allocation that gives up in one place, strbuf, durations and hashes.
 * Running out of memory in the host is not something a runbook can recover
 * from, so the x* allocators abort with a message rather than returning NULL
 * into a hundred half-handled call sites.
 */
#include "util.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

void die_oom(size_t n)
{
	char msg[96];
	int len = snprintf(msg, sizeof(msg), "lifeboat: out of memory allocating %zu bytes\n", n);
	if (len > 0 && write(2, msg, (size_t)len) < 0)
		abort();
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	strbuf_grow(&sb, (size_t)n + 1);
	vsnprintf(sb.buf, (size_t)n + 1, fmt, ap);
	sb.len = (size_t)n;
	return strbuf_detach(&sb);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->len = 0;
	sb->alloc = hint ? hint + 1 : 64;
	sb->buf = xmalloc(sb->alloc);
	sb->buf[0] = '\0';
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (!sb->buf)
		strbuf_init(sb, extra);
	if (sb->len + extra + 1 <= sb->alloc)
		return;
	size_t want = sb->alloc * 2;
	if (want < sb->len + extra + 1)
		want = sb->len + extra + 1;
	sb->buf = xrealloc(sb->buf, want);
	sb->alloc = want;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;
	strbuf_add(sb, &ch, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n > 0) {
		strbuf_grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
		sb->len += (size_t)n;
	}
	va_end(ap);
}

void strbuf_reset(struct strbuf *sb)
{
	if (!sb->buf)
		strbuf_init(sb, 0);
	sb->len = 0;
	sb->buf[0] = '\0';
}

void strbuf_add_output(struct strbuf *sb, const void *data, size_t len)
{
	const char *p = data, *end = p + len;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul) {
			strbuf_add(sb, p, (size_t)(end - p));
			break;
		}
		strbuf_add(sb, p, (size_t)(nul - p));
		strbuf_addstr(sb, STRBUF_NUL);
		p = nul + 1;
	}
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

char *strbuf_detach(struct strbuf *sb)
{
	if (!sb->buf)
		strbuf_init(sb, 0);
	char *p = sb->buf;
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

/*
 * Units may be combined largest first ("1h30m", "2m30s", "1s500ms"); each
 * unit at most once. A bare number is seconds. Spaces, signs, exponents and
 * anything else are refused so "15 minutes" cannot slip through.
 */
int duration_parse(const char *s, double *secs)
{
	static const struct { const char *u; double mult; } units[] = {
		{ "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 }, { "ms", 0.001 },
	};
	if (!s || !*s)
		return -1;
	const char *p = s;
	int all_digits = 1;
	for (const char *q = s; *q; q++)
		if (!isdigit((unsigned char)*q) && *q != '.')
			all_digits = 0;
	if (all_digits) {
		char *end;
		double v = strtod(s, &end);
		if (*end || end == s || !isfinite(v) || strchr(s, '.') != strrchr(s, '.'))
			return -1;
		*secs = v;
		return 0;
	}
	double total = 0;
	size_t next_unit = 0;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		const char *num = p;
		while (isdigit((unsigned char)*p) || *p == '.')
			p++;
		char nbuf[32];
		if ((size_t)(p - num) >= sizeof(nbuf))
			return -1;
		memcpy(nbuf, num, (size_t)(p - num));
		nbuf[p - num] = '\0';
		char *end;
		double v = strtod(nbuf, &end);
		if (*end)
			return -1;
		size_t ulen = 0;
		while (isalpha((unsigned char)p[ulen]))
			ulen++;
		if (!ulen)
			return -1;	/* "1h30": a number needs its unit once units are used */
		size_t i;
		for (i = next_unit; i < ARRAY_SIZE(units); i++)
			if (strlen(units[i].u) == ulen && !strncmp(units[i].u, p, ulen))
				break;
		if (i == ARRAY_SIZE(units))
			return -1;
		total += v * units[i].mult;
		next_unit = i + 1;
		p += ulen;
	}
	if (!isfinite(total))
		return -1;
	*secs = total;
	return 0;
}

const char *duration_format(double secs, char *buf, size_t n)
{
	if (isnan(secs)) {
		snprintf(buf, n, "-");
	} else if (secs < 0) {
		char tmp[32];
		snprintf(buf, n, "-%s", duration_format(-secs, tmp, sizeof(tmp)));
	} else if (secs < 1) {
		snprintf(buf, n, "%dms", (int)lround(secs * 1000));
	} else if (secs < 60) {
		if (fabs(secs - round(secs)) < 0.005)
			snprintf(buf, n, "%.0fs", secs);
		else
			snprintf(buf, n, "%.2fs", secs);
	} else if (secs < 3600) {
		long s = lround(secs);
		snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
	} else {
		long s = lround(secs);
		snprintf(buf, n, "%ldh%02ldm%02lds", s / 3600, (s / 60) % 60, s % 60);
	}
	return buf;
}

static void hex_encode(const unsigned char *md, unsigned len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * len] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		abort();
	hex_encode(md, mdlen, out);
}

int sha256_file(const char *path, char out[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		die_oom(0);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	int saved = errno;
	close(fd);
	if (!rc) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		hex_encode(md, mdlen, out);
	}
	EVP_MD_CTX_free(ctx);
	errno = saved;
	return rc;
}

const char *read_file_strerror(int err, size_t max)
{
	static __thread char buf[64];
	switch (err) {
	case EISDIR:
		return "a folder, not a file";
	case EINVAL:
		return "not a regular file (a device, a FIFO or a socket)";
	case EFBIG:
		snprintf(buf, sizeof(buf), "larger than %zu MiB", max >> 20);
		return buf;
	default:
		return strerror(err);
	}
}

char *read_file(const char *path, size_t *len)
{
	return read_file_max(path, READ_FILE_MAX, len);
}

char *read_file_max(const char *path, size_t max, size_t *len)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; reads of a regular file ignore it */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat st;
	int bad = 0;
	if (fstat(fd, &st))
		bad = errno;
	else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		bad = 0;	/* /dev/null, the usual "empty file" (--config /dev/null): read as one */
	else if (S_ISDIR(st.st_mode))
		bad = EISDIR;
	else if (!S_ISREG(st.st_mode))
		bad = EINVAL;
	else if ((uintmax_t)st.st_size > max)
		bad = EFBIG;
	if (bad) {
		close(fd);
		errno = bad;
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, (size_t)st.st_size + 1);
	for (;;) {
		if (sb.len > max) {	/* grew while we read it */
			close(fd);
			strbuf_release(&sb);
			errno = EFBIG;
			return NULL;
		}
		strbuf_grow(&sb, 65536);
		ssize_t n = read(fd, sb.buf + sb.len, sb.alloc - sb.len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			strbuf_release(&sb);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
	}
	sb.buf[sb.len] = '\0';
	close(fd);
	if (len)
		*len = sb.len;
	return strbuf_detach(&sb);
}

void random_hex(char *out, size_t n)
{
	unsigned char raw[32];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, raw, sizeof(raw));
		if (r > 0)
			got = (size_t)r;
		close(fd);
	}
	for (size_t i = got; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(rand() ^ (getpid() << 3) ^ (int)i);
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n && i < 64; i++)
		out[i] = digits[(raw[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
	out[n < 64 ? n : 64] = '\0';
}

/* Optimal string alignment distance, ignoring case: typos, dropped letters, swaps. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2])
			    && tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *suggest_word(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word);
	size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	const char *best = NULL;
	size_t best_d = limit + 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);
		if (d < best_d && d < len) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	unsigned long v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned long cp;
	return utf8_decode(s, n, &cp);
}

char *utf8_fix(const char *s, size_t len, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	while (i < len && (n = utf8_seq_len(p + i, len - i)))
		i += n;
	if (i == len)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, len + 16);
	strbuf_add(&sb, s, i);
	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n) {
			strbuf_add(&sb, p + i, n);
			i += n;
		} else {
			strbuf_addstr(&sb, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
		}
	}
	*out_len = sb.len;
	return strbuf_detach(&sb);
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_new_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	errno = saved;
	return -1;
}

char *path_absolute(const char *path)
{
	char *real = realpath(path, NULL);
	if (real)
		return real;
	if (path[0] == '/')
		return xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return xstrdup(path);
	char *abs = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return abs;
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

int mkdir_parents(const char *path, mode_t mode, char **failed)
{
	if (failed)
		*failed = NULL;
	char *dir = xstrdup(path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) && errno != EEXIST) {
			int saved = errno;
			if (failed)
				*failed = dir;
			else
				free(dir);
			errno = saved;
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

int err_set(char **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	*err = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

int dl_load(const char *soname, const char *package, const struct dl_symbol *syms, size_t n,
	    char **err)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		*err = xasprintf("cannot load %s (install %s): %s", soname, package, dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *sym = dlsym(lib, syms[i].name);
		if (!sym) {
			*err = xasprintf("%s has no %s", soname, syms[i].name);
			for (size_t k = 0; k < i; k++)	/* none half set */
				memset(syms[k].fn, 0, sizeof(void *));
			dlclose(lib);
			return -1;
		}
		memcpy(syms[i].fn, &sym, sizeof(sym));	/* object to function pointer, as POSIX allows */
	}
	return 0;
}
