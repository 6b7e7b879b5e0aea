/*
 * The record of one run: what the engine fills in as it goes, what the store
 * persists row by row, what history/show/report read back. One model for
 * both sides, so a report written at the end of `run` and one regenerated
 * later from the history are the same document.
 *
 * Conventions: wall timestamps are unix milliseconds, TS_NONE when absent;
 * durations are seconds as double, NAN when absent; strings are xmalloc'd
 * and owned by the record (NULL when absent).
 */
#ifndef LB_RECORD_H
#define LB_RECORD_H
#include <stddef.h>
#include <stdint.h>

enum status {
	ST_PENDING = 0,
	ST_RUNNING,
	ST_SUCCEEDED,
	ST_FAILED,
	ST_SKIPPED,
	ST_ROLLED_BACK,
	ST_INTERRUPTED,
	ST_TIMED_OUT,
	ST_DECLINED,
	ST_ABORTED,	/* runs only */
	ST_REFUSED,	/* runs only */
	ST__COUNT
};
const char *status_name(enum status st);		/* "succeeded", ... */
int status_parse(const char *name, enum status *st);	/* 0 or -1 */

enum section { SEC_MAIN = 0, SEC_ROLLBACK = 1 };

/*
 * SPEC 10: a runbook's probes run as two phases of their own, "probes
 * before" (before the fault phases: drill and probe modes) and "probes
 * after" (after the last recovery phase, before cleanup); reports show them
 * apart from the phases.
 */
enum probe_when { PROBE_NONE = 0, PROBE_BEFORE, PROBE_AFTER };
const char *probe_when_name(enum probe_when w);	/* NULL, "before", "after" */
enum probe_when probe_when_parse(const char *name);	/* PROBE_NONE when NULL or unknown */
struct run_rec;
int run_has_probes(const struct run_rec *r);		/* whether a phase of it is the probes */

/* The RPO exposure a `probe` run measured (SPEC 10): status of exposure_s against the RPO. */
enum exposure_status { EXPOSURE_NONE = 0, EXPOSURE_MET, EXPOSURE_MISSED, EXPOSURE_UNMEASURED };
const char *exposure_status_name(enum exposure_status s);	/* "none", "met", ... */
enum exposure_status exposure_status_parse(const char *name);	/* EXPOSURE_NONE when unknown */

/*
 * The fixed sets a run record names, each with one table of names in
 * record.c: *_name gives the name the history, reports and webhooks use
 * (NULL for an absent value), *_parse the value of a name (0, or -1 when
 * it is none of them). The record keeps the names, as the history does.
 */
enum run_mode { MODE_RUN, MODE_DRILL, MODE_PROBE, MODE__COUNT };	/* "run", "drill", "probe" */
enum run_trigger {					/* what started the run */
	TRIGGER_CLI, TRIGGER_CONSOLE, TRIGGER_SCHEDULE, TRIGGER_RESUME, TRIGGER__COUNT
};
enum rpo_status {					/* the RPO verdict (verdict.c) */
	RPO_UNKNOWN,	/* not judged yet: NULL in the record */
	RPO_NONE,	/* no RPO target */
	RPO_UNMEASURED,	/* a target, but no recovery point */
	RPO_MET, RPO_MISSED, RPO__COUNT
};
const char *run_mode_name(enum run_mode m);
int run_mode_parse(const char *name, enum run_mode *m);
const char *run_trigger_name(enum run_trigger t);
int run_trigger_parse(const char *name, enum run_trigger *t);
const char *rpo_status_name(enum rpo_status s);
enum rpo_status rpo_status_of(const char *name);	/* RPO_UNKNOWN for NULL or an unknown name */
struct run_rec;
enum run_mode run_mode_of(const struct run_rec *r);	/* MODE_RUN unless its mode says "drill" */
int run_is_drill(const struct run_rec *r);

/*
 * Who or what a running step waits for. The engine writes it to the
 * history as a wait begins and ends, so every view (show, the console,
 * --watch) reads it instead of guessing from kinds, triggers and attempts.
 */
enum step_wait {
	WAIT_NONE = 0,
	WAIT_PERSON,	/* a manual step: someone must confirm or decline it */
	WAIT_DECISION,	/* a failed step paused (console): someone must retry, skip or fail it */
	WAIT__COUNT
};
const char *step_wait_name(enum step_wait w);		/* NULL for WAIT_NONE, "person", "decision" */
enum step_wait step_wait_parse(const char *name);	/* WAIT_NONE for NULL or an unknown name */

struct attempt_rec {
	int attempt;		/* 1-based */
	enum status status;
	int64_t started_ms, ended_ms;
	double duration_s;
	int exit_code;		/* -1 when none (signal, Lua step, http) */
	char *error;
	char *output;		/* bounded: head and tail */
	int64_t output_cut;	/* bytes left out of the middle */
};

/* One host of a remote step (SPEC 8): its latest instance, and how many times it ran. */
struct host_rec {
	char *host;
	char *status;		/* "succeeded", "failed", "unreachable", "timed_out", "interrupted", "skipped", "pending" */
	int exit_code;		/* -1 when none */
	double duration_s;	/* NAN when it did not run */
	int attempts;		/* instances started on this host */
	char *error;
	char *output;		/* its latest instance's output tail, lines prefixed by the host */
};
struct step_rec;
void host_rec_release(struct host_rec *h);
/* A remote step's hosts counted by status: "2 ok · 1 failed · 1 unreachable" (xmalloc'd), NULL for local steps. */
char *step_hosts_summary(const struct step_rec *s);
/* Whether a host's status is a success. */
int host_ok(const struct host_rec *h);

struct step_rec {
	char *name;
	char *kind;		/* "sh", "run", "http", "manual" */
	char *role;
	enum section section;
	int idempotent;
	enum status status;
	int attempts;
	int64_t started_ms, ended_ms;
	double duration_s;	/* machine + human */
	double human_wait_s;	/* manual steps: time spent waiting for a person */
	int exit_code;		/* last attempt's, -1 when none */
	char *confirmed_by;	/* who confirmed (with --yes: the operator) */
	int auto_confirmed;	/* confirmed by --yes, not by a person */
	char *error;		/* last error message */
	char *output;		/* last attempt's bounded output */
	int64_t output_cut;
	char *state_json;	/* ctx.state after the step finished, for resume */
	enum step_wait waiting;	/* while it runs: who it waits for (WAIT_NONE once it ended) */
	struct host_rec *hosts;	/* remote steps: one per host of the target; NULL for local steps */
	size_t nhosts;
};

struct phase_rec {
	char *name;
	char *role;
	double budget_s;	/* NAN: no budget */
	int fault, cleanup, restores_service, parallel;
	enum probe_when probe;	/* the runbook's probes, not a phase of its own */
	enum status status;
	int64_t started_ms, ended_ms;
	double duration_s, human_wait_s;
	int over_budget;
	struct step_rec *steps;	/* main steps, then rollback steps */
	size_t nsteps;
};

struct note_rec {
	int64_t at_ms;
	char *operator;
	char *text;
};

struct run_rec {
	char *id;
	char *runbook;		/* the runbook's name */
	char *file;		/* absolute path of the runbook file */
	char *sha256;		/* of the runbook's text */
	char *mode;		/* "run" or "drill" */
	char *trigger;		/* "cli", "console", "schedule", "resume" */
	char *env;		/* NULL: none */
	char *operator;
	long uid;		/* real uid */
	char *host;
	long pid;
	char *params_json;	/* params in force, as a JSON object */
	enum status status;
	int64_t started_ms, ended_ms;
	int64_t incident_ms;	/* t0 */
	int64_t restored_ms;	/* t1, TS_NONE when service was not restored */
	double rto_target_s, rto_achieved_s;	/* NAN when absent */
	int rto_met;		/* 1, 0, or -1 when unknown */
	double rpo_target_s, rpo_achieved_s;
	int rpo_met;
	char *rpo_status;	/* "met", "missed", "unmeasured", "none" */
	int64_t recovery_point_ms;
	double human_wait_s;
	int exit_code;		/* -1 while running */
	int strict_budgets;
	char *error;		/* why the run failed, when it did */
	char *signed_by;	/* key id of the runbook's trusted signature (16 hex digits), NULL: unsigned */
	/* probe runs (SPEC 10): now - newest_recoverable() against the RPO */
	int64_t newest_recoverable_ms;	/* TS_NONE when not measured */
	double exposure_s;		/* NAN when not measured */
	enum exposure_status exposure;
	char *unrecorded;	/* why the history could not keep this run (exit 7), NULL: it did; never stored */
	struct phase_rec *phases;
	size_t nphases;
	struct note_rec *notes;
	size_t nnotes;
};

void run_rec_init(struct run_rec *run);	/* all absent: TS_NONE, NAN, -1 */
void run_rec_release(struct run_rec *run);	/* frees contents */
void run_rec_free(struct run_rec *run);		/* contents and struct */
/*
 * A deep copy, xmalloc'd, owned by the caller (run_rec_free). Every field is
 * copied, so a new field is added here and in run_rec_release, nowhere else;
 * RUN_DUP_NO_OUTPUT leaves out the bulky parts a screen does not need (the
 * steps' and hosts' outputs and the steps' state_json).
 */
enum { RUN_DUP_NO_OUTPUT = 1 };
struct run_rec *run_rec_dup(const struct run_rec *run, unsigned flags);
void phase_rec_init(struct phase_rec *ph);
void step_rec_init(struct step_rec *st);
void attempt_rec_release(struct attempt_rec *a);
void run_rec_add_note(struct run_rec *run, int64_t at_ms, const char *op, const char *text);

/* A note added once the run had ended (a post-incident review finding). */
int note_after_end(const struct run_rec *r, const struct note_rec *n);
/* How a confirmation reads: "alice", or "auto-confirmed (--yes by alice)"; xmalloc'd, NULL when none. */
char *step_confirmed_text(const struct step_rec *s);

#endif
