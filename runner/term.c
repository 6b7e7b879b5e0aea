/* Control characters made visible on a terminal: see term.h. */
#include "term.h"

#include <string.h>
#include <unistd.h>

#include "util.h"

void term_visible(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned c = *p;
		if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
			strbuf_addch(out, (char)c);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addch(out, '^');
			strbuf_addch(out, (char)(c ^ 0x40));	/* ESC → [, NUL → @, DEL → ? */
			p++;
		} else {
			size_t n = utf8_seq_len(p, (size_t)(end - p));
			/* U+0080..U+009F are C1 controls (0x9b is CSI on some terminals) */
			if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
				p++;
				n = 0;
			}
			if (n) {
				strbuf_add(out, (const char *)p, n);
				p += n;
			} else {
				char esc[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 15] };
				strbuf_add(out, esc, 4);
				p++;
			}
		}
	}
}

static int tty = -1;

int term_is_tty(void)
{
	if (tty < 0)
		tty = isatty(1) || isatty(2);
	return tty;
}

static int needs_render(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return 1;
	}
	return 0;
}

static const char *render(const char *s, size_t len, int visible)
{
	static struct strbuf ring[8];	/* only the printing thread calls this */
	static unsigned next;
	struct strbuf *sb = &ring[next++ % 8];
	if (!sb->buf)
		strbuf_init(sb, len + 16);
	strbuf_reset(sb);
	if (visible)
		term_visible(sb, s, len);
	else
		strbuf_add(sb, s, len);
	return sb->buf;
}

const char *term_textn(const char *s, size_t len)
{
	if (!s)
		return NULL;
	return render(s, len, term_is_tty() && needs_render(s, len));
}

void term_put_lines(FILE *f, const char *s, size_t len)
{
	for (const char *p = s, *end = s + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		fputs(term_textn(p, n), f);
		if (nl)
			fputc('\n', f);
		p += n + (nl ? 1 : 0);
	}
}

const char *term_text(const char *s)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	return term_is_tty() && needs_render(s, len) ? render(s, len, 1) : s;
}
