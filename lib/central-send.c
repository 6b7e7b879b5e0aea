/*
 * Sending the queue (SPEC 11): `lifeboat push` and the sender thread of a
 * process that records runs share one pass: read a batch from the history
 * (store-central.c), upsert each table's rows in one statement, then delete
 * the batch's entries. A pass that fails deletes nothing: sending again is
 * harmless (versions, keys), so a crash or an outage at any point loses
 * nothing and duplicates nothing.
 *
 * The sender never touches the engine's connection or its thread: it polls
 * the history's data_version every POLL_MS and sends what changed, so the
 * engine's cost is the triggers' inserts in transactions it makes anyway.
 */
#include "central.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "store-central.h"
#include "util.h"

#define POLL_MS 100	/* how often the sender looks for changes: a short tail to flush at exit */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000
#define SENDER_NICE 10
#define DELETE_EVERY_MS 2000	/* sent entries leave the queue this often (and at the end) */

void central_report_release(struct central_report *r)
{
	free(r->error);
	r->error = NULL;
}

static void set_error(struct central_report *rep, char *err)
{
	free(rep->error);
	rep->error = err;
}

/*
 * A connection made ready: schema migrated, the source recorded, and all
 * queued again when the history last sent to another database.
 */
static int link_up(const struct central_opts *o, struct store_central *q, const char *path,
		   struct central_report *rep, struct central **out, char **err)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	struct central *c;
	char *instance = NULL;
	int requeued = 0;
	if (central_connect(o, &c, err))
		return -1;
	if (central_migrate(c, err) || central_instance(c, &instance, err) ||
	    store_central_server(q, instance, &requeued, err) ||
	    central_source_save(c, rep->source_id, host, path, err)) {
		free(instance);
		central_close(c);
		return -1;
	}
	free(instance);
	rep->requeued |= requeued;
	*out = c;
	return 0;
}

/*
 * One pass over the entries after *sent, in one snapshot of the history,
 * which it moves on (the caller deletes the sent entries when it likes): 1
 * when it sent some, 0 when there were none, -1 on error.
 */
static int pass(struct store_central *q, struct central *c, const char *source_id, int64_t *sent,
		struct central_counts *counts, char **err)
{
	int64_t hi;
	if (store_central_begin(q, *sent, &hi, err))
		return -1;
	int rc = 0;
	enum central_table t;
	char *json;
	long n;
	while (hi && (rc = store_central_chunk(q, source_id, &t, &json, &n, err)) > 0) {
		rc = central_upsert(c, t, json, n, counts, err);
		free(json);
		if (rc)
			break;
	}
	store_central_end(q);
	if (rc < 0 || !hi)
		return rc < 0 ? -1 : 0;
	*sent = hi;
	return 1;
}

int central_push(const char *path, const struct central_opts *o, int all, struct central_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->pending = -1;
	struct store_central *q;
	struct central *c = NULL;
	char *err = NULL;
	int rc = -1;
	if (store_central_open(path, &q, &err)) {
		set_error(rep, err);
		return -1;
	}
	if (store_central_source(q, rep->source_id, &rep->renewed, &err) ||
	    (all && !rep->renewed && store_central_requeue(q, &err)) ||
	    link_up(o, q, path, rep, &c, &err))
		goto out;
	rep->requeued |= all;
	int r;
	int64_t sent = 0;
	while ((r = pass(q, c, rep->source_id, &sent, &rep->counts, &err)) > 0)
		if (store_central_sent(q, sent, &err)) {
			r = -1;
			break;
		}
	rc = r;
out:
	if (err)
		set_error(rep, err);
	err = NULL;
	if (store_central_pending(q, &rep->pending, &err)) {
		free(err);
		rep->pending = -1;
	}
	central_close(c);
	store_central_close(q);
	return rc || rep->pending ? -1 : 0;
}

/* ---- the sender thread ---- */

struct central_sender {
	char *path, *url, *password;	/* owned copies */
	struct central_opts o;		/* pointing at them */
	pthread_t thread;
	pthread_mutex_t mu;		/* guards what follows */
	pthread_cond_t cv;
	int stop;			/* flush, then end */
	int64_t deadline_ns;		/* clock_mono_ns() when the flush must end */
	int done;
	struct central_report rep;
};

static struct central_sender *abandoned;	/* a sender stuck past its deadline: never freed */

static void sender_error(struct central_sender *s, char *err)
{
	pthread_mutex_lock(&s->mu);
	set_error(&s->rep, err);
	pthread_mutex_unlock(&s->mu);
}

/* Seconds left before the flush's deadline; a large number before the flush. */
static double time_left(struct central_sender *s, int final)
{
	if (!final)
		return 1e9;
	pthread_mutex_lock(&s->mu);
	double left = (double)(s->deadline_ns - clock_mono_ns()) / 1e9;
	pthread_mutex_unlock(&s->mu);
	return left;
}

/*
 * One pass while the process works (what the engine writes meanwhile waits
 * for the next poll, so that the server gets batches, not a statement per
 * step); at the flush, passes until the queue is empty or the time is up.
 * 0, or -1 with the link dropped.
 */
static int drain(struct central_sender *s, struct store_central *q, struct central **c,
		 const char *source_id, int64_t *sent, int final)
{
	struct central_counts counts = { 0 };
	char *err = NULL;
	int r;
	do {
		double left = time_left(s, final);
		if (left < 0.05)
			break;
		central_set_timeout(*c, left < CENTRAL_TIMEOUT_S ? left : CENTRAL_TIMEOUT_S);
		r = pass(q, *c, source_id, sent, &counts, &err);
	} while (r > 0 && final);
	pthread_mutex_lock(&s->mu);
	for (int t = 0; t < CENTRAL__COUNT; t++)
		s->rep.counts.rows[t] += counts.rows[t];
	s->rep.counts.changed += counts.changed;
	s->rep.counts.conflicts += counts.conflicts;
	pthread_mutex_unlock(&s->mu);
	if (!err)
		return 0;
	sender_error(s, err);
	central_close(*c);
	*c = NULL;
	return -1;
}

/*
 * The heartbeat of the runs this process has going (schema 5), so that an
 * HA scheduler elsewhere can tell a run still going from one whose process
 * was killed: *found says whether there was one (while there was none, the
 * next pass looks again), *at when it was sent. A failure is left to the
 * next pass, which finds the link broken.
 */
static void beat(struct store_central *q, struct central *c, const char *source_id, int *found,
		 int64_t *at)
{
	char *ids = NULL, *err = NULL;
	if (!store_central_running(q, (long)getpid(), &ids, &err) && ids)
		central_alive(c, source_id, ids, &err);
	*found = ids != NULL;
	*at = clock_wall_ms();
	free(ids);
	free(err);
}

static void *sender_main(void *arg)
{
	struct central_sender *s = arg;
	/*
	 * A lower priority for this thread alone (Linux nices threads one by
	 * one): on a busy machine the engine's steps get the CPU first.
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), SENDER_NICE);
	struct store_central *q = NULL;
	struct central *c = NULL;
	char *err = NULL;
	int64_t retry_ms = RETRY_FIRST_MS, next_connect = 0;
	int have_source = 0;
	struct central_report mine = { 0 };	/* this thread's: source id, renewed, requeued */
	int64_t sent = 0, deleted = 0, deleted_ms = clock_wall_ms();	/* queue entries */
	int64_t beat_ms = 0;
	int beating = 0;	/* the last beat found a run of this process going */
	if (store_central_open(s->path, &q, &err)) {
		sender_error(s, err);
		goto out;
	}
	for (int final = 0, dirty = 1; !final;) {
		pthread_mutex_lock(&s->mu);
		if (!s->stop) {
			int64_t at = clock_mono_ns() + (int64_t)POLL_MS * 1000000;
			struct timespec ts = { .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 };
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
		final = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (!have_source) {
			if (store_central_source(q, mine.source_id, &mine.renewed, &err)) {
				sender_error(s, err);
				err = NULL;
				continue;
			}
			have_source = 1;
			pthread_mutex_lock(&s->mu);
			memcpy(s->rep.source_id, mine.source_id, sizeof(mine.source_id));
			s->rep.renewed = mine.renewed;
			pthread_mutex_unlock(&s->mu);
		}
		dirty |= store_central_changed(q);
		int beat_due = c && beating && clock_wall_ms() - beat_ms >= CENTRAL_ALIVE_EVERY_MS;
		if (!dirty && !final && !beat_due)
			continue;
		if (!c && (final || clock_wall_ms() >= next_connect)) {
			struct central_opts o = s->o;
			double left = time_left(s, final);
			if (left < 0.05)
				break;
			if (final && left < CENTRAL_TIMEOUT_S)
				o.timeout_s = left;
			int failed = link_up(&o, q, s->path, &mine, &c, &err);
			pthread_mutex_lock(&s->mu);
			s->rep.requeued |= mine.requeued;
			pthread_mutex_unlock(&s->mu);
			if (failed) {
				sender_error(s, err);
				err = NULL;
				next_connect = clock_wall_ms() + retry_ms;
				retry_ms = retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
				continue;
			}
			retry_ms = RETRY_FIRST_MS;
		}
		if (c)
			dirty = drain(s, q, &c, mine.source_id, &sent, final) != 0;
		if (c && !final && (!beating || beat_due))
			beat(q, c, mine.source_id, &beating, &beat_ms);
		if (sent > deleted && clock_wall_ms() - deleted_ms >= DELETE_EVERY_MS) {
			if (store_central_sent(q, sent, &err)) {
				sender_error(s, err);
				err = NULL;
			} else {
				deleted = sent;
			}
			deleted_ms = clock_wall_ms();
		}
	}
out:
	central_close(c);
	if (q && sent > deleted && store_central_sent(q, sent, &err)) {
		sender_error(s, err);
		err = NULL;
	}
	if (q) {
		long n;
		char *e = NULL;
		if (store_central_pending(q, &n, &e))
			n = -1;
		free(e);
		pthread_mutex_lock(&s->mu);
		s->rep.pending = n;
		pthread_mutex_unlock(&s->mu);
	}
	store_central_close(q);
	pthread_mutex_lock(&s->mu);
	s->done = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void sender_free(struct central_sender *s)
{
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	central_report_release(&s->rep);
	free(s->path);
	free(s->url);
	if (s->password)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s);
}

struct central_sender *central_sender_start(const char *path, const struct central_opts *o)
{
	struct central_sender *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->url = xstrdup(o->url);
	s->password = xstrdup(o->password);
	s->o = (struct central_opts){ .url = s->url, .password = s->password, .timeout_s = o->timeout_s };
	s->rep.pending = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&s->thread, NULL, sender_main, s);
	if (rc) {
		s->rep.error = xasprintf("cannot start the central sender: %s", strerror(rc));
		s->done = 1;
	}
	return s;
}

void central_sender_finish(struct central_sender *s, double max_s, struct central_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	int started = !s->done;
	s->stop = 1;
	s->deadline_ns = clock_mono_ns() + (int64_t)(max_s * 1e9);
	pthread_cond_broadcast(&s->cv);
	/* every wait in the thread is bounded by the deadline; a second more for its last writes */
	int64_t until = s->deadline_ns + 1000000000LL;
	while (!s->done) {
		struct timespec ts = { .tv_sec = until / 1000000000, .tv_nsec = until % 1000000000 };
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	}
	int done = s->done;
	*rep = s->rep;
	rep->error = xstrdup(s->rep.error);
	pthread_mutex_unlock(&s->mu);
	if (!done) {
		pthread_detach(s->thread);
		abandoned = s;
		return;
	}
	if (started)
		pthread_join(s->thread, NULL);
	sender_free(s);
}
