/*
 * The JUnit XML report: one testcase per step (per host of a remote step),
 * and the RTO and RPO as testcases of their own. It is written to validate
 * against Jenkins xUnit's junit-10.xsd, the strictest common reader: it
 * decides which attributes exist (no "skipped" on <testsuites>, no "file"
 * on <testcase>, ...).
 *
 * Also the XML escaping the HTML page uses: XML gets valid UTF-8 (bad bytes
 * become U+FFFD) and loses the characters XML 1.0 forbids (terminal escapes
 * included), or readers reject the file.
 */
#include "report-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "util.h"

#define MESSAGE_BYTES 512	/* of the error, in a failure's message attribute */

/* ---- JUnit XML ---- */

static int xml_char_ok(unsigned long c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	       (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/*
 * Escapes n bytes of s for an attribute (attr) or element text. Terminal
 * escape sequences (ESC [ ... final byte) go whole, not just their ESC.
 */
static void xml_addn(struct strbuf *sb, const char *s, size_t n, int attr)
{
	const unsigned char *p = (const unsigned char *)s;
	while (n) {
		unsigned long c;
		size_t len = text_next(p, n, &c);
		if (c == TEXT_BAD) {
			strbuf_addstr(sb, replacement);
		} else if (c == TEXT_CSI) {
			/* dropped */
		} else if (!xml_char_ok(c)) {
			/* dropped */
		} else if (c == '&') {
			strbuf_addstr(sb, "&amp;");
		} else if (c == '<') {
			strbuf_addstr(sb, "&lt;");
		} else if (c == '>') {
			strbuf_addstr(sb, "&gt;");
		} else if (c == '"') {
			strbuf_addstr(sb, "&quot;");
		} else if (c == '\'') {
			strbuf_addstr(sb, "&apos;");
		} else if (c == '\r' || (attr && (c == '\n' || c == '\t'))) {
			/* kept as references: a parser normalizes literal ones away */
			strbuf_addf(sb, "&#%lu;", c);
		} else {
			strbuf_add(sb, p, len);
		}
		p += len;
		n -= len;
	}
}

void xml_add(struct strbuf *sb, const char *s, int attr)
{
	if (s)
		xml_addn(sb, s, strlen(s), attr);
}

/* ` name="value"`; nothing when value is NULL */
static void xml_attr(struct strbuf *sb, const char *name, const char *value)
{
	if (!value)
		return;
	strbuf_addf(sb, " %s=\"", name);
	xml_add(sb, value, 1);
	strbuf_addch(sb, '"');
}

static void xml_attr_secs(struct strbuf *sb, const char *name, double secs)
{
	if (isfinite(secs))
		strbuf_addf(sb, " %s=\"%.3f\"", name, secs < 0 ? 0.0 : secs);
}

enum outcome { OUT_PASS, OUT_FAILURE, OUT_ERROR, OUT_SKIPPED };

struct suite {
	struct strbuf body;	/* the testcases */
	int tests, failures, errors, skipped;
	double step_time;	/* sum of step durations, NAN when none is known */
};

/*
 * One testcase. message goes in the failure/error/skipped element's
 * attribute, text (if any) in its body; out, when set, becomes system-out.
 */
static void testcase(struct suite *su, const char *classname, const char *name, double secs,
		     enum outcome oc, const char *type, const char *message, const char *text,
		     const char *out)
{
	static const char *const tags[] = { NULL, "failure", "error", "skipped" };
	struct strbuf *sb = &su->body;
	su->tests++;
	su->failures += oc == OUT_FAILURE;
	su->errors += oc == OUT_ERROR;
	su->skipped += oc == OUT_SKIPPED;
	strbuf_addstr(sb, "    <testcase");
	xml_attr(sb, "classname", classname);
	xml_attr(sb, "name", name ? name : "");
	xml_attr_secs(sb, "time", secs);
	if (oc == OUT_PASS && !out) {
		strbuf_addstr(sb, "/>\n");
		return;
	}
	strbuf_addstr(sb, ">\n");
	if (oc != OUT_PASS) {
		strbuf_addf(sb, "      <%s", tags[oc]);
		xml_attr(sb, "type", type);
		xml_attr(sb, "message", message);
		if (text && *text) {
			strbuf_addch(sb, '>');
			xml_add(sb, text, 0);
			strbuf_addf(sb, "</%s>\n", tags[oc]);
		} else {
			strbuf_addstr(sb, "/>\n");
		}
	}
	if (out) {
		strbuf_addstr(sb, "      <system-out>");
		xml_add(sb, out, 0);
		strbuf_addstr(sb, "</system-out>\n");
	}
	strbuf_addstr(sb, "    </testcase>\n");
}

/* The first line of an error, bounded, for a message attribute. */
char *first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	if (n > MESSAGE_BYTES) {
		n = MESSAGE_BYTES;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* not in the middle of a character */
	}
	return xstrndup(s, n);
}

/* The error, then the last TAIL_BYTES of the output, for a failure's body. */
static char *failure_text(const struct step_rec *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 0);
	if (s->error && strchr(s->error, '\n')) {
		strbuf_addstr(&sb, s->error);	/* a traceback: whole, the message has line 1 */
		strbuf_addstr(&sb, "\n\n");
	}
	if (s->output && *s->output) {
		const char *out = s->output;
		size_t n = strlen(out);
		if (n > TAIL_BYTES || s->output_cut > 0)
			strbuf_addstr(&sb, "[... output shortened; its end follows ...]\n");
		if (n > TAIL_BYTES) {
			out += n - TAIL_BYTES;
			while (((unsigned char)*out & 0xc0) == 0x80)
				out++;
		}
		strbuf_addstr(&sb, out);
	}
	return strbuf_detach(&sb);
}

/*
 * A remote step (SPEC 8): a testcase per host, "step @ host". A host that
 * did not succeed fails its case when the step failed; when the step
 * succeeded anyway (max_failed_hosts), the case is skipped and says so, so
 * CI is not marked failed for a failure the runbook tolerates.
 */
static void host_cases(struct suite *su, const struct phase_rec *p, const struct step_rec *s)
{
	if (isfinite(s->duration_s))
		su->step_time = (isnan(su->step_time) ? 0 : su->step_time) + s->duration_s;
	for (size_t k = 0; k < s->nhosts; k++) {
		const struct host_rec *h = &s->hosts[k];
		char *name = xasprintf("%s%s @ %s", s->section == SEC_ROLLBACK ? "rollback: " : "",
				       s->name ? s->name : "", h->host);
		const char *st = h->status ? h->status : "pending";
		char *why = first_line(h->error ? h->error : st);
		double secs = h->duration_s;
		if (host_ok(h)) {
			testcase(su, p->name, name, secs, OUT_PASS, NULL, NULL, NULL, NULL);
		} else if (!strcmp(st, "skipped") || !strcmp(st, "pending")) {
			char *msg = xasprintf("not started: %s", why);
			testcase(su, p->name, name, NAN, OUT_SKIPPED, NULL, msg, NULL, NULL);
			free(msg);
		} else if (s->status == ST_SUCCEEDED) {
			char *msg = xasprintf("%s and was tolerated (max_failed_hosts): %s", st, why);
			testcase(su, p->name, name, secs, OUT_SKIPPED, NULL, msg, NULL, h->output);
			free(msg);
		} else if (!strcmp(st, "interrupted") || !strcmp(st, "running")) {
			testcase(su, p->name, name, secs, OUT_ERROR, st, why, h->output, NULL);
		} else {
			testcase(su, p->name, name, secs, OUT_FAILURE, st, why, h->output, NULL);
		}
		free(why);
		free(name);
	}
}

static void step_case(struct suite *su, const struct phase_rec *p, const struct step_rec *s)
{
	if (s->nhosts) {
		host_cases(su, p, s);
		return;
	}
	char *name = s->section == SEC_ROLLBACK ? xasprintf("rollback: %s", s->name ? s->name : "")
						: xstrdup(s->name ? s->name : "");
	char *how = step_confirmed_text(s);
	char *out = how ? (s->auto_confirmed ? xstrdup(how) : xasprintf("confirmed by %s", how)) : NULL;
	free(how);
	const char *type = status_name(s->status);
	if (isfinite(s->duration_s))
		su->step_time = (isnan(su->step_time) ? 0 : su->step_time) + s->duration_s;

	switch (s->status) {
	case ST_SUCCEEDED:
		testcase(su, p->name, name, s->duration_s, OUT_PASS, NULL, NULL, NULL, out);
		break;
	case ST_FAILED:
	case ST_TIMED_OUT:
	case ST_DECLINED:
	case ST_ABORTED:
	case ST_REFUSED: {
		char *msg = s->error ? first_line(s->error)
			  : s->status == ST_TIMED_OUT ? xstrdup("timed out")
			  : s->status == ST_DECLINED ? xstrdup("declined")
			  : s->exit_code >= 0 ? xasprintf("exit status %d", s->exit_code)
			  : xstrdup(type);
		char *text = failure_text(s);
		testcase(su, p->name, name, s->duration_s, OUT_FAILURE, type, msg, text, out);
		free(text);
		free(msg);
		break;
	}
	case ST_INTERRUPTED: {
		char *msg = first_line(s->error ? s->error : "interrupted");
		char *text = failure_text(s);
		testcase(su, p->name, name, s->duration_s, OUT_ERROR, type, msg, text, out);
		free(text);
		free(msg);
		break;
	}
	case ST_SKIPPED:
		testcase(su, p->name, name, s->duration_s, OUT_SKIPPED, NULL, "skipped", NULL, out);
		break;
	case ST_ROLLED_BACK:
		testcase(su, p->name, name, s->duration_s, OUT_SKIPPED, NULL, "rolled back", NULL,
			 out);
		break;
	case ST_RUNNING:
		testcase(su, p->name, name, s->duration_s, OUT_SKIPPED, NULL, "still running", NULL,
			 out);
		break;
	default:	/* pending: the run ended before it */
		testcase(su, p->name, name, NAN, OUT_SKIPPED, NULL, "not run", NULL, out);
		break;
	}
	free(out);
	free(name);
}

/*
 * RTO and RPO as testcases, so a CI that only reads JUnit still sees a
 * missed objective. No declared target: passes, and says so.
 */
static void objective_case(struct suite *su, const struct run_rec *r, const char *what,
			   double target, double achieved, int met, const char *status)
{
	const char *cls = r->runbook ? r->runbook : "lifeboat";
	char tb[32], ab[32];
	duration_format(target, tb, sizeof(tb));
	duration_format(achieved, ab, sizeof(ab));
	char *msg = NULL, *out = NULL;
	enum outcome oc = OUT_PASS;
	enum rpo_status rs = rpo_status_of(status);
	if (isnan(target) || rs == RPO_NONE) {
		out = isnan(achieved) ? xasprintf("no %s declared", what)
				      : xasprintf("no %s declared; achieved %s", what, ab);
	} else if (rs == RPO_UNMEASURED) {
		oc = OUT_FAILURE;
		msg = xasprintf("%s unmeasured: no recovery point was reported; achieved none vs "
				"target %s", what, tb);
	} else if (met == 0 || rs == RPO_MISSED) {
		oc = OUT_FAILURE;
		msg = isnan(achieved)
			? xasprintf("%s missed: service not restored; achieved none vs target %s",
				    what, tb)
			: xasprintf("%s missed: achieved %s vs target %s", what, ab, tb);
	} else if (met == 1) {
		out = xasprintf("%s met: achieved %s vs target %s", what, ab, tb);
	} else if (!run_finished(r)) {
		oc = OUT_SKIPPED;
		msg = xasprintf("run still in progress; target %s", tb);
	} else {
		oc = OUT_FAILURE;
		msg = xasprintf("%s not measured: service not restored; achieved none vs target %s",
				what, tb);
	}
	testcase(su, cls, what, 0, oc, oc == OUT_FAILURE ? "objective" : NULL, msg, NULL, out);
	free(msg);
	free(out);
}

/* A probe run's RPO exposure as a testcase (SPEC 10): fails when over the RPO or unmeasured. */
static void exposure_case(struct suite *su, const struct run_rec *r)
{
	const char *cls = r->runbook ? r->runbook : "lifeboat";
	char tb[32], ab[32];
	duration_format(r->rpo_target_s, tb, sizeof(tb));
	duration_format(r->exposure_s, ab, sizeof(ab));
	char *msg = NULL, *out = NULL;
	enum outcome oc = OUT_PASS;
	switch (r->exposure) {
	case EXPOSURE_MISSED:
		oc = OUT_FAILURE;
		msg = xasprintf("RPO exposed: the newest recoverable backup is %s old vs target %s", ab, tb);
		break;
	case EXPOSURE_UNMEASURED:
		oc = OUT_FAILURE;
		msg = xasprintf("RPO exposure unmeasured: newest_recoverable gave no time; target %s", tb);
		break;
	case EXPOSURE_MET:
		out = xasprintf("RPO exposure within the RPO: %s vs target %s", ab, tb);
		break;
	case EXPOSURE_NONE:
		out = xasprintf("no RPO exposure judged (no newest_recoverable or no RPO); exposure %s", ab);
		break;
	}
	testcase(su, cls, "RPO exposure", 0, oc, oc == OUT_FAILURE ? "objective" : NULL, msg, NULL, out);
	free(msg);
	free(out);
}

static void property(struct strbuf *sb, const char *name, const char *value)
{
	if (!value)
		return;
	strbuf_addstr(sb, "      <property");
	xml_attr(sb, "name", name);
	xml_attr(sb, "value", value);
	strbuf_addstr(sb, "/>\n");
}

static void property_ts(struct strbuf *sb, const char *name, int64_t ms)
{
	char buf[32];
	if (ms != TS_NONE)
		property(sb, name, clock_iso8601(ms, buf));
}

static void property_secs(struct strbuf *sb, const char *name, double secs)
{
	char buf[32];
	if (isfinite(secs)) {
		snprintf(buf, sizeof(buf), "%.3f", secs);
		property(sb, name, buf);
	}
}

static void properties(struct strbuf *sb, const struct run_rec *r)
{
	strbuf_addstr(sb, "    <properties>\n");
	property(sb, "run_id", r->id);
	property(sb, "status", status_name(r->status));
	property(sb, "mode", r->mode);
	property(sb, "trigger", r->trigger);
	property(sb, "env", r->env);
	property(sb, "operator", r->operator);
	property(sb, "runbook_file", r->file);
	property(sb, "runbook_sha256", r->sha256);
	property(sb, "signed_by", r->signed_by);
	property_ts(sb, "incident_at", r->incident_ms);
	property_ts(sb, "restored_at", r->restored_ms);
	property_secs(sb, "rto_target_s", r->rto_target_s);
	property_secs(sb, "rto_achieved_s", r->rto_achieved_s);
	property_secs(sb, "rpo_target_s", r->rpo_target_s);
	property_secs(sb, "rpo_achieved_s", r->rpo_achieved_s);
	property(sb, "rpo_status", r->rpo_status);
	property_secs(sb, "rpo_exposure_s", r->exposure_s);
	if (r->exposure != EXPOSURE_NONE)
		property(sb, "rpo_exposure_status", exposure_status_name(r->exposure));
	property_secs(sb, "human_wait_s", r->human_wait_s);
	strbuf_addstr(sb, "    </properties>\n");
}

char *report_junit_string(const struct run_rec *run)
{
	struct suite su = { STRBUF_INIT, 0, 0, 0, 0, NAN };
	strbuf_init(&su.body, 4096);
	for (size_t i = 0; i < run->nphases; i++)
		for (size_t j = 0; j < run->phases[i].nsteps; j++) {
			const struct step_rec *st = &run->phases[i].steps[j];
			/* a rollback that never ran is not a test that was skipped: nothing failed */
			if (st->section == SEC_ROLLBACK && st->started_ms == TS_NONE &&
			    (st->status == ST_SKIPPED || st->status == ST_PENDING))
				continue;
			step_case(&su, &run->phases[i], st);
		}
	if (run_mode_of(run) == MODE_PROBE) {
		exposure_case(&su, run);	/* a probe recovers nothing: no RTO, no RPO */
	} else {
		objective_case(&su, run, "RTO", run->rto_target_s, run->rto_achieved_s, run->rto_met,
			       NULL);
		objective_case(&su, run, "RPO", run->rpo_target_s, run->rpo_achieved_s, run->rpo_met,
			       run->rpo_status);
	}

	double secs = run->started_ms != TS_NONE && run->ended_ms != TS_NONE
			      ? (double)(run->ended_ms - run->started_ms) / 1000.0
			      : su.step_time;
	char counts[128];
	snprintf(counts, sizeof(counts), " tests=\"%d\" failures=\"%d\" errors=\"%d\"", su.tests,
		 su.failures, su.errors);

	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, su.body.len + 2048);
	strbuf_addstr(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	xml_attr(&sb, "name", "lifeboat");
	strbuf_addstr(&sb, counts);
	xml_attr_secs(&sb, "time", secs);
	strbuf_addstr(&sb, ">\n  <testsuite");
	xml_attr(&sb, "name", run->runbook ? run->runbook : "lifeboat");
	strbuf_addstr(&sb, counts);
	strbuf_addf(&sb, " skipped=\"%d\"", su.skipped);
	xml_attr_secs(&sb, "time", secs);
	char ts[32];
	if (run->started_ms != TS_NONE)
		xml_attr(&sb, "timestamp", clock_iso8601(run->started_ms, ts));
	xml_attr(&sb, "hostname", run->host);
	strbuf_addstr(&sb, ">\n");
	properties(&sb, run);
	strbuf_add(&sb, su.body.buf, su.body.len);
	if (run->nnotes) {
		strbuf_addstr(&sb, "    <system-out>");
		for (size_t i = 0; i < run->nnotes; i++) {
			const struct note_rec *n = &run->notes[i];
			strbuf_addstr(&sb, i ? "\n" : "");
			xml_add(&sb, clock_iso8601(n->at_ms, ts), 0);
			strbuf_addstr(&sb, " note by ");
			xml_add(&sb, n->operator ? n->operator : "?", 0);
			strbuf_addstr(&sb, note_after_end(run, n) ? " (after the end): " : ": ");
			xml_add(&sb, n->text, 0);
		}
		strbuf_addstr(&sb, "</system-out>\n");
	}
	if (run->error) {
		strbuf_addstr(&sb, "    <system-err>");
		xml_add(&sb, run->error, 0);
		strbuf_addstr(&sb, "</system-err>\n");
	}
	strbuf_addstr(&sb, "  </testsuite>\n</testsuites>\n");
	strbuf_release(&su.body);
	return strbuf_detach(&sb);
}
