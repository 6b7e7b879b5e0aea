/*
 * The crypto table of the runbook API: crypto.sha256(s), and
 * crypto.verify(file, sig_file, pub_file) over lib/minisign.c. verify
 * returns true or raises naming what failed, never false: a redeploy step
 * written as `crypto.verify(...)` without checking a result still cannot
 * serve a model that the training pipeline did not sign.
 */
#include "lua_libs.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "minisign.h"
#include "util.h"

static int crypto_sha256(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char hex[65];
	sha256_hex(s, len, hex);
	lua_pushstring(L, hex);
	return 1;
}

static void release_sig(void *p)
{
	minisign_sig_release(p);
}

static int crypto_verify(lua_State *L)
{
	const char *file = lua_api_path(L, 1);
	const char *sig_path = lua_api_path(L, 2);
	const char *pub_path = lua_api_path(L, 3);
	struct minisign_sig *sig = lua_api_scratch(L, sizeof(*sig), release_sig);
	struct minisign_pub pk;
	char *err = NULL;
	const char *named;
	size_t nlen;
	/*
	 * A trusted comment that names a file (minisign -S and lifeboat sign write
	 * file:NAME) must name this one: another artifact signed by the same key,
	 * renamed into place, does not pass. Without a file: field (minisign -t) the
	 * signature alone decides.
	 */
	if (minisign_pub_load(pub_path, &pk, &err) || minisign_sig_load(sig_path, sig, &err) ||
	    minisign_verify_file(&pk, sig, file, &err) ||
	    (minisign_trusted_field(sig->trusted, "file", &named, &nlen) &&
	     minisign_check_name(sig, file, &err))) {
		lua_pushfstring(L, "crypto.verify: %s: %s", file, err);
		free(err);
		return lua_error(L);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg crypto_funcs[] = {
	{ "sha256", crypto_sha256 },
	{ "verify", crypto_verify },
	{ NULL, NULL }
};

void lua_crypto_register(lua_State *L)
{
	luaL_newlib(L, crypto_funcs);
}
