/*
 * Remote hosts over the system's OpenSSH client (SPEC 8). Only this file
 * starts ssh.
 *
 * A `struct remote` belongs to one run (or one `lifeboat hosts --check`):
 * a private 0700 folder for the ControlMaster sockets, one master
 * connection per destination (opened on first use, closed with
 * `ssh -O exit` by remote_free), and a thread that writes a heartbeat to
 * every running instance every 2 s.
 *
 * An *instance* runs one command on one host: `ssh -T dest BOOT` where BOOT
 * is a fixed one-liner; the wrapper script, the command, the params and
 * the LIFEBOAT_* variables follow over ssh's stdin, so no `ps` on either
 * side shows them. The wrapper (POSIX sh) runs the command under setsid in
 * its own process group, holds a lock per (run, step, host), keeps reading
 * stdin, and stops the group (TERM, then KILL after the grace) when
 * lifeboat asks (timeout, abort), at end of input, or after 10 s without a
 * heartbeat. It ends with a marker line carrying the exit code and why, so
 * a command exiting 255 is told apart from ssh failing to connect.
 *
 * A `struct rstep` is one attempt of a step over several hosts: up to
 * `parallel` instances at once, and no new one once more than
 * `max_failed` did not succeed.
 */
#ifndef LB_REMOTE_H
#define LB_REMOTE_H
#include <stddef.h>
#include <stdint.h>

#include "proc.h"

enum rstatus {
	RS_PENDING = 0,
	RS_RUNNING,
	RS_SUCCEEDED,
	RS_FAILED,
	RS_UNREACHABLE,
	RS_TIMED_OUT,
	RS_INTERRUPTED,
	RS_SKIPPED,		/* never started: too many hosts had failed */
};
const char *rstatus_name(enum rstatus s);	/* "succeeded", "unreachable", ... */
int rstatus_parse(const char *name);		/* the enum, or -1 */

struct remote_conf {
	const char *ssh_config;		/* ssh -F, NULL: ssh's own */
	double connect_timeout_s;
	char *const *options;		/* extra ssh arguments, NULL-terminated, may be NULL */
	const char *tag;		/* names the control folder, e.g. the run id; may be NULL */
};

struct remote;
/* 0, or -1 with *err (owned). */
int remote_new(const struct remote_conf *c, struct remote **out, char **err);
/* Closes every master connection and removes the folder. */
void remote_free(struct remote *r);

/* What an instance reports. Output lines reach on_output with "host: " in front. */
struct rinst_spec {
	const char *dest;
	const char *cmd;
	char *const *env;		/* NAME=VALUE exported to the command, NULL-terminated */
	const char *workdir;		/* NULL: the remote user's home */
	const char *lock;		/* unique per (run, step): the lock's name on the host */
	double timeout_s;		/* <= 0: none */
	int64_t grace_ms;		/* TERM -> KILL on the host; <= 0: 2 s */
	proc_output_fn on_output;
	void *ud;
	const struct redactor *redact;
	int capture;			/* keep stdout and stderr apart, whole (Lua ssh()) */
};

struct rinst_result {
	enum rstatus status;
	int exit_code;			/* the command's, -1 when it did not run or report */
	char *error;			/* why it did not succeed, NULL when it did */
	double duration_s;
};

struct rinst;
/* Starts (or queues behind the host's connection); never fails: a failure is its result. */
struct rinst *rinst_start(struct remote *r, struct procset *ps, const struct rinst_spec *s);
/* Moves it on (connection up, timeouts, backstops); 1 once it has finished. Never blocks. */
int rinst_poll(struct rinst *i);
/* Abort: the host stops the command (hard: KILL at once). */
void rinst_stop(struct rinst *i, int hard);
const struct rinst_result *rinst_result(const struct rinst *i);
/* The output kept (bounded tail, lines prefixed by the host), owned by i. */
const char *rinst_output(const struct rinst *i);
/* With capture: the stream's whole text (1 stdout, 2 stderr), owned by i. */
const char *rinst_stream(const struct rinst *i, int stream, size_t *len);
void rinst_free(struct rinst *i);

/* One attempt of a step on several hosts. */
struct rstep_spec {
	const char *const *hosts;	/* the destinations to run on this attempt */
	size_t nhosts;
	int parallel;
	int max_failed;			/* instances that may fail (counted over failed_before too) */
	int failed_before;		/* hosts that already failed for good (not re-run) */
	struct rinst_spec inst;		/* dest is set per host */
};
struct rstep;
struct rstep *rstep_start(struct remote *r, struct procset *ps, const struct rstep_spec *s);
/* 1 once every instance started has finished and no more will start. */
int rstep_poll(struct rstep *st);
void rstep_stop(struct rstep *st, int hard);
size_t rstep_count(const struct rstep *st);
/* Host k whose instance started (started) or finished (!started) since the last call: 1, or 0 when none. */
int rstep_next_event(struct rstep *st, size_t *k, int *started);
/* Host k's instance, or NULL when it never started (RS_SKIPPED). */
const struct rinst *rstep_inst(const struct rstep *st, size_t k);
void rstep_free(struct rstep *st);

/* `lifeboat hosts --check`: connects to one destination and measures. */
struct remote_probe {
	int reachable;
	double connect_s;		/* NAN when not reachable */
	double rtt_s;			/* a `true` through the connection; NAN when not reachable */
	const char *hostkey;		/* "known", "unknown", "changed", "?" */
	char *error;			/* owned; NULL when reachable */
};
/* Probes every destination at once (one master each); probes[k] for dests[k]. */
void remote_probe_all(struct remote *r, struct procset *ps, const char *const *dests, size_t n,
		      struct remote_probe *probes);

#endif
