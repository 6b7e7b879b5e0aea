/*
 * The two clocks: the monotonic one measures every duration, the wall clock
 * only stamps events (UTC ISO-8601 with milliseconds). A wall-clock jump can
 * therefore never make a step look faster or slower than it was.
 */
#ifndef LB_CLOCK_H
#define LB_CLOCK_H
#include <stdint.h>

#define TS_NONE INT64_MIN	/* an absent wall-clock timestamp */

int64_t clock_mono_ns(void);
int64_t clock_wall_ms(void);
/* "2026-11-22T01:53:00.123Z"; out needs 32 bytes; TS_NONE gives "" */
const char *clock_iso8601(int64_t wall_ms, char out[32]);
/*
 * Accepts ISO-8601 ("2026-11-22T01:53:00Z", "...00.5+02:00", "2026-11-22 01:53:00",
 * no zone meaning UTC only when zone_required is 0) or unix seconds ("1763776380.5").
 * Returns 0 and sets *wall_ms, or -1.
 */
int clock_parse(const char *s, int zone_required, int64_t *wall_ms);
/* Sleeps on the monotonic clock; returns early only if interrupted by a signal. */
void clock_sleep_ms(int64_t ms);

#endif
