/*
 * The engine's private header: what its files (engine.c, engine-step.c,
 * engine-remote.c, engine-request.c, engine-lua.c, engine-start.c,
 * engine-resume.c) share. A task is one step of a phase while it runs; the
 * engine is one run. Nothing outside lib/engine*.c includes this.
 */
#ifndef LB_ENGINE_INT_H
#define LB_ENGINE_INT_H
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "engine.h"
#include "headtail.h"
#include "json.h"
#include "probe.h"
#include "remote.h"
#include "secretref.h"
#include "util.h"

#define KEEP_HEAD (32 * 1024)
#define KEEP_TAIL (32 * 1024)
#define LUA_SH_LIMIT (16u * 1024 * 1024)
#define RECOVERY_POINT_FUTURE_MS (24LL * 3600 * 1000)

#define REQUEST_POLL_NS 1000000000LL	/* requests are picked up within a second */
/*
 * How long an sh step runs before its start is committed on its own. Most
 * steps end sooner, and then the start goes into the history with the
 * result, in one commit instead of two (a commit costs as much as starting
 * a process). A crash in that window loses only the start of the step in
 * flight, which resume runs again like any step in flight; the result of
 * every finished step is committed before the next one starts. A step that
 * is not idempotent has its start committed at once (resume asks about it).
 */
#define START_COMMIT_NS (20 * 1000000LL)

/* Set from signal handlers (engine.c); read by every engine file. */
extern atomic_int abort_signal;		/* the first abort signal, 0 when none */
extern atomic_int abort_count;
extern atomic_int wake_requested;	/* look for requests now */
extern atomic_int abort_remote;		/* the abort came from `lifeboat abort` */

enum task_state { T_IDLE, T_RUNNING, T_WAIT_RETRY, T_DONE };

/* How the steps of a phase ended (run_steps). */
enum steps_result {
	STEPS_OK,		/* all succeeded, or failed with continue_on_error */
	STEPS_FAILED,		/* one finally failed */
	STEPS_ABORTED,
};

/* What a person decided for a step paused after a failure (pause_for_decision). */
enum pause_decision { PAUSE_NONE, PAUSE_RETRY, PAUSE_SKIP, PAUSE_FAIL };

struct engine;

struct task {
	struct engine *e;
	int pi, si;			/* phase index, index into the phase's step records */
	const struct rb_step *def;
	struct step_rec *rec;
	enum task_state state;
	int attempt;
	int attempt_base;		/* attempts before this resume: retries count from here */
	struct attempt_rec att;
	struct proc *proc;		/* the attempt's process (sh steps), owned */
	int64_t first_mono, attempt_mono, retry_at_mono;
	struct headtail out;		/* Lua steps: log() and sh() output */
	int stopped_for_abort;
	int start_pending;		/* the attempt's start is not in the history yet */
	int64_t start_due;		/* mono ns: commit it then if still running */
	struct rstep *rstep;		/* a remote step's attempt in flight (SPEC 8), owned */
	size_t *rhost;			/* its hosts' indexes into rec->hosts, owned */
};

struct engine {
	struct luahost *host;
	struct runbook *rb;
	struct store *st;
	const struct engine_opts *o;
	const struct engine_hooks *hk;
	struct procset *ps;
	struct run_rec *run;
	int64_t start_mono, start_wall;
	char **env_base;		/* environ without overridden names, plus params */
	size_t nenv_base;
	struct task *lua_task;		/* the step whose Lua code runs now */
	struct task **services;		/* running service steps, heap allocated */
	size_t nservices;
	int in_cleanup;			/* cleanup/rollback-on-abort: aborts do not stop steps */
	int rp_set;
	int failed;			/* a step finally failed */
	int aborted;			/* signal number once the abort was acted on */
	int store_failed;
	char *state_json;		/* ctx.state as last encoded, owned */
	int64_t requests_checked_ns;	/* when pending requests were last read */
	struct task *manual_task;	/* the manual step waiting for a person */
	enum manual_answer remote_answer;
	char *remote_who;		/* who answered from elsewhere, owned */
	struct task *paused_task;	/* a failed step waiting for retry/skip/fail */
	enum pause_decision pause_decision;	/* PAUSE_NONE while nobody decided */
	char *pause_who;
	unsigned long state_gen;	/* luahost_generation() when it was */
	int lock_fd;
	int run_lock_fd;		/* runlock: says we are alive */
	int resuming;			/* continuing an interrupted run: keep what finished */
	char *run_lock_dir;
	int cur_phase;			/* the phase running now (for its live budget), -1 */
	int64_t cur_phase_mono;		/* when its clock started */
	unsigned char *over_alerted;	/* per phase: phase_over_budget was sent */
	int rto_alerted;		/* rto_at_risk was sent */
	enum status resumed_from;	/* the run's status before this resume */
	int resumed_exit;		/* and its exit code then */
	unsigned char *rolled_back;	/* per phase: its rollback ran before this resume */
	char **masked;			/* values given to mask(), owned */
	size_t nmasked;
	struct remote *remote;		/* ssh connections, made at the first remote step */
};

/* engine.c */
void crash_point(const char *point);
int64_t wall_now(struct engine *e);
int64_t mono_to_wall(struct engine *e, int64_t mono);
void emit(struct engine *e, enum engine_event_type type, int pi, int si);
char *scrub(struct engine *e, char *s);
struct secretref secret_refs(struct engine *e);
char *hide_secrets(struct engine *e, char *json);
void notify(struct engine *e, enum config_event ev, int pi, int si, const char *fmt, ...)
	LB_PRINTF(5, 6);
void message(struct engine *e, int level, int pi, int si, const char *fmt, ...)
	LB_PRINTF(5, 6);
void stored(struct engine *e, int rc);
void audit(struct engine *e, const char *event, const char *who, json_t *detail);
void over_budget_alert(struct engine *e, int pi, double elapsed);
int execute(struct engine *e);

/* engine-step.c */
char **step_env(struct engine *e, struct task *t);
void step_env_free(struct engine *e, char **env);
void env_base_build(struct engine *e);
char **shell_argv(struct engine *e, const struct rb_step *def, const char *cmd);
void on_output(void *ud, enum proc_stream stream, const char *data, size_t len);
void keep_lua_output(struct engine *e, struct task *t, const char *data, size_t len);
double step_timeout(struct engine *e, const struct rb_step *def);
void start_commit(struct task *t);
void step_wait_set(struct task *t, enum step_wait w);
void attempt_begin(struct task *t);
void step_done(struct task *t, enum status st);
int attempt_end(struct task *t, enum status st, int exit_code, char *error,
		char *output, int64_t cut);
char *sh_command(struct task *t);
void sh_finish(struct task *t);
void service_attempt(struct task *t);
void task_attempt(struct task *t);

/* engine-request.c */
int allowed(struct engine *e, const char *action, const char *role, const char *who,
	    char **why);
void handle_requests(struct engine *e);
void check_abort(struct engine *e, struct task *tasks, size_t n);
int serve(struct engine *e, int ms);
int serve_stopping(struct engine *e, int ms, int *stopped);
enum pause_decision pause_for_decision(struct task *t);

/* engine-remote.c */
int remote_start(struct task *t);
int remote_progress(struct task *t);
void remote_finish(struct task *t);
int lua_ssh(void *eng, const char *host, const char *cmd, double timeout_s, struct lua_sh_result *res,
	    char **errmsg);

/* engine-lua.c */
int lua_recovery_point(void *eng, int64_t ms, char **errmsg);
extern const struct lua_engine_ops lua_ops;

/* engine-start.c */
int lock_acquire(struct engine *e, char **holder);
void lock_release(struct engine *e);	/* the local lock and the team lease, if held */

/* engine-resume.c */
void step_reset(struct step_rec *r);
void resume_task(struct task *t);
void resume_prepare(struct engine *e);

#endif
