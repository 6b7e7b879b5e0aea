/*
 * Webhook notifications (SPEC 4): a JSON POST per event to the config's
 * webhook and to the notify URL of the role whose phase or step it is about,
 * and notify(role_or_url, message) from runbooks.
 *
 * Off the engine's path. The engine only queues: one row per delivery in the
 * history's outbox, inserted through the engine's own connection (a crash
 * loses nothing queued). A sender thread with its own connection posts them
 * in order, one URL's deliveries never overtaking each other, and retries a
 * failure after 1 s, 2 s, 4 s and 8 s before giving it up. A slow or dead
 * receiver therefore delays nothing but other deliveries: no step, no RTO
 * clock. notify_finish gives what is left one last try, bounded in time,
 * before the process exits; what still fails is counted for a warning and
 * stays in the outbox with its error. Nothing here fails a run.
 */
#ifndef LB_NOTIFY_H
#define LB_NOTIFY_H
#include "config.h"
#include "record.h"
#include "store.h"

#define NOTIFY_TRIES 5			/* attempts per delivery */
#define NOTIFY_FLUSH_S 5.0		/* notify_finish waits at most this long */
#define NOTIFY_TIMEOUT_S 5.0		/* per request */

struct notifier;
struct redactor;

/*
 * A notifier for cfg's webhooks, sending through its own connection to the
 * history at db_path; NULL when cfg sends nothing (no webhook and no role
 * with a notify URL). Messages are redacted with red (may be NULL) before
 * they are encoded. cfg and red must outlive the notifier.
 */
struct notifier *notify_new(const struct config *cfg, const char *db_path, int sync_full,
			    const struct redactor *red);
/*
 * Starts the sender thread. Call it from the main thread (it loads libcurl,
 * see http_global_init). 0, or -1 with *err (owned); deliveries then stay
 * queued in the outbox.
 */
int notify_start(struct notifier *n, char **err);

/*
 * Queues event ev about run, phase and step (indexes, -1 when none) with a
 * human message, through st, the caller's connection (the engine's). Cheap:
 * one insert per receiving URL. Events the config does not ask for are not
 * queued. run_finished also carries the audit log's head.
 */
void notify_event(struct notifier *n, struct store *st, enum config_event ev,
		  const struct run_rec *run, int phase, int step, const char *message);

/*
 * notify(role_or_url, message) from a runbook: to the URL, or to the role's
 * notify URL (else the webhook). 0, or -1 with *err (owned) when there is
 * nowhere to send it.
 */
int notify_message(struct notifier *n, struct store *st, const struct run_rec *run, int phase,
		   int step, const char *target, const char *message, char **err);

struct notify_stats {
	int sent;		/* delivered */
	int failed;		/* given up after NOTIFY_TRIES attempts */
	int pending;		/* still queued when notify_finish stopped waiting */
	char *last_error;	/* owned, NULL when none */
};

/*
 * Gives every queued delivery one last try (no more backoff), waits at most
 * max_s for that, stops the sender and fills *stats (release with
 * notify_stats_release). Frees the notifier, except that a sender still
 * stuck in a request is left to finish on its own.
 */
void notify_finish(struct notifier *n, double max_s, struct notify_stats *stats);
void notify_stats_release(struct notify_stats *stats);

#endif
