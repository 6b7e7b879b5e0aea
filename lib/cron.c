/*
 * Cron expressions: parsing into bit sets, matching a local time, and the
 * next run in a time zone (see cron.h for the rules).
 *
 * cron_next searches in wall-clock time, where the fields live, and maps
 * each candidate back to the instants at which the zone shows it: none
 * (a DST gap), one, or two (the clock fell back). Wall-clock arithmetic is
 * done with timegm/gmtime_r, which know no zone, so skipping a whole month
 * or day is one step; only the mapping back touches the zone, through
 * localtime_r's tm_gmtoff, which works for any offset change, not only the
 * DST ones mktime's tm_isdst can describe.
 */
#include "cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MINUTE 60
#define HOUR 3600
#define DAY 86400
#define SEARCH_YEARS 50

struct field {
	const char *name;
	int lo, hi;
	const char *const *names;	/* three-letter names, or NULL */
	int names_base;			/* the value of names[0] */
	const char *what;		/* for messages: "a number 0-7 or a name sun-sat" */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, 0, "a number 0-59" },
	{ "hour", 0, 23, NULL, 0, "a number 0-23" },
	{ "day-of-month", 1, 31, NULL, 0, "a number 1-31" },
	{ "month", 1, 12, month_names, 1, "a number 1-12 or a name jan-dec" },
	{ "day-of-week", 0, 7, day_names, 0, "a number 0-7 or a name sun-sat" },
};

static const struct { const char *name; const char *expr; } macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_minute(int64_t t)
{
	return floor_div(t, MINUTE) * MINUTE;
}

/* One value of a field: a number or, where the field has them, a name. */
static int parse_value(const struct field *f, const char *s, size_t len, int *out, char **err)
{
	char text[16];
	snprintf(text, sizeof(text), "%.*s", (int)(len < 15 ? len : 15), s);
	if (len && isdigit((unsigned char)s[0])) {
		int v = 0;
		for (size_t i = 0; i < len; i++) {
			if (!isdigit((unsigned char)s[i]) || v > 1000)
				goto bad;
			v = v * 10 + (s[i] - '0');
		}
		if (v < f->lo || v > f->hi) {
			*err = xasprintf("%s value '%s' is out of range: use %s", f->name, text, f->what);
			return -1;
		}
		*out = v;
		return 0;
	}
	if (f->names && len == 3) {
		for (int i = 0; f->names[i]; i++) {
			if (!strncasecmp(s, f->names[i], 3)) {
				*out = f->names_base + i;
				return 0;
			}
		}
	}
bad:
	*err = xasprintf("%s value '%s' is not %s", f->name, text, f->what);
	return -1;
}

/* One list item: "*", "N", "N-M", each with an optional "/S". */
static int parse_item(const struct field *f, const char *s, size_t len, uint64_t *bits, char **err)
{
	const char *slash = memchr(s, '/', len);
	size_t base_len = slash ? (size_t)(slash - s) : len;
	int lo, hi, step = 1;
	if (slash) {
		const char *st = slash + 1;
		size_t st_len = len - base_len - 1;
		long v = 0;
		for (size_t i = 0; i < st_len; i++) {
			if (!isdigit((unsigned char)st[i]) || v > 1000) {
				v = -1;
				break;
			}
			v = v * 10 + (st[i] - '0');
		}
		if (!st_len || v < 1 || v > f->hi - f->lo + 1) {
			*err = xasprintf("%s step '%.*s' is not a number 1-%d", f->name, (int)(st_len < 15 ? st_len : 15),
					 st, f->hi - f->lo + 1);
			return -1;
		}
		step = (int)v;
	}
	if (base_len == 1 && s[0] == '*') {
		lo = f->lo;
		hi = f->hi;
	} else {
		const char *dash = memchr(s, '-', base_len);
		if (!base_len || dash == s) {
			*err = xasprintf("%s item '%.*s' is empty or malformed", f->name, (int)(len < 15 ? len : 15), s);
			return -1;
		}
		if (parse_value(f, s, dash ? (size_t)(dash - s) : base_len, &lo, err))
			return -1;
		if (dash) {
			if (parse_value(f, dash + 1, base_len - (size_t)(dash - s) - 1, &hi, err))
				return -1;
			if (hi == 0 && lo > 0 && f->names == day_names)
				hi = 7;		/* "fri-sun": Sunday as 7 */
			if (hi < lo) {
				*err = xasprintf("%s range '%.*s' runs backwards: write the smaller value first", f->name,
						 (int)(base_len < 15 ? base_len : 15), s);
				return -1;
			}
		} else {
			hi = slash ? f->hi : lo;
		}
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

static int parse_field(const struct field *f, const char *s, size_t len, uint64_t *bits, char **err)
{
	*bits = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		if (i == start) {
			*err = xasprintf("%s field '%.*s' has an empty list item", f->name, (int)len, s);
			return -1;
		}
		if (parse_item(f, s + start, i - start, bits, err))
			return -1;
		start = i + 1;
	}
	return 0;
}

static int days_in_month(int month, int year)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return days[month - 1];
}

/* Whether some month of the expression has some day of it (the day rule aside). */
static int some_day_exists(const struct cron *c)
{
	for (int m = 1; m <= 12; m++) {
		if (!(c->month >> m & 1))
			continue;
		int last = m == 2 ? 29 : days_in_month(m, 2001);
		for (int d = 1; d <= last; d++)
			if (c->mday >> d & 1)
				return 1;
	}
	return 0;
}

int cron_parse(const char *expr, struct cron *out, char **err)
{
	*err = NULL;
	memset(out, 0, sizeof(*out));
	const char *p = expr ? expr : "";
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '@') {
		size_t n = strcspn(p, " \t\r\n");
		const char *rest = p + n;
		while (isspace((unsigned char)*rest))
			rest++;
		for (size_t i = 0; i < ARRAY_SIZE(macros); i++)
			if (strlen(macros[i].name) == n && !strncasecmp(p, macros[i].name, n) && !*rest)
				return cron_parse(macros[i].expr, out, err);
		*err = xasprintf("'%.*s' is not a cron expression: use five fields (minute hour day-of-month "
				 "month day-of-week) or one of @hourly, @daily, @weekly, @monthly, @yearly",
				 (int)(n < 20 ? n : 20), p);
		return -1;
	}
	const char *tok[6];
	size_t len[6];
	int n = 0;
	while (*p) {
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (n < 6) {
			tok[n] = start;
			len[n] = (size_t)(p - start);
		}
		n++;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (n != 5) {
		*err = xasprintf("expected 5 fields (minute hour day-of-month month day-of-week), found %d", n);
		return -1;
	}
	uint64_t bits[5];
	for (int i = 0; i < 5; i++)
		if (parse_field(&fields[i], tok[i], len[i], &bits[i], err))
			return -1;
	out->minute = bits[0];
	out->hour = (uint32_t)bits[1];
	out->mday = (uint32_t)bits[2];
	out->month = (uint16_t)bits[3];
	out->wday = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);
	out->mday_star = tok[2][0] == '*';
	out->wday_star = tok[4][0] == '*';
	out->wall_clock = tok[0][0] != '*' && tok[1][0] != '*';
	/* With both day fields restricted either one suffices, and every weekday comes round. */
	if ((out->mday_star || out->wday_star) && !some_day_exists(out)) {
		*err = xasprintf("the expression never matches: day-of-month '%.*s' does not occur in month '%.*s'",
				 (int)len[2], tok[2], (int)len[3], tok[3]);
		return -1;
	}
	return 0;
}

static int day_matches(const struct cron *c, int mday, int wday)
{
	int m = c->mday >> mday & 1, w = c->wday >> wday & 1;
	return (c->mday_star || c->wday_star) ? m && w : m || w;
}

int cron_matches(const struct cron *c, const struct tm *t)
{
	return (c->minute >> t->tm_min & 1) && (c->hour >> t->tm_hour & 1) && (c->month >> (t->tm_mon + 1) & 1)
	       && day_matches(c, t->tm_mday, t->tm_wday);
}

/*
 * The first matching wall-clock minute at or after w, both in "wall seconds"
 * (the zone's local time read as if it were UTC); CRON_NONE past limit.
 */
static int64_t next_wall(const struct cron *c, int64_t w, int64_t limit)
{
	w = floor_minute(w + MINUTE - 1);
	while (w <= limit) {
		time_t t = (time_t)w;
		struct tm tm;
		gmtime_r(&t, &tm);
		if (!(c->month >> (tm.tm_mon + 1) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!day_matches(c, tm.tm_mday, tm.tm_wday)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!(c->hour >> tm.tm_hour & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!(c->minute >> tm.tm_min & 1)) {
			tm.tm_min++;
		} else {
			return w;
		}
		tm.tm_sec = 0;
		w = (int64_t)timegm(&tm);
	}
	return CRON_NONE;
}

static long offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/* The smallest and largest UTC offsets within two days of t. */
static void offset_range(int64_t t, long *lo, long *hi)
{
	*lo = *hi = offset_at(t);
	for (int k = -8; k <= 8; k++) {
		long o = offset_at(t + (int64_t)k * 6 * HOUR);
		if (o < *lo)
			*lo = o;
		if (o > *hi)
			*hi = o;
	}
}

/*
 * The instants at which the job runs for wall-clock minute w (see cron.h):
 * returns how many (0-2), ascending, in out.
 */
static int wall_instants(const struct cron *c, int64_t w, int64_t out[2])
{
	long lo, hi;
	offset_range(w, &lo, &hi);
	int n = 0;
	long offs[2] = { lo, hi };
	for (int i = 0; i < 2; i++) {
		int64_t t = w - offs[i];
		if (offset_at(t) == offs[i] && (n == 0 || out[n - 1] != t))
			out[n++] = t;
	}
	if (n == 2 && out[0] > out[1]) {
		int64_t tmp = out[0];
		out[0] = out[1];
		out[1] = tmp;
	}
	if (n == 2 && c->wall_clock)
		n = 1;			/* a wall-clock time runs at its first occurrence only */
	if (n || !c->wall_clock)
		return n;
	/* w falls in a gap: run when it ends, the first instant whose wall time is past w. */
	int64_t a = w - hi, b = w - lo;	/* wall(a) <= w < wall(b) */
	if (a + offset_at(a) > w || b + offset_at(b) <= w)
		return 0;
	while (b - a > 1) {
		int64_t m = a + (b - a) / 2;
		if (m + offset_at(m) > w)
			b = m;
		else
			a = m;
	}
	out[0] = floor_minute(b + MINUTE - 1);
	return 1;
}

struct tz_saved {
	char *old;	/* xstrdup'd TZ before, NULL when it was unset */
};

static void tz_enter(const char *tz, struct tz_saved *saved)
{
	const char *old = getenv("TZ");
	saved->old = old ? xstrdup(old) : NULL;
	setenv("TZ", tz && *tz ? tz : "UTC", 1);
	tzset();
}

static void tz_leave(struct tz_saved *saved)
{
	if (saved->old)
		setenv("TZ", saved->old, 1);
	else
		unsetenv("TZ");
	free(saved->old);
	saved->old = NULL;
	tzset();
}

int64_t cron_next(const struct cron *c, int64_t after, const char *tz)
{
	struct tz_saved saved;
	tz_enter(tz, &saved);
	long lo, hi;
	offset_range(after, &lo, &hi);
	/* No instant after `after` shows a wall time before after + lo. */
	int64_t w = floor_minute(after + lo);
	int64_t limit = after + (int64_t)SEARCH_YEARS * 366 * DAY;
	int64_t best = CRON_NONE;
	long best_hi = 0;
	for (;;) {
		w = next_wall(c, w, limit);
		if (w == CRON_NONE)
			break;
		/* A later wall time runs no earlier than w - best_hi: nothing can beat best. */
		if (best != CRON_NONE && w - best_hi > best)
			break;
		int64_t t[2];
		int n = wall_instants(c, w, t);
		for (int i = 0; i < n; i++) {
			if (t[i] > after && t[i] < best) {
				long best_lo;
				best = t[i];
				offset_range(best, &best_lo, &best_hi);
			}
		}
		w += MINUTE;
	}
	tz_leave(&saved);
	return best;
}

int cron_due(const struct cron *c, const char *tz, int64_t now, int64_t last_run)
{
	int64_t after = last_run >= 0 && last_run <= now ? last_run : floor_minute(now) - 1;
	return cron_next(c, after, tz) <= now;
}
