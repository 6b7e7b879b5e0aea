/*
 * The --central readers (SPEC 11): the rows a command needs are copied from
 * the team history into a local history of the reader's own (a temporary
 * SQLite file that store.c creates with the local schema), and the command's
 * usual reader runs on that. So history, show, every report format,
 * evidence, plan and audit verify read the team's runs exactly as they read
 * a local file, with no second implementation to drift.
 *
 * Timestamps come back as the local history writes them (ISO-8601 UTC with
 * milliseconds), the runbook texts from hex, and the columns the local
 * schema declares NOT NULL with its defaults.
 */
#include "central.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "central-int.h"
#include "store.h"
#include "util.h"

#define TREND_RUNS "200"	/* runs read for a trend (locally TREND_READ, 1000: a copy costs more) */

/* A column: its local name and how the central one reads back. */
struct rcol {
	const char *name;
	char kind;		/* 0 as is, 'T' timestamptz, 'X' bytea (as hex), 'D' NULL becomes def */
	const char *def;
};

#define C(n) { n, 0, NULL }
#define TS(n) { n, 'T', NULL }
#define HEX(n) { n, 'X', NULL }
#define DEF(n, d) { n, 'D', d }
#define END { NULL, 0, NULL }
static const struct rcol run_cols[] = {
	C("id"), C("runbook"), C("file"), C("sha256"), C("mode"), C("trigger"), C("env"),
	C("operator"), C("uid"), C("host"), C("pid"), C("params_json"), C("status"),
	TS("started_at"), TS("ended_at"), TS("incident_at"), TS("restored_at"),
	C("rto_target_s"), C("rto_achieved_s"), C("rto_met"), C("rpo_target_s"),
	C("rpo_achieved_s"), C("rpo_met"), C("rpo_status"), TS("recovery_point_at"),
	C("human_wait_s"), C("exit_code"), DEF("strict_budgets", "0"), C("error"),
	C("signed_by"), TS("newest_recoverable_at"), C("rpo_exposure_s"), C("rpo_exposure_status"), END
};
static const struct rcol phase_cols[] = {
	C("run_id"), C("idx"), C("name"), C("role"), C("budget_s"), DEF("fault", "0"),
	DEF("cleanup", "0"), DEF("restores_service", "0"), DEF("parallel", "1"),
	C("status"), TS("started_at"), TS("ended_at"), C("duration_s"),
	C("human_wait_s"), DEF("over_budget", "0"), C("probe"), END
};
static const struct rcol step_cols[] = {
	C("run_id"), C("phase_idx"), C("idx"), C("name"), C("kind"), C("role"),
	DEF("section", "'main'"), DEF("idempotent", "1"), C("status"),
	DEF("attempts", "0"), TS("started_at"), TS("ended_at"), C("duration_s"),
	C("human_wait_s"), C("exit_code"), C("confirmed_by"), C("error"), C("output"),
	DEF("output_cut", "0"), C("state_json"), C("waiting"), END
};
static const struct rcol attempt_cols[] = {
	C("run_id"), C("phase_idx"), C("step_idx"), C("attempt"), C("status"),
	TS("started_at"), TS("ended_at"), C("duration_s"), C("exit_code"), C("error"),
	C("output"), DEF("output_cut", "0"), END
};
static const struct rcol instance_cols[] = {
	C("run_id"), C("phase_idx"), C("step_idx"), C("attempt"), DEF("seq", "0"), C("host"),
	C("status"), C("exit_code"), C("duration_s"), C("error"), C("output"), END
};
static const struct rcol note_cols[] = {
	C("seq"), C("run_id"), TS("at"), C("operator"), C("text"), END
};
static const struct rcol run_source_cols[] = {
	C("run_id"), C("idx"), C("path"), C("sha256"), C("signed_by"), C("signature"), END
};
static const struct rcol text_cols[] = { C("sha256"), HEX("text"), END };
static const struct rcol audit_cols[] = {
	C("seq"), C("at"), C("run_id"), C("event"), C("operator"), C("uid"), C("detail"),
	C("prev_hash"), C("hash"), END
};

/* "SELECT <t.cols as the local history has them> FROM <table> t <rest>" */
static char *select_sql(const struct rcol *cols, const char *table, const char *rest)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 512);
	strbuf_addstr(&sb, "SELECT ");
	for (size_t i = 0; cols[i].name; i++) {
		const struct rcol *c = &cols[i];
		if (i)
			strbuf_addstr(&sb, ", ");
		if (c->kind == 'X')
			strbuf_addf(&sb, "encode(t.\"%s\", 'hex')", c->name);
		else if (c->kind == 'D')
			strbuf_addf(&sb, "coalesce(t.\"%s\", %s)", c->name, c->def);
		else
			strbuf_addf(&sb, "t.\"%s\"", c->name);
	}
	strbuf_addf(&sb, " FROM %s t %s", table, rest);
	return strbuf_detach(&sb);
}

char *central_pq_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

struct cells {
	PGresult *res;
	const struct rcol *cols;
	char *buf;		/* a hex column's bytes, decoded */
	char ts[40][32];	/* per column (a row's values are bound together): a timestamp
				   as the local history writes it */
};

/*
 * A timestamptz as the server prints it in UTC with DateStyle ISO
 * ("2026-12-07 15:00:21.03+00", central_fetch sets both) as the local
 * history writes it ("2026-12-07T15:00:21.030Z"): in C, because the
 * server's to_char took half the time of a history of every run. Anything
 * else (a year past 9999, infinity) is left as it is.
 */
static const char *iso_ms(const char *v, size_t *len, char out[32])
{
	size_t n = *len, i = 19;
	if (n < 22 || v[10] != ' ' || v[4] != '-' || v[13] != ':')
		return v;
	memcpy(out, v, 19);
	out[10] = 'T';
	out[19] = '.';
	size_t d = 0;
	if (v[i] == '.')
		for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			if (d < 3)
				out[20 + d++] = v[i];
	while (d < 3)
		out[20 + d++] = '0';
	if (strcmp(v + i, "+00") != 0)
		return v;
	out[23] = 'Z';
	out[24] = '\0';
	*len = 24;
	return out;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

static const char *cell(void *ud, int row, int col, size_t *len)
{
	struct cells *c = ud;
	if (PQgetisnull(c->res, row, col))
		return NULL;
	const char *v = PQgetvalue(c->res, row, col);
	*len = (size_t)PQgetlength(c->res, row, col);
	if (c->cols[col].kind == 'T')
		return col < 40 ? iso_ms(v, len, c->ts[col]) : v;
	if (c->cols[col].kind != 'X')
		return v;
	free(c->buf);
	c->buf = xmalloc(*len / 2 + 1);
	for (size_t i = 0; i + 1 < *len; i += 2)
		c->buf[i / 2] = (char)(hexval(v[i]) << 4 | hexval(v[i + 1]));
	*len /= 2;
	c->buf[*len] = '\0';
	return c->buf;
}

/*
 * Runs `with` (a CTE, may be "") then the select of cols from the central
 * table, and copies the rows into the local table of the same name.
 */
static int copy_rows(struct central *c, struct store *st, const char *local, const struct rcol *cols,
		     const char *table, const char *with, const char *rest, int np,
		     const char *const *p, char **err)
{
	char *sel = select_sql(cols, table, rest);
	char *sql = xasprintf("%s %s", with, sel);
	free(sel);
	PGresult *res = NULL;
	int rc = central_exec(c, sql, np, p, &res, err);
	free(sql);
	if (rc)
		return -1;
	const char *names[40];
	int n = 0;
	while (cols[n].name && n < 40) {
		names[n] = cols[n].name;
		n++;
	}
	struct cells cl = { .res = res, .cols = cols };
	rc = store_import(st, local, n, names, PQntuples(res), cell, &cl);
	free(cl.buf);
	PQclear(res);
	if (rc)
		*err = xasprintf("cannot copy the team's %s into a local history: %s", local, store_error(st));
	return rc;
}

#define BY_RUN "JOIN k ON k.source_id = t.source_id AND k.id = t.run_id"

/* The run trees of the runs in k (the CTE `with` defines, from params p) into st. */
static int copy_trees(struct central *c, struct store *st, const char *with, int np, const char *const *p,
		      int whole_audit, char **err)
{
	static const struct { const char *table; const struct rcol *cols; } tree[] = {
		{ "phases", phase_cols }, { "steps", step_cols }, { "attempts", attempt_cols },
		{ "host_instances", instance_cols }, { "notes", note_cols },
	};
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++)
		if (copy_rows(c, st, tree[i].table, tree[i].cols, tree[i].table, with, BY_RUN, np, p, err))
			return -1;
	/* the texts the runs loaded (central "texts", local "sources") before what names them */
	if (copy_rows(c, st, "sources", text_cols, "texts", with,
		      "WHERE (t.source_id, t.sha256) IN (SELECT rs.source_id, rs.sha256 FROM run_sources rs"
		      " JOIN k ON k.source_id = rs.source_id AND k.id = rs.run_id)", np, p, err) ||
	    copy_rows(c, st, "run_sources", run_source_cols, "run_sources", with, BY_RUN, np, p, err))
		return -1;
	/* evidence proves the run's entries against its history's whole chain; show needs its own */
	return copy_rows(c, st, "audit", audit_cols, "audit", with,
			 whole_audit ? "WHERE t.source_id IN (SELECT source_id FROM k) ORDER BY t.seq"
				     : BY_RUN " ORDER BY t.seq", np, p, err);
}

/*
 * The keys (source_id, id) of the runs wanted as the CTE k: those of k0, and
 * for each runbook and environment among them its runs with achieved
 * objectives up to the newest of k0 (a report's trend ends at its run), so
 * trends and reports read as they would locally. TREND_RUNS of them: the
 * trend's window of 10 with the current target is among them unless the
 * target changed back and forth within them.
 */
#define WITH_TRENDS(k0)								\
	"WITH k0 AS (" k0 "),"							\
	" g AS (SELECT runbook, env, max(started_at) AS until FROM k0 GROUP BY runbook, env),"	\
	" k AS (SELECT source_id, id FROM k0 UNION"				\
	"  SELECT r.source_id, r.id FROM g, LATERAL (SELECT source_id, id FROM runs x"	\
	"   WHERE x.runbook = g.runbook AND x.env IS NOT DISTINCT FROM g.env"	\
	"   AND x.started_at <= g.until"						\
	"   AND (x.rto_achieved_s IS NOT NULL OR x.rpo_achieved_s IS NOT NULL)"	\
	"   ORDER BY x.started_at DESC LIMIT " TREND_RUNS ") r)"

/* The newest $2 runs (of runbook $1, NULL: all). */
#define NEWEST "SELECT source_id, id, runbook, env, started_at FROM runs WHERE $1::text IS NULL OR runbook = $1" \
	" ORDER BY started_at DESC, id DESC LIMIT $2::bigint"
/* The same without probe runs (SPEC 10: they restore nothing), so hourly probes never push plan's drills out. */
#define NEWEST_RECOVERIES "SELECT source_id, id FROM runs WHERE ($1::text IS NULL OR runbook = $1)" \
	" AND mode IS DISTINCT FROM 'probe' ORDER BY started_at DESC, id DESC LIMIT $2::bigint"
/* A run by id or prefix: one per id (its newest copy), two at most (ambiguous). */
#define BY_ID "SELECT DISTINCT ON (id) source_id, id, runbook, env, started_at FROM runs" \
	" WHERE id = $1 OR starts_with(id, $1) ORDER BY id, version DESC LIMIT 2"
#define BY_RUNS "JOIN k ON k.source_id = t.source_id AND k.id = t.id"

int central_fetch(struct central *c, const struct central_fetch *f, struct store *st, char **err)
{
	PGresult *r;
	if (central_exec(c, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'", 0, NULL, &r, err))
		return -1;
	PQclear(r);
	char limit[32];
	snprintf(limit, sizeof(limit), "%d", f->limit > 0 ? f->limit : 1000000);
	switch (f->what) {
	case CENTRAL_FETCH_RUNS: {
		const char *p[] = { f->runbook, limit };
		return copy_rows(c, st, "runs", run_cols, "runs", WITH_TRENDS(NEWEST), BY_RUNS, 2, p, err);
	}
	case CENTRAL_FETCH_RUN: {
		const char *p[] = { f->run_id };
		return copy_rows(c, st, "runs", run_cols, "runs", f->trend ? WITH_TRENDS(BY_ID) : "WITH k AS (" BY_ID ")",
				 BY_RUNS, 1, p, err) ||
		       copy_trees(c, st, "WITH k AS (" BY_ID ")", 1, p, f->whole_audit, err);
	}
	case CENTRAL_FETCH_RUNBOOK: {
		/* plan: the objectives of its runs, the phases of its newest ones */
		const char *p[] = { f->runbook, limit };
		return copy_rows(c, st, "runs", run_cols, "runs", "WITH k AS (" NEWEST_RECOVERIES ")", BY_RUNS,
				 2, p, err) ||
		       copy_rows(c, st, "phases", phase_cols, "phases", "WITH k AS (" NEWEST_RECOVERIES ")", BY_RUN, 2, p,
				 err);
	}
	case CENTRAL_FETCH_AUDIT: {
		const char *p[] = { f->source_id };
		return copy_rows(c, st, "audit", audit_cols, "audit", "", "WHERE t.source_id = $1 ORDER BY t.seq",
				 1, p, err);
	}
	}
	*err = xstrdup("unknown fetch");
	return -1;
}

int central_sources(struct central *c, struct central_source **out, size_t *n, char **err)
{
	*out = NULL;
	*n = 0;
	PGresult *res = NULL;
	/* every history that sent runs or audit entries, named by the host it lives on */
	if (central_exec(c, "SELECT x.source_id, s.host, s.path, coalesce(a.n, 0), coalesce(r.n, 0) FROM"
			    " (SELECT source_id FROM audit UNION SELECT source_id FROM runs) x"
			    " LEFT JOIN (SELECT source_id, count(*) AS n FROM audit GROUP BY source_id) a USING (source_id)"
			    " LEFT JOIN (SELECT source_id, count(*) AS n FROM runs GROUP BY source_id) r USING (source_id)"
			    " LEFT JOIN sources s USING (source_id) ORDER BY s.host, x.source_id",
			 0, NULL, &res, err))
		return -1;
	int rows = PQntuples(res);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		(*out)[i].source_id = central_pq_text(res, i, 0);
		(*out)[i].host = central_pq_text(res, i, 1);
		(*out)[i].path = central_pq_text(res, i, 2);
		(*out)[i].entries = atol(PQgetvalue(res, i, 3));
		(*out)[i].runs = atol(PQgetvalue(res, i, 4));
	}
	*n = (size_t)rows;
	PQclear(res);
	return 0;
}

void central_sources_free(struct central_source *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].source_id);
		free(s[i].host);
		free(s[i].path);
	}
	free(s);
}

/* A run id and its place in the caller's array, sorted by id (central_run_origins). */
struct id_at {
	const char *id;
	size_t i;
};

static int id_at_cmp(const void *a, const void *b)
{
	return strcmp(((const struct id_at *)a)->id, ((const struct id_at *)b)->id);
}

int central_run_origins(struct central *c, const char *const *run_ids, size_t n,
			struct central_source **out, char **err)
{
	*out = xcalloc(n + 1, sizeof(**out));
	if (!n)
		return 0;
	struct strbuf arr = STRBUF_INIT;
	strbuf_init(&arr, n * 16 + 2);
	strbuf_addch(&arr, '{');
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(&arr, i ? ",\"" : "\"");
		for (const char *p = run_ids[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addch(&arr, '\\');
			strbuf_addch(&arr, *p);
		}
		strbuf_addch(&arr, '"');
	}
	strbuf_addch(&arr, '}');
	const char *p[] = { arr.buf };
	PGresult *res = NULL;
	int rc = central_exec(c, "SELECT DISTINCT ON (r.id) r.id, r.source_id, s.host, s.path"
			      " FROM runs r LEFT JOIN sources s USING (source_id)"
			      " WHERE r.id = ANY ($1::text[]) ORDER BY r.id, r.version DESC", 1, p, &res, err);
	strbuf_release(&arr);
	if (rc)
		return -1;
	/* each row to its run by a binary search (10 000 runs: no n x n string compares) */
	struct id_at *by_id = xcalloc(n, sizeof(*by_id));
	for (size_t i = 0; i < n; i++)
		by_id[i] = (struct id_at){ run_ids[i], i };
	qsort(by_id, n, sizeof(*by_id), id_at_cmp);
	for (int row = 0; row < PQntuples(res); row++) {
		struct id_at key = { PQgetvalue(res, row, 0), 0 };
		const struct id_at *hit = bsearch(&key, by_id, n, sizeof(*by_id), id_at_cmp);
		/* the same id listed twice: each place gets it */
		while (hit && hit > by_id && !strcmp(hit[-1].id, key.id))
			hit--;
		for (; hit && hit < by_id + n && !strcmp(hit->id, key.id); hit++) {
			struct central_source *o = &(*out)[hit->i];
			o->source_id = central_pq_text(res, row, 1);
			o->host = central_pq_text(res, row, 2);
			o->path = central_pq_text(res, row, 3);
		}
	}
	free(by_id);
	PQclear(res);
	return 0;
}
