/*
 * A loaded, validated runbook. The Lua prelude checks every key and hands
 * back a normalized table; luahost-read.c turns it into these structs, keeping
 * functions (run steps, function-valued fields, recovery_point) as
 * references into the Lua registry. Nothing here runs anything.
 */
#ifndef LB_RUNBOOK_H
#define LB_RUNBOOK_H
#include <stddef.h>

#include "record.h"

enum step_kind { STEP_SH, STEP_RUN, STEP_HTTP, STEP_MANUAL };
const char *step_kind_name(enum step_kind k);
int step_kind_parse(const char *name, enum step_kind *k);	/* 0, or -1 for NULL or no kind */
int step_kind_is(const char *name, enum step_kind k);		/* name (a step record's kind) names k */

#define RB_NOREF (-2)	/* same value as LUA_NOREF */

/* A field that is either a string or a function(ctx) returning one. */
struct rb_value {
	char *str;	/* owned; NULL when fn_ref is set */
	int fn_ref;	/* registry reference, or RB_NOREF */
};

struct rb_step {
	char *name;
	int line;
	enum step_kind kind;
	struct rb_value value;		/* sh command, http url, manual text; run: fn_ref */
	char *method;			/* http */
	struct rb_value body;		/* http */
	int headers_ref;		/* http: table or function in the registry, or RB_NOREF */
	int expect;			/* http */
	char *contains;			/* http */
	int redirects;			/* http: follow redirects */
	double timeout_s;		/* NAN: the runbook's step_timeout (manual: none) */
	int retries;
	double retry_delay_s;
	char *role;			/* the step's or its phase's, may be NULL */
	int continue_on_error;
	int idempotent;
	int service;
	double ready_after_s;
	char **shell;			/* NULL-terminated argv prefix, NULL: the runbook's */
	/* remote hosts (SPEC 8): a sh step with on runs on every host of the target */
	char **on;			/* NULL-terminated group/host names; NULL: local (or on_ref) */
	int on_ref;			/* function(ctx) returning them, or RB_NOREF */
	int max_failed_hosts;		/* instances that may fail while the step succeeds */
	char *remote_workdir;		/* NULL: the runbook's, else the remote user's home */
};
/* Whether the step runs on remote hosts. */
#define RB_STEP_REMOTE(s) ((s)->on != NULL || (s)->on_ref != RB_NOREF)

struct rb_phase {
	char *name;
	int line;
	char *role;
	double budget_s;		/* NAN: none */
	int fault, cleanup, restores_service, rollback_on_abort;
	enum probe_when probe;		/* the runbook's probes (SPEC 10), not a phase it declared */
	int parallel;
	struct rb_step *steps;
	size_t nsteps;
	struct rb_step *rollback;
	size_t nrollback;
};

struct rb_param {
	char *name;
	char *value;
};

struct runbook {
	char *path;		/* as given on the command line */
	char *abspath;
	char *dir;		/* absolute folder of the file */
	char sha256[65];	/* of the file's text */
	char signed_by[17];	/* the key id of its trusted signature, "" when not signed */
	char *name;
	char *description;
	double rto_s, rpo_s;	/* NAN: not declared */
	char **roles;		/* NULL-terminated */
	struct rb_param *params;
	size_t nparams;
	int recovery_point_ref;	/* RB_NOREF when none */
	int newest_recoverable_ref;	/* SPEC 10; RB_NOREF when none */
	double step_timeout_s;
	char *workdir;		/* absolute */
	char **shell;		/* NULL-terminated argv prefix; default /bin/sh -c */
	int exclusive;
	char *remote_workdir;	/* SPEC 8: NULL: the remote user's home */
	struct rb_phase *phases;
	size_t nphases;
	int restoring;		/* index of the phase that restores service */
};

void runbook_free(struct runbook *rb);
/* Looks up a param; NULL when not declared. */
struct rb_param *runbook_param(struct runbook *rb, const char *name);
/* A recovery phase: neither fault, cleanup nor probes. */
#define RB_PHASE_RECOVERY(p) (!(p)->fault && !(p)->cleanup && (p)->probe == PROBE_NONE)
/* The probes phase that runs `when`, or NULL when the runbook declares no probes. */
const struct rb_phase *runbook_probes(const struct runbook *rb, enum probe_when when);
/* Sum of the budgets of the recovery phases (not fault, not cleanup); NAN when none has one. */
double runbook_budget_sum(const struct runbook *rb, int *unbudgeted);

#endif
