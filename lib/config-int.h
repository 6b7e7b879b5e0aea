/*
 * What the files that read lifeboat.yaml share and nobody else sees; the
 * public interface is config.h. These files, and only these, talk to
 * libyaml:
 *   config.c            loading a file (config, machine policy, params file),
 *                       freeing, and the queries the rest of lifeboat asks
 *   config-yaml.c       reading nodes into checked values, collecting each
 *                       problem with its position, "did you mean"
 *   config-sections.c   the top-level sections: db, roles, permissions,
 *                       notify, schedules, timezone, secrets, trust
 *   config-inventory.c  environments, their params and hosts, ssh (SPEC 8),
 *                       and the inventory's queries
 */
#ifndef LB_CONFIG_INT_H
#define LB_CONFIG_INT_H
#include <stddef.h>

#include <yaml.h>

#include "config.h"
#include "minisign.h"
#include "util.h"

static const char *const event_names[CONFIG_EVENT_COUNT + 1] = {
	"run_started", "phase_started", "phase_over_budget", "manual_waiting",
	"step_failed", "rto_at_risk", "run_finished", "rpo_exposed", "scheduler_degraded", NULL
};

struct problem {
	size_t line, column;	/* 1-based; 0 when the problem has no position */
	size_t seq;		/* order found, to keep the sort stable */
	char *msg;		/* xmalloc'd, the whole line */
};

struct loader {
	const char *file;		/* as given, for messages */
	const char *text;		/* the file's bytes, for reader errors' positions */
	size_t text_len;
	yaml_document_t doc;
	struct problem *problems;	/* xrealloc'd array */
	size_t nproblems;
	struct config *cfg;
};

#define FOR_PAIRS(m, p) \
	for (yaml_node_pair_t *p = (m)->data.mapping.pairs.start; p < (m)->data.mapping.pairs.top; p++)
#define FOR_ITEMS(s, it) \
	for (yaml_node_item_t *it = (s)->data.sequence.items.start; it < (s)->data.sequence.items.top; it++)

/* ---- config-yaml.c: problems ---- */

/* A problem at node n (NULL: no position); key names the setting. */
void problem_at(struct loader *ld, const yaml_node_t *n, const char *key, const char *fmt, ...)
	LB_PRINTF(4, 5);
void problem_pos(struct loader *ld, size_t line, size_t column, const char *fmt, ...) LB_PRINTF(4, 5);
/* The problems, one per line in file order; frees them. */
char *take_problems(struct loader *ld);
/* " (did you mean 'x'?)" or "" — static storage, valid until the next call. */
const char *did_you_mean(const char *word, const char *const *cands, size_t n);
/* "a, b, c" for messages; xmalloc'd. */
char *join_names(const char *const *names, size_t n, const char *none);

/* ---- config-yaml.c: nodes ---- */

yaml_node_t *node_at(struct loader *ld, int index);
int is_null(const yaml_node_t *n);
/* "parent.key", or key; xmalloc'd. */
char *child_key(const char *parent, const char *key);
/* A scalar's text, or NULL after reporting that key needs `want` instead. */
const char *get_text(struct loader *ld, const yaml_node_t *n, const char *key, const char *want);
/* A pair's key as text, or NULL when it is not plain text. */
const char *key_text(struct loader *ld, const yaml_node_pair_t *p);
/* Whether pair p repeats a key of an earlier pair of map m. */
int repeats_key(struct loader *ld, const yaml_node_t *m, const yaml_node_pair_t *p);
/*
 * Checks that n is a map with text keys, none repeated and, when known is
 * given, each one of known: 0 when n is a map (key problems are reported),
 * else -1. Callers skip pairs with no key text or a repeated key.
 */
int check_map(struct loader *ld, const yaml_node_t *n, const char *key, const char *want,
	      const char *const *known);
yaml_node_t *map_get(struct loader *ld, const yaml_node_t *m, const char *name);
int check_list(struct loader *ld, const yaml_node_t *n, const char *key, const char *want);
size_t list_len(const yaml_node_t *n);
size_t map_len(const yaml_node_t *n);
/* A list of text values (null: none) into *out; returns how many. */
size_t get_text_list(struct loader *ld, const yaml_node_t *n, const char *key, const char *want,
		     const char *item_want, char ***out);
size_t line_of(const yaml_node_t *n);
void free_list(char **v, size_t n);

/* ---- config-yaml.c: values ---- */

/* The config file's folder, absolute when it can be made so. */
char *folder_of(const char *path);
/* A path, relative to the config file's folder; NULL after a problem. */
char *get_path(struct loader *ld, const yaml_node_t *n, const char *key);
/* "256MiB", "1GiB", "512KiB", "1048576" (bytes); *hint names a binary unit for "256MB". */
int parse_size(const char *s, size_t *out, const char **hint);
int parse_bool(const char *s, int *out);
/* A true/false value into *out: 0, or -1 with the problem recorded. */
int get_bool(struct loader *ld, const yaml_node_t *n, const char *key, int *out);
void check_url(struct loader *ld, const yaml_node_t *n, const char *key, const char *url);
int is_identifier(const char *s);
/* Seconds, or NAN after a problem. */
double get_duration(struct loader *ld, const yaml_node_t *n, const char *key);

/* ---- config-sections.c ---- */

/* The whole document of a config file into ld->cfg. */
void load_root(struct loader *ld, const yaml_node_t *root);
/* A list of public key files: each must be a minisign public key, read now. */
void load_keys(struct loader *ld, const yaml_node_t *n, const char *key, char ***paths,
	       struct minisign_pub **pubs, size_t *count);
/* The roles' names, NULL-terminated; free() the array only. */
const char **role_names(const struct config *cfg);

/* ---- config-inventory.c ---- */

void load_environments(struct loader *ld, const yaml_node_t *n);
void load_params(struct loader *ld, struct config_env *env, const yaml_node_t *n, const char *key);
/* hosts: { group: [dest, ...] } into *out; returns how many groups. */
size_t load_groups(struct loader *ld, const yaml_node_t *n, const char *key, struct config_group **out);
void load_ssh(struct loader *ld, const yaml_node_t *n);

#endif
