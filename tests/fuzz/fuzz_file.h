/* For the harnesses whose parser reads a file: the input written to one, in a folder of our own. */
#ifndef LB_FUZZ_FILE_H
#define LB_FUZZ_FILE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fuzz_file(const uint8_t *data, size_t size, const char *name)
{
	static char path[256];
	if (!path[0]) {
		char dir[] = "/tmp/lifeboat-fuzz-XXXXXX";
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	}
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	return path;
}

#endif
