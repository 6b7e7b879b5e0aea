/*
 * libpq, loaded with dlopen on first use rather than linked (as http.c does
 * with libcurl): with its Kerberos, LDAP, GnuTLS and p11-kit dependencies
 * it cost every lifeboat process about 3 ms of start-up, two thirds of it,
 * and only the team history (SPEC 11) talks to PostgreSQL. The functions
 * lib/central*.c call are defined here under libpq's own names, each
 * forwarding to the loaded library, so that code reads as plain libpq; one
 * that is not listed below fails the link. central_pq_load says why the
 * library could not be loaded; until it is, the functions answer as libpq
 * does without a connection (NULL, CONNECTION_BAD, a no-op for a free).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "central-int.h"
#include "util.h"

#define PQ_SONAME "libpq.so.5"

/*
 * The functions: F(return type, name, parameters, arguments, the answer
 * when libpq is not loaded) and V(name, parameters, arguments) for those
 * returning nothing.
 */
#define PQ_FUNCTIONS(F, V)                                                                        \
	F(PQconninfoOption *, PQconninfoParse, (const char *conninfo, char **errmsg),             \
	  (conninfo, errmsg), (errmsg ? (*errmsg = NULL) : NULL, (PQconninfoOption *)NULL))        \
	V(PQconninfoFree, (PQconninfoOption *o), (o))                                             \
	V(PQfreemem, (void *p), (p))                                                              \
	F(PGconn *, PQconnectStartParams,                                                         \
	  (const char *const *keywords, const char *const *values, int expand_dbname),          \
	  (keywords, values, expand_dbname), NULL)                                                \
	F(PostgresPollingStatusType, PQconnectPoll, (PGconn *c), (c), PGRES_POLLING_FAILED)      \
	F(ConnStatusType, PQstatus, (const PGconn *c), (c), CONNECTION_BAD)                     \
	F(char *, PQerrorMessage, (const PGconn *c), (c), NULL)                                  \
	F(int, PQsocket, (const PGconn *c), (c), -1)                                            \
	F(int, PQsetnonblocking, (PGconn *c, int arg), (c, arg), -1)                            \
	F(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *c, PQnoticeProcessor p, void *arg), \
	  (c, p, arg), NULL)                                                                      \
	V(PQfinish, (PGconn *c), (c))                                                             \
	F(int, PQsendQuery, (PGconn *c, const char *q), (c, q), 0)                              \
	F(int, PQsendQueryParams,                                                                 \
	  (PGconn *c, const char *q, int n, const Oid *types, const char *const *values,        \
	   const int *lengths, const int *formats, int result_format),                          \
	  (c, q, n, types, values, lengths, formats, result_format), 0)                          \
	F(int, PQsendPrepare,                                                                     \
	  (PGconn *c, const char *name, const char *q, int n, const Oid *types),                 \
	  (c, name, q, n, types), 0)                                                              \
	F(int, PQsendQueryPrepared,                                                               \
	  (PGconn *c, const char *name, int n, const char *const *values, const int *lengths,    \
	   const int *formats, int result_format),                                               \
	  (c, name, n, values, lengths, formats, result_format), 0)                              \
	F(int, PQflush, (PGconn *c), (c), -1)                                                   \
	F(int, PQconsumeInput, (PGconn *c), (c), 0)                                             \
	F(int, PQisBusy, (PGconn *c), (c), 0)                                                   \
	F(PGresult *, PQgetResult, (PGconn *c), (c), NULL)                                       \
	F(ExecStatusType, PQresultStatus, (const PGresult *r), (r), PGRES_FATAL_ERROR)          \
	F(char *, PQresultErrorMessage, (const PGresult *r), (r), NULL)                          \
	F(char *, PQresultErrorField, (const PGresult *r, int code), (r, code), NULL)            \
	F(int, PQntuples, (const PGresult *r), (r), 0)                                          \
	F(int, PQnfields, (const PGresult *r), (r), 0)                                          \
	F(char *, PQfname, (const PGresult *r, int col), (r, col), NULL)                         \
	F(char *, PQgetvalue, (const PGresult *r, int row, int col), (r, row, col), NULL)        \
	F(int, PQgetisnull, (const PGresult *r, int row, int col), (r, row, col), 1)            \
	F(int, PQgetlength, (const PGresult *r, int row, int col), (r, row, col), 0)            \
	F(char *, PQcmdTuples, (PGresult *r), (r), NULL)                                         \
	V(PQclear, (PGresult *r), (r))

#define PQ_POINTER(ret, name, params, args, fail) static ret(*p_##name) params;
#define PQ_POINTER_V(name, params, args) static void(*p_##name) params;
PQ_FUNCTIONS(PQ_POINTER, PQ_POINTER_V)

static const struct dl_symbol pq_symbols[] = {
#define PQ_SYMBOL(ret, name, params, args, fail) { #name, &p_##name },
#define PQ_SYMBOL_V(name, params, args) { #name, &p_##name },
	PQ_FUNCTIONS(PQ_SYMBOL, PQ_SYMBOL_V)
};

static int pq_state = -1;	/* 0 loaded, -1 not; written only by pq_load_once */
static char *pq_error;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load_once(void)
{
	if (!dl_load(PQ_SONAME, "libpq5", pq_symbols, ARRAY_SIZE(pq_symbols), &pq_error))
		pq_state = 0;
}

int central_pq_load(char **why)
{
	pthread_once(&pq_once, pq_load_once);
	if (pq_state && why)
		*why = xstrdup(pq_error);
	return pq_state;
}

static int pq_loaded(void)
{
	return !central_pq_load(NULL);
}

#define PQ_DEFINE(ret, name, params, args, fail)                                                  \
	ret name params                                                                           \
	{                                                                                         \
		return pq_loaded() ? p_##name args : fail;                                        \
	}
#define PQ_DEFINE_V(name, params, args)                                                           \
	void name params                                                                          \
	{                                                                                         \
		if (pq_loaded())                                                                  \
			p_##name args;                                                            \
	}
PQ_FUNCTIONS(PQ_DEFINE, PQ_DEFINE_V)
