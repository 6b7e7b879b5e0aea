/*
 * The history: one SQLite file (WAL). Only store*.c and userdb.c talk to
 * SQLite (store.c lists which file holds what).
 *
 * Every state change is committed when it happens, each in its own
 * BEGIN IMMEDIATE transaction, so a crash loses at most the step in flight
 * and several lifeboat processes can share one file without "database is
 * locked" (busy_timeout plus IMMEDIATE means writers queue instead of failing).
 * The schema is versioned with PRAGMA user_version and migrated inside such a
 * transaction, so eight processes opening a new file at once do not race.
 *
 * Errors: functions return 0 or -1; store_error() tells why.
 */
#ifndef LB_STORE_H
#define LB_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct store;

/*
 * Secrets (redact.h) for every connection of the process: each text value
 * written is redacted first, so no secret reaches the file or its WAL. Set
 * it before other threads open connections; NULL (the default): none.
 */
struct redactor;
void store_set_redactor(const struct redactor *r);

/*
 * Opens (creating the file and its folder when missing) and migrates.
 * sync_full: 1 for `sync: full`; STORE_SCRATCH for a reader's temporary
 * copy (--central), written once and thrown away: no journal, no syncing.
 */
#define STORE_SCRATCH 2
int store_open(const char *path, int sync_full, struct store **out, char **errmsg);
void store_close(struct store *st);
const char *store_error(struct store *st);
const char *store_path(struct store *st);

/* Writers. Phases are keyed by (run, phase index); steps by (run, phase, step index). */
int store_run_insert(struct store *st, const struct run_rec *run);
int store_run_save(struct store *st, const struct run_rec *run);	/* top-level fields */
int store_phase_save(struct store *st, const char *run_id, int phase_idx,
		     const struct phase_rec *ph);
int store_step_save(struct store *st, const char *run_id, int phase_idx, int step_idx,
		    const struct step_rec *step);
int store_attempt_save(struct store *st, const char *run_id, int phase_idx, int step_idx,
		       const struct attempt_rec *a);
/* A step's last attempt and its final state, in one transaction (the hot path). */
/* A remote step's instance on one host (seq: the host's place in the target), SPEC 8. */
struct host_rec;
int store_instance_save(struct store *st, const char *run_id, int phase_idx, int step_idx, int attempt,
			int seq, const struct host_rec *h);
int store_step_finish(struct store *st, const char *run_id, int phase_idx, int step_idx,
		      const struct step_rec *step, const struct attempt_rec *a);
int store_note_add(struct store *st, const char *run_id, const struct note_rec *note);

/*
 * Requests from other processes (`lifeboat confirm`, the console, ...):
 * written by anyone, picked up and answered by the process executing the run.
 * kind: "confirm", "decline", "note", "abort", "retry", "skip".
 */
struct request {
	long id;
	char *run_id, *kind, *step, *operator, *text;
	long uid;
	int64_t created_ms;
};
int store_request_add(struct store *st, const char *run_id, const char *kind, const char *step,
		      const char *operator, long uid, const char *text, long *id);
int store_requests_pending(struct store *st, const char *run_id, struct request **out, size_t *n);
int store_request_done(struct store *st, long id, const char *result);
/* 1 and *result (owned) once answered, 0 while pending, -1 on error. */
int store_request_result(struct store *st, long id, char **result);
void request_release(struct request *r);

/* The audit chain (audit.h); walk goes in storage order. */
struct audit_entry;
int store_audit_append(struct store *st, const char *run_id, const char *event,
		       const char *operator, long uid, const char *detail);
/* The same, for an event that happened at at_ms (unix ms) but is recorded later. */
int store_audit_append_at(struct store *st, int64_t at_ms, const char *run_id, const char *event,
			  const char *operator, long uid, const char *detail);
int store_audit_walk(struct store *st, int (*fn)(void *ud, const struct audit_entry *e), void *ud);
/* A run's status history from its audit entries: each start, stop and resume, in order. */
int store_run_stops(struct store *st, const char *run_id,
		    void (*fn)(void *ud, const char *at, const char *event, const char *operator,
			       const char *detail),
		    void *ud);
/* The newest entry as "SEQ:HASH" (owned), *head NULL when the log is empty. 0 or -1. */
int store_audit_head(struct store *st, char **head);
/*
 * 0 while the history's path still names the file that was opened; -1 (with
 * store_error) once it was deleted or replaced: SQLite would write on into
 * the deleted file, and the runs written there are lost when it is closed.
 */
int store_check_file(struct store *st);
/* How many runs the history holds (an empty audit log beside them was emptied). */
int store_run_count(struct store *st, int64_t *n);

/*
 * The webhook outbox (notify.c): deliveries are queued by the process that
 * runs (owner names it) and sent by its sender thread through another
 * connection. pending: the owner's unsent ones, oldest first; caller frees
 * each with outbox_item_release and the array.
 */
struct outbox_item {
	long id;
	char *url, *body;
	int attempts;		/* made so far */
	int64_t next_ms;	/* unix ms before which it is not tried again */
};
int store_outbox_add(struct store *st, const char *owner, const char *run_id, const char *event,
		     const char *url, const char *body);
int store_outbox_pending(struct store *st, const char *owner, struct outbox_item **out, size_t *n);
int store_outbox_sent(struct store *st, long id);
/* A failed attempt: final gives it up (status failed), else it is tried again at next_ms. */
int store_outbox_failed(struct store *st, long id, int attempts, int64_t next_ms, int final,
			const char *error);
void outbox_item_release(struct outbox_item *it);

/*
 * Scheduled drills: each schedule's state by its key (config.h), times in
 * unix seconds. get: 1 with *first_seen and *last_run (-1 when it never
 * ran), 0 for a key never seen, -1 on error. seen records a key the first
 * time (later calls change nothing); ran sets its last run; event records
 * what the scheduler did ("started", "finished", "skipped", ...; exit_code
 * -1 when none).
 */
int store_schedule_get(struct store *st, const char *key, int64_t *first_seen, int64_t *last_run);
int store_schedule_seen(struct store *st, const char *key, int64_t now_unix);
int store_schedule_ran(struct store *st, const char *key, int64_t at_unix);
int store_schedule_event(struct store *st, const char *key, const char *event, int exit_code,
			 const char *detail);
/* The newest run of the runbook file that process pid recorded: 1 and *run_id (owned), 0, or -1. */
int store_run_by_pid(struct store *st, const char *file, long pid, char **run_id);
/* A run (not a probe) of the runbook file that a live process executes now: 1 and *run_id (owned), 0, or -1. */
int store_run_active(struct store *st, const char *file, char **run_id);

/*
 * A unit: the writes between store_unit_begin and store_unit_end share one
 * transaction, committed by store_unit_end before anything else happens (a
 * step's state and its audit entry, say). Never held across a wait.
 */
void store_unit_begin(struct store *st);
int store_unit_end(struct store *st);

/*
 * The files a run loaded (runbook first, then its modules), their texts
 * kept once per content by SHA-256. load gives them back in order
 * (missing: the text is gone from the history); free with store_sources_free.
 */
struct store_source {
	char *path;		/* absolute */
	char sha256[65];
	char *text;		/* the exact bytes (NUL after them) */
	size_t len;
	char *signed_by;	/* key id or NULL (in load's results: owned) */
	char *signature;	/* the FILE.minisig text that counted, or NULL (likewise) */
	int missing;
};
int store_sources_save(struct store *st, const char *run_id, const struct store_source *src,
		       size_t n);
int store_sources_load(struct store *st, const char *run_id, struct store_source **out, size_t *n);
void store_sources_free(struct store_source *src, size_t n);
/*
 * The signatures that counted for the file at path (absolute) in earlier
 * runs, each once, with a run that used it: for refusing an older signed
 * version copied back (SPEC 9). Free with store_signatures_free.
 */
struct store_signature {
	char *run_id;
	char *signature;	/* the FILE.minisig text */
};
int store_signatures_of(struct store *st, const char *path, struct store_signature **out,
			size_t *n);
void store_signatures_free(struct store_signature *sigs, size_t n);

/*
 * Readers. store_run_load accepts a full id or a unique prefix. The result
 * is a full tree (phases, steps, notes) the caller frees with run_rec_free.
 */
enum store_found {
	STORE_FOUND = 0,
	STORE_NOT_FOUND = 1,	/* no run has that id or prefix */
	STORE_AMBIGUOUS = 2,	/* the prefix matches several runs */
	STORE_FAILED = -1,	/* store_error says why */
};
enum store_found store_run_load(struct store *st, const char *id_or_prefix, struct run_rec **out);
/* Attempts of one step, oldest first; caller frees each with attempt_rec_release and the array. */
int store_attempts_load(struct store *st, const char *run_id, int phase_idx, int step_idx,
			struct attempt_rec **out, size_t *n);
/*
 * Newest first, top-level fields only (no phases). runbook may be NULL (all);
 * limit <= 0 means no limit. Caller frees each with run_rec_free and the array.
 */
int store_runs_list(struct store *st, const char *runbook, int limit,
		    struct run_rec ***out, size_t *n);

/*
 * SPEC 11's --central readers (store-import.c): rows of the team history
 * copied into a local history of their own (a temporary file), so every
 * reader works on them alike. Inserts (or replaces, by key) nrows rows of
 * one of the run tables; cell gives each value as text (NULL: SQL NULL),
 * which the columns' types convert. One transaction.
 */
int store_import(struct store *st, const char *table, int ncols, const char *const *cols, int nrows,
		 const char *(*cell)(void *ud, int row, int col, size_t *len), void *ud);

/*
 * Trends, read narrowly (no run is loaded whole). store_objectives: the
 * achieved and target RTO/RPO of runbook's last `limit` runs in environment
 * env (NULL: runs without one; SPEC 7 trends are per runbook and env) (limit <= 0:
 * all) that started no later than until_ms (TS_NONE: any time) and achieved
 * an RTO or an RPO, oldest first; caller frees *out.
 */
struct objective_point {
	int64_t started_ms;
	double rto_s, rto_target_s;	/* achieved and target; NAN when absent */
	double rpo_s, rpo_target_s;
};
/* When a run of mode last succeeded with exit 0 (started up to until_ms, TS_NONE: any): *ended_ms, TS_NONE when never. */
int store_last_success(struct store *st, const char *runbook, const char *env, const char *mode,
		       int64_t until_ms, int64_t *ended_ms);
int store_objectives(struct store *st, const char *runbook, const char *env, int64_t until_ms,
		     int limit, struct objective_point **out, size_t *n);
/*
 * The durations of the phases that succeeded in runbook's last `limit`
 * succeeded runs and drills (not probe runs: a nightly probe would push
 * every drill out), newest run first, each phase in order, in one query
 * (plan). fn returns non-zero to stop early.
 */
int store_phase_durations(struct store *st, const char *runbook, int limit,
			  int (*fn)(void *ud, const char *phase, double duration_s), void *ud);

#endif
