/*
 * Environments (targets, params, signing, drills) and the inventory of
 * SPEC 8: host groups at the top level and per environment, the ssh
 * settings, and the queries that resolve a target name to hosts.
 */
#include "config-int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static const char *const env_keys[] = { "rto", "rpo", "params", "require_signed", "drills", "hosts", NULL };
static const char *const ssh_keys[] = { "config", "connect_timeout", "parallel", "options", NULL };

/* As the runbook DSL refuses them (lib/lua/prelude.lua): params become environment variables. */
static const char *const reserved_params[] = {
	"PATH", "IFS", "HOME", "SHELL", "ENV", "BASH_ENV", "CDPATH", "SHELLOPTS", "PS4", NULL
};

static const char *param_name_problem(const char *name)
{
	if (!is_identifier(name))
		return "is not a valid param name: use letters, digits and '_', not starting with a digit";
	for (size_t i = 0; reserved_params[i]; i++)
		if (!strcmp(name, reserved_params[i]))
			return "is reserved (it would change how commands run); choose another name";
	if (!strncmp(name, "LD_", 3) || !strncmp(name, "DYLD_", 5) || !strncmp(name, "LIFEBOAT_", 9))
		return "is reserved (LD_, DYLD_ and LIFEBOAT_ names are); choose another name";
	return NULL;
}

void load_params(struct loader *ld, struct config_env *env, const yaml_node_t *n, const char *key)
{
	if (is_null(n) || check_map(ld, n, key, "a map of param names to values", NULL))
		return;
	env->params = xcalloc(map_len(n) + 1, sizeof(*env->params));
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		char *pkey = child_key(key, name);
		const char *why = param_name_problem(name);
		yaml_node_t *v = node_at(ld, p->value);
		if (why) {
			problem_at(ld, node_at(ld, p->key), pkey, "'%s' %s", name, why);
		} else if (is_null(v)) {
			problem_at(ld, v, pkey, "has no value; write \"\" for an empty one");
		} else {
			const char *s = get_text(ld, v, pkey, "a single value (text or number)");
			if (s) {
				env->params[env->nparams].name = xstrdup(name);
				env->params[env->nparams].value = xstrdup(s);
				env->params[env->nparams].line = (int)line_of(node_at(ld, p->key));
				env->nparams++;
			}
		}
		free(pkey);
	}
}

/* ---- the inventory (SPEC 8) -------------------------------------------- */

static int is_group_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/*
 * What is wrong with an ssh destination, or NULL. It becomes one argument of
 * ssh after "--", but a leading '-' or a space is a mistake however it is passed.
 */
static const char *destination_problem(const char *s)
{
	if (!*s)
		return "is empty";
	if (*s == '-')
		return "starts with '-'";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!isalnum(c) && !strchr("._-@:[]%+", c))
			return "has a character that is not in a host name, user@host:port or an ssh config name";
	}
	return NULL;
}

/* hosts: { group: [dest, ...] } into *out; returns how many groups. */
size_t load_groups(struct loader *ld, const yaml_node_t *n, const char *key, struct config_group **out)
{
	*out = NULL;
	if (is_null(n) || check_map(ld, n, key, "a map of group names to lists of hosts, such as "
				    "{ serving: [serve-1, serve-2] }", NULL))
		return 0;
	struct config_group *g = xcalloc(map_len(n) + 1, sizeof(*g));
	size_t count = 0;
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		char *gkey = child_key(key, name);
		yaml_node_t *kn = node_at(ld, p->key), *v = node_at(ld, p->value);
		if (!is_group_name(name)) {
			problem_at(ld, kn, gkey, "'%s' is not a group name; use letters, digits, '_', '-' and '.'",
				   name);
		} else if (is_null(v)) {
			problem_at(ld, v, gkey, "the group lists no host; give a list such as [serve-1, serve-2]");
		} else {
			struct config_group *gr = &g[count++];
			gr->name = xstrdup(name);
			gr->line = (int)line_of(kn);
			gr->nhosts = get_text_list(ld, v, gkey, "a list of hosts such as [serve-1, admin@10.0.0.5:2222]",
						   "a host (an ssh config name or user@host:port)", &gr->hosts);
			if (v->type == YAML_SEQUENCE_NODE) {
				size_t i = 0;
				FOR_ITEMS(v, it) {
					yaml_node_t *item = node_at(ld, *it);
					if (item->type == YAML_SCALAR_NODE && !is_null(item)) {
						const char *h = (const char *)item->data.scalar.value, *why;
						if ((why = destination_problem(h)))
							problem_at(ld, item, gkey, "host '%s' %s", h, why);
					}
					i++;
				}
				if (!i)
					problem_at(ld, v, gkey, "the group lists no host; give a list such as [serve-1, serve-2]");
			}
		}
		free(gkey);
	}
	*out = g;
	return count;
}

void load_ssh(struct loader *ld, const yaml_node_t *n)
{
	struct config_ssh *ssh = &ld->cfg->ssh;
	if (is_null(n) || check_map(ld, n, "ssh", "a map such as { config: ssh_config, connect_timeout: 5s, "
				    "parallel: 10 }", ssh_keys))
		return;
	yaml_node_t *v;
	if ((v = map_get(ld, n, "config"))) {
		ssh->config = get_path(ld, v, "ssh.config");
		struct stat sb;
		if (ssh->config && stat(ssh->config, &sb))
			problem_at(ld, v, "ssh.config", "cannot read '%s': %s; give the path of an ssh client "
				   "config file (ssh -F)", ssh->config, strerror(errno));
	}
	if ((v = map_get(ld, n, "connect_timeout"))) {
		double d = get_duration(ld, v, "ssh.connect_timeout");
		if (!isnan(d) && d < 1)
			problem_at(ld, v, "ssh.connect_timeout", "must be at least 1s (ssh counts whole seconds)");
		else if (!isnan(d))
			ssh->connect_timeout_s = d;
	}
	if ((v = map_get(ld, n, "parallel"))) {
		const char *s = get_text(ld, v, "ssh.parallel", "a whole number of connections such as 10");
		char *end = NULL;
		long k = s ? strtol(s, &end, 10) : 0;
		if (s && (end == s || *end || k < 1 || k > 1000))
			problem_at(ld, v, "ssh.parallel", "'%s' is not a whole number from 1 to 1000", s);
		else if (s)
			ssh->parallel = (int)k;
	}
	if ((v = map_get(ld, n, "options"))) {
		free(ssh->options);
		ssh->options = NULL;
		ssh->noptions = get_text_list(ld, v, "ssh.options", "a list of ssh arguments such as "
					      "[\"-o\", \"ServerAliveInterval=5\"]", "an ssh argument", &ssh->options);
		if (!ssh->options)
			ssh->options = xcalloc(1, sizeof(char *));
	}
}

void load_environments(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "environments",
				    "a map of environment names to { rto, rpo, params }", NULL))
		return;
	cfg->envs = xcalloc(map_len(n) + 1, sizeof(*cfg->envs));
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		struct config_env *env = &cfg->envs[cfg->nenvs++];
		env->name = xstrdup(name);
		env->rto_s = env->rpo_s = NAN;
		env->drills = 1;
		env->line = (int)line_of(node_at(ld, p->key));
		yaml_node_t *v = node_at(ld, p->value);
		char *key = child_key("environments", name);
		if (!is_null(v) && !check_map(ld, v, key, "a map such as { rto: 15m, rpo: 1h, params: {...} }",
					      env_keys)) {
			yaml_node_t *d;
			if ((d = map_get(ld, v, "rto"))) {
				char *k = child_key(key, "rto");
				env->rto_s = get_duration(ld, d, k);
				free(k);
			}
			if ((d = map_get(ld, v, "rpo"))) {
				char *k = child_key(key, "rpo");
				env->rpo_s = get_duration(ld, d, k);
				free(k);
			}
			if ((d = map_get(ld, v, "params"))) {
				char *k = child_key(key, "params");
				load_params(ld, env, d, k);
				free(k);
			}
			if ((d = map_get(ld, v, "require_signed"))) {
				char *k = child_key(key, "require_signed");
				get_bool(ld, d, k, &env->require_signed);
				free(k);
			}
			if ((d = map_get(ld, v, "drills"))) {
				char *k = child_key(key, "drills");
				const char *t = get_text(ld, d, k, "true or false");
				if (t && parse_bool(t, &env->drills))
					problem_at(ld, d, k, "'%s' is not true or false", t);
				free(k);
			}
			if ((d = map_get(ld, v, "hosts"))) {
				char *k = child_key(key, "hosts");
				env->ngroups = load_groups(ld, d, k, &env->groups);
				free(k);
			}
		}
		free(key);
	}
}

/* ---- the inventory ----------------------------------------------------- */

static const struct config_group *group_in(const struct config_group *g, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i].name, name))
			return &g[i];
	return NULL;
}

const struct config_group *config_group(const struct config *cfg, const char *env, const char *name)
{
	if (!cfg)
		return NULL;
	const struct config_env *e = env ? config_env(cfg, env) : NULL;
	const struct config_group *g = e ? group_in(e->groups, e->ngroups, name) : NULL;
	return g ? g : group_in(cfg->groups, cfg->ngroups, name);
}

static int listed_in(const struct config_group *g, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < g[i].nhosts; k++)
			if (!strcmp(g[i].hosts[k], name))
				return 1;
	return 0;
}

int config_is_host(const struct config *cfg, const char *env, const char *name)
{
	if (!cfg)
		return 0;
	const struct config_env *e = env ? config_env(cfg, env) : NULL;
	return listed_in(cfg->groups, cfg->ngroups, name) || (e && listed_in(e->groups, e->ngroups, name));
}

static void add_dest(const char ***hosts, size_t *n, const char *h)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*hosts)[i], h))
			return;
	*hosts = xrealloc(*hosts, (*n + 1) * sizeof(**hosts));
	(*hosts)[(*n)++] = h;
}

static void add_names(const char ***v, size_t *n, const struct config_group *g, size_t ng, int hosts)
{
	for (size_t i = 0; i < ng; i++) {
		if (!hosts) {
			add_dest(v, n, g[i].name);
			continue;
		}
		for (size_t k = 0; k < g[i].nhosts; k++)
			add_dest(v, n, g[i].hosts[k]);
	}
}

int config_resolve_target(const struct config *cfg, const char *env, const char *name, int all_envs,
			  const char ***hosts, size_t *nhosts, char **err)
{
	*err = NULL;
	if (!cfg || (!cfg->ngroups && !all_envs && !(env && config_env(cfg, env) &&
						       config_env(cfg, env)->ngroups))) {
		int any = 0;
		for (size_t i = 0; cfg && i < cfg->nenvs; i++)
			any |= cfg->envs[i].ngroups > 0;
		if (!cfg || (!cfg->ngroups && !any)) {
			*err = xasprintf("'%s' names no host: %s has no inventory; list the hosts under hosts: "
					 "(SPEC 8), e.g. hosts: { serving: [serve-1, serve-2] }", name,
					 cfg ? cfg->path : "there is no lifeboat.yaml, so there");
			return -1;
		}
	}
	const struct config_group *g = config_group(cfg, env, name);
	if (!g && all_envs)
		for (size_t i = 0; i < cfg->nenvs && !g; i++)
			g = group_in(cfg->envs[i].groups, cfg->envs[i].ngroups, name);
	if (g) {
		for (size_t k = 0; k < g->nhosts; k++)
			add_dest(hosts, nhosts, g->hosts[k]);
		return 0;
	}
	int known = config_is_host(cfg, env, name);
	for (size_t i = 0; all_envs && !known && i < cfg->nenvs; i++)
		known = listed_in(cfg->envs[i].groups, cfg->envs[i].ngroups, name);
	if (known) {
		add_dest(hosts, nhosts, name);
		return 0;
	}
	/* did you mean: any group or host name */
	const char **cands = NULL;
	size_t nc = 0;
	add_names(&cands, &nc, cfg->groups, cfg->ngroups, 0);
	add_names(&cands, &nc, cfg->groups, cfg->ngroups, 1);
	for (size_t i = 0; i < cfg->nenvs; i++)
		if (all_envs || (env && !strcmp(cfg->envs[i].name, env))) {
			add_names(&cands, &nc, cfg->envs[i].groups, cfg->envs[i].ngroups, 0);
			add_names(&cands, &nc, cfg->envs[i].groups, cfg->envs[i].ngroups, 1);
		}
	const char *s = suggest_word(name, cands, nc);
	char *groups = NULL;
	{
		const char **gn = NULL;
		size_t ngn = 0;
		add_names(&gn, &ngn, cfg->groups, cfg->ngroups, 0);
		groups = join_names(gn, ngn, "none");
		free(gn);
	}
	if (s)
		*err = xasprintf("'%s' is neither a group nor a host of the inventory in %s (did you mean '%s'?)",
				 name, cfg->path, s);
	else
		*err = xasprintf("'%s' is neither a group nor a host of the inventory in %s (groups: %s); add it "
				 "under hosts: or fix the name", name, cfg->path, groups);
	free(groups);
	free(cands);
	return -1;
}
