/*
 * What the runbook API asks of whoever executes the run (the engine,
 * engine-lua.c): run a command, log, sleep, set the recovery point, notify,
 * mask a secret. lua_run.c calls these through luahost_engine (lua_api.h);
 * the host only passes them on (luahost_set_engine). A leaf header, so the
 * bindings depend on lua_api.h and this, never on the host's luahost.h.
 */
#ifndef LB_LUA_ENGINE_H
#define LB_LUA_ENGINE_H
#include <stddef.h>
#include <stdint.h>

struct lua_sh_result {
	int code;
	char *out, *err;	/* owned by the caller after the call */
	size_t out_len, err_len;
	double duration_s;
	int timed_out;
	int truncated;		/* a stream went past the capture limit (16 MiB): its tail is gone */
	char *status;		/* ssh(): the instance's status ("succeeded", "unreachable", ...), owned */
	char *error;		/* ssh(): why it did not succeed, owned, may be NULL */
};

struct lua_engine_ops {
	/* Runs cmd like a sh step; 0, or -1 with *errmsg (owned) when it could not run. */
	int (*sh)(void *eng, const char *cmd, double timeout_s, struct lua_sh_result *res,
		  char **errmsg);
	/* ssh(host, cmd): cmd on one remote host (SPEC 8), else like sh. */
	int (*ssh)(void *eng, const char *host, const char *cmd, double timeout_s, struct lua_sh_result *res,
		   char **errmsg);
	void (*log)(void *eng, const char *text, size_t len);
	/* 0, or -1 with *errmsg (owned), e.g. a time more than a day ahead. */
	int (*recovery_point)(void *eng, int64_t wall_ms, char **errmsg);
	/* Sleeps; returns -1 when an abort interrupted it. */
	int (*sleep)(void *eng, double secs);
	/* notify(role_or_url, message): 0, or -1 with *errmsg (owned) when it cannot be sent. */
	int (*notify)(void *eng, const char *target, const char *message, char **errmsg);
	/* mask(value): a secret from now on; 0, or -1 with *errmsg (owned), e.g. too short. */
	int (*mask)(void *eng, const char *value, char **errmsg);
};

#endif
