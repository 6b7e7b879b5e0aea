/*
 * The local queue of the team history (SPEC 11), part of the store module:
 * what the history records is queued in it, in the same transaction, by
 * triggers (history version 8), once a source id exists. The sender
 * (central-send.c) and `lifeboat push` read it in batches, each table's
 * rows as the JSON central_upsert takes, and delete what was sent.
 *
 * Each queue entry names a row by its local key; its sequence number (never
 * reused: AUTOINCREMENT) is the row's version, so the content sent with a
 * version is always the one that version wrote, whoever sends it.
 *
 * The source id is random and is renewed (every row queued again under the
 * new one) when the history file turns up copied or restored: its device,
 * inode or birth time is not the one stored with the id.
 */
#ifndef LB_STORE_CENTRAL_H
#define LB_STORE_CENTRAL_H
#include <stdint.h>

#include "central.h"

/* History migration 8 (store.c's migrations[]): the queue, the source id, the triggers. */
extern const char store_central_migration[];

struct store_central;
/* Its own connection to the history at path (created and migrated when needed). */
int store_central_open(const char *path, struct store_central **out, char **err);
void store_central_close(struct store_central *q);

/*
 * The history's source id (32 hex digits and NUL). Creates it, or renews it
 * when the file is not the one it was made for; then (*renewed = 1) every
 * row the history holds is queued again, in one transaction.
 */
int store_central_source(struct store_central *q, char id[33], int *renewed, char **err);

/*
 * The central database this history sends to (central_instance): when it is
 * not the one it sent to before, every row is queued again (*requeued = 1).
 */
int store_central_server(struct store_central *q, const char *server_id, int *requeued, char **err);
/* Every row the history holds, queued again (`push --all`). */
int store_central_requeue(struct store_central *q, char **err);

/*
 * Reading what waits, in one read transaction (a snapshot): begin sets *hi
 * to the newest entry (0: none after `after`, whose entries were sent:
 * a sender deletes sent entries now and then, not after every pass, to take
 * the write lock seldom). chunk then gives the rows of each table with an
 * entry after `after`, table by table, up to 1000 rows or 4 MiB at a time,
 * as the JSON central_upsert takes: 1 with *t, *json (owned) and *n, 0 when
 * all were given, -1 on error. end closes the snapshot.
 */
int store_central_begin(struct store_central *q, int64_t after, int64_t *hi, char **err);
int store_central_chunk(struct store_central *q, const char *source_id, enum central_table *t,
			char **json, long *n, char **err);
void store_central_end(struct store_central *q);
/* The entries up to hi were stored centrally: they go. */
int store_central_sent(struct store_central *q, int64_t hi, char **err);
/* Entries waiting (rows may repeat: one per change). */
int store_central_pending(struct store_central *q, long *n, char **err);
/*
 * The runs process pid has going in the history, as a text[] literal
 * ("{id,id}", owned) in *ids, NULL when none: 0, or -1 with *err.
 */
int store_central_running(struct store_central *q, long pid, char **ids, char **err);
/* 1 when another connection changed the history since the last call (cheap, for polling). */
int store_central_changed(struct store_central *q);

#endif
