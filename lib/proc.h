/*
 * The process runner. Every command lifeboat starts (sh steps, service steps,
 * Lua's sh()) goes through here:
 *
 *  - vfork+exec of argv, in its own process group, stdin from /dev/null,
 *    every other descriptor closed in the child, stdout and stderr on pipes
 *    (one shared, or two with capture_split) read with poll() so none can
 *    fill and deadlock;
 *  - a timeout kills the whole group: SIGTERM, then SIGKILL after the grace;
 *  - when the leader (the shell) exits, whatever it left in its group gets
 *    SIGTERM and the pipes are drained for at most 1 s, then SIGKILL: a step
 *    never hangs on a background child;
 *  - output is handed to a callback as it arrives (for live streaming) and
 *    kept bounded: the first keep_head bytes and the last keep_tail bytes
 *    plus how many were cut, so a step printing gigabytes costs no memory;
 *  - secrets are masked on the raw bytes of each stream first (redact.h).
 *
 * Many processes run at once in one `struct procset`; procset_poll() serves
 * all of them (pipes, deadlines, exits). Callers that wait for anything
 * (a step, a retry delay, a manual confirmation) wait through procset_poll,
 * so services' and parallel siblings' output is always drained.
 *
 * lifeboat is a child subreaper (prctl PR_SET_CHILD_SUBREAPER, set by
 * procset_new), so orphans of a step are reparented to it and reaped here:
 * no zombies.
 */
#ifndef LB_PROC_H
#define LB_PROC_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum proc_stream { PROC_STDOUT = 1, PROC_STDERR = 2 };

enum proc_state {
	PROC_RUNNING = 0,	/* leader alive */
	PROC_DRAINING,		/* leader gone, group being stopped / pipes drained */
	PROC_DONE		/* reaped, pipes closed: the result is final */
};

typedef void (*proc_output_fn)(void *ud, enum proc_stream stream, const char *data, size_t len);

struct redactor;

struct proc_opts {
	char *const *argv;	/* argv[0] is a path or looked up in PATH of envp */
	char *const *envp;	/* NULL: inherit environ */
	const char *cwd;	/* NULL: inherit */
	int64_t timeout_ms;	/* <= 0: none */
	int64_t grace_ms;	/* TERM -> KILL; <= 0: PROC_DEFAULT_GRACE_MS */
	size_t keep_head;	/* bytes of merged output kept from the start */
	size_t keep_tail;	/* ... and from the end */
	int capture_split;	/* also keep stdout and stderr apart (for Lua sh()) */
	int merge_stderr;	/* stderr on stdout's pipe, output in the order written
				   (ignored with capture_split); on_output sees PROC_STDOUT */
	size_t split_limit;	/* max bytes kept per stream when capture_split (tail dropped) */
	proc_output_fn on_output;
	void *ud;
	/*
	 * Secrets to mask (redact.h), NULL: none. Each stream gets its own copy,
	 * fed the raw reads before anything else sees them, so on_output and the
	 * kept head and tail never hold a secret, even one split across reads.
	 * The capture_split text stays raw: it goes back to the runbook's Lua
	 * code, which may use the values (the engine redacts what it stores).
	 */
	const struct redactor *redact;
	/*
	 * stdin_pipe set: the child's stdin is stdin_fd (the read end of a pipe
	 * the caller feeds; the caller closes its copy after the spawn) instead
	 * of /dev/null. Remote steps talk to their ssh this way.
	 */
	int stdin_pipe;
	int stdin_fd;
	/*
	 * Leave the group alone when the leader exits: for a program that puts
	 * a daemon of its own in the background on purpose (ssh's ControlPersist
	 * master), which would otherwise get SIGTERM in the moment before it
	 * leaves the group.
	 */
	int leave_group;
};
#define PROC_DEFAULT_GRACE_MS 2000
#define PROC_DRAIN_MS 1000

struct proc_result {
	int exited;		/* 1: leader exited normally, code is valid */
	int code;		/* exit code, or 128+signal when killed by a signal */
	int signal;		/* 0, or the signal that ended the leader */
	int timed_out;		/* killed because the timeout passed */
	int killed;		/* stopped by proc_stop (abort, end of run) */
	int64_t duration_ns;	/* monotonic, spawn to leader exit */
};

struct proc;
struct procset;

struct procset *procset_new(void);
/* Stops (TERM, grace, KILL) and reaps every process still in the set, then frees it. */
void procset_free(struct procset *ps);

/* Returns 0 and the new process, or -1 with errno (nothing was started). */
int proc_spawn(struct procset *ps, const struct proc_opts *opts, struct proc **out);

/*
 * Waits up to timeout_ms (-1: until something happens, 0: just look) and
 * serves all processes: reads pipes (calling on_output), enforces timeouts
 * and grace periods, reaps. Also returns early when procset_wake() was called
 * (from a signal handler, say). Returns the number of processes that became
 * PROC_DONE during this call, or -1 on a poll error other than EINTR.
 */
int procset_poll(struct procset *ps, int timeout_ms);
/*
 * Async-signal-safe and thread-safe: makes a procset_poll in progress (or the
 * next one) return. Every set shares one wake pipe that lives as long as the
 * process, so these never touch memory a set's owner may be freeing.
 */
void procset_wake(struct procset *ps);
void proc_wake_all(void);
/* Number of processes in the set not yet PROC_DONE. */
int procset_active(const struct procset *ps);

enum proc_state proc_state(const struct proc *p);
pid_t proc_pid(const struct proc *p);
/* Starts stopping the whole group: TERM now, KILL after the grace (now, if hard). */
void proc_stop(struct proc *p, int hard);
/* Valid once PROC_DONE. */
const struct proc_result *proc_result(const struct proc *p);
/*
 * The merged, bounded output (head, a "[... N bytes cut ...]" marker when
 * something was cut, tail) as a new NUL-terminated string the caller owns;
 * *cut gets the number of bytes left out. A NUL byte of the output reads
 * STRBUF_NUL ("^@"), so the text goes on after it.
 */
char *proc_output(const struct proc *p, int64_t *cut);
/* With capture_split: the stream's text; the pointer stays owned by p. */
const char *proc_stream_text(const struct proc *p, enum proc_stream s, size_t *len);
/* With capture_split: bytes of the stream dropped beyond split_limit (0 without). */
int64_t proc_stream_cut(const struct proc *p, enum proc_stream s);
/* Changes the on_output callback's data (a task that outlives its phase moves). */
void proc_set_ud(struct proc *p, void *ud);
/* Removes a PROC_DONE process from its set and frees it. */
void proc_free(struct proc *p);

/*
 * Stops (TERM, then KILL after grace_ms) every process whose environment
 * holds `entry`, e.g. "LIFEBOAT_RUN_ID=abc": what a killed lifeboat left
 * behind. Returns how many were found.
 */
int proc_kill_tagged(const char *entry, int grace_ms);

/* Convenience: spawn and wait until done (serving the rest of the set meanwhile). */
int proc_run(struct procset *ps, const struct proc_opts *opts, struct proc **out);

#endif
