/*
 * The history: one SQLite file (WAL). Only store.c talks to SQLite.
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
#include "record.h"

struct store;

/* Opens (creating the file and its folder when missing) and migrates. */
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
int store_step_finish(struct store *st, const char *run_id, int phase_idx, int step_idx,
		      const struct step_rec *step, const struct attempt_rec *a);
int store_note_add(struct store *st, const char *run_id, const struct note_rec *note);

/*
 * Readers. store_run_load accepts a full id or a unique prefix; it returns
 * 1 when no run matches, 2 when the prefix is ambiguous, -1 on error. The
 * result is a full tree (phases, steps, notes) the caller frees with
 * run_rec_free.
 */
int store_run_load(struct store *st, const char *id_or_prefix, struct run_rec **out);
/* Attempts of one step, oldest first; caller frees each with attempt_rec_release and the array. */
int store_attempts_load(struct store *st, const char *run_id, int phase_idx, int step_idx,
			struct attempt_rec **out, size_t *n);
/*
 * Newest first, top-level fields only (no phases). runbook may be NULL (all);
 * limit <= 0 means no limit. Caller frees each with run_rec_free and the array.
 */
int store_runs_list(struct store *st, const char *runbook, int limit,
		    struct run_rec ***out, size_t *n);

#endif
