/*
 * Monotonic for durations, wall clock for stamps. Parsing accepts the
 * ISO-8601 forms people paste from dashboards and pagers, and unix seconds.
 */
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

const char *clock_iso8601(int64_t wall_ms, char out[32])
{
	if (wall_ms == TS_NONE) {
		out[0] = '\0';
		return out;
	}
	int64_t secs = wall_ms / 1000, ms = wall_ms % 1000;
	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	char tmp[96];	/* roomy so the compiler can prove no truncation */
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
	snprintf(out, 32, "%.31s", tmp);
	return out;
}

/* The most unix seconds whose milliseconds fit in int64_t (callers judge "in the future"). */
#define CLOCK_MAX_UNIX_S (INT64_MAX / 1000 - 1)

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int clock_parse(const char *s, int zone_required, int64_t *wall_ms)
{
	if (!s || !*s)
		return -1;
	/* unix seconds, with at least one digit and no overflow */
	const char *q = s;
	int dots = 0, ndigits = 0;
	while (isdigit((unsigned char)*q) || (*q == '.' && !dots++))
		ndigits += *q++ != '.';
	if (!*q && q != s) {
		if (!ndigits)
			return -1;
		int64_t sec = 0;
		for (q = s; isdigit((unsigned char)*q); q++) {
			sec = sec * 10 + (*q - '0');
			if (sec > CLOCK_MAX_UNIX_S)
				return -1;
		}
		double frac = *q == '.' ? strtod(q, NULL) : 0.0;
		*wall_ms = sec * 1000 + (int64_t)(frac * 1000.0 + 0.5);
		return 0;
	}
	const char *p = s;
	int Y, M, D, h = 0, m = 0, sec = 0, ms = 0;
	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
	    digits(&p, 2, &D))
		return -1;
	int has_time = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		has_time = 1;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				int scale = 100, n = 0;
				while (isdigit((unsigned char)*p)) {
					ms += (*p - '0') * scale;
					scale /= 10;
					p++;
					n++;
				}
				if (!n)
					return -1;
			}
		}
	}
	int offset_min = 0, has_zone = 0;
	if (*p == 'Z' || *p == 'z') {
		has_zone = 1;
		p++;
	} else if ((*p == '+' || *p == '-') && has_time) {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (*p && digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		offset_min = sign * (oh * 60 + om);
		has_zone = 1;
	}
	if (*p || (zone_required && !has_zone))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	struct tm tm = { 0 };
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	struct tm back;
	if (!gmtime_r(&t, &back) || back.tm_mday != D)
		return -1;	/* 2026-02-31: timegm would roll it into March */
	*wall_ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + ms;
	return 0;
}

void clock_sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}
