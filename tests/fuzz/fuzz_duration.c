/* libFuzzer harness: duration_parse and duration_format (lib/util.c) on any text. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	double secs;
	if (duration_parse(s, &secs) == 0) {
		if (isnan(secs) || secs < 0)
			abort();	/* a parsed duration is a real, non-negative number */
		char buf[64];
		duration_format(secs, buf, sizeof(buf));
	}
	free(s);
	return 0;
}
