/*
 * Cron expressions for scheduled drills (SPEC 4): the five fields of Vixie
 * cron — minute hour day-of-month month day-of-week — with lists, ranges,
 * steps (*, N, N-M, each with an optional /S; a lone N/S means N-max/S as in
 * cronie), month names jan-dec and day names sun-sat (0 and 7 both Sunday),
 * and the @hourly/@daily/@midnight/@weekly/@monthly/@yearly/@annually forms.
 * A day-of-week range may end on Sunday ("fri-sun", "5-0"); other ranges
 * must not run backwards.
 *
 * Vixie's day rule: when both day fields are restricted, a day matching
 * either runs the job; when either field begins with '*', both must match
 * (so a plain '*' leaves only the other field; and, exactly as in Vixie
 * cron and cronie, a '*' with a step after it still counts as '*').
 *
 * Daylight saving, as Vixie cron does it: a job whose minute and hour are
 * both fixed ("30 2 * * *") names a wall-clock time and runs once per
 * matching day — at that time, at its first occurrence when the clock falls
 * back, and right when the gap ends when the clock springs over it. A job
 * with '*' in its minute or hour is periodic and follows real time: it runs
 * in both passes of a repeated hour and not at all in a skipped one.
 *
 * cron_next and cron_due set TZ for the duration of the call (setenv, tzset)
 * and restore it after: call them from one thread at a time, and not while
 * another thread converts local times.
 */
#ifndef LB_CRON_H
#define LB_CRON_H
#include <stdint.h>
#include <time.h>

#define CRON_NONE INT64_MAX	/* no next time: later than any time */

struct cron {
	uint64_t minute;		/* bit n: minute n (0-59) */
	uint32_t hour;			/* bit n: hour n (0-23) */
	uint32_t mday;			/* bit n: day n of the month (1-31) */
	uint16_t month;			/* bit n: month n (1-12) */
	uint8_t wday;			/* bit n: weekday n (0-6, Sunday 0; 7 folds into 0) */
	unsigned char mday_star;	/* the field begins with '*' (the day rule) */
	unsigned char wday_star;
	unsigned char wall_clock;	/* minute and hour both fixed (the DST rule) */
};

/*
 * Parses expr into *out. Returns 0, or -1 with *err (xmalloc'd, caller
 * frees) naming the field and the value, e.g. "day-of-week value 'sux' is
 * not a number 0-7 or a name sun-sat". Expressions that can never match
 * ("0 0 30 feb *") are refused too.
 */
int cron_parse(const char *expr, struct cron *out, char **err);

/* Whether the minute of local (fields as from localtime_r) matches. */
int cron_matches(const struct cron *c, const struct tm *local);

/*
 * The first time strictly after after_unix (seconds) at which the job runs,
 * in the IANA time zone tz (NULL or "" for UTC), as unix seconds on a minute
 * boundary; CRON_NONE if none within 50 years (not for a parsed expression).
 */
int64_t cron_next(const struct cron *c, int64_t after_unix, const char *tz);

/*
 * SPEC 4's due rule, for a scheduler that wakes up at least once a minute:
 * due (1) when a time the job runs at lies after last_run_unix and not after
 * now_unix — so after downtime a missed drill runs once, however many slots
 * passed; with no previous run (last_run_unix < 0) only when the current
 * minute is such a time, so a first start does not back-fill. A last run
 * later than now (the clock was set back) counts as no previous run.
 * Returns 1 when due, 0 when not.
 */
int cron_due(const struct cron *c, const char *tz, int64_t now_unix, int64_t last_run_unix);

#endif
