/*
 * The config file of SPEC 4 (lifeboat.yaml): roles and who may act,
 * environments and their permissions, webhooks, scheduled drills, the time
 * zone and the names of secrets. lib/config*.c (see config-int.h) are the
 * only files that talk to libyaml.
 *
 * Loading is all or nothing: config_load returns a config in which every
 * reference resolves (roles, environments, runbook files, cron expressions,
 * the time zone), or every problem it found, each naming file:line:column
 * and the key, and saying what to do. Relative paths resolve against the
 * config file's folder and are stored absolute.
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H
#include <stddef.h>

#include "cron.h"
#include "minisign.h"

#define CONFIG_FILE_DEFAULT "lifeboat.yaml"
#define CONFIG_LUA_MEMORY_DEFAULT ((size_t)256 << 20)
#define CONFIG_LUA_MEMORY_MIN ((size_t)1 << 20)
#define CONFIG_SECRET_MIN 6

enum config_sync { CONFIG_SYNC_NORMAL = 0, CONFIG_SYNC_FULL };

/* The webhook events of SPEC 4, in its order. */
enum config_event {
	CONFIG_EVENT_RUN_STARTED = 0,
	CONFIG_EVENT_PHASE_STARTED,
	CONFIG_EVENT_PHASE_OVER_BUDGET,
	CONFIG_EVENT_MANUAL_WAITING,
	CONFIG_EVENT_STEP_FAILED,
	CONFIG_EVENT_RTO_AT_RISK,
	CONFIG_EVENT_RUN_FINISHED,
	CONFIG_EVENT_RPO_EXPOSED,	/* SPEC 10: a probe found the newest backup older than the RPO */
	CONFIG_EVENT_SCHEDULER_DEGRADED,	/* SPEC 11: an HA scheduler cannot reach the team database */
	CONFIG_EVENT_COUNT
};
#define CONFIG_EVENTS_ALL ((1u << CONFIG_EVENT_COUNT) - 1)

struct config_role {
	char *name;
	char **members;		/* operator names; nmembers == 0 when none are listed */
	size_t nmembers;
	char *notify;		/* webhook URL for events of this role's steps; NULL when none */
	int line;		/* where the role is defined */
};

struct config_param {
	char *name;
	char *value;
	int line;			/* of its key in the file */
};

/* SPEC 8: a named group of ssh destinations (`hosts:`, or an environment's). */
struct config_group {
	char *name;
	char **hosts;			/* destinations as written: an ssh config name or user@host:port */
	size_t nhosts;
	int line;
};

#define CONFIG_SSH_PARALLEL_DEFAULT 10
#define CONFIG_SSH_CONNECT_TIMEOUT_DEFAULT 5.0

/* SPEC 8: `ssh:` */
struct config_ssh {
	char *config;			/* absolute path given to ssh -F; NULL: ssh's own */
	double connect_timeout_s;	/* CONFIG_SSH_CONNECT_TIMEOUT_DEFAULT when not set */
	int parallel;			/* CONFIG_SSH_PARALLEL_DEFAULT when not set */
	char **options;			/* extra ssh arguments, NULL-terminated (never NULL) */
	size_t noptions;
};

struct config_env {
	char *name;
	double rto_s, rpo_s;		/* NAN when not set: the runbook's */
	struct config_param *params;	/* nparams, in file order */
	size_t nparams;
	struct config_group *groups;	/* hosts: groups that replace (or add to) the top-level ones */
	size_t ngroups;
	int restricted;			/* permissions.<name> exists */
	char **run_roles;		/* permissions.<name>.run: roles whose members may run */
	size_t nrun_roles;
	int require_signed;		/* runbooks and their modules need a trusted signature */
	int drills;			/* drills: false refuses drill mode here (SPEC 4); default 1 */
	int line;
};

struct config_schedule {
	char *runbook;		/* absolute path of an existing file */
	char *cron_expr;	/* as written */
	struct cron cron;
	char *env;		/* a defined environment, or NULL */
	int yes;		/* confirm manual steps automatically */
	int evidence;		/* write an evidence bundle after each drill */
	int probe;		/* SPEC 10: run `lifeboat probe` (probes, RPO exposure), not a drill */
	char *key;		/* stable identity for the stored last run: "runbook|cron|env" */
	char *id;		/* `id:`, the HA claims' name (SPEC 11); NULL: derived at run time */
	int line;
};

struct config_secret {
	char *name;		/* environment variable */
	char *value;		/* its value at load time (>= CONFIG_SECRET_MIN bytes), NULL when unset */
	int line;		/* where the config lists it */
};

/* SPEC 11: `central:`, the team history on PostgreSQL (central.h). */
struct config_central {
	char *url;			/* libpq conninfo or postgresql:// URI; NULL: not set */
	char *password_env;		/* the variable holding the password; NULL: libpq's own */
	int line;			/* of password_env when given, else of central: */
};

/* Every string and array below is xmalloc'd and owned by the config. */
struct config {
	char *path;			/* as given to config_load, for messages */
	char *dir;			/* absolute folder of the file */
	char *db;			/* absolute; NULL when not set */
	char *reports_dir;		/* absolute; NULL when not set */
	size_t lua_memory;		/* bytes; CONFIG_LUA_MEMORY_DEFAULT when not set */
	enum config_sync sync;		/* CONFIG_SYNC_NORMAL when not set */
	struct config_role *roles;
	size_t nroles;
	struct config_env *envs;
	size_t nenvs;
	char *webhook;			/* NULL when not set */
	unsigned events;		/* bit 1u << enum config_event; CONFIG_EVENTS_ALL when not set */
	struct config_schedule *schedules;
	size_t nschedules;
	int scheduler_ha;		/* scheduler.ha: claim each slot centrally (needs central:) */
	char *timezone;			/* IANA name, for cron; "UTC" when not set */
	struct config_secret *secrets;
	size_t nsecrets;
	char **trust_keys;		/* trust.keys: absolute paths of public keys */
	struct minisign_pub *trust_pubs;	/* the same keys, read */
	size_t ntrust_keys;
	char *evidence_key;		/* absolute path of the secret key for evidence; NULL: none */
	struct config_group *groups;	/* hosts: */
	size_t ngroups;
	struct config_ssh ssh;
	struct config_central central;
};

/*
 * SPEC 3: the file to load. explicit_path (--config) when given, else
 * lifeboat.yaml in the working directory when it exists. Returns 1 with
 * *path_out (xmalloc'd) set, or 0 when there is no config.
 */
int config_find(const char *explicit_path, char **path_out);

/*
 * Reads and validates the file. Returns 0 with *out (free with config_free),
 * or -1 with *out NULL and *err (xmalloc'd) holding one line per problem,
 * "FILE:LINE:COLUMN: KEY: what is wrong; what to do". Secret values are
 * read from the environment here and never appear in a message.
 */
int config_load(const char *path, struct config **out, char **err);
/*
 * `-p @FILE`: a YAML mapping of param names to single values, in file order
 * (*out xmalloc'd, names and values too). -1 with *err, one line per
 * problem, "FILE:LINE:COLUMN: params.NAME: what is wrong".
 */
int config_read_params(const char *path, struct config_param **out, size_t *n, char **err);
void config_free(struct config *cfg);

const char *config_event_name(enum config_event ev);
int config_event_parse(const char *name);	/* the enum config_event, or -1 */
/* Whether ev is sent (to the webhook and to roles' notify URLs). */
int config_wants_event(const struct config *cfg, enum config_event ev);

const struct config_role *config_role(const struct config *cfg, const char *name);	/* or NULL */
const struct config_env *config_env(const struct config *cfg, const char *name);	/* or NULL */
const char *config_secret(const struct config *cfg, const char *name);	/* value, or NULL */

/* Whether operator is listed among role's members. */
int config_role_has_member(const struct config *cfg, const char *role, const char *operator);

/*
 * Whether operator may run (or drill) in env: always when cfg or env is NULL
 * or env has no permissions; otherwise only a member of one of its
 * permissions.<env>.run roles. Returns 1 when allowed; 0 with *why
 * (xmalloc'd) naming the roles and their members when not.
 */
int config_may_run(const struct config *cfg, const char *env, const char *operator, char **why);

/*
 * Whether operator may confirm (or decline) a manual step of role: always
 * when cfg is NULL, the role is not in it, or the role lists no members;
 * otherwise only its members. Returns 1, or 0 with *why (xmalloc'd) naming
 * who may.
 */
int config_may_confirm(const struct config *cfg, const char *role, const char *operator, char **why);

/*
 * `check`: every role a runbook names must be defined in the config. Returns
 * 0, or -1 with *err (xmalloc'd) naming each missing role (with a did-you-mean)
 * and the config file.
 */
int config_check_roles(const struct config *cfg, const char *const *roles, size_t n, char **err);

/*
 * The machine policy of SPEC 9: keys and require_signed that a project's
 * lifeboat.yaml cannot weaken. Honoured only when the file and its folder
 * are owned by root and writable by nobody else.
 */
#define CONFIG_POLICY_PATH "/etc/lifeboat/trust.yaml"

struct config_policy {
	char *path;
	char **keys;			/* absolute paths */
	struct minisign_pub *pubs;	/* the same keys, read */
	size_t nkeys;
	int require_always;		/* require_signed: always */
	char **require_envs;		/* require_signed: [env, ...] */
	size_t nrequire_envs;
};

/*
 * Loads the policy at path: 0 with *out NULL when there is none; 0 with *out
 * NULL and *warning (xmalloc'd) when it is not honoured (saying why); 0 with
 * *out; or -1 with *err (its problems, as config_load's).
 */
int config_policy_load(const char *path, struct config_policy **out, char **warning, char **err);
void config_policy_free(struct config_policy *p);
/* Whether the policy requires signatures for a run in env (NULL: none). */
int config_policy_requires(const struct config_policy *p, const char *env);

/*
 * SPEC 8, the inventory. config_group finds a group by name, an
 * environment's own first (env may be NULL); NULL when there is none.
 * config_is_host says whether name is a destination listed in some group
 * (of env, or of the top level). cfg may be NULL (no config: no inventory).
 */
const struct config_group *config_group(const struct config *cfg, const char *env, const char *name);
int config_is_host(const struct config *cfg, const char *env, const char *name);
/*
 * Resolves an `on` target (a group or a host of the inventory) into
 * destinations appended to *hosts (xmalloc'd array of borrowed strings,
 * duplicates skipped). Returns 0, or -1 with *err (xmalloc'd) naming the
 * unknown name with a did-you-mean. all_envs: accept a name any
 * environment defines (for `check`, which has no environment).
 */
int config_resolve_target(const struct config *cfg, const char *env, const char *name, int all_envs,
			  const char ***hosts, size_t *nhosts, char **err);

#endif
