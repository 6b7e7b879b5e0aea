/*
 * Webhooks behind notify.h. The queueing side runs on the engine's thread
 * and only inserts rows; the sender thread owns everything slow: its own
 * history connection and the HTTP requests. They share a mutex that guards
 * a few flags and counters, never held across I/O.
 *
 * Order: each pass reads the owner's pending rows oldest first and, per
 * URL, stops at the first one that cannot go now (failed just now, or
 * waiting for its retry), so a receiver sees its events in the order they
 * happened.
 */
#include "notify.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "json.h"
#include "redact.h"
#include "report.h"
#include "util.h"

#define CONNECT_TIMEOUT_S 2.0
#define RETRY_FIRST_MS 1000
#define STORE_RETRY_MS 1000	/* the outbox could not be read: look again after this */

struct notifier {
	const struct config *cfg;	/* borrowed */
	const struct redactor *red;	/* borrowed, may be NULL */
	char *db_path;			/* owned */
	int sync_full;
	char *owner;			/* "pid@host:random", owned: which rows are ours */
	struct store *st;		/* the sender's connection, owned */
	pthread_t thread;
	int started;

	pthread_mutex_t mu;		/* guards what follows */
	pthread_cond_t cv;
	int kick;			/* something was queued */
	int stop;			/* notify_finish: one last pass, then leave */
	int64_t final_deadline_ns;	/* clock_mono_ns() when the last pass must end */
	int done;			/* the thread has left */
	int queued, sent, failed;
	char *last_error;		/* owned */
};

/* A notifier whose sender was still in a request when notify_finish gave up on it. */
static struct notifier *abandoned;

static int sends_anything(const struct config *cfg)
{
	if (cfg->webhook)
		return 1;
	for (size_t i = 0; i < cfg->nroles; i++)
		if (cfg->roles[i].notify)
			return 1;
	return 0;
}

struct notifier *notify_new(const struct config *cfg, const char *db_path, int sync_full,
			    const struct redactor *red)
{
	if (!cfg || !sends_anything(cfg))
		return NULL;
	struct notifier *n = xcalloc(1, sizeof(*n));
	n->cfg = cfg;
	n->red = red;
	n->db_path = xstrdup(db_path);
	n->sync_full = sync_full;
	char host[256] = "", tag[13];
	gethostname(host, sizeof(host) - 1);
	random_hex(tag, 12);
	n->owner = xasprintf("%ld@%s:%s", (long)getpid(), host, tag);
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	return n;
}

static void free_notifier(struct notifier *n)
{
	store_close(n->st);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	free(n->db_path);
	free(n->owner);
	free(n->last_error);
	free(n);
}

static void set_error(struct notifier *n, const char *err)
{
	pthread_mutex_lock(&n->mu);
	free(n->last_error);
	n->last_error = xstrdup(err);
	pthread_mutex_unlock(&n->mu);
}

/* ------------------------------------------------------------------------ */
/* queueing (the engine's thread) */

/*
 * The SPEC 4 document; text makes it a Slack or Mattermost incoming-webhook
 * message. Built through lib/json.c like the JSON report, whose rto and rpo
 * objects it carries, so the two agree on every value and on text that is
 * not UTF-8.
 */
static char *body_json(struct notifier *n, const char *event, const struct run_rec *run, int pi,
		       int si, const char *role, const char *message, const char *audit_head)
{
	const struct phase_rec *p = pi >= 0 && (size_t)pi < run->nphases ? &run->phases[pi] : NULL;
	const struct step_rec *s = p && si >= 0 && (size_t)si < p->nsteps ? &p->steps[si] : NULL;
	char *msg = redact_string(n->red, message ? message : "");
	char iso[32];
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "run_id", lbjson_string(run->id));
	json_object_set_new(o, "runbook", lbjson_string(run->runbook));
	json_object_set_new(o, "env", lbjson_string(run->env));
	json_object_set_new(o, "mode", lbjson_string(run->mode));
	json_object_set_new(o, "phase", lbjson_string(p ? p->name : NULL));
	json_object_set_new(o, "step", lbjson_string(s ? s->name : NULL));
	json_object_set_new(o, "role", lbjson_string(role));
	json_object_set_new(o, "message", lbjson_string(msg));
	json_object_set_new(o, "at", json_string(clock_iso8601(clock_wall_ms(), iso)));
	json_object_set_new(o, "status", json_string(status_name(run->status)));
	json_object_set_new(o, "rto", report_rto_json(run));
	json_object_set_new(o, "rpo", report_rpo_json(run));
	char *text = xasprintf("[lifeboat] %s %s%s%s \xc2\xb7 run %s: %s", run->runbook ? run->runbook : "?",
			       run->mode ? run->mode : "run", run->env ? " in " : "",
			       run->env ? run->env : "", run->id ? run->id : "?", msg);
	json_object_set_new(o, "text", lbjson_string(text));
	if (audit_head)
		json_object_set_new(o, "audit_head", lbjson_string(audit_head));
	if (run->exit_code >= 0)
		json_object_set_new(o, "exit_code", json_integer(run->exit_code));
	free(text);
	free(msg);
	return lbjson_dump(o);
}

static void queue(struct notifier *n, struct store *st, const char *event, const char *run_id,
		  const char *const *urls, size_t nurls, const char *body)
{
	int added = 0;
	for (size_t i = 0; i < nurls; i++) {
		if (store_outbox_add(st, n->owner, run_id, event, urls[i], body))
			set_error(n, store_error(st));
		else
			added++;
	}
	if (!added)
		return;
	pthread_mutex_lock(&n->mu);
	n->queued += added;
	n->kick = 1;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

static const char *role_of(const struct run_rec *run, int pi, int si)
{
	if (pi < 0 || (size_t)pi >= run->nphases)
		return NULL;
	const struct phase_rec *p = &run->phases[pi];
	if (si >= 0 && (size_t)si < p->nsteps && p->steps[si].role)
		return p->steps[si].role;
	return p->role;
}

void notify_event(struct notifier *n, struct store *st, enum config_event ev,
		  const struct run_rec *run, int phase, int step, const char *message)
{
	if (!n || !config_wants_event(n->cfg, ev))
		return;
	const char *urls[2];
	size_t nurls = 0;
	const char *role = role_of(run, phase, step);
	if (n->cfg->webhook)
		urls[nurls++] = n->cfg->webhook;
	const struct config_role *r = role ? config_role(n->cfg, role) : NULL;
	if (r && r->notify && (!n->cfg->webhook || strcmp(r->notify, n->cfg->webhook)))
		urls[nurls++] = r->notify;
	if (!nurls)
		return;
	char *head = NULL;
	if (ev == CONFIG_EVENT_RUN_FINISHED && store_audit_head(st, &head))
		head = NULL;
	const char *name = config_event_name(ev);
	char *body = body_json(n, name, run, phase, step, role, message, head);
	queue(n, st, name, run->id, urls, nurls, body);
	free(body);
	free(head);
}

int notify_message(struct notifier *n, struct store *st, const struct run_rec *run, int phase,
		   int step, const char *target, const char *message, char **err)
{
	*err = NULL;
	const char *url = NULL, *role = NULL;
	if (strstr(target, "://")) {
		if (strncmp(target, "http://", 7) && strncmp(target, "https://", 8)) {
			*err = xasprintf("'%s' is not an http:// or https:// URL", target);
			return -1;
		}
		url = target;
		role = role_of(run, phase, step);
	} else {
		const struct config_role *r = n ? config_role(n->cfg, target) : NULL;
		if (n && !r) {
			*err = xasprintf("no role '%s' in %s and not a URL; name a role of the config or give an http(s) URL",
					 target, n->cfg->path);
			return -1;
		}
		role = target;
		url = r && r->notify ? r->notify : n ? n->cfg->webhook : NULL;
	}
	if (!n || !url) {
		*err = xasprintf("nowhere to send it: %s", n ? "the role has no notify URL and the config no webhook" :
				 "no webhook or role notify URL is configured (notify: in lifeboat.yaml)");
		return -1;
	}
	char *body = body_json(n, "notify", run, phase, step, role, message, NULL);
	const char *urls[1] = { url };
	queue(n, st, "notify", run->id, urls, 1, body);
	free(body);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* sending (the sender thread) */

static int post(struct notifier *n, const struct outbox_item *it, double timeout_s, char **err)
{
	char *headers[] = { "Content-Type: application/json", NULL };
	struct http_request rq = {
		.url = it->url, .method = "POST", .body = it->body, .body_len = strlen(it->body),
		.headers = headers, .connect_timeout_s = CONNECT_TIMEOUT_S < timeout_s ? CONNECT_TIMEOUT_S : timeout_s,
		.timeout_s = timeout_s, .max_body = 4096,
	};
	struct http_response rs;
	(void)n;
	if (http_perform(&rq, &rs, err))
		return -1;
	int ok = rs.status >= 200 && rs.status < 300;
	if (!ok)
		*err = xasprintf("POST %s: the receiver answered %ld", it->url, rs.status);
	http_response_release(&rs);
	return ok ? 0 : -1;
}

static int url_blocked(const char *const *blocked, size_t n, const char *url)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(blocked[i], url))
			return 1;
	return 0;
}

static int stop_requested(struct notifier *n)
{
	pthread_mutex_lock(&n->mu);
	int stop = n->stop;
	pthread_mutex_unlock(&n->mu);
	return stop;
}

/*
 * One pass over the pending deliveries. final: the last one, ignoring the
 * backoff, bounded by final_deadline_ns. Returns the wall ms of the next
 * retry due, 0 when none.
 */
static int64_t send_pass(struct notifier *n, int final)
{
	struct outbox_item *items = NULL;
	size_t count = 0;
	if (store_outbox_pending(n->st, n->owner, &items, &count)) {
		set_error(n, store_error(n->st));
		return final ? 0 : clock_wall_ms() + STORE_RETRY_MS;
	}
	const char **blocked = xcalloc(count + 1, sizeof(*blocked));
	size_t nblocked = 0;
	int64_t next_due = 0;
	for (size_t i = 0; i < count; i++) {
		struct outbox_item *it = &items[i];
		if (url_blocked(blocked, nblocked, it->url))
			continue;
		int64_t now = clock_wall_ms();
		double timeout = NOTIFY_TIMEOUT_S;
		if (final) {
			pthread_mutex_lock(&n->mu);
			double left = (double)(n->final_deadline_ns - clock_mono_ns()) / 1e9;
			pthread_mutex_unlock(&n->mu);
			if (left < 0.05)
				break;
			if (left < timeout)
				timeout = left;
		} else if (stop_requested(n)) {
			break;	/* the last pass takes over, with its bound */
		} else if (it->next_ms > now) {
			blocked[nblocked++] = it->url;
			if (!next_due || it->next_ms < next_due)
				next_due = it->next_ms;
			continue;
		}
		char *err = NULL;
		if (!post(n, it, timeout, &err)) {
			if (store_outbox_sent(n->st, it->id))
				set_error(n, store_error(n->st));
			pthread_mutex_lock(&n->mu);
			n->sent++;
			pthread_mutex_unlock(&n->mu);
			continue;
		}
		int attempts = it->attempts + 1;
		int give_up = attempts >= NOTIFY_TRIES;
		int64_t retry_at = clock_wall_ms() + ((int64_t)RETRY_FIRST_MS << (attempts - 1));
		if (store_outbox_failed(n->st, it->id, attempts, retry_at, give_up, err))
			set_error(n, store_error(n->st));
		pthread_mutex_lock(&n->mu);
		free(n->last_error);
		n->last_error = err;
		if (give_up)
			n->failed++;
		pthread_mutex_unlock(&n->mu);
		blocked[nblocked++] = it->url;
		/* given up: the next delivery to that URL may go at once */
		int64_t due = give_up ? clock_wall_ms() : retry_at;
		if (!next_due || due < next_due)
			next_due = due;
	}
	for (size_t i = 0; i < count; i++)
		outbox_item_release(&items[i]);
	free(items);
	free(blocked);
	return next_due;
}

static void *sender_main(void *arg)
{
	struct notifier *n = arg;
	int64_t next_due = 0;
	for (;;) {
		pthread_mutex_lock(&n->mu);
		while (!n->kick && !n->stop) {
			if (!next_due) {
				pthread_cond_wait(&n->cv, &n->mu);
				continue;
			}
			int64_t wait_ms = next_due - clock_wall_ms();
			if (wait_ms <= 0)
				break;
			int64_t at = clock_mono_ns() + wait_ms * 1000000;
			struct timespec ts = { .tv_sec = at / 1000000000, .tv_nsec = at % 1000000000 };
			pthread_cond_timedwait(&n->cv, &n->mu, &ts);
		}
		int final = n->stop;
		n->kick = 0;
		pthread_mutex_unlock(&n->mu);
		next_due = send_pass(n, final);
		if (final)
			break;
	}
	pthread_mutex_lock(&n->mu);
	n->done = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

int notify_start(struct notifier *n, char **err)
{
	*err = NULL;
	if (!n || n->started)
		return 0;
	if (http_global_init()) {
		/* http_perform will say why, per delivery; the outbox keeps them */
	}
	if (store_open(n->db_path, n->sync_full, &n->st, err))
		return -1;
	int rc = pthread_create(&n->thread, NULL, sender_main, n);
	if (rc) {
		*err = xasprintf("cannot start the webhook sender: %s", strerror(rc));
		store_close(n->st);
		n->st = NULL;
		return -1;
	}
	n->started = 1;
	return 0;
}

static void take_stats(struct notifier *n, struct notify_stats *stats)
{
	stats->sent = n->sent;
	stats->failed = n->failed;
	stats->pending = n->queued - n->sent - n->failed;
	stats->last_error = n->last_error;
	n->last_error = NULL;
}

void notify_finish(struct notifier *n, double max_s, struct notify_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (!n)
		return;
	if (!n->started) {
		take_stats(n, stats);
		free_notifier(n);
		return;
	}
	pthread_mutex_lock(&n->mu);
	n->stop = 1;
	n->final_deadline_ns = clock_mono_ns() + (int64_t)(max_s * 1e9);
	pthread_cond_signal(&n->cv);
	/* a request in flight ends by its own timeout, at most NOTIFY_TIMEOUT_S after the bound */
	int64_t until = n->final_deadline_ns + (int64_t)(NOTIFY_TIMEOUT_S * 1e9);
	while (!n->done) {
		struct timespec ts = { .tv_sec = until / 1000000000, .tv_nsec = until % 1000000000 };
		if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
			break;
	}
	int done = n->done;
	take_stats(n, stats);
	pthread_mutex_unlock(&n->mu);
	if (!done) {
		pthread_detach(n->thread);
		abandoned = n;	/* the thread still uses it: never freed */
		return;
	}
	pthread_join(n->thread, NULL);
	free_notifier(n);
}

void notify_stats_release(struct notify_stats *stats)
{
	free(stats->last_error);
	stats->last_error = NULL;
}
