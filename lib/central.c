/*
 * libpq, bounded: connections and statements run on a non-blocking socket
 * polled against a deadline, so neither a server that stopped answering nor
 * one that never accepted can hold a thread longer than the timeout (libpq's
 * blocking calls would wait for the kernel's TCP timeouts, minutes). libpq's
 * notices go nowhere: lib/ never prints.
 */
#include "central.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "central-int.h"
#include "clock.h"
#include "util.h"

struct central_result {
	PGresult *res;
};

/*
 * libpq's message as one line, as every lifeboat message: without the
 * "connection to server ... failed: " prefix, each line break (with the
 * tabs and spaces around it) as "; ", nothing trailing.
 */
static char *pq_reason(const char *msg)
{
	if (!msg || !*msg)
		return xstrdup("no reason given");
	const char *p = strstr(msg, " failed: ");
	if (!strncmp(msg, "connection to server", 20) && p)
		msg = p + 9;
	struct strbuf sb;
	strbuf_init(&sb, strlen(msg) + 16);
	for (const char *q = msg; *q; q++) {
		if (*q != '\n' && *q != '\t') {
			strbuf_addch(&sb, *q);
			continue;
		}
		while (q[1] == '\n' || q[1] == '\t' || q[1] == ' ')
			q++;
		while (sb.len && sb.buf[sb.len - 1] == ' ')
			sb.buf[--sb.len] = '\0';
		if (q[1] && sb.len && sb.buf[sb.len - 1] != ';')
			strbuf_addch(&sb, ';');
		if (q[1])
			strbuf_addch(&sb, ' ');
	}
	while (sb.len && sb.buf[sb.len - 1] == ' ')
		sb.buf[--sb.len] = '\0';
	return strbuf_detach(&sb);
}

static const char *opt_value(PQconninfoOption *o, const char *key)
{
	for (; o && o->keyword; o++)
		if (!strcmp(o->keyword, key))
			return o->val && *o->val ? o->val : NULL;
	return NULL;
}

int central_url_check(const char *url, char **why)
{
	if (central_pq_load(why))
		return CENTRAL_NO_LIBPQ;
	char *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(url, &msg);
	if (o) {
		int password = opt_value(o, "password") != NULL;
		PQconninfoFree(o);
		if (password) {
			*why = xstrdup("it holds a password");
			return CENTRAL_URL_PASSWORD;
		}
		return 0;
	}
	*why = pq_reason(msg ? msg : "not a connection string");
	PQfreemem(msg);
	return -1;
}

char *central_server_name(const char *url)
{
	PQconninfoOption *o = PQconninfoParse(url, NULL);
	if (!o)
		return xstrdup(url);
	const char *user = opt_value(o, "user"), *host = opt_value(o, "host");
	const char *hostaddr = opt_value(o, "hostaddr");
	const char *port = opt_value(o, "port"), *db = opt_value(o, "dbname");
	char *s = xasprintf("%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
			    host ? host : hostaddr ? hostaddr : "localhost", port ? ":" : "",
			    port ? port : "", db ? db : user ? user : "");
	PQconninfoFree(o);
	return s;
}

static double url_timeout(const char *url)
{
	PQconninfoOption *o = PQconninfoParse(url, NULL);
	const char *t = opt_value(o, "connect_timeout");
	double s = t ? atof(t) : 0;
	PQconninfoFree(o);
	return s >= 1 ? s : CENTRAL_TIMEOUT_S;
}

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Waits for the socket (POLLIN/POLLOUT) until deadline_ns: 0, or -1 on timeout. */
static int wait_socket(PGconn *conn, short events, int64_t deadline_ns)
{
	for (;;) {
		int64_t left = deadline_ns - clock_mono_ns();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = PQsocket(conn), .events = events };
		int rc = poll(&p, 1, (int)(left / 1000000 + 1));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return 0;	/* let libpq find the socket's error */
	}
}

int central_connect(const struct central_opts *o, struct central **out, char **err)
{
	*out = NULL;
	if (central_pq_load(err))
		return -1;
	char *server = central_server_name(o->url);
	double timeout = o->timeout_s > 0 ? o->timeout_s : url_timeout(o->url);
	const char *keys[4] = { "dbname", "fallback_application_name" }, *vals[4] = { o->url, "lifeboat" };
	if (o->password) {
		keys[2] = "password";
		vals[2] = o->password;
	}
	PGconn *conn = PQconnectStartParams(keys, vals, 1);
	if (!conn) {
		*err = xasprintf("cannot connect to the central server '%s': out of memory", server);
		free(server);
		return -1;
	}
	int64_t deadline = clock_mono_ns() + (int64_t)(timeout * 1e9);
	PostgresPollingStatusType st = PQstatus(conn) == CONNECTION_BAD ? PGRES_POLLING_FAILED :
				       PGRES_POLLING_WRITING;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		if (wait_socket(conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
			*err = xasprintf("cannot connect to the central server '%s': no answer within %.1f s",
					 server, timeout);
			PQfinish(conn);
			free(server);
			return -1;
		}
		st = PQconnectPoll(conn);
	}
	if (st == PGRES_POLLING_FAILED) {
		char *why = pq_reason(PQerrorMessage(conn));
		*err = xasprintf("cannot connect to the central server '%s': %s", server, why);
		free(why);
		PQfinish(conn);
		free(server);
		return -1;
	}
	PQsetNoticeProcessor(conn, quiet_notices, NULL);
	PQsetnonblocking(conn, 1);
	struct central *c = xcalloc(1, sizeof(*c));
	c->conn = conn;
	c->server = server;
	c->timeout_s = timeout;
	*out = c;
	return 0;
}

void central_close(struct central *c)
{
	if (!c)
		return;
	PQfinish(c->conn);
	free(c->server);
	for (int i = 0; i < CENTRAL__COUNT; i++)
		free(c->upsert[i]);
	free(c);
}

const char *central_server(const struct central *c)
{
	return c->server;
}

void central_set_timeout(struct central *c, double s)
{
	c->timeout_s = s;
}

int central_broken(const struct central *c)
{
	return c->broken || PQstatus(c->conn) != CONNECTION_OK;
}

static int exec_fail(struct central *c, char **err, const char *reason)
{
	*err = xasprintf("the central server '%s': %s", c->server, reason);
	return -1;
}

/*
 * Sends sql and collects its result within the timeout. The last result is
 * kept (an error wins over the rest); *out NULL on failure.
 */
enum send_kind { SEND_QUERY, SEND_PREPARE, SEND_PREPARED };

static int run(struct central *c, enum send_kind kind, const char *name, const char *sql,
	       int nparams, const char *const *params, PGresult **out, char **err)
{
	*out = NULL;
	if (central_broken(c))
		return exec_fail(c, err, "the connection was lost");
	int64_t deadline = clock_mono_ns() + (int64_t)(c->timeout_s * 1e9);
	int sent;
	switch (kind) {
	case SEND_PREPARE:
		sent = PQsendPrepare(c->conn, name, sql, nparams, NULL);
		break;
	case SEND_PREPARED:
		sent = PQsendQueryPrepared(c->conn, name, nparams, params, NULL, NULL, 0);
		break;
	default:
		sent = params ? PQsendQueryParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0) :
				PQsendQuery(c->conn, sql);
	}
	if (!sent)
		goto lost;
	int rc;
	while ((rc = PQflush(c->conn)) == 1)
		if (wait_socket(c->conn, POLLOUT | POLLIN, deadline))
			goto timeout;
	if (rc < 0)
		goto lost;
	PGresult *keep = NULL;
	for (;;) {
		while (PQisBusy(c->conn)) {
			if (wait_socket(c->conn, POLLIN, deadline)) {
				PQclear(keep);
				goto timeout;
			}
			if (!PQconsumeInput(c->conn)) {
				PQclear(keep);
				goto lost;
			}
		}
		PGresult *r = PQgetResult(c->conn);
		if (!r)
			break;
		if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
			PQclear(r);
			continue;
		}
		PQclear(keep);
		keep = r;
	}
	if (!keep)
		goto lost;
	ExecStatusType st = PQresultStatus(keep);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(keep, PG_DIAG_SQLSTATE);
		snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
		char *why = pq_reason(PQresultErrorMessage(keep));
		PQclear(keep);
		exec_fail(c, err, why);
		free(why);
		return -1;
	}
	*out = keep;
	return 0;
timeout:
	c->broken = 1;
	{
		char t[64];
		snprintf(t, sizeof(t), "no answer within %.1f s", c->timeout_s);
		return exec_fail(c, err, t);
	}
lost:
	c->broken = 1;
	{
		char *why = pq_reason(PQerrorMessage(c->conn));
		exec_fail(c, err, why);
		free(why);
		return -1;
	}
}

int central_exec(struct central *c, const char *sql, int nparams, const char *const *params,
		 PGresult **out, char **err)
{
	return run(c, SEND_QUERY, NULL, sql, nparams, params, out, err);
}

int central_exec_prepared(struct central *c, int id, const char *sql, int nparams,
			  const char *const *params, PGresult **out, char **err)
{
	_Static_assert(CENTRAL__COUNT <= 32, "one bit a statement in central.prepared");
	if (id < 0 || id >= 32)
		return run(c, SEND_QUERY, NULL, sql, nparams, params, out, err);
	char *name = c->stmt_name[id];
	if (!(c->prepared & (1u << id))) {
		/*
		 * The name carries a hash of the text: a server connection that a
		 * pooler hands on with another lifeboat's statement of the same id
		 * (another version, other columns) never runs that one for this.
		 */
		unsigned long h = 5381;
		for (const char *p = sql; *p; p++)
			h = h * 33 + (unsigned char)*p;
		snprintf(name, sizeof(c->stmt_name[id]), "lifeboat_%d_%08lx", id, h & 0xffffffffUL);
		PGresult *r;
		if (run(c, SEND_PREPARE, name, sql, nparams, NULL, &r, err)) {
			/* 42P05: prepared already on this server connection (a pooler's), by the same text */
			if (strcmp(c->sqlstate, "42P05"))
				return -1;
			free(*err);
			*err = NULL;
		} else {
			PQclear(r);
		}
		c->prepared |= 1u << id;
	}
	return run(c, SEND_PREPARED, name, NULL, nparams, params, out, err);
}

int central_query(struct central *c, const char *sql, int nparams, const char *const *params,
		  struct central_result **out, char **err)
{
	PGresult *r;
	*out = NULL;
	if (central_exec(c, sql, nparams, params, &r, err))
		return -1;
	*out = xcalloc(1, sizeof(**out));
	(*out)->res = r;
	return 0;
}

int central_rows(const struct central_result *r)
{
	return PQntuples(r->res);
}

int central_cols(const struct central_result *r)
{
	return PQnfields(r->res);
}

const char *central_col_name(const struct central_result *r, int col)
{
	return PQfname(r->res, col);
}

const char *central_value(const struct central_result *r, int row, int col)
{
	return PQgetisnull(r->res, row, col) ? NULL : PQgetvalue(r->res, row, col);
}

long central_affected(const struct central_result *r)
{
	const char *n = PQcmdTuples(r->res);
	return n && *n ? atol(n) : 0;
}

void central_result_free(struct central_result *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}
