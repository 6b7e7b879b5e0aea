/*
 * The team history on PostgreSQL (SPEC 11): the only module that talks to
 * libpq (lib/central*.c include libpq-fe.h; nothing else does), as store*.c
 * are the only ones that talk to SQLite.
 *
 * The local SQLite history stays the source of truth. What it records is
 * queued in it (store-central.c) and copied here by a sender thread
 * (central-send.c) or by `lifeboat push`, never on the engine's path. The
 * central schema mirrors the local tables, each row keyed by the source
 * history's id plus its local keys (docs/central.md describes it); lifeboat
 * creates and migrates it under a lock, so runners starting at once are safe.
 *
 * Every wait on the server is bounded (the connection's timeout, default
 * CENTRAL_TIMEOUT_S, or the url's connect_timeout): a dead, hung or wrong
 * server is an error naming it, never a hang. Messages name the server as
 * user@host:port/db, never with a password.
 *
 * Errors: functions return 0 or -1 with *err (owned, lowercase, no full stop).
 */
#ifndef LB_CENTRAL_H
#define LB_CENTRAL_H
#include <stddef.h>
#include <stdint.h>

#define CENTRAL_TIMEOUT_S 5.0	/* connect and each statement, unless the url says connect_timeout */

/*
 * Whether url parses as a libpq connection string or URI: 0, -1 with *why
 * (owned), CENTRAL_NO_LIBPQ with *why when libpq cannot be loaded, or
 * CENTRAL_URL_PASSWORD when it holds a password (SPEC 11: the password
 * comes from password_env or PGPASSFILE, never the config file).
 */
#define CENTRAL_NO_LIBPQ (-2)
#define CENTRAL_URL_PASSWORD (-3)
int central_url_check(const char *url, char **why);
/* "user@host:port/db" for messages (owned), never the password; the url when it does not parse. */
char *central_server_name(const char *url);

struct central_opts {
	const char *url;	/* libpq conninfo or postgresql:// URI */
	const char *password;	/* NULL: libpq's own (PGPASSFILE, ~/.pgpass, trust, ...) */
	double timeout_s;	/* 0: the url's connect_timeout, else CENTRAL_TIMEOUT_S */
};

struct central;
/* Connects (bounded by the timeout). */
int central_connect(const struct central_opts *o, struct central **out, char **err);
void central_close(struct central *c);
const char *central_server(const struct central *c);	/* user@host:port/db */
/* Whether a failure broke the connection (timeout, server gone): reconnect before using it again. */
int central_broken(const struct central *c);

/*
 * Creates or brings the central schema up to this lifeboat's version, in one
 * transaction under an advisory lock: several runners starting at once
 * against an empty database migrate it once. A newer schema (a newer
 * lifeboat migrated it) is fine: migrations only add.
 */
int central_migrate(struct central *c, char **err);
int central_schema_version(void);	/* the version this lifeboat creates */

/*
 * Plain queries, for the readers (--central) and the scheduler's claims:
 * params as text ($1 ... $n, NULL for SQL NULL), values back as text.
 */
struct central_result;
int central_query(struct central *c, const char *sql, int nparams, const char *const *params,
		  struct central_result **out, char **err);
int central_rows(const struct central_result *r);
int central_cols(const struct central_result *r);
const char *central_col_name(const struct central_result *r, int col);
const char *central_value(const struct central_result *r, int row, int col);	/* NULL: SQL NULL */
long central_affected(const struct central_result *r);	/* rows an INSERT/UPDATE/DELETE changed */
void central_result_free(struct central_result *r);

/* ---- sending (central-send.c, store-central.c) ---- */

/*
 * The mirrored tables, in the order a pass sends them. Mutable ones (runs
 * to host instances) carry a version: a later one replaces the row, an
 * equal or older one changes nothing. The others are append-only.
 */
enum central_table {
	CENTRAL_RUNS, CENTRAL_PHASES, CENTRAL_STEPS, CENTRAL_ATTEMPTS, CENTRAL_INSTANCES,
	CENTRAL_NOTES, CENTRAL_AUDIT, CENTRAL_RUN_SOURCES, CENTRAL_TEXTS, CENTRAL__COUNT
};
const char *central_table_name(enum central_table t);	/* the central (and local) table */
int central_table_versioned(enum central_table t);

/*
 * The database's own random id (made with the schema): a history that last
 * sent to another database (replaced, or a new server) sends all it holds.
 */
int central_instance(struct central *c, char **id, char **err);
/* The source history: id (random, SPEC 11), the host it lives on, its path there. */
int central_source_save(struct central *c, const char *source_id, const char *host,
			const char *path, char **err);

struct central_counts {
	long rows[CENTRAL__COUNT];	/* sent, per table */
	long changed;			/* rows inserted or replaced */
	long conflicts;			/* keys whose content differed: kept in the table conflicts */
};
/*
 * Sends rows of table t: json is a JSON array of objects, one per row, each
 * with source_id, version and the local row's columns by name. One statement
 * (one transaction): nothing or everything. Adds to *counts.
 */
int central_upsert(struct central *c, enum central_table t, const char *json, long nrows,
		   struct central_counts *counts, char **err);

/* The timeout of each further statement (the final flush shortens it to what is left). */
void central_set_timeout(struct central *c, double s);

/* ---- push and the sender (central-send.c) ---- */

#define CENTRAL_FLUSH_S 3.0	/* how long a process flushes at exit, at most */

struct central_report {
	struct central_counts counts;
	long pending;		/* queue entries left (-1: unknown) */
	char *error;		/* the last error, owned; NULL when none */
	char source_id[33];	/* the history's, "" when not known */
	int renewed;		/* the source id was made (or renewed) now */
	int requeued;		/* every row was queued again: another database, or push --all */
};
void central_report_release(struct central_report *r);

/*
 * `lifeboat push`: sends everything the history at path has queued (a new
 * source id queues all it holds; so does `all`), batch by batch. 0 when
 * nothing is left, -1 with rep->error. Fills *rep either way.
 */
int central_push(const char *path, const struct central_opts *o, int all, struct central_report *rep);

/*
 * The background sender of a process that records runs: its own SQLite and
 * PostgreSQL connections, a pass whenever the history changed, reconnecting
 * with backoff while the server is away. Never fails: errors are kept for
 * the report. The strings in o are copied.
 */
struct central_sender;
struct central_sender *central_sender_start(const char *path, const struct central_opts *o);
/* Flushes for at most max_s, stops the thread, fills *rep, frees the sender. */
void central_sender_finish(struct central_sender *s, double max_s, struct central_report *rep);

/* ---- HA scheduling: claims (central-ha.c) ---- */

#define CENTRAL_CLAIM_STALE_S 300	/* an unfinished claim not looked after this long is orphaned */

struct central_claim {
	char *schedule_id;
	int64_t slot_unix;		/* the slot, unix seconds (UTC) */
	char *host;
	char *source;			/* the claiming history's source id */
	long pid;			/* the scheduler's, -1 unknown */
};
/*
 * Claims want's slot with a unique row (INSERT ... ON CONFLICT DO NOTHING):
 * 0 won, 1 somebody else holds it (*holder filled: central_claim_release),
 * -1 error (*err).
 */
int central_claim(struct central *c, const struct central_claim *want, struct central_claim *holder,
		  char **err);
/* The claim's drill ended (exit_code -1: none): outcome "finished", "skipped", ... */
int central_claim_finish(struct central *c, const char *schedule_id, int64_t slot_unix,
			 const char *run_id, int exit_code, const char *outcome, char **err);
/* The scheduler (source, pid) still looks after its unfinished claims. */
int central_claims_alive(struct central *c, const char *source, long pid, char **err);
/* The newest slot claimed of a schedule: *slot_unix, -1 when none. */
int central_last_slot(struct central *c, const char *schedule_id, int64_t *slot_unix, char **err);
/* Unfinished claims nobody looked after for stale_s seconds, newest first (*out: release each, free). */
int central_orphans(struct central *c, int stale_s, struct central_claim **out, size_t *n, char **err);
void central_claim_release(struct central_claim *cl);
/*
 * A run's heartbeat (schema 5): how often the sender of a process with a
 * run going tells the server it lives, and after how long without it
 * central_running no longer counts the run as running.
 */
#define CENTRAL_ALIVE_EVERY_MS 15000
#define CENTRAL_ALIVE_TTL_S "60"
/* Moves alive_at forward for the runs ids ("{id,id}", a text[] literal) of source_id: 0 or -1. */
int central_alive(struct central *c, const char *source_id, const char *ids, char **err);
/*
 * A run of runbook in env with status running in the team history whose
 * heartbeat is younger than CENTRAL_ALIVE_TTL_S: 1 (*run_id, *host owned), 0, -1.
 */
int central_running(struct central *c, const char *runbook, const char *env, char **run_id, char **host,
		    char **err);

/* ---- exclusive: leases (central-ha.c) ---- */

#define CENTRAL_LEASE_TTL_S 60		/* renewed every third of it while the run lives */

struct central_lease;
/*
 * Takes the lease of runbook in env for holder (a run id) on a connection
 * of its own and renews it from a thread until central_lease_end: 0 held
 * (*out), 1 held by another run (*other_run, *other_host owned; either
 * may be NULL), -1 the server cannot be reached (*err).
 */
int central_lease_take(const struct central_opts *co, const char *runbook, const char *env,
		       const char *holder, const char *host, int ttl_s, struct central_lease **out,
		       char **other_run, char **other_host, char **err);
/*
 * Ends the lease (NULL is fine) and deletes its row: NULL, or "run R on H"
 * (owned) when another run took it while this one held it (the lease
 * lapsed: the server was out of reach longer than its time).
 */
char *central_lease_end(struct central_lease *l);

/* ---- the --central readers (central-read.c) ---- */

enum central_fetch_what {
	CENTRAL_FETCH_RUNS,	/* history: the newest `limit` runs (of runbook), with their trends */
	CENTRAL_FETCH_RUN,	/* show, report, evidence: a run by id or prefix and its tree */
	CENTRAL_FETCH_RUNBOOK,	/* plan: the newest `limit` runs and drills (no probe runs) of runbook and their phases */
	CENTRAL_FETCH_AUDIT,	/* audit verify: the audit chain of source_id */
};
struct central_fetch {
	enum central_fetch_what what;
	const char *runbook;	/* RUNS: NULL for all; RUNBOOK: its name */
	int limit;		/* RUNS, RUNBOOK; <= 0: no limit */
	const char *run_id;	/* RUN: an id or a prefix */
	int whole_audit;	/* RUN: the run's history's whole audit chain (evidence), else its entries */
	int trend;		/* RUN: also its runbook's runs up to it, for the RTO trend (reports) */
	const char *source_id;	/* AUDIT */
};
/*
 * Copies what f asks for from the team history into st, a local history of
 * the reader's own (fresh, store_open'd), where the usual readers take it.
 */
struct store;
int central_fetch(struct central *c, const struct central_fetch *f, struct store *st, char **err);

/* The histories that sent runs or audit entries, by host. */
struct central_source {
	char *source_id;
	char *host, *path;	/* NULL when the source never said */
	long entries;		/* audit entries stored */
	long runs;		/* runs stored */
};
int central_sources(struct central *c, struct central_source **out, size_t *n, char **err);
void central_sources_free(struct central_source *s, size_t n);
/*
 * Where runs came from: for run_ids[i], (*out)[i] its source history (id,
 * host, path; all NULL when the server does not have it). Free with
 * central_sources_free(*out, n).
 */
int central_run_origins(struct central *c, const char *const *run_ids, size_t n,
			struct central_source **out, char **err);

#endif
