/*
 * `lifeboat hosts [GROUP...] [--env E] [--check]`: the inventory of the
 * config (SPEC 8), per group; --check connects to every host at once and
 * prints whether it is reachable, how long the connection took, a round
 * trip through it and the host key's status: the preflight before a drill.
 * Exit 1 when a host is unreachable.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "remote.h"
#include "options.h"
#include "run-setup.h"
#include "runner.h"

static void add_unique(const char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* The groups in force: the config's, with the environment's replacing those of the same name. */
static void groups_in_force(const struct config *cfg, const char *env, const struct config_group ***out,
			    size_t *n)
{
	*out = NULL;
	*n = 0;
	const struct config_env *e = env ? config_env(cfg, env) : NULL;
	for (size_t i = 0; i < cfg->ngroups; i++) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = config_group(cfg, env, cfg->groups[i].name);
	}
	for (size_t i = 0; e && i < e->ngroups; i++) {
		if (config_group(cfg, NULL, e->groups[i].name))
			continue;	/* replaced above */
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = &e->groups[i];
	}
}

/* The groups shown, one a line, then each host asked for by name that is in none of them. */
static void print_inventory(const struct config_group **shown, size_t nshown, const char **named,
			    size_t nnamed)
{
	for (size_t k = 0; k < nshown; k++) {
		printf("%s%s%s:", c_bold(), shown[k]->name, c_reset());
		for (size_t j = 0; j < shown[k]->nhosts; j++)
			printf(" %s", shown[k]->hosts[j]);
		putchar('\n');
	}
	for (size_t k = 0; named && k < nnamed; k++) {
		int in_group = 0;
		for (size_t g = 0; g < nshown; g++)
			for (size_t j = 0; j < shown[g]->nhosts; j++)
				in_group |= !strcmp(shown[g]->hosts[j], named[k]);
		if (!in_group)
			printf("%s\n", named[k]);
	}
}

/* --check: connects to every host at once and prints a row each; EXIT_STEP_FAILED when one is unreachable. */
static int check_hosts(const struct config *cfg, const char **dests, size_t ndests)
{
	struct remote_conf rc_conf = { .ssh_config = cfg->ssh.config, .connect_timeout_s = cfg->ssh.connect_timeout_s,
				       .options = cfg->ssh.options, .tag = "hosts" };
	struct remote *r = NULL;
	char *err = NULL;
	if (remote_new(&rc_conf, &r, &err)) {
		errorf("%s", err);
		free(err);
		return EXIT_STEP_FAILED;
	}
	struct procset *ps = procset_new();
	struct remote_probe *probes = xcalloc(ndests + 1, sizeof(*probes));
	remote_probe_all(r, ps, dests, ndests, probes);
	size_t width = 4, bad = 0;
	for (size_t k = 0; k < ndests; k++)
		if (strlen(dests[k]) > width)
			width = strlen(dests[k]);
	printf("%-*s  %-11s  %9s  %9s  %s\n", (int)width, "HOST", "STATUS", "CONNECT", "RTT", "HOST KEY");
	for (size_t k = 0; k < ndests; k++) {
		struct remote_probe *p = &probes[k];
		char a[32] = "-", b[32] = "-";
		if (!isnan(p->connect_s))
			snprintf(a, sizeof(a), "%.0fms", p->connect_s * 1000);
		if (!isnan(p->rtt_s))
			snprintf(b, sizeof(b), "%.0fms", p->rtt_s * 1000);
		printf("%-*s  %s%-11s%s  %9s  %9s  %s\n", (int)width, dests[k],
		       p->reachable ? c_green() : c_red(), p->reachable ? "ok" : "unreachable", c_reset(), a, b,
		       p->hostkey);
		if (!p->reachable) {
			printf("%-*s  %s%s%s\n", (int)width, "", c_dim(), p->error, c_reset());
			bad++;
		}
		free(p->error);
	}
	if (!g_opts.quiet)
		printf("%zu of %zu hosts reachable\n", ndests - bad, ndests);
	free(probes);
	remote_free(r);
	procset_free(ps);
	return bad ? EXIT_STEP_FAILED : 0;
}

enum { HOSTS_OPT_CHECK = OPT_CODE + 64, HOSTS_OPT_ENV };

static int cmd_hosts(const struct cmd_args *ca)
{
	int check = opt_count(ca, HOSTS_OPT_CHECK) > 0, rc = 0;
	const char *env = opt_value(ca, HOSTS_OPT_ENV);
	const char **want = NULL;
	size_t nwant = ca->nargs;
	if (nwant) {
		want = xcalloc(nwant, sizeof(*want));
		memcpy(want, ca->args, nwant * sizeof(*want));
	}
	const struct config *cfg = runner_config();
	if (!cfg || (!cfg->ngroups && !(env && config_env(cfg, env) && config_env(cfg, env)->ngroups))) {
		errorf("%s has no inventory: list groups of ssh hosts under hosts:, e.g.\n"
		       "  hosts:\n    serving: [serve-1, serve-2]", cfg ? cfg->path : "there is no lifeboat.yaml; it");
		free(want);
		return EXIT_USAGE;
	}
	if (env)
		env_for("hosts", env, &rc);
	if (rc) {
		free(want);
		return rc;
	}
	const struct config_group **groups = NULL;
	size_t ngroups = 0;
	groups_in_force(cfg, env, &groups, &ngroups);
	/* GROUP... selects groups (or single hosts); each must exist */
	const char **dests = NULL;
	size_t ndests = 0;
	const struct config_group **shown = NULL;
	size_t nshown = 0;
	for (size_t k = 0; k < nwant; k++) {
		const struct config_group *g = config_group(cfg, env, want[k]);
		if (g) {
			shown = xrealloc(shown, (nshown + 1) * sizeof(*shown));
			shown[nshown++] = g;
			continue;
		}
		const char **h = NULL;
		size_t nh = 0;
		char *err = NULL;
		if (config_resolve_target(cfg, env, want[k], 0, &h, &nh, &err)) {
			errorf("hosts: %s", err);
			free(err);
			rc = EXIT_USAGE;
		}
		for (size_t j = 0; j < nh; j++)
			add_unique(&dests, &ndests, h[j]);
		free(h);
	}
	if (rc)
		goto out;
	if (!nwant) {
		shown = xcalloc(ngroups + 1, sizeof(*shown));
		memcpy(shown, groups, ngroups * sizeof(*shown));
		nshown = ngroups;
	}
	for (size_t k = 0; k < nshown; k++)
		for (size_t j = 0; j < shown[k]->nhosts; j++)
			add_unique(&dests, &ndests, shown[k]->hosts[j]);
	if (check)
		rc = check_hosts(cfg, dests, ndests);
	else
		print_inventory(shown, nshown, nwant ? dests : NULL, ndests);
out:
	free(dests);
	free(shown);
	free(groups);
	free(want);
	return rc;
}

static const struct opt hosts_options[] = {
	{ HOSTS_OPT_CHECK, "check", NULL, "connect to every host: reachable, times, host key" },
	{ HOSTS_OPT_ENV, "env", "ENV", "the inventory as the config's environment ENV sees it" },
	OPT_END
};

const struct cmd cmd_hosts_entry = {
	"hosts", cmd_hosts, "[GROUP...]",
	"list the ssh hosts of the inventory; --check connects to each",
	hosts_options,
	"hosts\n"
	"hosts --check serving db",
	NEED_CONFIG, NULL,
};
