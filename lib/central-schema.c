/*
 * The central schema (docs/central.md) and the statements that fill it.
 *
 * The tables mirror the local history's, each with source_id (the history a
 * row came from) in front of the local primary key; timestamps become
 * timestamptz (for dashboards), except the audit entries' `at`, kept as the
 * exact text their chain hash covers. The mutable tables carry `version`,
 * the local queue's sequence number of the row's latest change: an upsert
 * replaces a row only with a higher one. A row that arrives with the same
 * key and version (or, append-only, the same key) but other content is a
 * conflict: kept whole in `conflicts`, never dropped and never applied.
 *
 * Migration i takes the schema from version i to i + 1. Only append.
 */
#include "central.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "central-int.h"
#include "util.h"

/* The columns of the mirrored run tree, after source_id (and version, for the mutable ones). */
#define TS "timestamptz"
#define F8 "double precision"
static const char *const migrations[] = {
	/* 1: the mirror of the local history (version 8), the sources, conflicts, the views */
	/* this database's identity: a history sends everything again to another one */
	"CREATE TABLE lifeboat_instance (id text NOT NULL);"
	"INSERT INTO lifeboat_instance (id) SELECT gen_random_uuid()::text;"
	"CREATE TABLE sources ("
	" source_id text PRIMARY KEY, host text, path text,"
	" first_seen " TS " NOT NULL DEFAULT now(), last_seen " TS " NOT NULL DEFAULT now(),"
	" lifeboat_version text);"
	"CREATE TABLE runs ("
	" source_id text NOT NULL, version bigint NOT NULL, id text NOT NULL,"
	" runbook text, file text, sha256 text, mode text, \"trigger\" text, env text,"
	" operator text, uid bigint, host text, pid bigint, params_json text, status text NOT NULL,"
	" started_at " TS ", ended_at " TS ", incident_at " TS ", restored_at " TS ","
	" rto_target_s " F8 ", rto_achieved_s " F8 ", rto_met bigint,"
	" rpo_target_s " F8 ", rpo_achieved_s " F8 ", rpo_met bigint, rpo_status text,"
	" recovery_point_at " TS ", human_wait_s " F8 ", exit_code bigint,"
	" strict_budgets bigint, error text, signed_by text,"
	" PRIMARY KEY (source_id, id));"
	"CREATE INDEX runs_started ON runs (started_at DESC);"
	"CREATE INDEX runs_runbook_started ON runs (runbook, started_at DESC);"
	"CREATE INDEX runs_id ON runs (id);"
	"CREATE TABLE phases ("
	" source_id text NOT NULL, version bigint NOT NULL, run_id text NOT NULL, idx bigint NOT NULL,"
	" name text, role text, budget_s " F8 ", fault bigint, cleanup bigint,"
	" restores_service bigint, parallel bigint, status text NOT NULL,"
	" started_at " TS ", ended_at " TS ", duration_s " F8 ", human_wait_s " F8 ","
	" over_budget bigint, PRIMARY KEY (source_id, run_id, idx));"
	"CREATE TABLE steps ("
	" source_id text NOT NULL, version bigint NOT NULL, run_id text NOT NULL,"
	" phase_idx bigint NOT NULL, idx bigint NOT NULL,"
	" name text, kind text, role text, section text, idempotent bigint, status text NOT NULL,"
	" attempts bigint, started_at " TS ", ended_at " TS ", duration_s " F8 ","
	" human_wait_s " F8 ", exit_code bigint, confirmed_by text, error text, output text,"
	" output_cut bigint, state_json text, PRIMARY KEY (source_id, run_id, phase_idx, idx));"
	"CREATE TABLE attempts ("
	" source_id text NOT NULL, version bigint NOT NULL, run_id text NOT NULL,"
	" phase_idx bigint NOT NULL, step_idx bigint NOT NULL, attempt bigint NOT NULL,"
	" status text NOT NULL, started_at " TS ", ended_at " TS ", duration_s " F8 ","
	" exit_code bigint, error text, output text, output_cut bigint,"
	" PRIMARY KEY (source_id, run_id, phase_idx, step_idx, attempt));"
	"CREATE TABLE host_instances ("
	" source_id text NOT NULL, version bigint NOT NULL, run_id text NOT NULL,"
	" phase_idx bigint NOT NULL, step_idx bigint NOT NULL, attempt bigint NOT NULL,"
	" seq bigint, host text NOT NULL, status text NOT NULL, exit_code bigint,"
	" duration_s " F8 ", error text, output text,"
	" PRIMARY KEY (source_id, run_id, phase_idx, step_idx, attempt, host));"
	"CREATE TABLE run_sources ("
	" source_id text NOT NULL, version bigint NOT NULL, run_id text NOT NULL, idx bigint NOT NULL,"
	" path text NOT NULL, sha256 text NOT NULL, signed_by text, signature text,"
	" PRIMARY KEY (source_id, run_id, idx));"
	"CREATE TABLE notes ("
	" source_id text NOT NULL, seq bigint NOT NULL, run_id text NOT NULL,"
	" at " TS ", operator text, text text, PRIMARY KEY (source_id, seq));"
	"CREATE INDEX notes_run ON notes (source_id, run_id, seq);"
	"CREATE TABLE audit ("
	" source_id text NOT NULL, seq bigint NOT NULL, at text NOT NULL, run_id text,"
	" event text NOT NULL, operator text, uid bigint, detail text,"
	" prev_hash text NOT NULL, hash text NOT NULL, PRIMARY KEY (source_id, seq));"
	"CREATE TABLE texts ("
	" source_id text NOT NULL, sha256 text NOT NULL, text bytea NOT NULL,"
	" PRIMARY KEY (source_id, sha256));"
	"CREATE TABLE conflicts ("
	" id bigserial PRIMARY KEY, at " TS " NOT NULL DEFAULT now(), source_id text NOT NULL,"
	" tbl text NOT NULL, version bigint, content jsonb NOT NULL);"
	"CREATE VIEW lifeboat_runs AS"
	" SELECT r.source_id, s.host AS source_host, r.id AS run_id, r.runbook, r.env, r.mode,"
	" r.status, r.\"trigger\", r.operator, r.host, r.started_at, r.ended_at,"
	" extract(epoch FROM r.ended_at - r.started_at) AS duration_s,"
	" r.rto_target_s, r.rto_achieved_s, r.rto_met = 1 AS rto_met,"
	" r.rpo_target_s, r.rpo_achieved_s, r.rpo_met = 1 AS rpo_met, r.exit_code"
	" FROM runs r LEFT JOIN sources s USING (source_id);"
	/* nearest-rank percentiles (percentile_disc), as the local history's trends */
	"CREATE VIEW lifeboat_rto_by_runbook AS"
	" SELECT runbook, env, date_trunc('week', started_at AT TIME ZONE 'UTC') AS week,"
	" count(*) AS runs,"
	" percentile_disc(0.5) WITHIN GROUP (ORDER BY rto_achieved_s) AS rto_p50_s,"
	" percentile_disc(0.95) WITHIN GROUP (ORDER BY rto_achieved_s) AS rto_p95_s,"
	" max(rto_target_s) AS rto_target_s,"
	" count(*) FILTER (WHERE rto_met = 0) AS rto_missed"
	" FROM runs WHERE rto_achieved_s IS NOT NULL"
	" GROUP BY runbook, env, date_trunc('week', started_at AT TIME ZONE 'UTC');",
	/*
	 * 2: HA scheduling and team-wide exclusive (central-ha.c). A claim is
	 * the durable unique row of one schedule's slot (UTC); alive_at is the
	 * claiming scheduler's heartbeat, so a claim whose drill never finished
	 * shows as orphaned. A lease is one row per runbook and environment
	 * whose holder keeps moving expires_at forward.
	 */
	"CREATE TABLE lifeboat_claims ("
	" schedule_id text NOT NULL, slot_at " TS " NOT NULL,"
	" claimed_at " TS " NOT NULL DEFAULT now(), alive_at " TS " NOT NULL DEFAULT now(),"
	" host text, source_id text, pid bigint,"
	" finished_at " TS ", run_id text, exit_code bigint, outcome text,"
	" PRIMARY KEY (schedule_id, slot_at));"
	"CREATE INDEX lifeboat_claims_open ON lifeboat_claims (alive_at) WHERE finished_at IS NULL;"
	"CREATE TABLE lifeboat_leases ("
	" runbook text NOT NULL, env text NOT NULL, holder text NOT NULL, host text, pid bigint,"
	" taken_at " TS " NOT NULL, expires_at " TS " NOT NULL,"
	" PRIMARY KEY (runbook, env));",
	/*
	 * 3: the local history's versions 9 and 10 (probes and RPO exposure,
	 * SPEC 10; who a running step waits for). Rows sent before keep NULL.
	 */
	"ALTER TABLE phases ADD COLUMN probe text;"
	"ALTER TABLE runs ADD COLUMN newest_recoverable_at " TS ";"
	"ALTER TABLE runs ADD COLUMN rpo_exposure_s " F8 ";"
	"ALTER TABLE runs ADD COLUMN rpo_exposure_status text;"
	"ALTER TABLE steps ADD COLUMN waiting text;",
	/* 4: lifeboat_runs shows a probe run's RPO exposure to dashboards (SPEC 10) */
	"CREATE OR REPLACE VIEW lifeboat_runs AS"
	" SELECT r.source_id, s.host AS source_host, r.id AS run_id, r.runbook, r.env, r.mode,"
	" r.status, r.\"trigger\", r.operator, r.host, r.started_at, r.ended_at,"
	" extract(epoch FROM r.ended_at - r.started_at) AS duration_s,"
	" r.rto_target_s, r.rto_achieved_s, r.rto_met = 1 AS rto_met,"
	" r.rpo_target_s, r.rpo_achieved_s, r.rpo_met = 1 AS rpo_met, r.exit_code,"
	" r.newest_recoverable_at, r.rpo_exposure_s, r.rpo_exposure_status"
	" FROM runs r LEFT JOIN sources s USING (source_id);",
	/*
	 * 5: runs' heartbeats. The sender of a process with a run going moves
	 * alive_at forward (central-send.c); a run the server still has as
	 * running but whose heartbeat stopped (its process was killed, its
	 * machine lost) holds no HA slot back (central_running).
	 */
	"CREATE TABLE lifeboat_alive ("
	" source_id text NOT NULL, run_id text NOT NULL, alive_at " TS " NOT NULL,"
	" PRIMARY KEY (source_id, run_id));",
};

int central_schema_version(void)
{
	return (int)ARRAY_SIZE(migrations);
}

/* pg_advisory_xact_lock's key: "lifeboat" in ASCII, so a DBA can tell whose lock it is */
#define MIGRATE_LOCK "7022364621889806708"

static int schema_version(struct central *c, int *v, char **err)
{
	PGresult *r;
	if (central_exec(c, "SELECT coalesce(max(version), 0) FROM lifeboat_schema", 0, NULL, &r, err))
		return -1;
	*v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int run(struct central *c, const char *sql, char **err)
{
	PGresult *r;
	if (central_exec(c, sql, 0, NULL, &r, err))
		return -1;
	PQclear(r);
	return 0;
}

int central_migrate(struct central *c, char **err)
{
	int v = 0, want = central_schema_version();
	char *ignored = NULL;
	/* the usual case, without the lock: the schema is there */
	if (!schema_version(c, &v, &ignored) && v >= want)
		return 0;
	free(ignored);
	if (central_broken(c))
		return run(c, "SELECT 1", err);	/* says why */
	if (run(c, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
		   " CREATE TABLE IF NOT EXISTS lifeboat_schema ("
		   " version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())", err))
		goto fail;
	if (schema_version(c, &v, err))
		goto fail;
	for (; v < want; v++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", v + 1);
		const char *p[] = { num };
		PGresult *r;
		if (run(c, migrations[v], err) ||
		    central_exec(c, "INSERT INTO lifeboat_schema (version) VALUES ($1)", 1, p, &r, err))
			goto fail;
		PQclear(r);
	}
	if (!run(c, "COMMIT", err))
		return 0;
fail:
	if (!central_broken(c)) {
		char *e2 = NULL;
		run(c, "ROLLBACK", &e2);
		free(e2);
	}
	char *msg = xasprintf("cannot create the central schema: %s", *err);
	free(*err);
	*err = msg;
	return -1;
}

/* ---- the mirrored tables ---- */

static const struct ctable {
	const char *name;
	const char *key;	/* the primary key after source_id */
	int versioned;
} ctables[CENTRAL__COUNT] = {
	[CENTRAL_RUNS] = { "runs", "id", 1 },
	[CENTRAL_PHASES] = { "phases", "run_id, idx", 1 },
	[CENTRAL_STEPS] = { "steps", "run_id, phase_idx, idx", 1 },
	[CENTRAL_ATTEMPTS] = { "attempts", "run_id, phase_idx, step_idx, attempt", 1 },
	[CENTRAL_INSTANCES] = { "host_instances", "run_id, phase_idx, step_idx, attempt, host", 1 },
	[CENTRAL_NOTES] = { "notes", "seq", 0 },
	[CENTRAL_AUDIT] = { "audit", "seq", 0 },
	[CENTRAL_RUN_SOURCES] = { "run_sources", "run_id, idx", 1 },
	[CENTRAL_TEXTS] = { "texts", "sha256", 0 },
};

const char *central_table_name(enum central_table t)
{
	return ctables[t].name;
}

int central_table_versioned(enum central_table t)
{
	return ctables[t].versioned;
}

int central_instance(struct central *c, char **id, char **err)
{
	PGresult *r;
	*id = NULL;
	if (central_exec(c, "SELECT id FROM lifeboat_instance LIMIT 1", 0, NULL, &r, err))
		return -1;
	*id = xstrdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return 0;
}

int central_source_save(struct central *c, const char *source_id, const char *host,
			const char *path, char **err)
{
	const char *p[] = { source_id, host, path, LIFEBOAT_VERSION };
	PGresult *r;
	if (central_exec(c, "INSERT INTO sources (source_id, host, path, lifeboat_version)"
			    " VALUES ($1, $2, $3, $4) ON CONFLICT (source_id) DO UPDATE SET"
			    " host = EXCLUDED.host, path = EXCLUDED.path, last_seen = now(),"
			    " lifeboat_version = EXCLUDED.lifeboat_version", 4, p, &r, err))
		return -1;
	PQclear(r);
	return 0;
}

/*
 * "SET (a, b) = ROW(EXCLUDED.a, EXCLUDED.b) WHERE ..." over the table's
 * columns as the server has them (a newer schema's too), the key's
 * excepted: a higher version with other content replaces the row; the same
 * content again (a history queued whole once more) leaves it alone.
 */
static char *set_clause(struct central *c, const struct ctable *t, char **err)
{
	const char *p[] = { t->name };
	PGresult *r;
	if (central_exec(c, "SELECT a.attname FROM pg_attribute a"
			    " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped"
			    " ORDER BY a.attnum", 1, p, &r, err))
		return NULL;
	struct strbuf cols, vals, old, new;
	strbuf_init(&cols, 256);
	strbuf_init(&vals, 256);
	strbuf_init(&old, 256);
	strbuf_init(&new, 256);
	char *key = xasprintf(", source_id, %s, ", t->key);
	for (int i = 0; i < PQntuples(r); i++) {
		const char *col = PQgetvalue(r, i, 0);
		char *probe = xasprintf(", %s, ", col);
		int is_key = strstr(key, probe) != NULL;
		free(probe);
		if (is_key)
			continue;
		strbuf_addf(&cols, "%s\"%s\"", cols.len ? ", " : "", col);
		strbuf_addf(&vals, "%sEXCLUDED.\"%s\"", vals.len ? ", " : "", col);
		if (strcmp(col, "version")) {
			strbuf_addf(&old, "%st.\"%s\"", old.len ? ", " : "", col);
			strbuf_addf(&new, "%sEXCLUDED.\"%s\"", new.len ? ", " : "", col);
		}
	}
	free(key);
	PQclear(r);
	char *s = xasprintf("SET (%s) = ROW(%s) WHERE t.version < EXCLUDED.version"
			    " AND ROW(%s) IS DISTINCT FROM ROW(%s)", cols.buf, vals.buf, old.buf, new.buf);
	strbuf_release(&cols);
	strbuf_release(&vals);
	strbuf_release(&old);
	strbuf_release(&new);
	return s;
}

char *central_upsert_sql(struct central *c, enum central_table tt, char **err)
{
	const struct ctable *t = &ctables[tt];
	char *set = NULL;
	if (t->versioned && !(set = set_clause(c, t, err)))
		return NULL;
	char *on_conflict = t->versioned ?
		xasprintf("DO UPDATE %s", set) :
		xstrdup("DO NOTHING");
	/*
	 * The conflicts CTE reads the table as it was before this statement (a
	 * data-modifying WITH sees one snapshot): only rows that were there.
	 */
	char *sql = xasprintf(
		"WITH i AS (SELECT * FROM json_populate_recordset(NULL::%1$s, $1::json)),"
		" c AS (INSERT INTO conflicts (source_id, tbl, version, content)"
		" SELECT i.source_id, '%1$s', %2$s, to_jsonb(i) FROM i JOIN %1$s t USING (source_id, %3$s)"
		" WHERE %4$sROW(t.*) IS DISTINCT FROM ROW(i.*) RETURNING 1),"
		" u AS (INSERT INTO %1$s AS t SELECT * FROM i ON CONFLICT (source_id, %3$s) %5$s RETURNING 1)"
		" SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM c)",
		t->name, t->versioned ? "i.version" : "NULL", t->key,
		t->versioned ? "t.version = i.version AND " : "", on_conflict);
	free(on_conflict);
	free(set);
	return sql;
}

int central_upsert(struct central *c, enum central_table t, const char *json, long nrows,
		   struct central_counts *counts, char **err)
{
	if (!c->upsert[t] && !(c->upsert[t] = central_upsert_sql(c, t, err)))
		return -1;
	const char *p[] = { json };
	PGresult *r;
	if (central_exec_prepared(c, (int)t, c->upsert[t], 1, p, &r, err))
		return -1;
	counts->rows[t] += nrows;
	counts->changed += atol(PQgetvalue(r, 0, 0));
	counts->conflicts += atol(PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}
