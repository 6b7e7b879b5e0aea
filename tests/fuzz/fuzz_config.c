/* libFuzzer harness: the config loader (lib/config.c over libyaml), on a file of any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, "lifeboat.yaml");
	struct config *cfg = NULL;
	char *err = NULL;
	if (config_load(path, &cfg, &err) == 0)
		config_free(cfg);
	free(err);
	return 0;
}
