/*
 * The engine executes one run of a loaded runbook: phases in order, steps
 * with retries, timeouts and parallelism, rollback, cleanup, services; it
 * times everything on the monotonic clock, judges RTO, RPO and budgets, and
 * commits every state change to the history as it happens.
 *
 * It prints nothing: what happens is reported through engine_hooks.event,
 * and a person is asked through engine_hooks.manual; runner/ decides what
 * anyone sees.
 */
#ifndef LB_ENGINE_H
#define LB_ENGINE_H
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "luahost.h"
#include "notify.h"
#include "proc.h"
#include "record.h"
#include "runbook.h"
#include "store.h"
#include "verdict.h"	/* exit codes */

struct engine_opts {
	enum run_mode mode;
	enum run_trigger trigger;
	const char *env;		/* NULL: none */
	const char *operator;
	int yes;			/* confirm manual steps automatically */
	int strict_budgets;
	int64_t incident_ms;		/* --incident-start, TS_NONE when not given */
	const struct rb_param *params;	/* the params in force, merged */
	size_t nparams;
	double rto_s, rpo_s;		/* NAN: the runbook's */
	const char *lock_dir;		/* where exclusive locks live */
	int pause_on_failure;		/* console: a failed step waits for retry, skip or fail */
	/*
	 * Who may do what (config roles): action is "confirm", "decline",
	 * "abort", "retry", "skip", "note"; role may be NULL. NULL hook: anyone.
	 * Returns 1 when allowed, else 0 with *why (owned).
	 */
	int (*authorize)(void *ud, const char *action, const char *role, const char *operator,
			 char **why);
	void *authorize_ud;
	/*
	 * Secrets (config `secrets:`), NULL: none. Step output is masked as it
	 * is read (proc.h), and every error, note, message, manual text and
	 * output the run records or reports is redacted before it is kept.
	 */
	struct redactor *redactor;	/* mask() adds to it */
	/*
	 * The config's secrets that are set, by name: a param or ctx.state
	 * value holding one is kept in the history as "<secret:NAME>" so that
	 * resume can take it from the environment again (secretref.h).
	 */
	const char *const *secret_names;
	const char *const *secret_values;
	size_t nsecret_names;
	/* Webhooks (notify.h), NULL: none. The engine only queues; it never waits for them. */
	struct notifier *notifier;
	/* The config whose inventory and ssh: settings remote steps use (SPEC 8); NULL: none. */
	const struct config *inventory;
	/*
	 * SPEC 11: the team-wide half of `exclusive` (NULL: none). Called once
	 * the local lock is held: 0 taken (or the team database is out of
	 * reach: the local lock alone applies), nonzero when another run holds
	 * it, with *holder (owned) naming that run. lease_release at the end.
	 */
	int (*lease_take)(void *ud, const char *runbook, const char *env, const char *run_id, char **holder);
	void (*lease_release)(void *ud);
	void *lease_ud;
};

enum engine_event_type {
	EV_RUN_STARTED,
	EV_PHASE_STARTED,
	EV_PHASE_FINISHED,		/* also for skipped phases */
	EV_STEP_STARTED,		/* each attempt */
	EV_STEP_OUTPUT,
	EV_STEP_RETRYING,
	EV_STEP_FINISHED,
	EV_MANUAL_WAITING,
	EV_MESSAGE,			/* data: text; level: 0 info, 1 warning, 2 error */
	EV_STEP_PAUSED,			/* failed; waits for retry, skip or fail (pause_on_failure) */
	EV_NOTE,			/* data: the note's text, the newest in run->notes */
	EV_RUN_FINISHED,
};

struct engine_event {
	enum engine_event_type type;
	const struct run_rec *run;
	int phase;			/* index into run->phases, -1 when none */
	int step;			/* index into that phase's steps, -1 when none */
	int attempt;
	int stream;			/* enum proc_stream, for output */
	const char *data;
	size_t len;
	int level;
	double retry_in_s;
};

enum manual_answer {
	MANUAL_PENDING,		/* nobody answered yet: ask again later */
	MANUAL_CONFIRMED,
	MANUAL_DECLINED,
	MANUAL_UNAVAILABLE,	/* nobody can answer (why says so): the step fails */
	MANUAL_ABORTED,
};

struct manual_request {
	const struct run_rec *run;
	int phase, step;
	const char *text;		/* expanded instruction */
	const char *role;
	int64_t deadline_mono_ns;	/* 0: wait without limit */
};

struct engine_hooks {
	void (*event)(void *ud, const struct engine_event *ev);
	/*
	 * Polled (about every 100 ms, never blocking) while a manual step
	 * waits; first is set on the first call (print the question then).
	 * Returns MANUAL_PENDING to keep waiting: meanwhile a `lifeboat
	 * confirm` from another terminal may answer. On CONFIRMED or DECLINED
	 * *who is who answered; *why may say why. Both owned.
	 */
	enum manual_answer (*manual)(void *ud, const struct manual_request *req, int first,
				     char **who, char **why);
	void *ud;
};

/*
 * Executes the runbook and returns the exit code. *out receives the final
 * record (caller frees with run_rec_free). A refused start (runbook busy)
 * returns EXIT_REFUSED with the refusal recorded.
 */
int engine_execute(struct luahost *host, struct runbook *rb, struct store *st,
		   const struct engine_opts *o, const struct engine_hooks *hooks,
		   struct run_rec **out);

/*
 * Records a run that is refused before it starts (reason "permission":
 * permissions.<env>.run; "signature": require_signed):
 * status refused, why as its error, the operator and real uid, and a
 * "refused" audit entry; nothing runs. Returns EXIT_REFUSED with *out the
 * record (caller frees with run_rec_free).
 */
int engine_refuse(struct runbook *rb, struct store *st, const struct engine_opts *o,
		  const char *reason, const char *why, struct run_rec **out);

/*
 * Continues an interrupted, failed or aborted run (loaded from the history;
 * the caller has checked the runbook's hash) from its first unfinished step.
 * A failed or aborted run goes on from the step that failed or was stopped
 * (run again, its attempts numbered on; a failed continue_on_error step is
 * not), a phase whose rollback ran restarts from its first step, the phases
 * skipped after the stop and the cleanup phases run again; t0 is kept. Finished steps
 * are not run again, ctx.state is restored, the step that was in flight runs
 * again, services are started again, leftovers of the dead process are
 * stopped. Returns the exit code; EXIT_REFUSED with *refusal (owned) when it
 * cannot (another process executes it, the runbook's shape changed).
 * The run record stays the caller's.
 */
int engine_resume(struct luahost *host, struct runbook *rb, struct store *st,
		  const struct engine_opts *o, const struct engine_hooks *hooks,
		  struct run_rec *run, char **refusal);

/* Test builds only: called at named crash points ("before_step", "after_spawn", ...). */
void engine_set_crash_hook(void (*hook)(const char *point));

/* Async-signal-safe: asks the run in progress to abort (SIGINT, SIGTERM, SIGHUP). */
void engine_request_abort(int sig);
/* Async-signal-safe and thread-safe: makes the engine look for requests now. */
void engine_wake(void);
/* The abort flag the Lua host watches. */
const atomic_int *engine_abort_flag(void);

#endif
