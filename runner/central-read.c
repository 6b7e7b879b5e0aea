/*
 * --central for the readers (SPEC 11): history, show, report, plan,
 * evidence and audit verify read the team history on PostgreSQL. What a
 * command needs is copied into a temporary local history (lib/central-read.c)
 * which the command then reads as it reads its own file; the copy goes when
 * the command closes it. Without --central the same calls open the local
 * history, so each command has one reading path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "central.h"
#include "config.h"
#include "runner.h"

static struct central *conn;	/* the command's connection, while its reader is open */
static char *tmp_dir;		/* the temporary history's folder, owned */

/* The config's central: as libpq options; EXIT_USAGE (said) when --central cannot be used. */
static int central_opts_for(const char *cmd, struct central_opts *o)
{
	const struct config *cfg = runner_config();
	int rc = runner_central_opts(o, 0);
	if (rc == 1) {
		if (cfg)
			errorf("%s --central reads the team history on PostgreSQL, but %s has no central: "
			       "add central: { url: \"postgresql://user@host/db\" }", cmd, cfg->path);
		else
			errorf("%s --central reads the team history on PostgreSQL, but there is no config file: "
			       "give --config FILE with central: { url: \"postgresql://user@host/db\" }", cmd);
		return EXIT_USAGE;
	}
	if (rc == 2)
		warnf("%s:%d: central.password_env: %s is not set; connecting without a password",
		      cfg->path, cfg->central.line, cfg->central.password_env);
	return 0;
}

int central_connect_for(const char *cmd, struct central **out)
{
	struct central_opts o;
	int rc = central_opts_for(cmd, &o);
	if (rc)
		return rc;
	char *err = NULL;
	if (central_connect(&o, out, &err) || central_migrate(*out, &err)) {
		errorf("%s --central: %s", cmd, err);
		free(err);
		central_close(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

static void remove_tmp(void)
{
	if (!tmp_dir)
		return;
	static const char *const files[] = { "history.db", "history.db-wal", "history.db-shm", NULL };
	for (size_t i = 0; files[i]; i++) {
		char *p = xasprintf("%s/%s", tmp_dir, files[i]);
		unlink(p);
		free(p);
	}
	char *locks = xasprintf("%s/locks", tmp_dir);
	rmdir(locks);
	free(locks);
	rmdir(tmp_dir);
	free(tmp_dir);
	tmp_dir = NULL;
}

/* A fresh local history in a temporary folder: 0, or 1 (said). */
static int open_tmp(const char *cmd, struct store **st)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/lifeboat-central-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		errorf("%s --central: cannot create a temporary folder in %s: %s", cmd,
		       base && *base ? base : "/tmp", strerror(errno));
		free(tmpl);
		return 1;
	}
	tmp_dir = tmpl;
	char *path = xasprintf("%s/history.db", tmp_dir), *err = NULL;
	int rc = store_open(path, STORE_SCRATCH, st, &err);
	free(path);
	if (rc) {
		errorf("%s --central: cannot create a temporary history: %s", cmd, err ? err : "unknown error");
		free(err);
		remove_tmp();
		return 1;
	}
	return 0;
}

int open_copy(const char *cmd, struct central *c, const struct central_fetch *f, struct store **st)
{
	int rc = open_tmp(cmd, st);
	if (rc)
		return rc;
	char *err = NULL;
	if (central_fetch(c, f, *st, &err)) {
		errorf("%s --central: %s", cmd, err);
		free(err);
		close_copy(*st);
		*st = NULL;
		return 1;
	}
	return 0;
}

void close_copy(struct store *st)
{
	if (st)
		store_close(st);
	remove_tmp();
}

int open_reader(const char *cmd, int central, const struct central_fetch *f, struct store **st)
{
	*st = NULL;
	if (!central)
		return open_history(st);
	int rc = central_connect_for(cmd, &conn);
	if (!rc && (rc = open_copy(cmd, conn, f, st))) {
		central_close(conn);
		conn = NULL;
	}
	return rc;
}

int central_setup_run(const struct cmd_args *a, unsigned flags, struct store **st, struct run_rec **run)
{
	struct central_fetch f = { .what = CENTRAL_FETCH_RUN, .run_id = a->args[0],
				   .trend = (flags & CENTRAL_WITH_TREND) != 0, .whole_audit = (flags & CENTRAL_WITH_AUDIT) != 0 };
	int rc = open_reader(a->cmd->name, 1, &f, st);
	return rc ? rc : load_run(*st, a->args[0], run);
}

struct central *reader_central(void)
{
	return conn;
}

const char *reader_name(void)
{
	return conn ? central_server(conn) : db_path();
}

void close_reader(struct store *st)
{
	close_copy(st);
	central_close(conn);
	conn = NULL;
}
