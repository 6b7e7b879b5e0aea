/* libFuzzer harness: clock_parse (lib/clock.c), the --incident-start and recovery-point parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	int64_t ms;
	for (int zone = 0; zone <= 1; zone++) {
		if (clock_parse(s, zone, &ms) == 0) {
			char iso[32];
			clock_iso8601(ms, iso);
		}
	}
	free(s);
	return 0;
}
