/*
 * `lifeboat show RUN_ID [--json]`: one run's timeline from the history
 * alone: phases, steps with their attempts, who confirmed, notes, and the
 * tail of what failed steps printed.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "report.h"
#include "runner.h"
#include "term.h"

/* A remote step's hosts: the counts, then one line per host (SPEC 8). */
static void print_hosts(const struct step_rec *s)
{
	char *sum = step_hosts_summary(s);
	if (!sum)
		return;
	printf("        hosts: %s\n", sum);
	free(sum);
	char d[32];
	for (size_t k = 0; k < s->nhosts; k++) {
		const struct host_rec *h = &s->hosts[k];
		printf("          %s%-11s%s %s %s", host_ok(h) ? c_green() : c_red(), h->status ? h->status : "?",
		       c_reset(), h->host, fmt_dur(h->duration_s, d, sizeof(d)));
		if (h->exit_code >= 0)
			printf(", exit %d", h->exit_code);
		if (h->attempts > 1)
			printf(", %d attempts", h->attempts);
		if (h->error && !host_ok(h))
			printf(": %s", h->error);
		putchar('\n');
	}
}

static void print_tail(const char *out, int lines)
{
	if (!out || !*out)
		return;
	const char *end = out + strlen(out);
	while (end > out && end[-1] == '\n')
		end--;
	const char *p = end;
	int n = 0;
	while (p > out && n < lines) {
		p--;
		if (*p == '\n')
			n++;
	}
	if (*p == '\n')
		p++;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		printf("        %s|%s %s\n", c_dim(), c_reset(), term_textn(p, len));
		p += len + 1;
	}
}

struct stops {
	struct strbuf text;
	int resumed;
};

static void add_stop(void *ud, const char *at, const char *event, const char *operator,
		     const char *detail)
{
	struct stops *s = ud;
	strbuf_addf(&s->text, "    %s ", at ? at : "?");
	if (!strcmp(event, "run_started")) {
		strbuf_addf(&s->text, "started by %s\n", operator ? operator : "?");
	} else if (!strcmp(event, "resume")) {
		strbuf_addf(&s->text, "resumed by %s\n", operator ? operator : "?");
		s->resumed = 1;
	} else {
		json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
		const char *status = json_string_value(json_object_get(d, "status"));
		json_t *code = json_object_get(d, "exit_code");
		strbuf_addf(&s->text, "%s", status ? status : "ended");
		if (json_is_integer(code))
			strbuf_addf(&s->text, ", exit %d", (int)json_integer_value(code));
		strbuf_addch(&s->text, '\n');
		json_decref(d);
	}
}

/* Each stop and resume of a run that was resumed (SPEC 3): its status history. */
static void print_stops(struct store *st, const struct run_rec *r)
{
	struct stops s = { STRBUF_INIT, 0 };
	strbuf_init(&s.text, 0);
	if (!store_run_stops(st, r->id, add_stop, &s) && s.resumed)
		printf("  status history:\n%s", s.text.buf);
	strbuf_release(&s.text);
}

/* Who a step of a running run waits for, as the engine wrote it, and how to answer. */
static void print_waiting(const struct run_rec *r, const struct step_rec *s)
{
	if (s->waiting == WAIT_PERSON)
		printf("        %swaiting for %s%s to confirm: lifeboat confirm %s '%s' (or decline)%s\n", c_bold(),
		       s->role ? "a member of role " : "a person", s->role ? term_text(s->role) : "", r->id,
		       term_text(s->name), c_reset());
	else if (s->waiting == WAIT_DECISION)
		printf("        %spaused after a failure: waiting for a person to retry, skip or fail it in the console%s\n",
		       c_bold(), c_reset());
}

static void print_timeline(struct store *st, const struct run_rec *r)
{
	char iso[32], iso2[32], d[32], verdict[160];
	printf("%srun %s%s · %s · %s · %s%s%s", c_bold(), r->id, c_reset(), term_text(r->runbook), r->mode,
	       status_color(r->status), verdict_text(r, verdict, sizeof(verdict)), c_reset());
	if (r->status != ST_RUNNING && r->exit_code >= 0)
		printf(" · exit %d", r->exit_code);
	putchar('\n');
	printf("  file %s (sha256 %.12s%s%s)\n", r->file ? term_text(r->file) : "-", r->sha256 ? r->sha256 : "-",
	       r->signed_by ? ", signed by key " : "", r->signed_by ? r->signed_by : "");
	printf("  operator %s (uid %ld) on %s, trigger %s%s%s\n", r->operator ? term_text(r->operator) : "-",
	       r->uid, r->host ? r->host : "-", r->trigger ? r->trigger : "-",
	       r->env ? ", env " : "", r->env ? r->env : "");
	printf("  started %s, ended %s\n", clock_iso8601(r->started_ms, iso),
	       r->ended_ms == TS_NONE ? "-" : clock_iso8601(r->ended_ms, iso2));
	printf("  incident (t0) %s, restored (t1) %s\n",
	       r->incident_ms == TS_NONE ? "-" : clock_iso8601(r->incident_ms, iso),
	       r->restored_ms == TS_NONE ? "-" : clock_iso8601(r->restored_ms, iso2));
	if (r->recovery_point_ms != TS_NONE)
		printf("  recovery point %s\n", clock_iso8601(r->recovery_point_ms, iso));
	if (r->newest_recoverable_ms != TS_NONE)
		printf("  newest recoverable backup %s\n", clock_iso8601(r->newest_recoverable_ms, iso));
	print_stops(st, r);
	if (r->params_json)
		printf("  params %s\n", term_text(r->params_json));
	if (r->error)
		printf("  %s%s%s\n", c_red(), term_text(r->error), c_reset());
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		printf("\n%s%s%s %s%s%s %s", c_bold(), term_text(p->name), c_reset(), status_color(p->status),
		       status_symbol(p->status), c_reset(), fmt_dur(p->duration_s, d, sizeof(d)));
		if (!isnan(p->budget_s)) {
			char b[32];
			printf(" of %s%s", fmt_dur(p->budget_s, b, sizeof(b)),
			       p->over_budget ? " (OVER BUDGET)" : "");
		}
		if (p->role)
			printf(", role %s", term_text(p->role));
		printf("%s%s%s\n", p->fault ? ", fault" : "", p->cleanup ? ", cleanup" : "",
		       p->probe == PROBE_BEFORE ? ", probes (before the fault)" :
		       p->probe == PROBE_AFTER ? ", probes (after the recovery)" : "");
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			printf("  %s%-11s%s %s%s [%s] %s", status_color(s->status), status_symbol(s->status),
			       c_reset(), s->section == SEC_ROLLBACK ? "(rollback) " : "", term_text(s->name),
			       s->kind ? s->kind : "?", fmt_dur(s->duration_s, d, sizeof(d)));
			if (s->attempts > 1)
				printf(", %d attempts", s->attempts);
			if (s->exit_code >= 0 && step_kind_is(s->kind, STEP_SH))
				printf(", exit %d", s->exit_code);
			if (s->human_wait_s > 0)
				printf(", waited %s for a person", fmt_dur(s->human_wait_s, d, sizeof(d)));
			if (s->confirmed_by) {
				char *how = step_confirmed_text(s);
				printf(s->auto_confirmed ? ", %s" : ", confirmed by %s", term_text(how));
				free(how);
			}
			putchar('\n');
			if (s->error && s->status != ST_SUCCEEDED)
				printf("        %s%s%s\n", c_red(), term_text(s->error), c_reset());
			if (r->status == ST_RUNNING)
				print_waiting(r, s);
			print_hosts(s);
			if (s->attempts > 1) {
				struct attempt_rec *att = NULL;
				size_t na = 0;
				if (!store_attempts_load(st, r->id, (int)i, (int)j, &att, &na)) {
					for (size_t k = 0; k < na; k++) {
						printf("        attempt %d: %s %s%s%s\n", att[k].attempt,
						       status_name(att[k].status),
						       fmt_dur(att[k].duration_s, d, sizeof(d)),
						       att[k].error ? ", " : "", att[k].error ? term_text(att[k].error) : "");
						attempt_rec_release(&att[k]);
					}
					free(att);
				}
			}
			/* failed steps get more of their output: it is what people look for */
			print_tail(s->output, s->status == ST_FAILED || s->status == ST_TIMED_OUT ||
						      s->status == ST_DECLINED ? 10 : 3);
		}
	}
	if (r->nnotes) {
		printf("\n%snotes%s\n", c_bold(), c_reset());
		for (size_t i = 0; i < r->nnotes; i++)
			printf("  %s %s%s: %s\n", clock_iso8601(r->notes[i].at_ms, iso),
			       term_text(r->notes[i].operator), note_after_end(r, &r->notes[i]) ? " (after the end)" : "",
			       term_text(r->notes[i].text));
	}
	print_summary(stdout, r);
}

enum { SHOW_OPT_JSON = OPT_CODE + 64 };

static int cmd_show(const struct cmd_args *a)
{
	const struct run_rec *r = runner_run();
	if (opt_count(a, SHOW_OPT_JSON)) {
		char *s = report_json_string(r, 1);
		fputs(s, stdout);	/* the pretty report already ends with a newline */
		free(s);
	} else {
		print_timeline(runner_history(), r);
	}
	return 0;
}

static const struct opt show_options[] = {
	{ SHOW_OPT_JSON, "json", NULL, "print the run as JSON (the report's schema)" },
	{ OPT_CENTRAL, "central", NULL, CENTRAL_OPT_HELP },
	OPT_END
};

const struct cmd cmd_show_entry = {
	"show", cmd_show, "RUN_ID", "one run's timeline",
	show_options,
	"show 3f9c2a\n"
	"show --json 3f9c2a",
	NEED_CONFIG | NEED_RUN, check_run_id,	/* --central: main reads the run from the team history */
};
