/*
 * The remote-action channel: a request row in the history that the process
 * executing the run reads within a second (engine-request.c, handle_requests),
 * checks against the roles, applies, and answers. So the commander can sign
 * off from any terminal that reaches the history file.
 */
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "clock.h"
#include "json.h"
#include "runner.h"

#define ANSWER_WAIT_MS 5000

int act_request(struct store *st, const struct run_rec *r, const char *kind, const char *step,
		const char *text, long *id)
{
	if (store_request_add(st, r->id, kind, step, g_opts.operator, (long)getuid(), text, id))
		return -1;
	/* on this host, nudge the executing process so it reads the request now */
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	if (r->pid > 0 && r->host && !strcmp(r->host, host))
		kill((pid_t)r->pid, SIGUSR1);
	return 0;
}

static int note_finished(struct store *st, const struct run_rec *r, const char *text)
{
	char *own = xstrdup(text);
	struct note_rec n = { clock_wall_ms(), g_opts.operator, own };
	if (n.at_ms <= r->ended_ms)
		n.at_ms = r->ended_ms + 1;	/* after the end, whatever the clocks say */
	char *detail = lbjson_dump(json_pack("{s:o, s:b}", "text", lbjson_string(text), "after_end", 1));
	store_unit_begin(st);
	int rc = store_note_add(st, r->id, &n);
	if (!rc)
		rc = store_audit_append(st, r->id, "note", g_opts.operator, (long)getuid(), detail);
	int end = store_unit_end(st);
	free(detail);
	free(own);
	if (rc || end) {
		errorf("cannot write the note into '%s': %s", db_path(), store_error(st));
		return 1;
	}
	printf("run %s: note added after the end (as %s)\n", r->id, g_opts.operator);
	return 0;
}

int act_on_run(const char *cmd, const char *kind, const char *step, const char *text)
{
	struct store *st = runner_history();
	const struct run_rec *r = runner_run();
	if (r->status != ST_RUNNING && !strcmp(kind, "note") && r->status != ST_REFUSED)
		return note_finished(st, r, text);	/* a post-incident review finding, kept and audited here */
	if (r->status != ST_RUNNING) {
		errorf("run %s is %s, not running: there is nothing to %s", r->id, status_name(r->status),
		       cmd);
		return EXIT_REFUSED;
	}
	long id = 0;
	if (act_request(st, r, kind, step, text, &id)) {
		errorf("cannot write the request into '%s': %s", db_path(), store_error(st));
		return 1;
	}
	char *answer = NULL;
	int64_t until = clock_mono_ns() + (int64_t)ANSWER_WAIT_MS * 1000000;
	int got = 0, rc = 0;
	while ((got = store_request_result(st, id, &answer)) == 0 && clock_mono_ns() < until)
		clock_sleep_ms(20);
	if (got == 1) {
		if (!strncmp(answer, "refused", 7)) {
			errorf("run %s: %s", r->id, answer);
			rc = EXIT_REFUSED;
		} else {
			printf("run %s: %s (as %s)\n", r->id, answer, g_opts.operator);
		}
	} else {
		warnf("run %s did not answer within %d s: its process may be gone; the request stays queued",
		      r->id, ANSWER_WAIT_MS / 1000);
		rc = 1;
	}
	free(answer);
	return rc;
}
