/*
 * A reader's copy of the team history (SPEC 11, --central): rows that
 * lib/central-read.c fetched from PostgreSQL go into a local history of the
 * reader's own, where the usual readers take them.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "util.h"

static int import_table_ok(const char *table)
{
	static const char *const tables[] = { "runs", "phases", "steps", "attempts", "host_instances",
					      "notes", "audit", "sources", "run_sources", NULL };
	for (size_t i = 0; tables[i]; i++)
		if (!strcmp(tables[i], table))
			return 1;
	return 0;
}

int store_import(struct store *st, const char *table, int ncols, const char *const *cols, int nrows,
		 const char *(*cell)(void *ud, int row, int col, size_t *len), void *ud)
{
	if (!import_table_ok(table) || ncols < 1) {
		set_err(st, "cannot import into '%s'", table);
		return -1;
	}
	struct strbuf sql = STRBUF_INIT;
	strbuf_init(&sql, 256);
	strbuf_addf(&sql, "INSERT OR REPLACE INTO %s (", table);
	for (int i = 0; i < ncols; i++) {
		if (strspn(cols[i], "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(cols[i])) {
			set_err(st, "cannot import column '%s'", cols[i]);
			strbuf_release(&sql);
			return -1;
		}
		strbuf_addf(&sql, "%s\"%s\"", i ? ", " : "", cols[i]);
	}
	strbuf_addstr(&sql, ") VALUES (");
	for (int i = 0; i < ncols; i++)
		strbuf_addstr(&sql, i ? ", ?" : "?");
	strbuf_addch(&sql, ')');
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql.buf, -1, &s, NULL) != SQLITE_OK ? db_fail(st, "prepare an import")
										  : tx_begin_write(st);
	strbuf_release(&sql);
	for (int r = 0; !rc && r < nrows; r++) {
		for (int c = 0; c < ncols; c++) {
			size_t len = 0;
			const char *v = cell(ud, r, c, &len);
			if (v)
				sqlite3_bind_text(s, c + 1, v, (int)len, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, c + 1);
		}
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = db_fail(st, "import a row");
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return s ? tx_end(st, rc) : rc;
}
