/* Lookup in the table of embedded Lua sources generated at build time. */
#include "embedded.h"

#include <string.h>

const struct embedded_file *embedded_find(const char *name)
{
	for (const struct embedded_file *f = embedded_lua; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}
