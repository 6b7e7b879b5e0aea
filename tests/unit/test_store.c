/*
 * The history on real SQLite files in a temporary folder: what goes in
 * comes back field for field (absent values included), saves are upserts,
 * ids resolve by prefix, listing is newest first, and eight processes
 * creating and filling one new file at once lose nothing.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clock.h"
#include "record.h"
#include "store.h"
#include "util.h"

#define T0 1763776380123LL	/* 2025-11-22T01:53:00.123Z */

struct fixture {
	char dir[64];
	char *db;		/* dir/hist/history.db: the folder does not exist yet */
	struct store *st;	/* open on db */
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/lb-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->db = xasprintf("%s/hist/history.db", f->dir);
	char *err = NULL;
	if (store_open(f->db, 0, &f->st, &err)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->db);
	free(f);
	return 0;
}

/* ---- building and comparing trees ---- */

static void step_fill(struct step_rec *s, const char *name, enum section sec, int64_t t)
{
	step_rec_init(s);
	s->name = xstrdup(name);
	s->kind = xstrdup(sec == SEC_MAIN ? "sh" : "run");
	s->role = xstrdup("data-eng");
	s->section = sec;
	s->idempotent = sec == SEC_MAIN;
	s->status = sec == SEC_MAIN ? ST_FAILED : ST_SUCCEEDED;
	s->attempts = 3;
	s->started_ms = t;
	s->ended_ms = t + 1500;
	s->duration_s = 1.5;
	s->human_wait_s = 0.25;
	s->exit_code = 7;
	s->confirmed_by = xstrdup("alice");
	s->auto_confirmed = 1;
	s->error = xstrdup("exit status 7: \"quoted\" 'x' <tag> & \u00e9\n");
	s->output = xstrdup("line 1\nline 2 \xe2\x9c\x93\n");
	s->output_cut = 123456789012LL;
	s->state_json = xstrdup("{\"copied\":true,\"n\":3}");
}

/* A run with every field set, two phases (the second with a rollback) and notes. */
static struct run_rec *full_run(const char *id)
{
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	r->id = xstrdup(id);
	r->runbook = xstrdup("feature-store \xf0\x9f\x9a\x80 \u65e5\u672c");
	r->file = xstrdup("/srv/runbooks/feature store.lua");
	r->sha256 = xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	r->mode = xstrdup("drill");
	r->trigger = xstrdup("schedule");
	r->env = xstrdup("staging");
	r->operator = xstrdup("Zo\u00eb O'Brien");
	r->uid = 1000;
	r->host = xstrdup("db-1.example");
	r->pid = 4242;
	r->params_json = xstrdup("{\"store\":\"demo/state/features.db\",\"port\":\"8080\"}");
	r->status = ST_FAILED;
	r->started_ms = T0;
	r->ended_ms = T0 + 60000;
	r->incident_ms = T0 - 5000;
	r->restored_ms = T0 + 45001;
	r->rto_target_s = 900;
	r->rto_achieved_s = 50.001;
	r->rto_met = 1;
	r->rpo_target_s = 3600;
	r->rpo_achieved_s = 4000.5;
	r->rpo_met = 0;
	r->rpo_status = xstrdup("missed");
	r->recovery_point_ms = T0 - 4005500;
	r->human_wait_s = 12.75;
	r->exit_code = 4;
	r->strict_budgets = 1;
	r->error = xstrdup("step 'copy snapshot' failed");

	r->nphases = 2;
	r->phases = xcalloc(2, sizeof(*r->phases));
	struct phase_rec *p = &r->phases[0];
	phase_rec_init(p);
	p->name = xstrdup("break the store");
	p->role = xstrdup("sre");
	p->fault = 1;
	p->status = ST_SUCCEEDED;
	p->started_ms = T0;
	p->ended_ms = T0 + 100;
	p->duration_s = 0.1;
	p->nsteps = 1;
	p->steps = xcalloc(1, sizeof(*p->steps));
	step_fill(&p->steps[0], "delete the online store", SEC_MAIN, T0);

	p = &r->phases[1];
	phase_rec_init(p);
	p->name = xstrdup("restore");
	p->role = xstrdup("data-eng");
	p->budget_s = 300;
	p->cleanup = 1;
	p->restores_service = 1;
	p->parallel = 4;
	p->status = ST_ROLLED_BACK;
	p->started_ms = T0 + 100;
	p->ended_ms = T0 + 45001;
	p->duration_s = 44.901;
	p->human_wait_s = 3.5;
	p->over_budget = 1;
	p->nsteps = 3;
	p->steps = xcalloc(3, sizeof(*p->steps));
	step_fill(&p->steps[0], "verify newest snapshot", SEC_MAIN, T0 + 100);
	step_fill(&p->steps[1], "copy snapshot", SEC_MAIN, T0 + 2000);
	step_fill(&p->steps[2], "put the store aside", SEC_ROLLBACK, T0 + 4000);

	run_rec_add_note(r, T0 + 10, "alice", "paged the data team");
	run_rec_add_note(r, T0 + 20, "bob", "multi\nline \u2014 note");
	return r;
}

static void eq_str(const char *a, const char *b, const char *what)
{
	if (!a || !b) {
		if (a != b)
			fail_msg("%s: '%s' vs '%s'", what, a ? a : "(null)", b ? b : "(null)");
		return;
	}
	if (strcmp(a, b))
		fail_msg("%s: '%s' vs '%s'", what, a, b);
}

static void eq_real(double a, double b, const char *what)
{
	if (isnan(a) && isnan(b))
		return;
	if (a != b)
		fail_msg("%s: %.17g vs %.17g", what, a, b);
}

#define EQ_STR(x, y, f) eq_str((x)->f, (y)->f, #f)
#define EQ_REAL(x, y, f) eq_real((x)->f, (y)->f, #f)
#define EQ_INT(x, y, f) assert_int_equal((x)->f, (y)->f)

static void eq_top(const struct run_rec *a, const struct run_rec *b)
{
	EQ_STR(a, b, id);
	EQ_STR(a, b, runbook);
	EQ_STR(a, b, file);
	EQ_STR(a, b, sha256);
	EQ_STR(a, b, mode);
	EQ_STR(a, b, trigger);
	EQ_STR(a, b, env);
	EQ_STR(a, b, operator);
	EQ_INT(a, b, uid);
	EQ_STR(a, b, host);
	EQ_INT(a, b, pid);
	EQ_STR(a, b, params_json);
	EQ_INT(a, b, status);
	EQ_INT(a, b, started_ms);
	EQ_INT(a, b, ended_ms);
	EQ_INT(a, b, incident_ms);
	EQ_INT(a, b, restored_ms);
	EQ_REAL(a, b, rto_target_s);
	EQ_REAL(a, b, rto_achieved_s);
	EQ_INT(a, b, rto_met);
	EQ_REAL(a, b, rpo_target_s);
	EQ_REAL(a, b, rpo_achieved_s);
	EQ_INT(a, b, rpo_met);
	EQ_STR(a, b, rpo_status);
	EQ_INT(a, b, recovery_point_ms);
	EQ_REAL(a, b, human_wait_s);
	EQ_INT(a, b, exit_code);
	EQ_INT(a, b, strict_budgets);
	EQ_STR(a, b, error);
}

static void eq_step(const struct step_rec *a, const struct step_rec *b)
{
	EQ_STR(a, b, name);
	EQ_STR(a, b, kind);
	EQ_STR(a, b, role);
	EQ_INT(a, b, section);
	EQ_INT(a, b, idempotent);
	EQ_INT(a, b, status);
	EQ_INT(a, b, attempts);
	EQ_INT(a, b, started_ms);
	EQ_INT(a, b, ended_ms);
	EQ_REAL(a, b, duration_s);
	EQ_REAL(a, b, human_wait_s);
	EQ_INT(a, b, exit_code);
	EQ_STR(a, b, confirmed_by);
	assert_int_equal(a->auto_confirmed, b->auto_confirmed);
	EQ_STR(a, b, error);
	EQ_STR(a, b, output);
	EQ_INT(a, b, output_cut);
	EQ_STR(a, b, state_json);
}

static void eq_tree(const struct run_rec *a, const struct run_rec *b)
{
	eq_top(a, b);
	assert_int_equal(a->nphases, b->nphases);
	for (size_t i = 0; i < a->nphases; i++) {
		const struct phase_rec *p = &a->phases[i], *q = &b->phases[i];
		EQ_STR(p, q, name);
		EQ_STR(p, q, role);
		EQ_REAL(p, q, budget_s);
		EQ_INT(p, q, fault);
		EQ_INT(p, q, cleanup);
		EQ_INT(p, q, restores_service);
		EQ_INT(p, q, parallel);
		EQ_INT(p, q, status);
		EQ_INT(p, q, started_ms);
		EQ_INT(p, q, ended_ms);
		EQ_REAL(p, q, duration_s);
		EQ_REAL(p, q, human_wait_s);
		EQ_INT(p, q, over_budget);
		assert_int_equal(p->nsteps, q->nsteps);
		for (size_t j = 0; j < p->nsteps; j++)
			eq_step(&p->steps[j], &q->steps[j]);
	}
	assert_int_equal(a->nnotes, b->nnotes);
	for (size_t i = 0; i < a->nnotes; i++) {
		EQ_INT(&a->notes[i], &b->notes[i], at_ms);
		EQ_STR(&a->notes[i], &b->notes[i], operator);
		EQ_STR(&a->notes[i], &b->notes[i], text);
	}
}

static struct run_rec *load_ok(struct store *st, const char *id)
{
	struct run_rec *got = NULL;
	int rc = store_run_load(st, id, &got);
	if (rc)
		fail_msg("load '%s': %d %s", id, rc, store_error(st));
	assert_non_null(got);
	return got;
}

static int file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* ---- tests ---- */

static void test_open_creates_folder_and_wal(void **state)
{
	struct fixture *f = *state;
	assert_true(file_exists(f->db));
	assert_string_equal(store_path(f->st), f->db);
	struct run_rec *r = full_run("a1");
	assert_int_equal(store_run_insert(f->st, r), 0);
	char *wal = xasprintf("%s-wal", f->db);
	assert_true(file_exists(wal));	/* journal_mode=WAL took */
	free(wal);
	run_rec_free(r);

	/* a second connection on the same file sees the same rows */
	struct store *st2;
	char *err = NULL;
	assert_int_equal(store_open(f->db, 1, &st2, &err), 0);
	struct run_rec *got = load_ok(st2, "a1");
	assert_string_equal(got->id, "a1");
	run_rec_free(got);
	store_close(st2);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	char *file = xasprintf("%s/plain", f->dir);
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	char *path = xasprintf("%s/sub/history.db", file);
	struct store *st = (struct store *)1;
	char *err = NULL;
	assert_int_equal(store_open(path, 0, &st, &err), -1);
	assert_null(st);
	assert_non_null(err);
	/* the message says why; the caller names the history file */
	char *dir = xasprintf("cannot create folder '%s/sub': ", file);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, strerror(ENOTDIR)));
	free(dir);
	free(err);
	free(path);

	/* not a database at all */
	fp = fopen(file, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an sqlite file\n", fp);
	fclose(fp);
	assert_int_equal(store_open(file, 0, &st, &err), -1);
	assert_non_null(strstr(err, "not a database"));
	free(err);
	/* errmsg may be NULL */
	assert_int_equal(store_open(file, 0, &st, NULL), -1);
	free(file);
}

static void test_schema_too_new(void **state)
{
	struct fixture *f = *state;
	store_close(f->st);	/* the last close checkpoints the WAL into the file */
	f->st = NULL;
	/* user_version is the big-endian int at offset 60 of the header */
	FILE *fp = fopen(f->db, "r+b");
	assert_non_null(fp);
	unsigned char v[4] = { 0, 0, 0, 99 };
	assert_int_equal(fseek(fp, 60, SEEK_SET), 0);
	assert_int_equal(fwrite(v, 1, 4, fp), 4);
	fclose(fp);
	char *err = NULL;
	assert_int_equal(store_open(f->db, 0, &f->st, &err), -1);
	assert_non_null(strstr(err, "schema version 99 is newer"));
	free(err);
}

static void test_roundtrip_full(void **state)
{
	struct fixture *f = *state;
	struct run_rec *r = full_run("0f3a9c2d1e");
	assert_int_equal(store_run_insert(f->st, r), 0);
	struct run_rec *got = load_ok(f->st, "0f3a9c2d1e");
	eq_tree(r, got);
	assert_int_equal(got->phases[1].steps[2].section, SEC_ROLLBACK);
	run_rec_free(got);

	/* and again after reopening: nothing lives only in the connection */
	store_close(f->st);
	char *err = NULL;
	assert_int_equal(store_open(f->db, 0, &f->st, &err), 0);
	got = load_ok(f->st, "0f3a9c2d1e");
	eq_tree(r, got);
	run_rec_free(got);
	run_rec_free(r);
}

static void test_roundtrip_absent(void **state)
{
	struct fixture *f = *state;
	struct run_rec r;
	run_rec_init(&r);
	r.id = xstrdup("empty");
	r.human_wait_s = NAN;
	r.nphases = 1;
	r.phases = xcalloc(1, sizeof(*r.phases));
	phase_rec_init(&r.phases[0]);
	r.phases[0].human_wait_s = NAN;
	r.phases[0].nsteps = 1;
	r.phases[0].steps = xcalloc(1, sizeof(*r.phases[0].steps));
	step_rec_init(&r.phases[0].steps[0]);
	r.phases[0].steps[0].human_wait_s = NAN;
	assert_int_equal(store_run_insert(f->st, &r), 0);

	struct run_rec *got = load_ok(f->st, "empty");
	eq_tree(&r, got);
	assert_null(got->runbook);
	assert_null(got->env);
	assert_int_equal(got->uid, -1);
	assert_int_equal(got->started_ms, TS_NONE);
	assert_int_equal(got->restored_ms, TS_NONE);
	assert_int_equal(got->recovery_point_ms, TS_NONE);
	assert_true(isnan(got->rto_target_s));
	assert_true(isnan(got->rpo_achieved_s));
	assert_true(isnan(got->human_wait_s));
	assert_int_equal(got->rto_met, -1);
	assert_int_equal(got->rpo_met, -1);
	assert_int_equal(got->exit_code, -1);
	assert_int_equal(got->status, ST_PENDING);
	assert_true(isnan(got->phases[0].budget_s));
	assert_int_equal(got->phases[0].parallel, 1);
	assert_int_equal(got->phases[0].steps[0].exit_code, -1);
	assert_int_equal(got->phases[0].steps[0].idempotent, 1);
	assert_true(isnan(got->phases[0].steps[0].duration_s));
	assert_null(got->phases[0].steps[0].state_json);
	assert_int_equal(got->nnotes, 0);
	run_rec_free(got);
	run_rec_release(&r);
}

static void insert_simple(struct store *st, const char *id, const char *runbook, int64_t started)
{
	struct run_rec r;
	run_rec_init(&r);
	r.id = xstrdup(id);
	r.runbook = xstrdup(runbook);
	r.mode = xstrdup("run");
	r.status = ST_SUCCEEDED;
	r.started_ms = started;
	r.rto_target_s = 900;
	r.rto_achieved_s = 100;
	r.rto_met = 1;
	if (store_run_insert(st, &r))
		fail_msg("insert %s: %s", id, store_error(st));
	run_rec_release(&r);
}

/* Stamps come back to the millisecond across leap days, centuries and 1970. */
static void test_timestamps(void **state)
{
	struct fixture *f = *state;
	static const char *const stamps[] = {
		"1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z",
		"2000-02-29T12:00:00.500Z", "2000-03-01T00:00:00.001Z",
		"2024-02-29T23:59:59.999Z", "2025-12-31T23:59:59.000Z",
		"2100-03-01T00:00:00.000Z", "1900-01-01T00:00:00.000Z",
		"2026-11-22T01:53:00.123Z",
	};
	insert_simple(f->st, "ts", "rb", T0);
	int64_t want[ARRAY_SIZE(stamps)];
	for (size_t i = 0; i < ARRAY_SIZE(stamps); i++) {
		assert_int_equal(clock_parse(stamps[i], 1, &want[i]), 0);
		struct note_rec n = { want[i], "op", xstrdup(stamps[i]) };
		assert_int_equal(store_note_add(f->st, "ts", &n), 0);
		free(n.text);
	}
	struct run_rec *got = load_ok(f->st, "ts");
	assert_int_equal(got->nnotes, ARRAY_SIZE(stamps));
	for (size_t i = 0; i < ARRAY_SIZE(stamps); i++) {
		char buf[32];
		assert_int_equal(got->notes[i].at_ms, want[i]);
		assert_string_equal(clock_iso8601(got->notes[i].at_ms, buf), stamps[i]);
	}
	run_rec_free(got);
}

static void test_upserts(void **state)
{
	struct fixture *f = *state;
	struct run_rec *r = full_run("up1");
	r->status = ST_RUNNING;
	r->ended_ms = TS_NONE;
	r->exit_code = -1;
	assert_int_equal(store_run_insert(f->st, r), 0);

	/* inserting the same id again is a bug in the caller, and says so */
	assert_int_equal(store_run_insert(f->st, r), -1);
	assert_non_null(strstr(store_error(f->st), "already exists"));

	r->status = ST_SUCCEEDED;
	r->ended_ms = T0 + 99999;
	r->exit_code = 0;
	free(r->error);
	r->error = NULL;
	r->rto_met = -1;
	assert_int_equal(store_run_save(f->st, r), 0);

	struct phase_rec *p = &r->phases[1];
	p->status = ST_SUCCEEDED;
	p->over_budget = 0;
	p->budget_s = NAN;
	assert_int_equal(store_phase_save(f->st, "up1", 1, p), 0);

	struct step_rec *s = &p->steps[1];
	s->status = ST_SUCCEEDED;
	s->attempts = 4;
	free(s->output);
	s->output = xstrdup("new output");
	free(s->confirmed_by);
	s->confirmed_by = NULL;
	s->auto_confirmed = 0;
	assert_int_equal(store_step_save(f->st, "up1", 1, 1, s), 0);

	/* a step saved past the end of its phase grows it */
	p->steps = xrealloc(p->steps, 4 * sizeof(*p->steps));
	step_fill(&p->steps[3], "late rollback", SEC_ROLLBACK, T0 + 9000);
	p->nsteps = 4;
	assert_int_equal(store_step_save(f->st, "up1", 1, 3, &p->steps[3]), 0);

	struct note_rec n = { T0 + 30, "carol", "third" };
	assert_int_equal(store_note_add(f->st, "up1", &n), 0);
	run_rec_add_note(r, n.at_ms, n.operator, n.text);

	struct run_rec *got = load_ok(f->st, "up1");
	eq_tree(r, got);
	run_rec_free(got);

	/* save on a new id inserts */
	free(r->id);
	r->id = xstrdup("up2");
	assert_int_equal(store_run_save(f->st, r), 0);
	got = load_ok(f->st, "up2");
	eq_top(r, got);
	assert_int_equal(got->nphases, 0);
	run_rec_free(got);
	run_rec_free(r);
}

static void test_orphans_refused(void **state)
{
	struct fixture *f = *state;
	struct step_rec s;
	step_fill(&s, "x", SEC_MAIN, T0);
	/* foreign_keys=ON: a step of a run that does not exist is a bug */
	assert_int_equal(store_step_save(f->st, "nope", 0, 0, &s), -1);
	assert_non_null(strstr(store_error(f->st), "FOREIGN KEY"));
	assert_int_equal(store_step_save(f->st, NULL, 0, 0, &s), -1);
	free(s.name);
	free(s.kind);
	free(s.role);
	free(s.confirmed_by);
	free(s.error);
	free(s.output);
	free(s.state_json);
	struct run_rec r;
	run_rec_init(&r);
	assert_int_equal(store_run_save(f->st, &r), -1);	/* no id */
	/* the store is still usable after errors: no transaction left open */
	struct run_rec *ok = full_run("after-errors");
	assert_int_equal(store_run_insert(f->st, ok), 0);
	run_rec_free(ok);
}

static void test_prefix_lookup(void **state)
{
	struct fixture *f = *state;
	insert_simple(f->st, "abc123", "rb", T0);
	insert_simple(f->st, "abc456", "rb", T0 + 1);
	insert_simple(f->st, "abd789", "rb", T0 + 2);
	insert_simple(f->st, "abd7", "rb", T0 + 3);

	static const struct {
		const char *q;
		enum store_found rc;
		const char *id;
	} cases[] = {
		{ "abc123", STORE_FOUND, "abc123" },
		{ "abc1", STORE_FOUND, "abc123" },
		{ "abc4", STORE_FOUND, "abc456" },
		{ "abc", STORE_AMBIGUOUS, NULL },
		{ "ab", STORE_AMBIGUOUS, NULL },
		{ "a", STORE_AMBIGUOUS, NULL },
		{ "abd7", STORE_FOUND, "abd7" },	/* exact beats the longer id it prefixes */
		{ "abd78", STORE_FOUND, "abd789" },
		{ "abe", STORE_NOT_FOUND, NULL },
		{ "x", STORE_NOT_FOUND, NULL },
		{ "abc1234", STORE_NOT_FOUND, NULL },
		{ "", STORE_NOT_FOUND, NULL },
		{ "%", STORE_NOT_FOUND, NULL },
		{ "ab_", STORE_NOT_FOUND, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_rec *got = (struct run_rec *)1;
		enum store_found rc = store_run_load(f->st, cases[i].q, &got);
		if (rc != cases[i].rc)
			fail_msg("'%s': got %d want %d (%s)", cases[i].q, rc, cases[i].rc,
				 store_error(f->st));
		if (cases[i].id) {
			assert_string_equal(got->id, cases[i].id);
			run_rec_free(got);
		} else {
			assert_null(got);
		}
	}
}

static void free_list(struct run_rec **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_rec_free(v[i]);
	free(v);
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	insert_simple(f->st, "r3", "alpha", T0 + 3000);
	insert_simple(f->st, "r1", "alpha", T0 + 1000);
	insert_simple(f->st, "r5", "beta", T0 + 5000);
	insert_simple(f->st, "r2", "beta", T0 + 2000);
	insert_simple(f->st, "r4", "alpha", T0 + 4000);
	insert_simple(f->st, "r4b", "alpha", T0 + 4000);	/* same ms: later insert first */
	insert_simple(f->st, "r0", "alpha", TS_NONE);		/* never started: last */

	struct run_rec **v;
	size_t n;
	assert_int_equal(store_runs_list(f->st, NULL, 0, &v, &n), 0);
	static const char *const all[] = { "r5", "r4b", "r4", "r3", "r2", "r1", "r0" };
	assert_int_equal(n, ARRAY_SIZE(all));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i]->id, all[i]);
		assert_int_equal(v[i]->nphases, 0);
	}
	assert_int_equal(v[0]->started_ms, T0 + 5000);
	assert_string_equal(v[0]->runbook, "beta");
	assert_int_equal(v[0]->rto_met, 1);
	free_list(v, n);

	assert_int_equal(store_runs_list(f->st, "alpha", 2, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->id, "r4b");
	assert_string_equal(v[1]->id, "r4");
	free_list(v, n);

	assert_int_equal(store_runs_list(f->st, "beta", -1, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->id, "r5");
	assert_string_equal(v[1]->id, "r2");
	free_list(v, n);

	assert_int_equal(store_runs_list(f->st, "gamma", 10, &v, &n), 0);
	assert_int_equal(n, 0);
	free_list(v, n);
}

static void sql_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Schema 5 keeps attempts WITHOUT ROWID: a history of schema 4 is migrated with its rows. */
static void test_migrate_attempts(void **state)
{
	struct fixture *f = *state;
	insert_simple(f->st, "mig", "rb", T0);
	for (int k = 1; k <= 2; k++) {
		struct attempt_rec a = { .attempt = k, .status = k == 2 ? ST_SUCCEEDED : ST_FAILED,
					 .started_ms = T0 + k, .ended_ms = T0 + k + 1,
					 .duration_s = 0.001, .exit_code = k == 2 ? 0 : 1,
					 .output = (char *)"out\n" };
		assert_int_equal(store_attempt_save(f->st, "mig", 0, 0, &a), 0);
	}
	store_close(f->st);
	f->st = NULL;

	/* back to schema 4's attempts: a rowid table with its key in a separate index */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sql_ok(db, "BEGIN;"
	       "CREATE TABLE a4 ("
	       " run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	       " phase_idx INTEGER NOT NULL, step_idx INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	       " status TEXT NOT NULL, started_at TEXT, ended_at TEXT, duration_s REAL,"
	       " exit_code INTEGER, error TEXT, output TEXT, output_cut INTEGER NOT NULL DEFAULT 0,"
	       " PRIMARY KEY (run_id, phase_idx, step_idx, attempt));"
	       "INSERT INTO a4 SELECT * FROM attempts; DROP TABLE attempts;"
	       "ALTER TABLE a4 RENAME TO attempts;"
	       /*
	        * and without what later steps added (6: run_sources.signature; 9: probes,
	        * 10: steps.waiting, 11: the index on signatures)
	        */
	       "DROP INDEX run_sources_signed;"
	       "ALTER TABLE run_sources DROP COLUMN signature;"
	       "ALTER TABLE phases DROP COLUMN probe;"
	       "ALTER TABLE runs DROP COLUMN newest_recoverable_at;"
	       "ALTER TABLE runs DROP COLUMN rpo_exposure_s;"
	       "ALTER TABLE runs DROP COLUMN rpo_exposure_status;"
	       "ALTER TABLE steps DROP COLUMN waiting;"
	       "PRAGMA user_version = 4; COMMIT;");
	sqlite3_close(db);

	char *err = NULL;
	assert_int_equal(store_open(f->db, 0, &f->st, &err), 0);
	struct attempt_rec *v;
	size_t n;
	assert_int_equal(store_attempts_load(f->st, "mig", 0, 0, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].status, ST_FAILED);
	assert_int_equal(v[1].status, ST_SUCCEEDED);
	assert_string_equal(v[1].output, "out\n");
	for (size_t i = 0; i < n; i++)
		attempt_rec_release(&v[i]);
	free(v);

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'attempts'",
					    -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(q, 0), "WITHOUT ROWID"));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void test_attempts(void **state)
{
	struct fixture *f = *state;
	insert_simple(f->st, "att", "rb", T0);
	for (int k = 3; k >= 1; k--) {
		struct attempt_rec a = {
			.attempt = k, .status = k == 3 ? ST_SUCCEEDED : ST_FAILED,
			.started_ms = T0 + k * 1000,
			.ended_ms = k == 2 ? TS_NONE : T0 + k * 1000 + 5,
			.duration_s = k == 2 ? NAN : 0.005, .exit_code = k == 1 ? -1 : k,
			.error = k == 3 ? NULL : (char *)"boom \u2620",
			.output = (char *)"out\n", .output_cut = k,
		};
		assert_int_equal(store_attempt_save(f->st, "att", 1, 2, &a), 0);
	}
	/* upsert: attempt 2 finished after all */
	struct attempt_rec a2 = { .attempt = 2, .status = ST_TIMED_OUT, .started_ms = T0 + 2000,
				  .ended_ms = T0 + 2500, .duration_s = 0.5, .exit_code = -1,
				  .error = (char *)"timed out", .output = NULL, .output_cut = 0 };
	assert_int_equal(store_attempt_save(f->st, "att", 1, 2, &a2), 0);
	/* another step's attempts stay apart */
	assert_int_equal(store_attempt_save(f->st, "att", 1, 3, &a2), 0);

	struct attempt_rec *v;
	size_t n;
	assert_int_equal(store_attempts_load(f->st, "att", 1, 2, &v, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].attempt, (int)i + 1);
	assert_int_equal(v[0].status, ST_FAILED);
	assert_int_equal(v[0].exit_code, -1);
	assert_string_equal(v[0].error, "boom \u2620");
	assert_int_equal(v[0].output_cut, 1);
	assert_int_equal(v[1].status, ST_TIMED_OUT);
	assert_int_equal(v[1].ended_ms, T0 + 2500);
	assert_true(v[1].duration_s == 0.5);
	assert_null(v[1].output);
	assert_int_equal(v[2].status, ST_SUCCEEDED);
	assert_int_equal(v[2].exit_code, 3);
	assert_null(v[2].error);
	assert_string_equal(v[2].output, "out\n");
	assert_int_equal(v[2].started_ms, T0 + 3000);
	for (size_t i = 0; i < n; i++)
		attempt_rec_release(&v[i]);
	free(v);

	assert_int_equal(store_attempts_load(f->st, "att", 0, 0, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
}

/*
 * Eight processes open one file that does not exist yet, all at the same
 * moment, and each writes 50 runs the way the engine does: nobody may see
 * "database is locked" or a half-made schema, and all 400 runs are there.
 */
#define NPROC 8
#define NRUNS 50

static int child_work(const char *db, int k)
{
	struct store *st;
	char *err = NULL;
	if (store_open(db, 0, &st, &err)) {
		fprintf(stderr, "child %d: %s\n", k, err);
		return 1;
	}
	for (int i = 0; i < NRUNS; i++) {
		char id[32];
		snprintf(id, sizeof(id), "c%d-%03d", k, i);
		struct run_rec *r = full_run(id);
		r->started_ms = T0 + k * 1000 + i;
		r->status = ST_RUNNING;
		if (store_run_insert(st, r))
			goto fail;
		for (size_t p = 0; p < r->nphases; p++)
			for (size_t s = 0; s < r->phases[p].nsteps; s++) {
				struct step_rec *sr = &r->phases[p].steps[s];
				sr->status = ST_SUCCEEDED;
				struct attempt_rec a = { .attempt = 1, .status = ST_SUCCEEDED,
							 .started_ms = T0, .ended_ms = T0 + 1,
							 .duration_s = 0.001, .exit_code = 0 };
				if (store_attempt_save(st, id, (int)p, (int)s, &a) ||
				    store_step_save(st, id, (int)p, (int)s, sr))
					goto fail;
			}
		r->status = ST_SUCCEEDED;
		if (store_run_save(st, r))
			goto fail;
		run_rec_free(r);
		continue;
fail:
		fprintf(stderr, "child %d: %s\n", k, store_error(st));
		run_rec_free(r);
		store_close(st);
		return 1;
	}
	store_close(st);
	return 0;
}

static void test_concurrent_new_file(void **state)
{
	struct fixture *f = *state;
	char *db = xasprintf("%s/shared/new.db", f->dir);
	int gate[2];
	assert_int_equal(pipe(gate), 0);
	pid_t pids[NPROC];
	for (int k = 0; k < NPROC; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			char c;
			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;	/* EOF when the parent opens the gate */
			int rc = child_work(db, k);
			free(db);
			_exit(rc);
		}
	}
	close(gate[0]);
	close(gate[1]);	/* go */
	for (int k = 0; k < NPROC; k++) {
		int status;
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}

	struct store *st;
	char *err = NULL;
	assert_int_equal(store_open(db, 0, &st, &err), 0);
	struct run_rec **v;
	size_t n;
	assert_int_equal(store_runs_list(st, NULL, 0, &v, &n), 0);
	assert_int_equal(n, NPROC * NRUNS);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i]->status, ST_SUCCEEDED);
	free_list(v, n);
	struct run_rec *got = load_ok(st, "c7-049");
	assert_int_equal(got->nphases, 2);
	assert_int_equal(got->phases[1].nsteps, 3);
	assert_int_equal(got->phases[1].steps[2].status, ST_SUCCEEDED);
	run_rec_free(got);
	struct attempt_rec *a;
	assert_int_equal(store_attempts_load(st, "c3-010", 1, 1, &a, &n), 0);
	assert_int_equal(n, 1);
	free(a);
	store_close(st);
	free(db);
}

static double ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/*
 * Prints the times and asserts only correctness: a timed assertion would
 * fail on a busy CI box or under valgrind (benchmarks live in tests/bench).
 */
static void test_list_10000(void **state)
{
	struct fixture *f = *state;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	struct run_rec *r = full_run("x");
	r->nphases = 0;	/* top level only; the tree is freed below all the same */
	for (int i = 0; i < 10000; i++) {
		free(r->id);
		r->id = xasprintf("%08x%08x", (unsigned)i * 2654435761u, (unsigned)i);
		free(r->runbook);
		r->runbook = xasprintf("runbook-%d", i % 10);
		r->started_ms = T0 + (int64_t)(i * 7919 % 10000) * 60000;
		assert_int_equal(store_run_save(f->st, r), 0);
	}
	double insert_ms = ms_since(&t);

	struct run_rec **v;
	size_t n;
	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(store_runs_list(f->st, NULL, 0, &v, &n), 0);
	double list_ms = ms_since(&t);
	assert_int_equal(n, 10000);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1]->started_ms >= v[i]->started_ms);
	free_list(v, n);

	clock_gettime(CLOCK_MONOTONIC, &t);
	assert_int_equal(store_runs_list(f->st, "runbook-3", 20, &v, &n), 0);
	double filter_ms = ms_since(&t);
	assert_int_equal(n, 20);
	free_list(v, n);

	struct run_rec *got;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int i = 0; i < 1000; i++) {
		char id[17];
		snprintf(id, sizeof(id), "%08x", (unsigned)i * 2654435761u);
		int rc = store_run_load(f->st, id, &got);
		assert_true(rc == 0 || rc == 2);
		run_rec_free(got);
	}
	double load_ms = ms_since(&t);
	fprintf(stderr, "# 10000 run saves %.0f ms; list all %.1f ms; list one runbook "
		"(20) %.2f ms; 1000 prefix loads %.1f ms\n", insert_ms, list_ms, filter_ms,
		load_ms);
	r->nphases = 2;
	run_rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_folder_and_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_too_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upserts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphans_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_10000, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
