/*
 * The team history as the runner uses it (SPEC 11): the connection options
 * from the config (the password from password_env, redacted like a secret,
 * or libpq's own PGPASSFILE), the sender a recording command runs beside
 * the engine, and what it says at exit when something was left for `push`.
 */
#include <stdlib.h>
#include <string.h>

#include "central.h"
#include "config.h"
#include "runner.h"

int runner_central_opts(struct central_opts *o, int say)
{
	const struct config *cfg = runner_config();
	memset(o, 0, sizeof(*o));
	if (!cfg || !cfg->central.url)
		return 1;
	o->url = cfg->central.url;
	const char *var = cfg->central.password_env;
	if (!var)
		return 0;
	const char *pw = getenv(var);
	if (pw && *pw) {
		o->password = pw;
		return 0;
	}
	const char *passfile = getenv("PGPASSFILE");
	if (passfile && *passfile)
		return 0;
	if (say)
		warnf("%s:%d: central.password_env: %s is not set (nor PGPASSFILE): nothing is sent to the "
		      "central server; export it, then `lifeboat push` sends what waits", cfg->path,
		      cfg->central.line, var);
	return 2;
}

struct central_sender *start_central(void)
{
	struct central_opts o;
	if (runner_central_opts(&o, 1))
		return NULL;
	char *db = absolute_db();
	struct central_sender *s = central_sender_start(db, &o);
	free(db);
	return s;
}

void finish_central(struct central_sender *s)
{
	if (!s)
		return;
	struct central_report rep;
	central_sender_finish(s, CENTRAL_FLUSH_S, &rep);
	char count[32] = "some";
	if (rep.pending > 0)
		snprintf(count, sizeof(count), "%ld", rep.pending);
	if (rep.pending)
		warnf("central: %s change%s not sent yet%s%s; `lifeboat push` sends them", count,
		      rep.pending == 1 ? "" : "s", rep.error ? ": " : "", rep.error ? rep.error : "");
	if (rep.counts.conflicts)
		warnf("central: %ld row%s differed from the one the central server holds for the same key "
		      "and version; kept in its table conflicts", rep.counts.conflicts,
		      rep.counts.conflicts == 1 ? "" : "s");
	central_report_release(&rep);
}
