/*
 * Inside the central module (lib/central*.c): the connection and the one
 * bounded way to run a statement. Nothing outside lib/central*.c includes it.
 */
#ifndef LB_CENTRAL_INT_H
#define LB_CENTRAL_INT_H
#include <libpq-fe.h>

#include "central.h"

struct central {
	PGconn *conn;
	char *server;			/* user@host:port/db, owned */
	double timeout_s;
	int broken;			/* a timeout or a lost connection: reconnect */
	char *upsert[CENTRAL__COUNT];	/* central_upsert's statements, built on first use, owned */
	unsigned prepared;		/* bit i: statement i is prepared on conn, */
	char stmt_name[32][32];		/* under this name */
	char sqlstate[6];		/* the last error's SQLSTATE ("" when it had none) */
};

/*
 * Runs sql (several statements when params is NULL, else one with $1...)
 * within the connection's timeout: 0 with *out (PQclear it), or -1 with
 * *err naming the server. A timeout or a lost connection marks it broken.
 */
int central_exec(struct central *c, const char *sql, int nparams, const char *const *params,
		 PGresult **out, char **err);
/*
 * central_exec for a statement run again and again (each table's upsert):
 * prepared once per connection as "lifeboat_ID_HASH" (ID < 32, HASH of
 * the text), so the server parses it once and, after its first five runs,
 * keeps a generic plan. No session setting is changed to hurry that:
 * behind a transaction pooler it would reach other clients. Poolers:
 * session mode, or PgBouncer 1.21 and later with max_prepared_statements
 * set in transaction mode; one already prepared (42P05) is used.
 */
int central_exec_prepared(struct central *c, int id, const char *sql, int nparams,
			  const char *const *params, PGresult **out, char **err);
/*
 * Loads libpq (central-pq.c) once: 0, or -1 with *why (owned; why may be
 * NULL). Until it is loaded, the PQ functions answer as without a connection.
 */
int central_pq_load(char **why);
/* A value of a result as an owned string; NULL for SQL NULL (central-read.c). */
char *central_pq_text(const PGresult *res, int row, int col);
/* The upsert statement of table t (central-schema.c), owned by the caller. */
char *central_upsert_sql(struct central *c, enum central_table t, char **err);

#endif
