/* libFuzzer harness: cron_parse and the schedule arithmetic (lib/cron.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "cron.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct cron c;
	char *err = NULL;
	if (cron_parse(s, &c, &err) == 0) {
		int64_t t = 1795312380;	/* 2026-11-22T01:53:00Z */
		cron_next(&c, t, "UTC");
		cron_due(&c, "UTC", t, t - 3600);
	}
	free(err);
	free(s);
	return 0;
}
