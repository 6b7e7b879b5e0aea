/*
 * SPEC 8 for the commands that load a runbook: every `on =` of a step must
 * name a group or a host of the inventory (the config's `hosts:`, or the
 * environment's). A function-valued `on` is resolved when the step starts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "runner.h"

static int check_steps(const struct runbook *rb, const struct rb_step *s, size_t n, const char *env,
		       int any_env)
{
	const struct config *cfg = runner_config();
	int bad = 0;
	if (!cfg && any_env) {
		/* check without a config (a CI lint job): the names cannot be known, as with secrets */
		for (size_t i = 0; i < n; i++)
			if (s[i].on) {
				fflush(stdout);
				fprintf(stderr, "lifeboat: warning: %s:%d: step '%s': on: not checked: there is no "
					"lifeboat.yaml with an inventory (hosts:) here\n", rb->path, s[i].line,
					s[i].name);
			}
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		for (char **on = s[i].on; on && *on; on++) {
			const char **hosts = NULL;
			size_t nh = 0;
			char *err = NULL;
			if (config_resolve_target(cfg, env, *on, any_env, &hosts, &nh, &err)) {
				fflush(stdout);
				fprintf(stderr, "%s:%d: step '%s': on: %s\n", rb->path, s[i].line, s[i].name, err);
				bad = 1;
			}
			free(err);
			free(hosts);
		}
	}
	return bad;
}

int check_runbook_hosts(const struct runbook *rb, const char *env, int any_env)
{
	int bad = 0;
	for (size_t i = 0; i < rb->nphases; i++) {
		bad |= check_steps(rb, rb->phases[i].steps, rb->phases[i].nsteps, env, any_env);
		bad |= check_steps(rb, rb->phases[i].rollback, rb->phases[i].nrollback, env, any_env);
	}
	return bad ? EXIT_USAGE : 0;
}
