/* Placeholder registration until the fs, sql and http bindings land. */
#include "lua_api.h"

void lua_api_register(lua_State *L, int idx)
{
	(void)L;
	(void)idx;
}
