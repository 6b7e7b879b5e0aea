/*
 * How a run starts: its record made from the runbook and options, the
 * exclusive lock per runbook and environment, the sources kept in the
 * history, and the two entry points engine_execute (then execute() in
 * engine.c) and engine_refuse (a run refused before it starts).
 */
#include "engine-int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "runlock.h"

/* ------------------------------------------------------------------------ */
/* the run */

static struct run_rec *record_new(struct engine *e)
{
	const struct runbook *rb = e->rb;
	const struct engine_opts *o = e->o;
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	char id[17];
	random_hex(id, 12);
	r->id = xstrdup(id);
	r->runbook = xstrdup(rb->name);
	r->file = xstrdup(rb->abspath);
	r->sha256 = xstrdup(rb->sha256);
	r->signed_by = rb->signed_by[0] ? xstrdup(rb->signed_by) : NULL;
	r->mode = xstrdup(run_mode_name(o->mode));
	r->trigger = xstrdup(run_trigger_name(o->trigger));
	r->env = xstrdup(o->env);
	r->operator = xstrdup(o->operator);
	r->uid = (long)getuid();
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	r->host = xstrdup(host);
	r->pid = (long)getpid();
	json_t *params = json_object();
	for (size_t i = 0; i < o->nparams; i++)
		json_object_set_new(params, o->params[i].name, lbjson_string(o->params[i].value));
	r->params_json = scrub(e, hide_secrets(e, json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER)));
	json_decref(params);
	r->status = ST_RUNNING;
	r->started_ms = e->start_wall;
	r->rto_target_s = !isnan(o->rto_s) ? o->rto_s : rb->rto_s;
	r->rpo_target_s = !isnan(o->rpo_s) ? o->rpo_s : rb->rpo_s;
	r->strict_budgets = o->strict_budgets;
	r->nphases = rb->nphases;
	r->phases = xcalloc(rb->nphases, sizeof(*r->phases));
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *d = &rb->phases[i];
		struct phase_rec *p = &r->phases[i];
		phase_rec_init(p);
		p->name = xstrdup(d->name);
		p->role = xstrdup(d->role);
		p->budget_s = d->budget_s;
		p->fault = d->fault;
		p->cleanup = d->cleanup;
		p->probe = d->probe;
		p->restores_service = (int)i == rb->restoring;
		p->parallel = d->parallel;
		p->nsteps = d->nsteps + d->nrollback;
		p->steps = xcalloc(p->nsteps ? p->nsteps : 1, sizeof(*p->steps));
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct rb_step *sd = j < d->nsteps ? &d->steps[j] : &d->rollback[j - d->nsteps];
			struct step_rec *s = &p->steps[j];
			step_rec_init(s);
			s->name = xstrdup(sd->name);
			s->kind = xstrdup(step_kind_name(sd->kind));
			s->role = xstrdup(sd->role);
			s->section = j < d->nsteps ? SEC_MAIN : SEC_ROLLBACK;
			s->idempotent = sd->idempotent;
		}
	}
	return r;
}

/*
 * The lock file's name: NAME@ENV.lock, or, when that would not fit in a file
 * name (NAME_MAX is 255 bytes), its first 64 bytes and a hash of the whole, so
 * two long names sharing a prefix still get two locks.
 */
#define LOCK_NAME_MAX 200

static char *lock_file_path(const char *dir, const char *rb_name, const char *env)
{
	struct strbuf name = STRBUF_INIT;
	for (const char *p = rb_name; *p; p++)
		strbuf_addch(&name, (*p == '/' || *p == '.') ? '_' : *p);
	strbuf_addf(&name, "@%s", env ? env : "-");
	if (name.len > LOCK_NAME_MAX) {
		char hex[65];
		sha256_hex(name.buf, name.len, hex);
		name.len = 64;
		name.buf[64] = '\0';
		strbuf_addf(&name, "~%.32s", hex);
	}
	char *path = xasprintf("%s/%s.lock", dir, name.buf);
	strbuf_release(&name);
	return path;
}

/*
 * flock-based exclusive lock per runbook name and environment: the kernel drops
 * it when we die. Returns 0 (locked, or not exclusive), -1 busy (*holder: the
 * run holding it), -2 the lock could not be taken at all (*holder: why): an
 * exclusive runbook never runs unlocked.
 */
int lock_acquire(struct engine *e, char **holder)
{
	if (!e->rb->exclusive || !e->o->lock_dir)
		return 0;
	if (mkdir(e->o->lock_dir, 0755) && errno != EEXIST) {
		*holder = xasprintf("cannot create the lock folder '%s': %s", e->o->lock_dir, strerror(errno));
		return -2;
	}
	char *path = lock_file_path(e->o->lock_dir, e->rb->name, e->o->env);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		*holder = xasprintf("cannot open the lock file '%s': %s", path, strerror(errno));
		free(path);
		return -2;
	}
	free(path);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			*holder = xasprintf("cannot lock: %s", strerror(errno));
			close(fd);
			return -2;
		}
		char buf[64] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		*holder = xstrdup(buf[0] ? buf : "(unknown)");
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		char line[64];
		int len = snprintf(line, sizeof(line), "%s\n", e->run->id);
		if (pwrite(fd, line, (size_t)len, 0) < 0) {
			/* the lock holds anyway; only the name in it is missing */
		}
	}
	e->lock_fd = fd;
	/* SPEC 11: with the team history, the lock is also a lease there (busy: another machine runs it) */
	if (e->o->lease_take && e->o->lease_take(e->o->lease_ud, e->rb->name, e->o->env, e->run->id, holder)) {
		close(fd);
		e->lock_fd = -1;
		return -1;
	}
	return 0;
}

void lock_release(struct engine *e)
{
	if (e->lock_fd < 0)
		return;
	if (e->o->lease_release)
		e->o->lease_release(e->o->lease_ud);
	close(e->lock_fd);
	e->lock_fd = -1;
}

/*
 * Stores the files the runbook's load read (the runbook, its modules) in
 * the history, and returns them as a JSON array for the audit entry (owned).
 */
static char *sources_store(struct engine *e)
{
	size_t n = 0;
	const struct luahost_source *ls = luahost_sources(e->host, &n);
	struct store_source *src = xcalloc(n + 1, sizeof(*src));
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		src[i].path = ls[i].path;
		memcpy(src[i].sha256, ls[i].sha256, sizeof(src[i].sha256));
		src[i].text = ls[i].text;
		src[i].len = ls[i].len;
		src[i].signed_by = ls[i].signed_by[0] ? xstrdup(ls[i].signed_by) : NULL;
		src[i].signature = ls[i].signature;
		json_t *o = json_pack("{s:o, s:s, s:o}", "path", lbjson_string(ls[i].path), "sha256",
				      ls[i].sha256, "signed_by", lbjson_string(src[i].signed_by));
		json_array_append_new(arr, o);
	}
	stored(e, store_sources_save(e->st, e->run->id, src, n));
	for (size_t i = 0; i < n; i++)
		free(src[i].signed_by);
	free(src);
	return lbjson_dump(arr);
}

int engine_execute(struct luahost *host, struct runbook *rb, struct store *st,
		   const struct engine_opts *o, const struct engine_hooks *hooks,
		   struct run_rec **out)
{
	struct engine eng = { .host = host, .rb = rb, .st = st, .o = o, .hk = hooks, .lock_fd = -1 };
	struct engine *e = &eng;
	e->start_mono = clock_mono_ns();
	e->start_wall = clock_wall_ms();
	e->run = record_new(e);
	struct run_rec *r = e->run;
	*out = r;
	r->incident_ms = o->incident_ms;

	char *holder = NULL;
	int lk = lock_acquire(e, &holder);
	if (lk == -2) {
		r->status = ST_REFUSED;
		r->error = xasprintf("runbook '%s' is exclusive and its lock cannot be taken (%s); fix that, or set exclusive = false to run it unlocked",
				     rb->name, holder);
		r->ended_ms = r->started_ms;
		r->exit_code = EXIT_REFUSED;
		stored(e, store_run_insert(st, r));
		audit(e, "refused", NULL, json_pack("{s:s}", "reason", "lock"));
		free(holder);
		return EXIT_REFUSED;
	}
	if (lk) {
		r->status = ST_REFUSED;
		r->error = xasprintf("runbook '%s' is already running as run %s%s%s; wait for it to finish or stop it with `lifeboat abort %s`",
				     rb->name, holder, o->env ? " in environment " : "",
				     o->env ? o->env : "", holder);
		r->ended_ms = r->started_ms;
		r->exit_code = EXIT_REFUSED;
		stored(e, store_run_insert(st, r));
		audit(e, "refused", NULL, json_pack("{s:s, s:o}", "reason", "busy", "holder", lbjson_string(holder)));
		free(holder);
		return EXIT_REFUSED;
	}
	e->run_lock_dir = runlock_dir(store_path(st));
	e->run_lock_fd = runlock_acquire(e->run_lock_dir, r->id);
	if (store_run_insert(st, r) || store_check_file(st)) {
		/* nothing runs that the history cannot keep (SPEC 3: exit 7) */
		r->status = ST_FAILED;
		r->error = xasprintf("cannot record the run in the history, so nothing ran: %s", store_error(st));
		r->unrecorded = xstrdup(store_error(st));
		r->ended_ms = r->started_ms;
		r->exit_code = EXIT_UNRECORDED;
		runlock_release(e->run_lock_dir, r->id, e->run_lock_fd);
		free(e->run_lock_dir);
		lock_release(e);
		return EXIT_UNRECORDED;
	}
	char *sources = sources_store(e);
	audit(e, "run_started", NULL,
	      json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "runbook", lbjson_string(rb->name),
			"file", lbjson_string(rb->abspath), "sha256", lbjson_string(rb->sha256),
			"mode", lbjson_string(r->mode), "trigger", lbjson_string(r->trigger),
			"params", r->params_json ? lbjson_parse(r->params_json) : json_object(),
			"signed_by", lbjson_string(r->signed_by), "description", lbjson_string(rb->description),
			"sources", lbjson_parse(sources)));
	free(sources);
	return execute(e);
}

int engine_refuse(struct runbook *rb, struct store *st, const struct engine_opts *o,
		  const char *reason, const char *why, struct run_rec **out)
{
	struct engine eng = { .rb = rb, .st = st, .o = o, .lock_fd = -1 };
	struct engine *e = &eng;
	e->start_mono = clock_mono_ns();
	e->start_wall = clock_wall_ms();
	struct run_rec *r = record_new(e);
	e->run = r;
	*out = r;
	r->incident_ms = o->incident_ms;
	r->status = ST_REFUSED;
	r->error = scrub(e, xstrdup(why));
	r->ended_ms = r->started_ms;
	r->exit_code = EXIT_REFUSED;
	stored(e, store_run_insert(st, r));
	audit(e, "refused", NULL, json_pack("{s:o, s:o, s:o}", "reason", lbjson_string(reason),
					     "env", lbjson_string(o->env ? o->env : ""), "why", lbjson_string(r->error)));
	return EXIT_REFUSED;
}
