/*
 * The top-level sections of lifeboat.yaml (SPEC 4): db, reports_dir,
 * lua_memory, sync, roles, permissions, notify, schedules, timezone,
 * secrets, trust and evidence_key; environments, hosts and ssh are in
 * config-inventory.c.
 */
#include "config-int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central.h"
#include "cron.h"
#include "util.h"

static const char *const top_keys[] = {
	"db", "reports_dir", "lua_memory", "sync", "roles", "environments", "permissions",
	"notify", "schedules", "timezone", "secrets", "trust", "evidence_key", "hosts", "ssh",
	"central", "scheduler", NULL
};
static const char *const role_keys[] = { "members", "notify", NULL };
static const char *const trust_keys[] = { "keys", NULL };
static const char *const permission_keys[] = { "run", NULL };
static const char *const notify_keys[] = { "webhook", "events", NULL };
static const char *const schedule_keys[] = { "runbook", "cron", "env", "yes", "evidence", "probe", "id", NULL };
static const char *const scheduler_keys[] = { "ha", NULL };
static const char *const sync_values[] = { "normal", "full", NULL };
static const char *const central_keys[] = { "url", "password_env", NULL };

/* ---- time zones -------------------------------------------------------- */

static const char *tz_dir(void)
{
	const char *d = getenv("TZDIR");
	return d && *d ? d : "/usr/share/zoneinfo";
}

static int tz_exists(const char *name)
{
	if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
		return 1;	/* the C library knows UTC without tzdata */
	if (!*name || name[0] == '/' || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return 0;
	char *path = xasprintf("%s/%s", tz_dir(), name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	char magic[4];
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && !memcmp(magic, "TZif", 4);
}

/* The closest zone name, corrected one component at a time; xmalloc'd or NULL. */
static char *tz_suggest(const char *name)
{
	struct strbuf found;
	strbuf_init(&found, 64);
	char *copy = xstrdup(name), *save = NULL;
	int ok = 1;
	for (char *part = strtok_r(copy, "/", &save); part && ok; part = strtok_r(NULL, "/", &save)) {
		char *dir = xasprintf("%s%s%s", tz_dir(), found.len ? "/" : "", found.buf);
		DIR *d = opendir(dir);
		free(dir);
		if (!d) {
			ok = 0;
			break;
		}
		char **names = NULL;
		size_t n = 0;
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
		closedir(d);
		const char *best = NULL;
		for (size_t i = 0; i < n && !best; i++)
			if (!strcmp(names[i], part))
				best = names[i];
		if (!best)
			best = suggest_word(part, (const char *const *)names, n);
		if (best)
			strbuf_addf(&found, "%s%s", found.len ? "/" : "", best);
		else
			ok = 0;
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	free(copy);
	if (!ok || !tz_exists(found.buf) || !strcmp(found.buf, name)) {
		strbuf_release(&found);
		return NULL;
	}
	return strbuf_detach(&found);
}

/* ---- sections ---------------------------------------------------------- */

static void load_roles(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "roles", "a map of role names to { members: [...], notify: URL }",
				    NULL))
		return;
	cfg->roles = xcalloc(map_len(n) + 1, sizeof(*cfg->roles));
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		struct config_role *role = &cfg->roles[cfg->nroles++];
		role->name = xstrdup(name);
		role->line = (int)line_of(node_at(ld, p->key));
		yaml_node_t *v = node_at(ld, p->value);
		char *key = child_key("roles", name);
		if (!is_null(v) && !check_map(ld, v, key, "a map such as { members: [alice, bob] }", role_keys)) {
			yaml_node_t *m = map_get(ld, v, "members");
			if (m) {
				char *mkey = child_key(key, "members");
				role->nmembers = get_text_list(ld, m, mkey, "a list of operator names such as [alice, bob]",
							       "an operator name", &role->members);
				free(mkey);
			}
			yaml_node_t *u = map_get(ld, v, "notify");
			if (u) {
				char *ukey = child_key(key, "notify");
				const char *url = get_text(ld, u, ukey, "a webhook URL");
				if (url) {
					check_url(ld, u, ukey, url);
					role->notify = xstrdup(url);
				}
				free(ukey);
			}
		}
		free(key);
	}
}

const char **role_names(const struct config *cfg)
{
	const char **names = xcalloc(cfg->nroles + 1, sizeof(*names));
	for (size_t i = 0; i < cfg->nroles; i++)
		names[i] = cfg->roles[i].name;
	return names;
}

static const char **env_names(const struct config *cfg)
{
	const char **names = xcalloc(cfg->nenvs + 1, sizeof(*names));
	for (size_t i = 0; i < cfg->nenvs; i++)
		names[i] = cfg->envs[i].name;
	return names;
}

/* The environment named by node n (reported when undefined), or NULL. */
static struct config_env *env_named(struct loader *ld, const yaml_node_t *n, const char *key, const char *name)
{
	struct config_env *env = NULL;
	for (size_t i = 0; i < ld->cfg->nenvs && !env; i++)
		if (!strcmp(ld->cfg->envs[i].name, name))
			env = &ld->cfg->envs[i];
	if (!env) {
		const char **names = env_names(ld->cfg);
		problem_at(ld, n, key, "environment '%s' is not defined under environments; define it there or fix "
			   "the name%s", name, did_you_mean(name, names, ld->cfg->nenvs));
		free(names);
	}
	return env;
}

/* Each role named in list n must be defined under roles. */
static void check_role_refs(struct loader *ld, const yaml_node_t *n, const char *key, const char **roles)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return;
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		const char *role = item->type == YAML_SCALAR_NODE && !is_null(item)
					   ? (const char *)item->data.scalar.value : NULL;
		if (role && !config_role(ld->cfg, role)) {
			char *ikey = xasprintf("%s[%zu]", key, idx);
			problem_at(ld, item, ikey, "role '%s' is not defined under roles; define it there or fix the "
				   "name%s", role, did_you_mean(role, roles, ld->cfg->nroles));
			free(ikey);
		}
		idx++;
	}
}

static void load_permissions(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "permissions", "a map of environment names to { run: [roles] }", NULL))
		return;
	const char **roles = role_names(cfg);
	FOR_PAIRS(n, p) {
		const char *name = key_text(ld, p);
		if (!name || repeats_key(ld, n, p))
			continue;
		char *key = child_key("permissions", name);
		struct config_env *env = env_named(ld, node_at(ld, p->key), key, name);
		yaml_node_t *v = node_at(ld, p->value);
		yaml_node_t *run = NULL;
		if (is_null(v))
			problem_at(ld, v, key, "needs run: [roles] listing the roles whose members may run here");
		else if (!check_map(ld, v, key, "a map such as { run: [commander, sre] }", permission_keys)
			 && !(run = map_get(ld, v, "run")))
			problem_at(ld, v, key, "needs run: [roles] listing the roles whose members may run here");
		if (run && is_null(run)) {
			char *rkey = child_key(key, "run");
			problem_at(ld, run, rkey, "has no roles; list the roles whose members may run here, or write "
				   "run: [] to let nobody");
			free(rkey);
			run = NULL;
		}
		if (run) {
			char *rkey = child_key(key, "run");
			char **list;
			size_t count = get_text_list(ld, run, rkey, "a list of role names such as [commander, sre]",
						     "a role name", &list);
			check_role_refs(ld, run, rkey, roles);
			if (env && list) {
				env->restricted = 1;
				env->run_roles = list;
				env->nrun_roles = count;
			} else if (list) {
				for (size_t i = 0; i < count; i++)
					free(list[i]);
				free(list);
			}
			free(rkey);
		}
		free(key);
	}
	free(roles);
}

static void load_notify(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "notify", "a map such as { webhook: URL, events: [...] }", notify_keys))
		return;
	yaml_node_t *w = map_get(ld, n, "webhook");
	if (w) {
		const char *url = get_text(ld, w, "notify.webhook", "a webhook URL");
		if (url) {
			check_url(ld, w, "notify.webhook", url);
			cfg->webhook = xstrdup(url);
		}
	}
	yaml_node_t *e = map_get(ld, n, "events");
	if (!e || is_null(e) || check_list(ld, e, "notify.events", "a list of event names such as [run_started]"))
		return;
	cfg->events = 0;
	size_t idx = 0;
	FOR_ITEMS(e, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *key = xasprintf("notify.events[%zu]", idx++);
		const char *name = get_text(ld, item, key, "an event name");
		int ev = name ? config_event_parse(name) : -1;
		if (ev >= 0) {
			cfg->events |= 1u << ev;
		} else if (name) {
			const char *s = suggest_word(name, event_names, CONFIG_EVENT_COUNT);
			char *all = join_names(event_names, CONFIG_EVENT_COUNT, "");
			if (s)
				problem_at(ld, item, key, "unknown event '%s'; did you mean '%s'?", name, s);
			else
				problem_at(ld, item, key, "unknown event '%s'; the events are %s", name, all);
			free(all);
		}
		free(key);
	}
}

/*
 * A schedule's `id:`, the name HA schedulers claim its slots under: short
 * printable text without '|', so it reads well in the claims table.
 */
static char *schedule_id(struct loader *ld, const yaml_node_t *n, const char *parent)
{
	char *k = child_key(parent, "id");
	const char *s = get_text(ld, n, k, "a name such as nightly-restore");
	char *id = NULL;
	size_t len = s ? strlen(s) : 0;
	int ok = len > 0 && len <= 200;
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)s[i] > ' ' && s[i] != '|' && s[i] != 0x7f;
	if (s && !ok)
		problem_at(ld, n, k, "'%s' is not a schedule id; use 1 to 200 characters without spaces or '|', "
			   "such as nightly-restore", s);
	else if (s)
		id = xstrdup(s);
	free(k);
	return id;
}

static void load_schedules(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_list(ld, n, "schedules",
				     "a list of { runbook: FILE, cron: \"m h dom mon dow\", env: NAME, yes: BOOL }"))
		return;
	cfg->schedules = xcalloc(list_len(n) + 1, sizeof(*cfg->schedules));
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *v = node_at(ld, *it);
		char *key = xasprintf("schedules[%zu]", idx++);
		if (check_map(ld, v, key, "a map such as { runbook: FILE, cron: \"0 3 * * 1\" }", schedule_keys)) {
			free(key);
			continue;
		}
		struct config_schedule sc = { .line = (int)line_of(v) };
		int ok = 1;
		char *k;
		yaml_node_t *r = map_get(ld, v, "runbook"), *c = map_get(ld, v, "cron");
		yaml_node_t *e = map_get(ld, v, "env"), *y = map_get(ld, v, "yes");
		yaml_node_t *ev = map_get(ld, v, "evidence"), *pr = map_get(ld, v, "probe");
		yaml_node_t *id = map_get(ld, v, "id");
		if (pr) {	/* SPEC 10: `lifeboat probe` instead of a drill */
			k = child_key(key, "probe");
			if (get_bool(ld, pr, k, &sc.probe))
				ok = 0;
			free(k);
		}
		if (id && (sc.id = schedule_id(ld, id, key)))
			for (size_t j = 0; j < cfg->nschedules; j++)
				if (cfg->schedules[j].id && !strcmp(cfg->schedules[j].id, sc.id))
					problem_at(ld, id, key, "id '%s' is already the id of the schedule at line %d; "
						   "give each schedule its own", sc.id, cfg->schedules[j].line);
		if (ev) {
			k = child_key(key, "evidence");
			if (get_bool(ld, ev, k, &sc.evidence))
				ok = 0;
			free(k);
		}
		if (!r) {
			problem_at(ld, v, key, "needs runbook: FILE, the runbook to drill");
			ok = 0;
		} else {
			k = child_key(key, "runbook");
			sc.runbook = get_path(ld, r, k);
			struct stat st;
			if (!sc.runbook) {
				ok = 0;
			} else if (stat(sc.runbook, &st) || !S_ISREG(st.st_mode)) {
				problem_at(ld, r, k, "runbook '%s' %s; fix the path (relative paths start from the "
					   "config file's folder, %s)", (const char *)r->data.scalar.value,
					   stat(sc.runbook, &st) ? "does not exist" : "is not a file", cfg->dir);
				ok = 0;
			}
			free(k);
		}
		if (!c) {
			problem_at(ld, v, key, "needs cron: \"MIN HOUR DAY MONTH WEEKDAY\", when to drill");
			ok = 0;
		} else {
			k = child_key(key, "cron");
			const char *expr = get_text(ld, c, k, "a cron expression such as \"0 3 * * 1\"");
			char *why = NULL;
			if (!expr) {
				ok = 0;
			} else if (cron_parse(expr, &sc.cron, &why)) {
				problem_at(ld, c, k, "invalid cron expression '%s': %s", expr, why);
				ok = 0;
			} else {
				sc.cron_expr = xstrdup(expr);
			}
			free(why);
			free(k);
		}
		if (e) {
			k = child_key(key, "env");
			const char *name = get_text(ld, e, k, "an environment name");
			if (name && env_named(ld, e, k, name))
				sc.env = xstrdup(name);
			else
				ok = 0;
			free(k);
		}
		if (y) {
			k = child_key(key, "yes");
			const char *s = get_text(ld, y, k, "true or false");
			if (s && parse_bool(s, &sc.yes)) {
				problem_at(ld, y, k, "'%s' is not true or false", s);
				ok = 0;
			}
			free(k);
		}
		if (ok && sc.probe && sc.yes) {
			problem_at(ld, y, key, "yes: true applies to drills; a probe has no manual steps to confirm (remove yes, or probe)");
			ok = 0;
		}
		if (ok) {
			/* a probe schedule is a schedule of its own beside a drill of the same slot */
			sc.key = xasprintf("%s|%s|%s%s", sc.runbook, sc.cron_expr, sc.env ? sc.env : "",
					   sc.probe ? "|probe" : "");
			cfg->schedules[cfg->nschedules++] = sc;
		} else {
			free(sc.runbook);
			free(sc.cron_expr);
			free(sc.env);
			free(sc.id);
		}
		free(key);
	}
}

/*
 * `scheduler: { ha: true }` (SPEC 11): several schedulers share the
 * schedules through the central PostgreSQL, so it needs `central:`.
 */
static void load_scheduler(struct loader *ld, const yaml_node_t *root, const yaml_node_t *n)
{
	if (is_null(n) || check_map(ld, n, "scheduler", "a map such as { ha: true }", scheduler_keys))
		return;
	yaml_node_t *ha = map_get(ld, n, "ha");
	if (ha && !get_bool(ld, ha, "scheduler.ha", &ld->cfg->scheduler_ha) && ld->cfg->scheduler_ha &&
	    !map_get(ld, root, "central"))
		problem_at(ld, ha, "scheduler.ha", "high-availability scheduling claims each slot in the team's "
			   "PostgreSQL: add central: { url: \"postgresql://...\" }, or remove ha");
}

static void load_timezone(struct loader *ld, const yaml_node_t *n)
{
	const char *tz = get_text(ld, n, "timezone", "a time zone name such as Europe/Berlin");
	if (!tz)
		return;
	if (!tz_exists(tz)) {
		char *s = tz_suggest(tz);
		if (s)
			problem_at(ld, n, "timezone", "unknown time zone '%s'; did you mean '%s'?", tz, s);
		else
			problem_at(ld, n, "timezone", "unknown time zone '%s'; use an IANA name such as UTC or "
				   "Europe/Berlin, as found under %s", tz, tz_dir());
		free(s);
		return;
	}
	free(ld->cfg->timezone);
	ld->cfg->timezone = xstrdup(tz);
}

static int has_secret(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (!strcmp(cfg->secrets[i].name, name))
			return 1;
	return 0;
}

static void load_secrets(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_list(ld, n, "secrets", "a list of environment variable names such as [DB_PASSWORD]"))
		return;
	cfg->secrets = xcalloc(list_len(n) + 1, sizeof(*cfg->secrets));
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *key = xasprintf("secrets[%zu]", idx++);
		const char *name = get_text(ld, item, key, "an environment variable name");
		if (!name) {
			free(key);
			continue;
		}
		const char *value = getenv(name);
		if (!is_identifier(name)) {
			problem_at(ld, item, key, "'%s' is not an environment variable name: use letters, digits and "
				   "'_', not starting with a digit", name);
		} else if (has_secret(cfg, name)) {
			problem_at(ld, item, key, "secret '%s' is listed twice; keep one", name);
		} else if (value && strlen(value) < CONFIG_SECRET_MIN) {
			problem_at(ld, item, key, "the value of secret '%s' is shorter than %d characters; set a longer "
				   "one (a short value would mask ordinary text)", name, CONFIG_SECRET_MIN);
		} else {
			cfg->secrets[cfg->nsecrets].name = xstrdup(name);
			cfg->secrets[cfg->nsecrets].value = xstrdup(value);
			cfg->secrets[cfg->nsecrets].line = (int)item->start_mark.line + 1;
			cfg->nsecrets++;
		}
		free(key);
	}
}

/* A list of public key files: each must be a minisign public key, read now. */
void load_keys(struct loader *ld, const yaml_node_t *n, const char *key, char ***paths,
	       struct minisign_pub **pubs, size_t *count)
{
	if (is_null(n) || check_list(ld, n, key, "a list of minisign public key files such as [keys/ci.pub]"))
		return;
	*paths = xcalloc(list_len(n) + 1, sizeof(**paths));
	*pubs = xcalloc(list_len(n) + 1, sizeof(**pubs));
	size_t idx = 0;
	FOR_ITEMS(n, it) {
		yaml_node_t *item = node_at(ld, *it);
		char *k = xasprintf("%s[%zu]", key, idx++);
		char *path = get_path(ld, item, k);
		char *err = NULL;
		if (path && minisign_pub_load(path, &(*pubs)[*count], &err)) {
			problem_at(ld, item, k, "%s; give a public key made by lifeboat keygen or minisign -G", err);
			free(err);
			free(path);
		} else if (path) {
			(*paths)[(*count)++] = path;
		}
		free(k);
	}
}

static void load_trust(struct loader *ld, const yaml_node_t *n)
{
	struct config *cfg = ld->cfg;
	if (is_null(n) || check_map(ld, n, "trust", "a map such as { keys: [keys/ci.pub] }", trust_keys))
		return;
	yaml_node_t *k = map_get(ld, n, "keys");
	if (k)
		load_keys(ld, k, "trust.keys", &cfg->trust_keys, &cfg->trust_pubs, &cfg->ntrust_keys);
}

/* SPEC 11: `central: { url, password_env }`; the url must parse as libpq's. */
static void load_central(struct loader *ld, const yaml_node_t *n)
{
	struct config_central *c = &ld->cfg->central;
	if (check_map(ld, n, "central", "a map such as { url: \"postgresql://...\", password_env: VAR }",
		      central_keys))
		return;
	c->line = (int)line_of(n);
	yaml_node_t *u = map_get(ld, n, "url"), *p = map_get(ld, n, "password_env");
	const char *s;
	char *why = NULL;
	int bad = 0;
	if (!u)
		problem_at(ld, n, "central.url", "missing; give the server as \"postgresql://user@host:5432/db\"");
	else if ((s = get_text(ld, u, "central.url", "a libpq connection string such as "
				"\"postgresql://user@host:5432/db\"")) && (bad = central_url_check(s, &why)) == CENTRAL_NO_LIBPQ)
		problem_at(ld, u, "central.url", "the team history needs libpq: %s", why);
	else if (s && bad == CENTRAL_URL_PASSWORD)
		problem_at(ld, u, "central.url", "holds a password; keep it out of the config: name the "
			   "variable that holds it in central.password_env, or use libpq's PGPASSFILE");
	else if (s && bad)
		problem_at(ld, u, "central.url", "not a PostgreSQL connection string (%s); write it as "
			   "\"postgresql://user@host:5432/db\"", why);
	else if (s)
		c->url = xstrdup(s);
	free(why);
	if (p)
		c->line = (int)line_of(p);	/* what messages about the password point at */
	if (p && (s = get_text(ld, p, "central.password_env", "an environment variable name"))) {
		if (is_identifier(s))
			c->password_env = xstrdup(s);
		else
			problem_at(ld, p, "central.password_env", "'%s' is not an environment variable name; "
				   "name the variable that holds the password, such as LIFEBOAT_PG_PASSWORD", s);
	}
}

void load_root(struct loader *ld, const yaml_node_t *root)
{
	struct config *cfg = ld->cfg;
	if (is_null(root))
		return;
	if (check_map(ld, root, NULL, "a map of settings (db, roles, environments, ...)", top_keys))
		return;
	yaml_node_t *n;
	if ((n = map_get(ld, root, "db")))
		cfg->db = get_path(ld, n, "db");
	if ((n = map_get(ld, root, "reports_dir")))
		cfg->reports_dir = get_path(ld, n, "reports_dir");
	if ((n = map_get(ld, root, "lua_memory"))) {
		const char *s = get_text(ld, n, "lua_memory", "a size such as 256MiB");
		const char *hint;
		size_t bytes;
		if (s && parse_size(s, &bytes, &hint)) {
			if (hint)
				problem_at(ld, n, "lua_memory", "'%s' is not a size; sizes use binary units: write %.*s%s",
					   s, (int)strspn(s, "0123456789"), s, hint);
			else
				problem_at(ld, n, "lua_memory", "'%s' is not a size; use a number of bytes or KiB, MiB, "
					   "GiB, such as 256MiB", s);
		} else if (s && bytes < CONFIG_LUA_MEMORY_MIN) {
			problem_at(ld, n, "lua_memory", "'%s' is too small for Lua to run; give at least 1MiB", s);
		} else if (s) {
			cfg->lua_memory = bytes;
		}
	}
	if ((n = map_get(ld, root, "sync"))) {
		const char *s = get_text(ld, n, "sync", "normal or full");
		if (s && !strcmp(s, "full"))
			cfg->sync = CONFIG_SYNC_FULL;
		else if (s && strcmp(s, "normal"))
			problem_at(ld, n, "sync", "'%s' is not normal or full%s", s, did_you_mean(s, sync_values, 2));
	}
	if ((n = map_get(ld, root, "roles")))
		load_roles(ld, n);
	if ((n = map_get(ld, root, "environments")))
		load_environments(ld, n);
	if ((n = map_get(ld, root, "permissions")))
		load_permissions(ld, n);
	if ((n = map_get(ld, root, "notify")))
		load_notify(ld, n);
	if ((n = map_get(ld, root, "schedules")))
		load_schedules(ld, n);
	if ((n = map_get(ld, root, "scheduler")))
		load_scheduler(ld, root, n);
	if ((n = map_get(ld, root, "timezone")))
		load_timezone(ld, n);
	if ((n = map_get(ld, root, "secrets")))
		load_secrets(ld, n);
	if ((n = map_get(ld, root, "trust")))
		load_trust(ld, n);
	if ((n = map_get(ld, root, "evidence_key")))
		cfg->evidence_key = get_path(ld, n, "evidence_key");
	if ((n = map_get(ld, root, "hosts")))
		cfg->ngroups = load_groups(ld, n, "hosts", &cfg->groups);
	if ((n = map_get(ld, root, "ssh")))
		load_ssh(ld, n);
	if ((n = map_get(ld, root, "central")))
		load_central(ld, n);
}
