/*
 * libFuzzer harness: the runbook loader as `lifeboat check` runs it: the Lua
 * sandbox, the DSL and its validation (luahost_load), on a file of any bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_file.h"
#include "luahost.h"
#include "runbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, "runbook.lua");
	struct luahost *h = NULL;
	if (luahost_new(64u * 1024 * 1024, &h))
		return 0;
	struct runbook *rb = NULL;
	char *err = NULL;
	if (luahost_load(h, path, &rb, &err) == 0)
		runbook_free(rb);
	free(err);
	luahost_free(h);
	return 0;
}
