/*
 * The run tree in the history: runs, phases, steps, attempts and notes
 * written as they change and read back whole; remote hosts' instances; the
 * sources a run loaded. Only store*.c and userdb.c talk to SQLite.
 */
#include "store-int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "runlock.h"
#include "util.h"

#define MAX_INDEX 1000000	/* bigger phase/step indexes read back mean a damaged file */
#define AUTO_SUFFIX " (--yes)"	/* confirmed_by of an automatic confirmation, as stored */

/* ---- writers ---- */

static int run_write(struct store *st, enum query q, const struct run_rec *r)
{
	if (!r->id) {
		set_err(st, "cannot save a run without an id");
		return -1;
	}
	sqlite3_stmt *s = q_get(st, q);
	if (!s)
		return -1;
	bind_text(s, RC_ID, r->id);
	bind_text(s, RC_RUNBOOK, r->runbook);
	bind_text(s, RC_FILE, r->file);
	bind_text(s, RC_SHA256, r->sha256);
	bind_text(s, RC_MODE, r->mode);
	bind_text(s, RC_TRIGGER, r->trigger);
	bind_text(s, RC_ENV, r->env);
	bind_text(s, RC_OPERATOR, r->operator);
	bind_int(s, RC_UID, r->uid, -1);
	bind_text(s, RC_HOST, r->host);
	bind_int(s, RC_PID, r->pid, 0);
	bind_text(s, RC_PARAMS, r->params_json);
	bind_text(s, RC_STATUS, status_name(r->status));
	bind_ts(s, RC_STARTED, r->started_ms);
	bind_ts(s, RC_ENDED, r->ended_ms);
	bind_ts(s, RC_INCIDENT, r->incident_ms);
	bind_ts(s, RC_RESTORED, r->restored_ms);
	bind_real(s, RC_RTO_TARGET, r->rto_target_s);
	bind_real(s, RC_RTO_ACHIEVED, r->rto_achieved_s);
	bind_int(s, RC_RTO_MET, r->rto_met, -1);
	bind_real(s, RC_RPO_TARGET, r->rpo_target_s);
	bind_real(s, RC_RPO_ACHIEVED, r->rpo_achieved_s);
	bind_int(s, RC_RPO_MET, r->rpo_met, -1);
	bind_text(s, RC_RPO_STATUS, r->rpo_status);
	bind_ts(s, RC_RECOVERY_POINT, r->recovery_point_ms);
	bind_real(s, RC_HUMAN_WAIT, r->human_wait_s);
	bind_int(s, RC_EXIT_CODE, r->exit_code, -1);
	bind_flag(s, RC_STRICT_BUDGETS, r->strict_budgets);
	bind_text(s, RC_ERROR, r->error);
	bind_text(s, RC_SIGNED_BY, r->signed_by);
	bind_ts(s, RC_NEWEST_RECOVERABLE, r->newest_recoverable_ms);
	bind_real(s, RC_EXPOSURE, r->exposure_s);
	bind_text(s, RC_EXPOSURE_STATUS, r->exposure ? exposure_status_name(r->exposure) : NULL);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		q_done(s);
		return 0;
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT && q == Q_RUN_INSERT)
		set_err(st, "run '%s' already exists", r->id);
	else
		db_fail(st, "save a run");
	q_done(s);
	return -1;
}

static int phase_write(struct store *st, const char *run_id, int idx, const struct phase_rec *p)
{
	sqlite3_stmt *s = q_get(st, Q_PHASE_UPSERT);
	if (!s)
		return -1;
	bind_text(s, PC_RUN_ID, run_id);
	sqlite3_bind_int(s, PC_IDX + 1, idx);
	bind_text(s, PC_NAME, p->name);
	bind_text(s, PC_ROLE, p->role);
	bind_real(s, PC_BUDGET, p->budget_s);
	bind_flag(s, PC_FAULT, p->fault);
	bind_flag(s, PC_CLEANUP, p->cleanup);
	bind_flag(s, PC_RESTORES, p->restores_service);
	sqlite3_bind_int(s, PC_PARALLEL + 1, p->parallel);
	bind_text(s, PC_STATUS, status_name(p->status));
	bind_ts(s, PC_STARTED, p->started_ms);
	bind_ts(s, PC_ENDED, p->ended_ms);
	bind_real(s, PC_DURATION, p->duration_s);
	bind_real(s, PC_HUMAN_WAIT, p->human_wait_s);
	bind_flag(s, PC_OVER_BUDGET, p->over_budget);
	bind_text(s, PC_PROBE, probe_when_name(p->probe));
	return q_exec(st, s, "save a phase");
}

static int step_write(struct store *st, const char *run_id, int phase_idx, int idx,
		      const struct step_rec *sr)
{
	sqlite3_stmt *s = q_get(st, Q_STEP_UPSERT);
	if (!s)
		return -1;
	bind_text(s, SC_RUN_ID, run_id);
	sqlite3_bind_int(s, SC_PHASE_IDX + 1, phase_idx);
	sqlite3_bind_int(s, SC_IDX + 1, idx);
	bind_text(s, SC_NAME, sr->name);
	bind_text(s, SC_KIND, sr->kind);
	bind_text(s, SC_ROLE, sr->role);
	bind_text(s, SC_SECTION, sr->section == SEC_ROLLBACK ? "rollback" : "main");
	bind_flag(s, SC_IDEMPOTENT, sr->idempotent);
	bind_text(s, SC_STATUS, status_name(sr->status));
	sqlite3_bind_int(s, SC_ATTEMPTS + 1, sr->attempts);
	bind_ts(s, SC_STARTED, sr->started_ms);
	bind_ts(s, SC_ENDED, sr->ended_ms);
	bind_real(s, SC_DURATION, sr->duration_s);
	bind_real(s, SC_HUMAN_WAIT, sr->human_wait_s);
	bind_int(s, SC_EXIT_CODE, sr->exit_code, -1);
	/* the column keeps "alice (--yes)" for an automatic confirmation, as it always has */
	char *confirmed = sr->auto_confirmed && sr->confirmed_by ?
			  xasprintf("%s%s", sr->confirmed_by, AUTO_SUFFIX) : NULL;
	bind_text(s, SC_CONFIRMED_BY, confirmed ? confirmed : sr->confirmed_by);
	bind_text(s, SC_ERROR, sr->error);
	bind_text(s, SC_OUTPUT, sr->output);
	sqlite3_bind_int64(s, SC_OUTPUT_CUT + 1, sr->output_cut);
	bind_text(s, SC_STATE_JSON, sr->state_json);
	bind_text(s, SC_WAITING, step_wait_name(sr->waiting));
	int rc = q_exec(st, s, "save a step");
	free(confirmed);
	return rc;
}

static int note_write(struct store *st, const char *run_id, const struct note_rec *n)
{
	sqlite3_stmt *s = q_get(st, Q_NOTE_INSERT);
	if (!s)
		return -1;
	bind_text(s, NC_RUN_ID, run_id);
	bind_ts(s, NC_AT, n->at_ms);
	bind_text(s, NC_OPERATOR, n->operator);
	bind_text(s, NC_TEXT, n->text);
	return q_exec(st, s, "add a note");
}

int need_run_id(struct store *st, const char *run_id)
{
	if (run_id)
		return 0;
	set_err(st, "no run id given");
	return -1;
}

int store_run_insert(struct store *st, const struct run_rec *run)
{
	if (tx_begin_write(st))
		return -1;
	int rc = run_write(st, Q_RUN_INSERT, run);
	for (size_t i = 0; !rc && i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		rc = phase_write(st, run->id, (int)i, p);
		for (size_t j = 0; !rc && j < p->nsteps; j++)
			rc = step_write(st, run->id, (int)i, (int)j, &p->steps[j]);
	}
	for (size_t i = 0; !rc && i < run->nnotes; i++)
		rc = note_write(st, run->id, &run->notes[i]);
	return tx_end(st, rc);
}

int store_run_save(struct store *st, const struct run_rec *run)
{
	if (tx_begin_write(st))
		return -1;
	return tx_end(st, run_write(st, Q_RUN_UPSERT, run));
}

int store_phase_save(struct store *st, const char *run_id, int phase_idx,
		     const struct phase_rec *ph)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, phase_write(st, run_id, phase_idx, ph));
}

int store_step_save(struct store *st, const char *run_id, int phase_idx, int step_idx,
		    const struct step_rec *step)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, step_write(st, run_id, phase_idx, step_idx, step));
}

static int attempt_write(struct store *st, const char *run_id, int phase_idx, int step_idx,
			 const struct attempt_rec *a)
{
	sqlite3_stmt *s = q_get(st, Q_ATTEMPT_UPSERT);
	if (!s)
		return -1;
	bind_text(s, AC_RUN_ID, run_id);
	sqlite3_bind_int(s, AC_PHASE_IDX + 1, phase_idx);
	sqlite3_bind_int(s, AC_STEP_IDX + 1, step_idx);
	sqlite3_bind_int(s, AC_ATTEMPT + 1, a->attempt);
	bind_text(s, AC_STATUS, status_name(a->status));
	bind_ts(s, AC_STARTED, a->started_ms);
	bind_ts(s, AC_ENDED, a->ended_ms);
	bind_real(s, AC_DURATION, a->duration_s);
	bind_int(s, AC_EXIT_CODE, a->exit_code, -1);
	bind_text(s, AC_ERROR, a->error);
	bind_text(s, AC_OUTPUT, a->output);
	sqlite3_bind_int64(s, AC_OUTPUT_CUT + 1, a->output_cut);
	return q_exec(st, s, "save an attempt");
}

int store_attempt_save(struct store *st, const char *run_id, int phase_idx, int step_idx,
		       const struct attempt_rec *a)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, attempt_write(st, run_id, phase_idx, step_idx, a));
}

int store_step_finish(struct store *st, const char *run_id, int phase_idx, int step_idx,
		      const struct step_rec *step, const struct attempt_rec *a)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	int rc = attempt_write(st, run_id, phase_idx, step_idx, a);
	if (!rc)
		rc = step_write(st, run_id, phase_idx, step_idx, step);
	return tx_end(st, rc);
}

int store_note_add(struct store *st, const char *run_id, const struct note_rec *note)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	return tx_end(st, note_write(st, run_id, note));
}

/* ---- readers ---- */

static int run_read(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	r->id = col_text(s, RC_ID);
	r->runbook = col_text(s, RC_RUNBOOK);
	r->file = col_text(s, RC_FILE);
	r->sha256 = col_text(s, RC_SHA256);
	r->mode = col_text(s, RC_MODE);
	r->trigger = col_text(s, RC_TRIGGER);
	r->env = col_text(s, RC_ENV);
	r->operator = col_text(s, RC_OPERATOR);
	r->uid = (long)col_int(s, RC_UID, -1);
	r->host = col_text(s, RC_HOST);
	r->pid = (long)col_int(s, RC_PID, 0);
	r->params_json = col_text(s, RC_PARAMS);
	r->started_ms = col_ts(s, RC_STARTED);
	r->ended_ms = col_ts(s, RC_ENDED);
	r->incident_ms = col_ts(s, RC_INCIDENT);
	r->restored_ms = col_ts(s, RC_RESTORED);
	r->rto_target_s = col_real(s, RC_RTO_TARGET);
	r->rto_achieved_s = col_real(s, RC_RTO_ACHIEVED);
	r->rto_met = (int)col_int(s, RC_RTO_MET, -1);
	r->rpo_target_s = col_real(s, RC_RPO_TARGET);
	r->rpo_achieved_s = col_real(s, RC_RPO_ACHIEVED);
	r->rpo_met = (int)col_int(s, RC_RPO_MET, -1);
	r->rpo_status = col_text(s, RC_RPO_STATUS);
	r->recovery_point_ms = col_ts(s, RC_RECOVERY_POINT);
	r->human_wait_s = col_real(s, RC_HUMAN_WAIT);
	r->exit_code = (int)col_int(s, RC_EXIT_CODE, -1);
	r->strict_budgets = (int)col_int(s, RC_STRICT_BUDGETS, 0);
	r->error = col_text(s, RC_ERROR);
	r->signed_by = col_text(s, RC_SIGNED_BY);
	r->newest_recoverable_ms = col_ts(s, RC_NEWEST_RECOVERABLE);
	r->exposure_s = col_real(s, RC_EXPOSURE);
	char *exposure = col_text(s, RC_EXPOSURE_STATUS);
	r->exposure = exposure_status_parse(exposure);
	free(exposure);
	if (col_status(st, s, RC_STATUS, "runs", &r->status))
		return -1;
	if (r->status == ST_RUNNING && r->id) {
		/* a run whose process is gone is never shown as running */
		char *dir = runlock_dir(st->path);
		if (!runlock_alive(dir, r->id))
			r->status = ST_INTERRUPTED;
		free(dir);
	}
	return 0;
}

static int check_index(struct store *st, const struct run_rec *r, int64_t idx)
{
	if (idx >= 0 && idx < MAX_INDEX)
		return 0;
	set_err(st, "run '%s' has a damaged index %lld", r->id, (long long)idx);
	return -1;
}

/* Makes r->phases[idx] exist; new entries are absent phases. */
static struct phase_rec *phase_at(struct run_rec *r, size_t idx)
{
	if (idx >= r->nphases) {
		r->phases = xrealloc(r->phases, (idx + 1) * sizeof(*r->phases));
		for (size_t i = r->nphases; i <= idx; i++)
			phase_rec_init(&r->phases[i]);
		r->nphases = idx + 1;
	}
	return &r->phases[idx];
}

static struct step_rec *step_at(struct phase_rec *p, size_t idx)
{
	if (idx >= p->nsteps) {
		p->steps = xrealloc(p->steps, (idx + 1) * sizeof(*p->steps));
		for (size_t i = p->nsteps; i <= idx; i++)
			step_rec_init(&p->steps[i]);
		p->nsteps = idx + 1;
	}
	return &p->steps[idx];
}

/*
 * The frame every reader of a run's rows shares: q_rows over the query q
 * bound to the run id, row() called with the store and the run.
 */
typedef int (*row_fn)(struct store *st, sqlite3_stmt *s, struct run_rec *r);

struct run_rows {
	struct store *st;
	struct run_rec *r;
	row_fn row;
};

static int run_row(void *ud, sqlite3_stmt *s)
{
	struct run_rows *a = ud;
	return a->row(a->st, s, a->r);
}

static int run_rows(struct store *st, enum query q, struct run_rec *r, row_fn row,
		    const char *what)
{
	struct run_rows a = { st, r, row };
	return q_rows(st, q, r->id, run_row, &a, what);
}

static int phase_row(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	int64_t idx = sqlite3_column_int64(s, PC_IDX);
	if (check_index(st, r, idx))
		return -1;
	struct phase_rec *p = phase_at(r, (size_t)idx);
	p->name = col_text(s, PC_NAME);
	p->role = col_text(s, PC_ROLE);
	p->budget_s = col_real(s, PC_BUDGET);
	p->fault = (int)col_int(s, PC_FAULT, 0);
	p->cleanup = (int)col_int(s, PC_CLEANUP, 0);
	p->restores_service = (int)col_int(s, PC_RESTORES, 0);
	p->parallel = (int)col_int(s, PC_PARALLEL, 1);
	char *probe = col_text(s, PC_PROBE);
	p->probe = probe_when_parse(probe);
	free(probe);
	p->started_ms = col_ts(s, PC_STARTED);
	p->ended_ms = col_ts(s, PC_ENDED);
	p->duration_s = col_real(s, PC_DURATION);
	p->human_wait_s = col_real(s, PC_HUMAN_WAIT);
	p->over_budget = (int)col_int(s, PC_OVER_BUDGET, 0);
	return col_status(st, s, PC_STATUS, "phases", &p->status);
}

static int step_row(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	int64_t pidx = sqlite3_column_int64(s, SC_PHASE_IDX);
	int64_t idx = sqlite3_column_int64(s, SC_IDX);
	if (check_index(st, r, pidx) || check_index(st, r, idx))
		return -1;
	struct step_rec *sr = step_at(phase_at(r, (size_t)pidx), (size_t)idx);
	sr->name = col_text(s, SC_NAME);
	sr->kind = col_text(s, SC_KIND);
	sr->role = col_text(s, SC_ROLE);
	const char *sec = (const char *)sqlite3_column_text(s, SC_SECTION);
	sr->section = sec && !strcmp(sec, "rollback") ? SEC_ROLLBACK : SEC_MAIN;
	sr->idempotent = (int)col_int(s, SC_IDEMPOTENT, 1);
	sr->attempts = (int)col_int(s, SC_ATTEMPTS, 0);
	sr->started_ms = col_ts(s, SC_STARTED);
	sr->ended_ms = col_ts(s, SC_ENDED);
	sr->duration_s = col_real(s, SC_DURATION);
	sr->human_wait_s = col_real(s, SC_HUMAN_WAIT);
	sr->exit_code = (int)col_int(s, SC_EXIT_CODE, -1);
	sr->confirmed_by = col_text(s, SC_CONFIRMED_BY);
	size_t clen = sr->confirmed_by ? strlen(sr->confirmed_by) : 0;
	if (clen > strlen(AUTO_SUFFIX) &&
	    !strcmp(sr->confirmed_by + clen - strlen(AUTO_SUFFIX), AUTO_SUFFIX)) {
		sr->confirmed_by[clen - strlen(AUTO_SUFFIX)] = '\0';
		sr->auto_confirmed = 1;
	}
	sr->error = col_text(s, SC_ERROR);
	sr->output = col_text(s, SC_OUTPUT);
	sr->output_cut = col_int(s, SC_OUTPUT_CUT, 0);
	sr->state_json = col_text(s, SC_STATE_JSON);
	sr->waiting = step_wait_parse((const char *)sqlite3_column_text(s, SC_WAITING));
	return col_status(st, s, SC_STATUS, "steps", &sr->status);
}

static int note_row(struct store *st, sqlite3_stmt *s, struct run_rec *r)
{
	(void)st;
	run_rec_add_note(r, col_ts(s, NC_AT), (const char *)sqlite3_column_text(s, NC_OPERATOR),
			 (const char *)sqlite3_column_text(s, NC_TEXT));
	return 0;
}

static int phases_read(struct store *st, struct run_rec *r)
{
	return run_rows(st, Q_PHASES_GET, r, phase_row, "read phases");
}

static int steps_read(struct store *st, struct run_rec *r)
{
	return run_rows(st, Q_STEPS_GET, r, step_row, "read steps");
}

static int notes_read(struct store *st, struct run_rec *r)
{
	return run_rows(st, Q_NOTES_GET, r, note_row, "read notes");
}

/* The full id of the one run id_or_prefix names: 0, 1 none, 2 ambiguous, -1 error. */
static enum store_found run_find(struct store *st, const char *prefix, char **id)
{
	sqlite3_stmt *s = q_get(st, Q_RUN_FIND);
	if (!s)
		return STORE_FAILED;
	char *upper = xasprintf("%s\xff", prefix);
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, upper, -1, SQLITE_STATIC);
	int n = 0, rc = SQLITE_DONE;
	enum store_found ret;
	while (n < 2 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(s, 0);
		if (n++ == 0) {
			*id = xstrdup(got);
			if (got && !strcmp(got, prefix))
				break;	/* an exact id wins over longer ids it prefixes */
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_fail(st, "look up a run");
		ret = STORE_FAILED;
	} else {
		ret = n == 0 ? STORE_NOT_FOUND : n == 1 ? STORE_FOUND : STORE_AMBIGUOUS;
	}
	if (ret != STORE_FOUND) {
		free(*id);
		*id = NULL;
	}
	q_done(s);
	free(upper);
	return ret;
}

/* ---- remote hosts' instances (SPEC 8) ---- */

int store_instance_save(struct store *st, const char *run_id, int phase_idx, int step_idx, int attempt,
			int seq, const struct host_rec *h)
{
	if (need_run_id(st, run_id) || tx_begin_write(st))
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO host_instances (run_id, phase_idx, step_idx,"
			       " attempt, seq, host, status, exit_code, duration_s, error, output)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &s, NULL) != SQLITE_OK) {
		db_fail(st, "save a host's instance");
	} else {
		bind_text(s, 0, run_id);
		sqlite3_bind_int(s, 2, phase_idx);
		sqlite3_bind_int(s, 3, step_idx);
		sqlite3_bind_int(s, 4, attempt);
		sqlite3_bind_int(s, 5, seq);
		bind_text(s, 5, h->host);
		bind_text(s, 6, h->status);
		bind_int(s, 7, h->exit_code, -1);
		bind_real(s, 8, h->duration_s);
		bind_text(s, 9, h->error);
		bind_text(s, 10, h->output);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, "save a host's instance");
	}
	sqlite3_finalize(s);
	return tx_end(st, rc);
}

/* Each remote step's hosts: the latest instance of each, and how many ran. */
static int hosts_read(struct store *st, struct run_rec *r)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT phase_idx, step_idx, seq, host, status, exit_code, duration_s,"
			       " error, output FROM host_instances WHERE run_id = ?"
			       " ORDER BY phase_idx, step_idx, attempt, seq", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "read hosts' instances");
	bind_text(s, 0, r->id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t pi = sqlite3_column_int64(s, 0), si = sqlite3_column_int64(s, 1);
		if (pi < 0 || (size_t)pi >= r->nphases || si < 0 || (size_t)si >= r->phases[pi].nsteps)
			continue;
		struct step_rec *sr = &r->phases[pi].steps[si];
		const char *host = (const char *)sqlite3_column_text(s, 3);
		if (!host)
			continue;
		struct host_rec *h = NULL;
		for (size_t k = 0; k < sr->nhosts && !h; k++)
			if (!strcmp(sr->hosts[k].host, host))
				h = &sr->hosts[k];
		if (!h) {
			sr->hosts = xrealloc(sr->hosts, (sr->nhosts + 1) * sizeof(*sr->hosts));
			h = &sr->hosts[sr->nhosts++];
			memset(h, 0, sizeof(*h));
			h->host = xstrdup(host);
		}
		char *status = col_text(s, 4);
		if (status && strcmp(status, "skipped") && strcmp(status, "pending"))
			h->attempts++;
		else if (h->status && strcmp(h->status, "pending") && strcmp(h->status, "skipped")) {
			free(status);	/* not run this attempt: what it had stays */
			continue;
		}
		free(h->status);
		h->status = status;
		h->exit_code = (int)col_int(s, 5, -1);
		h->duration_s = col_real(s, 6);
		free(h->error);
		h->error = col_text(s, 7);
		free(h->output);
		h->output = col_text(s, 8);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_fail(st, "read hosts' instances");
}

enum store_found store_run_load(struct store *st, const char *id_or_prefix, struct run_rec **out)
{
	*out = NULL;
	if (!id_or_prefix || !*id_or_prefix)
		return STORE_NOT_FOUND;
	if (tx_step(st, Q_BEGIN_READ, "begin a read"))
		return STORE_FAILED;
	/* one read transaction: the tree is a snapshot even while the engine writes */
	char *id = NULL;
	enum store_found found = run_find(st, id_or_prefix, &id);
	if (found != STORE_FOUND) {
		tx_end(st, 0);
		return found;
	}
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	int rc = -1;
	sqlite3_stmt *s = q_get(st, Q_RUN_GET);
	if (s) {
		bind_text(s, 0, id);
		int src = sqlite3_step(s);
		if (src == SQLITE_ROW)
			rc = run_read(st, s, r);
		else if (src == SQLITE_DONE)
			set_err(st, "run '%s' vanished while loading", id);
		else
			db_fail(st, "load a run");
		q_done(s);
	}
	if (!rc)
		rc = phases_read(st, r) || steps_read(st, r) || notes_read(st, r) || hosts_read(st, r) ? -1 : 0;
	free(id);
	if (tx_end(st, rc)) {
		run_rec_free(r);
		return STORE_FAILED;
	}
	*out = r;
	return STORE_FOUND;
}

int store_attempts_load(struct store *st, const char *run_id, int phase_idx, int step_idx,
			struct attempt_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (need_run_id(st, run_id))
		return -1;
	sqlite3_stmt *s = q_get(st, Q_ATTEMPTS_GET);
	if (!s)
		return -1;
	bind_text(s, 0, run_id);
	sqlite3_bind_int(s, 2, phase_idx);
	sqlite3_bind_int(s, 3, step_idx);
	struct attempt_rec *v = NULL;
	size_t len = 0, alloc = 0;
	int rc = SQLITE_DONE, bad = 0;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		struct attempt_rec *a = &v[len++];
		a->attempt = (int)col_int(s, AC_ATTEMPT, 0);
		a->started_ms = col_ts(s, AC_STARTED);
		a->ended_ms = col_ts(s, AC_ENDED);
		a->duration_s = col_real(s, AC_DURATION);
		a->exit_code = (int)col_int(s, AC_EXIT_CODE, -1);
		a->error = col_text(s, AC_ERROR);
		a->output = col_text(s, AC_OUTPUT);
		a->output_cut = col_int(s, AC_OUTPUT_CUT, 0);
		bad = col_status(st, s, AC_STATUS, "attempts", &a->status);
	}
	if (!bad && rc != SQLITE_DONE)
		bad = db_fail(st, "read attempts");
	if (bad) {
		q_done(s);
		for (size_t i = 0; i < len; i++)
			attempt_rec_release(&v[i]);
		free(v);
		return -1;
	}
	q_done(s);
	*out = v;
	*n = len;
	return 0;
}

int store_runs_list(struct store *st, const char *runbook, int limit,
		    struct run_rec ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = q_get(st, runbook ? Q_RUNS_LIST_RUNBOOK : Q_RUNS_LIST);
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);	/* LIMIT -1: all */
	if (runbook)
		sqlite3_bind_text(s, 2, runbook, -1, SQLITE_STATIC);
	struct run_rec **v = NULL;
	size_t len = 0, alloc = 0;
	int rc = SQLITE_DONE, bad = 0;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		struct run_rec *r = xmalloc(sizeof(*r));
		run_rec_init(r);
		v[len++] = r;
		bad = run_read(st, s, r);
	}
	if (!bad && rc != SQLITE_DONE) {
		db_fail(st, "list runs");
		bad = 1;
	}
	q_done(s);
	if (bad) {
		for (size_t i = 0; i < len; i++)
			run_rec_free(v[i]);
		free(v);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

int store_run_active(struct store *st, const char *file, char **run_id)
{
	*run_id = NULL;
	sqlite3_stmt *s = q_get(st, Q_RUN_ACTIVE);
	if (!s)
		return -1;
	bind_text(s, 0, file);
	char *dir = runlock_dir(st->path);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		if (id && runlock_alive(dir, id)) {
			*run_id = xstrdup(id);
			break;
		}
	}
	free(dir);
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "look for running runs");
	return *run_id ? 1 : 0;
}

int store_run_by_pid(struct store *st, const char *file, long pid, char **run_id)
{
	*run_id = NULL;
	sqlite3_stmt *s = q_get(st, Q_RUN_BY_PID);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, pid);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*run_id = col_text(s, 0);
	q_done(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, "find a run");
	return *run_id ? 1 : 0;
}

/* ---- the sources a run loaded ---- */

int store_sources_save(struct store *st, const char *run_id, const struct store_source *src,
		       size_t n)
{
	if (tx_begin_write(st))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_stmt *s = q_get(st, Q_SOURCE_ADD);
		if (!s) {
			rc = -1;
			break;
		}
		/* a blob: the exact bytes, never redacted (their hash must still match) */
		sqlite3_bind_text(s, 1, src[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(s, 2, src[i].text, src[i].len, SQLITE_STATIC);
		if ((rc = q_exec(st, s, "store a runbook's source")))
			break;
		if (!(s = q_get(st, Q_RUN_SOURCE_ADD))) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		sqlite3_bind_text(s, 3, src[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, src[i].sha256, -1, SQLITE_STATIC);
		if (src[i].signed_by && *src[i].signed_by)
			sqlite3_bind_text(s, 5, src[i].signed_by, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 5);
		if (src[i].signature)
			sqlite3_bind_text(s, 6, src[i].signature, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 6);
		rc = q_exec(st, s, "record a run's sources");
	}
	return tx_end(st, rc);
}

int store_sources_load(struct store *st, const char *run_id, struct store_source **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *s = q_get(st, Q_RUN_SOURCES_GET);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		struct store_source *src = &(*out)[(*n)++];
		memset(src, 0, sizeof(*src));
		src->path = col_text(s, 0);
		char *sha = col_text(s, 1);
		snprintf(src->sha256, sizeof(src->sha256), "%s", sha ? sha : "");
		free(sha);
		src->signed_by = col_text(s, 2);
		const void *blob = sqlite3_column_blob(s, 3);
		src->len = (size_t)sqlite3_column_bytes(s, 3);
		src->missing = sqlite3_column_type(s, 3) == SQLITE_NULL;
		src->text = xmalloc(src->len + 1);
		if (src->len)
			memcpy(src->text, blob, src->len);
		src->text[src->len] = '\0';
		src->signature = col_text(s, 4);
	}
	q_done(s);
	if (rc != SQLITE_DONE) {
		store_sources_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_fail(st, "read a run's sources");
	}
	return 0;
}

void store_sources_free(struct store_source *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(src[i].path);
		free(src[i].text);
		free(src[i].signed_by);
		free(src[i].signature);
	}
	free(src);
}

static void signature_read(sqlite3_stmt *s, void *elem)
{
	struct store_signature *sig = elem;
	sig->run_id = col_text(s, 0);
	sig->signature = col_text(s, 1);
}

int store_signatures_of(struct store *st, const char *path, struct store_signature **out,
			size_t *n)
{
	void *v;
	int rc = q_rows_into(st, Q_SIGNATURES_OF_PATH, path, &v, n, sizeof(**out), signature_read,
			     "read the signatures a file ran with");
	*out = v;
	if (rc) {
		store_signatures_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void store_signatures_free(struct store_signature *sigs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(sigs[i].run_id);
		free(sigs[i].signature);
	}
	free(sigs);
}
