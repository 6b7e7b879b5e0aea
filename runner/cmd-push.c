/*
 * `lifeboat push`: sends what the history still holds back to the central
 * PostgreSQL (SPEC 11): the backlog of an outage, or a whole history that
 * never had `central:` (its first push queues every row it holds). Prints
 * what it sent, per table; exit 0 when nothing is left, 1 otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "central.h"
#include "config.h"
#include "runner.h"

enum { PUSH_OPT_ALL = OPT_CODE + 64 };

static int cmd_push(const struct cmd_args *a)
{
	if (a->nargs)
		return usage_error("push", "push takes no arguments (the history is --db's, else the config's)");
	struct central_opts o;
	int off = runner_central_opts(&o, 0);
	const struct config *cfg = runner_config();
	if (off == 1) {
		errorf("no central server: add central: { url: \"postgresql://user@host:5432/db\" } to the "
		       "config%s%s", cfg ? " " : "", cfg ? cfg->path : " (lifeboat.yaml, or --config FILE)");
		return EXIT_USAGE;
	}
	if (off == 2) {
		errorf("%s:%d: central.password_env: %s is not set (nor PGPASSFILE); export it and push again",
		       cfg->path, cfg->central.line, cfg->central.password_env);
		return 1;
	}
	struct store *st;
	int rc = open_history(&st);	/* named when missing; migrated, so the queue exists */
	if (rc)
		return rc;
	store_close(st);
	char *db = absolute_db();
	struct central_report rep;
	char *server = central_server_name(o.url);
	int failed = central_push(db, &o, opt_count(a, PUSH_OPT_ALL) > 0, &rep);
	long total = 0;
	for (int t = 0; t < CENTRAL__COUNT; t++)
		total += rep.counts.rows[t];
	if (!g_opts.quiet) {
		if (rep.renewed)
			printf("history %s: new source id %s (every row queued)\n", db, rep.source_id);
		else if (rep.requeued)
			printf("history %s: every row queued again (%s)\n", db,
			       opt_count(a, PUSH_OPT_ALL) ? "--all" : "it last sent to another database");
		printf("pushed %ld row%s to %s (%ld new or changed)", total, total == 1 ? "" : "s", server,
		       rep.counts.changed);
		for (int t = 0, first = 1; t < CENTRAL__COUNT; t++)
			if (rep.counts.rows[t]) {
				printf("%s%s %ld", first ? ": " : ", ", central_table_name(t), rep.counts.rows[t]);
				first = 0;
			}
		printf("\n");
	}
	if (rep.counts.conflicts)
		warnf("%ld row%s differed from the one the central server holds for the same key and version; "
		      "kept in its table conflicts", rep.counts.conflicts, rep.counts.conflicts == 1 ? "" : "s");
	if (failed) {
		if (rep.error)
			errorf("%s", rep.error);
		if (rep.pending > 0)
			errorf("%ld change%s still waiting in %s; push again when the server is back", rep.pending,
			       rep.pending == 1 ? "" : "s", db);
	} else if (!g_opts.quiet) {
		printf("nothing left to push\n");
	}
	central_report_release(&rep);
	free(server);
	free(db);
	return failed ? 1 : 0;
}

static const struct opt push_options[] = {
	{ PUSH_OPT_ALL, "all", NULL, "send every row again (after the central database was restored)" },
	OPT_END
};

const struct cmd cmd_push_entry = {
	"push", cmd_push, "", "send the history's backlog to the central PostgreSQL",
	push_options,
	"push\n--db ci-runner.db push\npush --all",
	NEED_CONFIG, NULL,
};
