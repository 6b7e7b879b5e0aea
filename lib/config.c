/*
 * Loading lifeboat.yaml (SPEC 4), the machine policy and params files, and
 * the questions the rest of lifeboat asks of a loaded config. With
 * config-yaml.c, config-sections.c and config-inventory.c (see
 * config-int.h), the only files that talk to libyaml.
 *
 * The document API gives a tree whose every node carries its line and
 * column, which is what the messages need; the walk follows the schema, so
 * a hostile file (aliases pointing at themselves, a billion laughs) cannot
 * make it recurse or expand without bound.
 *
 * Validation does not stop at the first problem: `check` should show them
 * all at once. Each is collected with its position and the whole list is
 * returned sorted by position, so the messages read in file order whatever
 * order the sections are checked in (roles before the permissions that
 * name them, environments before the schedules that name them).
 */
#include "config-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char *const policy_keys[] = { "keys", "require_signed", NULL };

/* ---- loading ----------------------------------------------------------- */

/* A libyaml parse error, with its position (reader errors only know a byte offset). */
static void syntax_problem(struct loader *ld, const yaml_parser_t *parser)
{
	const char *problem = parser->problem ? parser->problem : "cannot parse";
	if (parser->error == YAML_MEMORY_ERROR)
		die_oom(0);
	if (parser->error == YAML_READER_ERROR) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < parser->problem_offset && i < ld->text_len; i++) {
			if (ld->text[i] == '\n')
				line++, col = 1;
			else
				col++;
		}
		problem_pos(ld, line, col, "invalid text (%s); save the file as UTF-8", problem);
		return;
	}
	const yaml_mark_t *m = &parser->problem_mark;
	if (parser->context)
		problem_pos(ld, m->line + 1, m->column + 1, "invalid YAML: %s, %s at line %zu; check the "
			    "indentation, quotes and brackets", problem, parser->context, parser->context_mark.line + 1);
	else
		problem_pos(ld, m->line + 1, m->column + 1, "invalid YAML: %s; check the indentation, quotes and "
			    "brackets", problem);
}

int config_find(const char *explicit_path, char **path_out)
{
	*path_out = NULL;
	if (explicit_path) {
		*path_out = xstrdup(explicit_path);
		return 1;
	}
	if (!access(CONFIG_FILE_DEFAULT, F_OK)) {
		*path_out = xstrdup(CONFIG_FILE_DEFAULT);
		return 1;
	}
	return 0;
}

/*
 * Parses the YAML of ld->text into root's callback; problems collect in ld.
 * Shared by the config file and the machine policy.
 */
static void parse_yaml(struct loader *ld, void (*load)(struct loader *ld, const yaml_node_t *root))
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		die_oom(sizeof(parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->text, ld->text_len);
	if (!yaml_parser_load(&parser, &ld->doc)) {
		syntax_problem(ld, &parser);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
		if (root) {
			yaml_document_t next;
			if (!yaml_parser_load(&parser, &next)) {
				syntax_problem(ld, &parser);
			} else {
				yaml_node_t *more = yaml_document_get_root_node(&next);
				if (more)
					problem_pos(ld, more->start_mark.line + 1, more->start_mark.column + 1,
						    "a second YAML document; the config is one document, remove the '---'");
				yaml_document_delete(&next);
			}
			load(ld, root);
		}
		yaml_document_delete(&ld->doc);
	}
	yaml_parser_delete(&parser);
}

static struct config_policy *loading_policy;	/* the policy load_policy fills (one load at a time) */

static void load_policy(struct loader *ld, const yaml_node_t *root)
{
	struct config_policy *p = loading_policy;
	if (is_null(root) || check_map(ld, root, NULL, "a map such as { keys: [...], require_signed: always }",
				       policy_keys))
		return;
	yaml_node_t *n;
	if ((n = map_get(ld, root, "keys")))
		load_keys(ld, n, "keys", &p->keys, &p->pubs, &p->nkeys);
	if ((n = map_get(ld, root, "require_signed"))) {
		if (n->type == YAML_SCALAR_NODE) {
			const char *s = (const char *)n->data.scalar.value;
			int b = 0;
			if (!strcmp(s, "always") || (!parse_bool(s, &b) && b))
				p->require_always = 1;
			else if (parse_bool(s, &b))
				problem_at(ld, n, "require_signed", "'%s' is not 'always' or a list of environments such as [prod]", s);
		} else {
			p->nrequire_envs = get_text_list(ld, n, "require_signed",
							 "'always' or a list of environments such as [prod]",
							 "an environment name", &p->require_envs);
		}
	}
}

/* The reason a policy file is not honoured, or NULL: it and its folder are root's alone. */
static char *policy_unsafe(const char *path)
{
	struct stat sb;
	char *dir = folder_of(path);
	char *why = NULL;
	const char *what[2] = { path, dir };
	for (int i = 0; i < 2 && !why; i++) {
		if (stat(what[i], &sb))
			why = xasprintf("cannot stat '%s': %s", what[i], strerror(errno));
		else if (sb.st_uid != 0)
			why = xasprintf("'%s' is not owned by root", what[i]);
		else if (sb.st_mode & (S_IWGRP | S_IWOTH))
			why = xasprintf("'%s' is writable by its group or others", what[i]);
	}
	free(dir);
	return why;
}

int config_policy_load(const char *path, struct config_policy **out, char **warning, char **err)
{
	*out = NULL;
	*warning = *err = NULL;
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	char *unsafe = policy_unsafe(path);
	if (unsafe) {
		*warning = xasprintf("ignoring the machine policy %s: %s; it counts only when only root can change it",
				     path, unsafe);
		free(unsafe);
		return 0;
	}
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read the machine policy '%s': %s", path, strerror(errno));
		return -1;
	}
	struct config dummy = { .dir = folder_of(path) };	/* where relative key paths start */
	struct loader ld = { .file = path, .text = text, .text_len = len, .cfg = &dummy };
	struct config_policy *p = xcalloc(1, sizeof(*p));
	p->path = xstrdup(path);
	loading_policy = p;
	parse_yaml(&ld, load_policy);
	loading_policy = NULL;
	free(dummy.dir);
	free(text);
	if (ld.nproblems) {
		*err = take_problems(&ld);
		config_policy_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void config_policy_free(struct config_policy *p)
{
	if (!p)
		return;
	free(p->path);
	free_list(p->keys, p->nkeys);
	free(p->pubs);
	free_list(p->require_envs, p->nrequire_envs);
	free(p);
}

int config_policy_requires(const struct config_policy *p, const char *env)
{
	if (!p)
		return 0;
	if (p->require_always)
		return 1;
	for (size_t i = 0; env && i < p->nrequire_envs; i++)
		if (!strcmp(p->require_envs[i], env))
			return 1;
	return 0;
}

int config_read_params(const char *path, struct config_param **out, size_t *n, char **err)
{
	*out = NULL;
	*n = 0;
	*err = NULL;
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read params file '%s': %s", path, strerror(errno));
		return -1;
	}
	struct loader ld = { .file = path, .text = text, .text_len = len };
	struct config_env env;
	memset(&env, 0, sizeof(env));
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		die_oom(sizeof(parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		syntax_problem(&ld, &parser);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
		if (!root || is_null(root))
			problem_pos(&ld, 1, 1, "the file is empty; write a mapping such as 'registry: reg.example'");
		else
			load_params(&ld, &env, root, "params");
		yaml_document_delete(&ld.doc);
	}
	yaml_parser_delete(&parser);
	free(text);
	if (ld.nproblems) {
		*err = take_problems(&ld);
		for (size_t i = 0; i < env.nparams; i++) {
			free(env.params[i].name);
			free(env.params[i].value);
		}
		free(env.params);
		return -1;
	}
	*out = env.params;
	*n = env.nparams;
	return 0;
}

int config_load(const char *path, struct config **out, char **err)
{
	*out = NULL;
	*err = NULL;
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read config '%s': %s; check the path given to --config", path,
				 read_file_strerror(errno, READ_FILE_MAX));
		return -1;
	}
	struct loader ld = { .file = path, .text = text, .text_len = len };
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	cfg->path = xstrdup(path);
	cfg->dir = folder_of(path);
	cfg->lua_memory = CONFIG_LUA_MEMORY_DEFAULT;
	cfg->sync = CONFIG_SYNC_NORMAL;
	cfg->events = CONFIG_EVENTS_ALL;
	cfg->timezone = xstrdup("UTC");
	cfg->ssh.connect_timeout_s = CONFIG_SSH_CONNECT_TIMEOUT_DEFAULT;
	cfg->ssh.parallel = CONFIG_SSH_PARALLEL_DEFAULT;
	cfg->ssh.options = xcalloc(1, sizeof(char *));
	ld.cfg = cfg;
	parse_yaml(&ld, load_root);
	free(text);
	if (ld.nproblems) {
		*err = take_problems(&ld);
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}


static void free_groups(struct config_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].name);
		free_list(g[i].hosts, g[i].nhosts);
	}
	free(g);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free_groups(cfg->groups, cfg->ngroups);
	free(cfg->central.url);
	free(cfg->central.password_env);
	free(cfg->ssh.config);
	free_list(cfg->ssh.options, cfg->ssh.noptions);
	for (size_t i = 0; i < cfg->nroles; i++) {
		free(cfg->roles[i].name);
		free_list(cfg->roles[i].members, cfg->roles[i].nmembers);
		free(cfg->roles[i].notify);
	}
	free(cfg->roles);
	for (size_t i = 0; i < cfg->nenvs; i++) {
		struct config_env *e = &cfg->envs[i];
		free(e->name);
		for (size_t k = 0; k < e->nparams; k++) {
			free(e->params[k].name);
			free(e->params[k].value);
		}
		free(e->params);
		free_list(e->run_roles, e->nrun_roles);
		free_groups(e->groups, e->ngroups);
	}
	free(cfg->envs);
	for (size_t i = 0; i < cfg->nschedules; i++) {
		free(cfg->schedules[i].runbook);
		free(cfg->schedules[i].cron_expr);
		free(cfg->schedules[i].env);
		free(cfg->schedules[i].key);
		free(cfg->schedules[i].id);
	}
	free(cfg->schedules);
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		free(cfg->secrets[i].name);
		free(cfg->secrets[i].value);
	}
	free(cfg->secrets);
	free_list(cfg->trust_keys, cfg->ntrust_keys);
	free(cfg->trust_pubs);
	free(cfg->evidence_key);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->db);
	free(cfg->reports_dir);
	free(cfg->webhook);
	free(cfg->timezone);
	free(cfg);
}

/* ---- queries ----------------------------------------------------------- */

const char *config_event_name(enum config_event ev)
{
	return (unsigned)ev < CONFIG_EVENT_COUNT ? event_names[ev] : NULL;
}

int config_event_parse(const char *name)
{
	for (int i = 0; i < CONFIG_EVENT_COUNT; i++)
		if (!strcmp(event_names[i], name))
			return i;
	return -1;
}

int config_wants_event(const struct config *cfg, enum config_event ev)
{
	return cfg && (unsigned)ev < CONFIG_EVENT_COUNT && (cfg->events >> ev & 1);
}

const struct config_role *config_role(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nroles; i++)
		if (!strcmp(cfg->roles[i].name, name))
			return &cfg->roles[i];
	return NULL;
}

const struct config_env *config_env(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nenvs; i++)
		if (!strcmp(cfg->envs[i].name, name))
			return &cfg->envs[i];
	return NULL;
}

const char *config_secret(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->nsecrets; i++)
		if (!strcmp(cfg->secrets[i].name, name))
			return cfg->secrets[i].value;
	return NULL;
}

int config_role_has_member(const struct config *cfg, const char *role, const char *operator)
{
	const struct config_role *r = config_role(cfg, role);
	for (size_t i = 0; r && operator && i < r->nmembers; i++)
		if (!strcmp(r->members[i], operator))
			return 1;
	return 0;
}

/* "alice, bob" — the members of the given roles, each once; xmalloc'd. */
static char *members_of(const struct config *cfg, char *const *roles, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb, 64);
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct config_role *r = config_role(cfg, roles[i]);
		for (size_t k = 0; r && k < r->nmembers; k++) {
			int seen = 0;
			for (size_t j = 0; j < i && !seen; j++)
				seen = config_role_has_member(cfg, roles[j], r->members[k]);
			for (size_t j = 0; j < k && !seen; j++)
				seen = !strcmp(r->members[j], r->members[k]);
			if (!seen)
				strbuf_addf(&sb, "%s%s", count++ ? ", " : "", r->members[k]);
		}
	}
	if (!count)
		strbuf_addstr(&sb, "nobody");
	return strbuf_detach(&sb);
}

int config_may_run(const struct config *cfg, const char *env, const char *operator, char **why)
{
	*why = NULL;
	const struct config_env *e = config_env(cfg, env);
	if (!e || !e->restricted)
		return 1;
	for (size_t i = 0; i < e->nrun_roles; i++)
		if (config_role_has_member(cfg, e->run_roles[i], operator))
			return 1;
	char *roles = join_names((const char *const *)e->run_roles, e->nrun_roles, "no roles");
	char *members = members_of(cfg, e->run_roles, e->nrun_roles);
	const struct config_role *first = NULL;
	for (size_t i = 0; i < e->nrun_roles && !(first && first->nmembers); i++)
		first = config_role(cfg, e->run_roles[i]);
	if (first && first->nmembers)
		*why = xasprintf("'%s' may not run in environment '%s': permissions.%s.run allows members of %s (%s): run as one of them with --as %s (or LIFEBOAT_USER)",
				 operator ? operator : "", env, env, roles, members, first->members[0]);
	else
		*why = xasprintf("'%s' may not run in environment '%s': permissions.%s.run allows members of %s (%s)",
				 operator ? operator : "", env, env, roles, members);
	free(roles);
	free(members);
	return 0;
}

int config_may_confirm(const struct config *cfg, const char *role, const char *operator, char **why)
{
	*why = NULL;
	const struct config_role *r = config_role(cfg, role);
	if (!r || !r->nmembers || config_role_has_member(cfg, role, operator))
		return 1;
	char *const roles[1] = { r->name };
	char *members = members_of(cfg, roles, 1);
	*why = xasprintf("'%s' may not confirm a step of role '%s': its members are %s: run as one of them with --as %s (or LIFEBOAT_USER)",
			 operator ? operator : "", role, members, r->members[0]);
	free(members);
	return 0;
}

int config_check_roles(const struct config *cfg, const char *const *roles, size_t n, char **err)
{
	*err = NULL;
	if (!cfg)
		return 0;
	struct strbuf sb;
	strbuf_init(&sb, 0);
	const char **names = role_names(cfg);
	for (size_t i = 0; i < n; i++) {
		if (config_role(cfg, roles[i]))
			continue;
		strbuf_addf(&sb, "%srole '%s' is not defined in %s; add it under roles%s", sb.len ? "\n" : "",
			    roles[i], cfg->path, did_you_mean(roles[i], names, cfg->nroles));
	}
	free(names);
	if (!sb.len) {
		strbuf_release(&sb);
		return 0;
	}
	*err = strbuf_detach(&sb);
	return -1;
}
