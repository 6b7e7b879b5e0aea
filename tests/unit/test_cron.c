/*
 * Cron expressions: which minutes match (lists, ranges, steps, names,
 * Vixie's day rule both ways), which expressions are refused and why, the
 * next run across month ends, leap days and daylight saving in
 * Europe/Berlin and America/New_York, and the due rule after downtime.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"
#include "util.h"

/* Unix seconds of a UTC date and time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
			 .tm_sec = s };
	return (int64_t)timegm(&tm);
}

static struct cron parse_ok(const char *expr)
{
	struct cron c;
	char *err = NULL;
	if (cron_parse(expr, &c, &err))
		fail_msg("'%s' should parse: %s", expr, err);
	return c;
}

static void test_matches(void **state)
{
	(void)state;
	/* Dates as wall-clock fields; 2025-06-02 is a Monday, 2025-07-13 a Sunday. */
	static const struct { const char *expr; int y, mo, d, h, mi; int match; } cases[] = {
		{ "* * * * *", 2025, 6, 2, 13, 37, 1 },
		{ "*/15 * * * *", 2025, 6, 2, 10, 45, 1 },
		{ "*/15 * * * *", 2025, 6, 2, 10, 46, 0 },
		{ "0 3 * * 1", 2025, 6, 2, 3, 0, 1 },
		{ "0 3 * * 1", 2025, 6, 3, 3, 0, 0 },
		{ "0 3 * * 1", 2025, 6, 2, 3, 1, 0 },
		{ "0 9-17 * * mon-fri", 2025, 6, 6, 17, 0, 1 },
		{ "0 9-17 * * mon-fri", 2025, 6, 7, 12, 0, 0 },
		{ "0 9-17 * * mon-fri", 2025, 6, 4, 8, 0, 0 },
		{ "1-10/2 * * * *", 2025, 6, 2, 0, 3, 1 },
		{ "1-10/2 * * * *", 2025, 6, 2, 0, 4, 0 },
		{ "1-10/2 * * * *", 2025, 6, 2, 0, 11, 0 },
		{ "5/15 * * * *", 2025, 6, 2, 0, 20, 1 },
		{ "5/15 * * * *", 2025, 6, 2, 0, 15, 0 },
		{ "0 0 1,15 * *", 2025, 6, 15, 0, 0, 1 },
		{ "0 0 1,15 * *", 2025, 6, 14, 0, 0, 0 },
		{ "0 0 * jan,jul *", 2025, 7, 1, 0, 0, 1 },
		{ "0 0 * jan,jul *", 2025, 8, 1, 0, 0, 0 },
		{ "0 0 * JAN-Mar *", 2025, 2, 10, 0, 0, 1 },
		{ "0 0 * */3 *", 2025, 4, 10, 0, 0, 1 },	/* 1,4,7,10 */
		{ "0 0 * */3 *", 2025, 5, 10, 0, 0, 0 },
		{ "0 0 * * 7", 2025, 7, 13, 0, 0, 1 },
		{ "0 0 * * 0", 2025, 7, 13, 0, 0, 1 },
		{ "0 0 * * sun", 2025, 7, 13, 0, 0, 1 },
		{ "0 0 * * sun", 2025, 7, 12, 0, 0, 0 },
		{ "0 0 * * 5-7", 2025, 7, 13, 0, 0, 1 },
		{ "0 0 * * 5-7", 2025, 7, 11, 0, 0, 1 },
		{ "0 0 * * 5-7", 2025, 7, 10, 0, 0, 0 },
		{ "0 0 * * fri-sun", 2025, 7, 12, 0, 0, 1 },
		{ "0 0 * * fri-sun", 2025, 7, 13, 0, 0, 1 },
		{ "0 0 * * fri-sun", 2025, 7, 10, 0, 0, 0 },
		{ "0 0 * * 6-0", 2025, 7, 13, 0, 0, 1 },
		{ "59 23 31 12 *", 2025, 12, 31, 23, 59, 1 },
		/* Vixie: both day fields restricted, either one suffices. */
		{ "0 0 13 * fri", 2025, 6, 6, 0, 0, 1 },	/* a Friday, not the 13th */
		{ "0 0 13 * fri", 2025, 7, 13, 0, 0, 1 },	/* the 13th, a Sunday */
		{ "0 0 13 * fri", 2025, 7, 14, 0, 0, 0 },
		/* One field '*': only the other counts. */
		{ "0 0 * * 1", 2025, 6, 2, 0, 0, 1 },
		{ "0 0 * * 1", 2025, 6, 1, 0, 0, 0 },
		{ "0 0 1 * *", 2025, 6, 1, 0, 0, 1 },
		{ "0 0 1 * *", 2025, 6, 2, 0, 0, 0 },
		/* A stepped '*' still counts as '*' (Vixie, cronie): both must match. */
		{ "0 0 */2 * fri", 2025, 6, 13, 0, 0, 1 },	/* odd day and Friday */
		{ "0 0 */2 * fri", 2025, 6, 6, 0, 0, 0 },	/* Friday, even day */
		{ "0 0 */2 * fri", 2025, 6, 15, 0, 0, 0 },	/* odd day, Sunday */
		{ "@daily", 2025, 6, 2, 0, 0, 1 },
		{ "@hourly", 2025, 6, 2, 7, 0, 1 },
		{ "@hourly", 2025, 6, 2, 7, 1, 0 },
		{ "@weekly", 2025, 7, 13, 0, 0, 1 },
		{ "@monthly", 2025, 7, 1, 0, 0, 1 },
		{ "@yearly", 2026, 1, 1, 0, 0, 1 },
		{ "  0   3  *  * 1 ", 2025, 6, 2, 3, 0, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cron c = parse_ok(cases[i].expr);
		time_t t = (time_t)utc(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, 0);
		struct tm tm;
		gmtime_r(&t, &tm);
		if (cron_matches(&c, &tm) != cases[i].match)
			fail_msg("'%s' at %04d-%02d-%02d %02d:%02d: expected %s", cases[i].expr, cases[i].y,
				 cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, cases[i].match ? "a match" : "none");
	}
}

static void test_invalid(void **state)
{
	(void)state;
	static const struct { const char *expr, *msg; } cases[] = {
		{ "", "expected 5 fields" },
		{ "* * * *", "found 4" },
		{ "* * * * * *", "found 6" },
		{ "60 * * * *", "minute value '60'" },
		{ "* 24 * * *", "hour value '24'" },
		{ "* * 0 * *", "day-of-month value '0'" },
		{ "* * 32 * *", "day-of-month value '32'" },
		{ "* * * 13 *", "month value '13'" },
		{ "* * * 0 *", "month value '0'" },
		{ "* * * * 8", "day-of-week value '8'" },
		{ "0 3 * * mon-sux", "day-of-week value 'sux'" },
		{ "* * * foo *", "month value 'foo'" },
		{ "* * * * monday", "day-of-week value 'monday'" },
		{ "* * * * jan", "day-of-week value 'jan'" },
		{ "* mon * * *", "hour value 'mon'" },
		{ "*/0 * * * *", "minute step '0'" },
		{ "*/ * * * *", "minute step ''" },
		{ "*/61 * * * *", "minute step '61'" },
		{ "5-1 * * * *", "minute range '5-1' runs backwards" },
		{ "* * * * sat-mon", "day-of-week range 'sat-mon' runs backwards" },
		{ "1,,2 * * * *", "empty list item" },
		{ "1, * * * *", "empty list item" },
		{ "a * * * *", "minute value 'a'" },
		{ "-5 * * * *", "minute item '-5'" },
		{ "1-2-3 * * * *", "minute value '2-3'" },
		{ "0 0 30 feb *", "never matches" },
		{ "0 0 31 4,6,9,11 *", "never matches" },
		{ "@reboot", "not a cron expression" },
		{ "@daily 5", "not a cron expression" },
		{ "99999999999 * * * *", "minute value" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cron c;
		char *err = NULL;
		if (!cron_parse(cases[i].expr, &c, &err))
			fail_msg("'%s' should not parse", cases[i].expr);
		assert_non_null(err);
		if (!strstr(err, cases[i].msg))
			fail_msg("'%s': got \"%s\", expected it to mention \"%s\"", cases[i].expr, err, cases[i].msg);
		free(err);
	}
	/* Rare but valid. */
	parse_ok("0 0 29 2 *");
	parse_ok("0 0 31 * *");
	parse_ok("0 0 30 2 mon");	/* both restricted: every Monday in February */
}

struct next_case {
	const char *tz, *expr;
	int64_t after, want;
	const char *why;
};

static void test_next(void **state)
{
	(void)state;
	const struct next_case cases[] = {
		{ NULL, "*/5 * * * *", utc(2025, 6, 1, 10, 2, 59), utc(2025, 6, 1, 10, 5, 0), "next step" },
		{ "UTC", "*/5 * * * *", utc(2025, 6, 1, 10, 5, 0), utc(2025, 6, 1, 10, 10, 0), "strictly after" },
		{ "UTC", "0 0 31 * *", utc(2025, 4, 1, 0, 0, 0), utc(2025, 5, 31, 0, 0, 0), "skips a 30-day month" },
		{ "UTC", "0 0 31 * *", utc(2025, 1, 31, 0, 0, 0), utc(2025, 3, 31, 0, 0, 0), "skips February" },
		{ "UTC", "0 0 1 * *", utc(2025, 12, 31, 23, 59, 30), utc(2026, 1, 1, 0, 0, 0), "year end" },
		{ "UTC", "30 23 31 12 *", utc(2025, 12, 31, 23, 30, 0), utc(2026, 12, 31, 23, 30, 0), "a year on" },
		{ "UTC", "0 12 29 2 *", utc(2025, 3, 1, 0, 0, 0), utc(2028, 2, 29, 12, 0, 0), "next leap day" },
		{ "UTC", "0 12 29 2 *", utc(2096, 3, 1, 0, 0, 0), utc(2104, 2, 29, 12, 0, 0), "2100 is no leap year" },
		{ "UTC", "0 0 * * 1", utc(2025, 6, 1, 12, 0, 0), utc(2025, 6, 2, 0, 0, 0), "Monday" },
		{ "UTC", "0 0 13 * 5", utc(2025, 6, 7, 0, 0, 0), utc(2025, 6, 13, 0, 0, 0), "Vixie either" },
		{ "UTC", "0 0 29 2 */7", utc(2025, 1, 1, 0, 0, 0), utc(2032, 2, 29, 0, 0, 0), "Feb 29 on a Sunday" },
		{ "Europe/Berlin", "0 0 * * *", utc(2025, 6, 1, 0, 0, 0), utc(2025, 6, 1, 22, 0, 0), "CEST midnight" },
		{ "Europe/Berlin", "0 0 1 * *", utc(2025, 3, 31, 0, 0, 0), utc(2025, 3, 31, 22, 0, 0), "month end in CEST" },
		/* Spring forward, 2025-03-30: 02:00 CET becomes 03:00 CEST (01:00 UTC). */
		{ "Europe/Berlin", "30 2 * * *", utc(2025, 3, 29, 1, 30, 0), utc(2025, 3, 30, 1, 0, 0),
		  "a skipped wall-clock time runs when the gap ends" },
		{ "Europe/Berlin", "30 2 * * *", utc(2025, 3, 30, 1, 0, 0), utc(2025, 3, 31, 0, 30, 0), "then daily again" },
		{ "Europe/Berlin", "0 3 * * *", utc(2025, 3, 29, 2, 0, 0), utc(2025, 3, 30, 1, 0, 0), "03:00 CEST" },
		{ "Europe/Berlin", "30 * * * *", utc(2025, 3, 30, 0, 45, 0), utc(2025, 3, 30, 1, 30, 0),
		  "a periodic job skips the missing hour" },
		/* Fall back, 2025-10-26: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:xx happens twice. */
		{ "Europe/Berlin", "30 2 * * *", utc(2025, 10, 25, 0, 30, 0), utc(2025, 10, 26, 0, 30, 0),
		  "first occurrence of a repeated time" },
		{ "Europe/Berlin", "30 2 * * *", utc(2025, 10, 26, 0, 30, 0), utc(2025, 10, 27, 1, 30, 0),
		  "not the second occurrence" },
		{ "Europe/Berlin", "0 * * * *", utc(2025, 10, 26, 0, 30, 0), utc(2025, 10, 26, 1, 0, 0),
		  "a periodic job runs in the repeated hour" },
		/* New York: 2025-03-09 02:00 EST -> 03:00 EDT (07:00 UTC); 2025-11-02 02:00 EDT -> 01:00 EST (06:00 UTC). */
		{ "America/New_York", "0 9 * * *", utc(2025, 3, 8, 14, 0, 0), utc(2025, 3, 9, 13, 0, 0), "09:00 EDT" },
		{ "America/New_York", "30 2 * * *", utc(2025, 3, 8, 12, 0, 0), utc(2025, 3, 9, 7, 0, 0), "gap end" },
		{ "America/New_York", "30 1 * * *", utc(2025, 11, 1, 12, 0, 0), utc(2025, 11, 2, 5, 30, 0), "01:30 EDT" },
		{ "America/New_York", "30 1 * * *", utc(2025, 11, 2, 5, 30, 0), utc(2025, 11, 3, 6, 30, 0), "once" },
		{ "America/New_York", "*/30 * * * *", utc(2025, 11, 2, 5, 45, 0), utc(2025, 11, 2, 6, 0, 0),
		  "01:00 EST, the repeated hour" },
		{ "America/New_York", "0 0 1 * *", utc(2025, 12, 31, 0, 0, 0), utc(2026, 1, 1, 5, 0, 0), "new year in EST" },
		{ "America/New_York", "0 0 29 2 *", utc(2025, 1, 1, 0, 0, 0), utc(2028, 2, 29, 5, 0, 0), "leap day in EST" },
	};
	const char *before = getenv("TZ");
	char *saved = before ? xstrdup(before) : NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cron c = parse_ok(cases[i].expr);
		int64_t got = cron_next(&c, cases[i].after, cases[i].tz);
		if (got != cases[i].want)
			fail_msg("'%s' in %s (%s): got %lld, want %lld", cases[i].expr, cases[i].tz ? cases[i].tz : "UTC",
				 cases[i].why, (long long)got, (long long)cases[i].want);
	}
	/* TZ is restored. */
	const char *after = getenv("TZ");
	if (saved)
		assert_string_equal(after, saved);
	else
		assert_null(after);
	free(saved);
}

/* Where no clock changes, the next run is the first matching minute: check by brute force. */
static void test_next_brute_force(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"*/7 */5 * * *", "0 0 13 * fri", "15,45 9-17 * * mon-fri", "0 0 */2 * fri", "0 12 1-7 * 1",
		"30 4 * apr-jun sun", "59 23 28-31 * *", "1-50/7 3 */3 */2 *",
	};
	static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York" };
	int64_t from = utc(2025, 5, 1, 0, 0, 0), to = utc(2025, 6, 15, 0, 0, 0);	/* no DST change */
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
		for (size_t e = 0; e < ARRAY_SIZE(exprs); e++) {
			struct cron c = parse_ok(exprs[e]);
			/* The matching minutes, by local time, found with localtime_r one minute at a time. */
			setenv("TZ", zones[z], 1);
			tzset();
			int64_t *hits = xcalloc((size_t)((to - from) / 60) + 1, sizeof(*hits));
			size_t nhits = 0;
			for (int64_t t = from; t < to; t += 60) {
				time_t tt = (time_t)t;
				struct tm tm;
				localtime_r(&tt, &tm);
				if (cron_matches(&c, &tm))
					hits[nhits++] = t;
			}
			unsetenv("TZ");
			tzset();
			assert_true(nhits > 1);
			/* From just before each hit, and from arbitrary points between, cron_next finds the next. */
			for (size_t i = 0; i + 1 < nhits; i++) {
				assert_int_equal(cron_next(&c, hits[i], zones[z]), hits[i + 1]);
				assert_int_equal(cron_next(&c, hits[i + 1] - 1, zones[z]), hits[i + 1]);
				int64_t mid = hits[i] + (hits[i + 1] - hits[i]) / 2;
				assert_int_equal(cron_next(&c, mid, zones[z]), hits[i + 1]);
			}
			free(hits);
		}
	}
}

static int64_t wall_of(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;
	localtime_r(&tt, tm);
	return t + tm->tm_gmtoff;
}

/*
 * Across DST changes, against a model of the rule written minute by minute:
 * a periodic job runs at every real minute whose local time matches; a
 * wall-clock job at the first real minute showing a matching time, and at
 * the end of a gap that swallowed one.
 */
static void test_next_dst_model(void **state)
{
	(void)state;
	static const char *const exprs[] = {
		"30 2 * * *", "0 * * * *", "*/20 * * * *", "15 1-3 * * *", "0 2 * * 0", "45 2 30 3 *",
		"0 3 * * *", "59 1 * * *", "0 1 2 11 *", "* 2 * * *",
	};
	static const struct { const char *tz; int y, mo, d; } windows[] = {
		{ "Europe/Berlin", 2025, 3, 29 }, { "Europe/Berlin", 2025, 10, 25 },
		{ "America/New_York", 2025, 3, 8 }, { "America/New_York", 2025, 11, 1 },
	};
	size_t total = 0;
	for (size_t w = 0; w < ARRAY_SIZE(windows); w++) {
		int64_t from = utc(windows[w].y, windows[w].mo, windows[w].d, 0, 0, 0), to = from + 3 * 86400;
		for (size_t e = 0; e < ARRAY_SIZE(exprs); e++) {
			struct cron c = parse_ok(exprs[e]);
			setenv("TZ", windows[w].tz, 1);
			tzset();
			int64_t *fires = xcalloc((size_t)((to - from) / 60) + 1, sizeof(*fires));
			size_t n = 0;
			for (int64_t t = from; t < to; t += 60) {
				struct tm tm, prev_tm, other_tm;
				int64_t wall = wall_of(t, &tm), prev = wall_of(t - 60, &prev_tm);
				int fire = cron_matches(&c, &tm);
				if (fire && c.wall_clock) {
					/* Not when an earlier real minute showed the same wall time. */
					for (int64_t back = 60; back <= 3 * 3600 && fire; back += 60)
						if (wall_of(t - back, &other_tm) == wall)
							fire = 0;
				}
				if (!fire && c.wall_clock && wall - prev > 60) {
					for (int64_t sk = prev + 60; sk < wall && !fire; sk += 60) {
						time_t st = (time_t)sk;
						struct tm skipped;
						gmtime_r(&st, &skipped);
						fire = cron_matches(&c, &skipped);
					}
				}
				if (fire)
					fires[n++] = t;
			}
			unsetenv("TZ");
			tzset();
			int64_t t = from - 1;
			for (size_t i = 0; i < n; i++) {
				int64_t got = cron_next(&c, t, windows[w].tz);
				if (got != fires[i])
					fail_msg("'%s' in %s after %lld: got %lld, model says %lld", exprs[e], windows[w].tz,
						 (long long)t, (long long)got, (long long)fires[i]);
				t = got;
			}
			assert_true(cron_next(&c, t, windows[w].tz) >= to);
			total += n;
			free(fires);
		}
	}
	assert_true(total > 500);
}

static void test_due(void **state)
{
	(void)state;
	struct cron c = parse_ok("0 3 * * *");
	int64_t slot = utc(2025, 6, 5, 3, 0, 0);
	/* Never run: only the current minute counts. */
	assert_int_equal(cron_due(&c, "UTC", slot + 20, -1), 1);
	assert_int_equal(cron_due(&c, "UTC", slot, -1), 1);
	assert_int_equal(cron_due(&c, "UTC", slot + 60, -1), 0);
	assert_int_equal(cron_due(&c, "UTC", slot - 1, -1), 0);
	assert_int_equal(cron_due(&c, "UTC", slot + 7 * 3600, -1), 0);
	/* After downtime: due once, however many slots passed. */
	int64_t last = utc(2025, 6, 1, 3, 0, 5);
	int64_t now = utc(2025, 6, 5, 10, 0, 0);
	assert_int_equal(cron_due(&c, "UTC", now, last), 1);
	assert_int_equal(cron_due(&c, "UTC", now + 60, now + 30), 0);
	assert_int_equal(cron_due(&c, "UTC", utc(2025, 6, 6, 2, 59, 59), now + 30), 0);
	assert_int_equal(cron_due(&c, "UTC", utc(2025, 6, 6, 3, 0, 10), now + 30), 1);
	/* Already run this minute: not again. */
	assert_int_equal(cron_due(&c, "UTC", slot + 40, slot + 5), 0);
	/* Run just before the slot (by hand, say): the slot still runs. */
	assert_int_equal(cron_due(&c, "UTC", slot + 5, slot - 10), 1);
	/* A last run in the future (clock set back) counts as none. */
	assert_int_equal(cron_due(&c, "UTC", slot + 10, slot + 86400 * 30), 1);
	assert_int_equal(cron_due(&c, "UTC", slot + 3600, slot + 86400 * 30), 0);
	/* The DST gap: a drill at 02:30 Berlin runs at 03:00 CEST on 2025-03-30. */
	struct cron night = parse_ok("30 2 * * *");
	assert_int_equal(cron_due(&night, "Europe/Berlin", utc(2025, 3, 30, 1, 0, 30), utc(2025, 3, 29, 1, 30, 0)), 1);
	assert_int_equal(cron_due(&night, "Europe/Berlin", utc(2025, 3, 30, 1, 0, 30), -1), 1);
	assert_int_equal(cron_due(&night, "Europe/Berlin", utc(2025, 3, 30, 0, 59, 30), utc(2025, 3, 29, 1, 30, 0)),
			 0);
}

/* A scheduler polling every minute, down for three days: it runs once on return, not three times. */
static void test_due_simulated(void **state)
{
	(void)state;
	struct cron c = parse_ok("0 3 * * *");
	int64_t last = -1;
	int64_t runs[16];
	size_t nruns = 0;
	int64_t down_from = utc(2025, 6, 1, 12, 0, 0), down_to = utc(2025, 6, 4, 12, 0, 0);
	for (int64_t t = utc(2025, 6, 1, 0, 0, 7); t < utc(2025, 6, 6, 0, 0, 0); t += 60) {
		if (t >= down_from && t < down_to)
			continue;
		if (cron_due(&c, "UTC", t, last)) {
			assert_true(nruns < ARRAY_SIZE(runs));
			runs[nruns++] = t;
			last = t;
		}
	}
	assert_int_equal(nruns, 3);
	assert_int_equal(runs[0], utc(2025, 6, 1, 3, 0, 7));
	assert_int_equal(runs[1], utc(2025, 6, 4, 12, 0, 7));	/* the missed drills, once */
	assert_int_equal(runs[2], utc(2025, 6, 5, 3, 0, 7));

	/* A first start after the day's slot does not back-fill. */
	last = -1;
	nruns = 0;
	for (int64_t t = utc(2025, 6, 1, 12, 0, 0); t < utc(2025, 6, 2, 0, 0, 0); t += 60)
		if (cron_due(&c, "UTC", t, last))
			nruns++, last = t;
	assert_int_equal(nruns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_next_brute_force),
		cmocka_unit_test(test_next_dst_model),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_due_simulated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
