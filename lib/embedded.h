/* The Lua sources under lib/lua/, compiled into the binary by cmake/embed.cmake. */
#ifndef LB_EMBEDDED_H
#define LB_EMBEDDED_H
#include <stddef.h>

struct embedded_file {
	const char *name;	/* module name: the file name without ".lua" */
	const char *data;	/* static storage */
	size_t len;
};

extern const struct embedded_file embedded_lua[];

const struct embedded_file *embedded_find(const char *name);

#endif
