/*
 * Reports from a run record: the JSON report of SPEC 7, JUnit XML,
 * Markdown, one self-contained HTML page and Prometheus text.
 *
 * JSON keeps the spec's keys in the spec's order; the extra fields a reader
 * may find useful come after the spec's own at each level (before the
 * nested arrays), since readers ignore unknown fields but people read the
 * file top down. JUnit is written to validate against Jenkins xUnit's
 * junit-10.xsd, the strictest common reader: it decides which attributes
 * exist (no "skipped" on <testsuites>, no "file" on <testcase>, ...).
 *
 * Names, errors and command output may hold any bytes: JSON gets valid
 * UTF-8 (bad bytes become U+FFFD), XML additionally loses the characters
 * XML 1.0 forbids (terminal escapes included), or readers reject the file.
 * The HTML page is written as XHTML-compatible markup through the same
 * escaping, so an XML parser reads it as well as a browser does; it carries
 * its CSS and SVG inline and loads nothing, so it can be mailed or archived.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "stats.h"
#include "store.h"
#include "util.h"

#define TAIL_BYTES 4096		/* output kept in a JUnit failure */
#define MESSAGE_BYTES 512	/* of the error, in a failure's message attribute */

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/* Length of the valid UTF-8 sequence at s (n bytes left) and its code point; 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	unsigned long v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* ---- JSON ---- */

static json_t *j_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		unsigned long cp;
		size_t len = utf8_decode(p, n, &cp);
		if (len)
			strbuf_add(&sb, p, len);
		else
			strbuf_addstr(&sb, replacement);
		len = len ? len : 1;
		p += len;
		n -= len;
	}
	j = json_string(sb.buf);
	strbuf_release(&sb);
	return j ? j : json_null();
}

static json_t *j_ts(int64_t ms)
{
	char buf[32];
	return ms == TS_NONE ? json_null() : json_string(clock_iso8601(ms, buf));
}

/* Seconds, rounded to the millisecond; null when absent. */
static json_t *j_secs(double s)
{
	return isfinite(s) ? json_real(round(s * 1000.0) / 1000.0) : json_null();
}

static json_t *j_tri(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *j_int(long long v, long long none)
{
	return v == none ? json_null() : json_integer(v);
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

static json_t *step_json(const struct step_rec *s)
{
	json_t *o = json_object();
	set(o, "name", j_str(s->name));
	set(o, "kind", j_str(s->kind));
	set(o, "role", j_str(s->role));
	set(o, "status", json_string(status_name(s->status)));
	set(o, "attempts", json_integer(s->attempts));
	set(o, "duration_s", j_secs(s->duration_s));
	set(o, "exit_code", j_int(s->exit_code, -1));
	set(o, "confirmed_by", j_str(s->confirmed_by));
	set(o, "auto_confirmed", json_boolean(s->auto_confirmed));
	set(o, "section", json_string(s->section == SEC_ROLLBACK ? "rollback" : "main"));
	set(o, "idempotent", json_boolean(s->idempotent));
	set(o, "human_wait_s", j_secs(s->human_wait_s));
	set(o, "started_at", j_ts(s->started_ms));
	set(o, "ended_at", j_ts(s->ended_ms));
	set(o, "error", j_str(s->error));
	if (s->nhosts) {	/* remote steps only (SPEC 8) */
		json_t *hosts = json_array();
		for (size_t k = 0; k < s->nhosts; k++) {
			const struct host_rec *h = &s->hosts[k];
			json_t *ho = json_object();
			set(ho, "host", j_str(h->host));
			set(ho, "status", j_str(h->status));
			set(ho, "exit_code", j_int(h->exit_code, -1));
			set(ho, "duration_s", j_secs(h->duration_s));
			set(ho, "attempts", json_integer(h->attempts));
			set(ho, "error", j_str(h->error));
			json_array_append_new(hosts, ho);
		}
		set(o, "hosts", hosts);
	}
	return o;
}

static json_t *phase_json(const struct phase_rec *p)
{
	json_t *o = json_object();
	set(o, "name", j_str(p->name));
	set(o, "role", j_str(p->role));
	set(o, "budget_s", j_secs(p->budget_s));
	set(o, "duration_s", j_secs(p->duration_s));
	set(o, "human_wait_s", j_secs(p->human_wait_s));
	set(o, "over_budget", json_boolean(p->over_budget));
	set(o, "status", json_string(status_name(p->status)));
	set(o, "fault", json_boolean(p->fault));
	set(o, "cleanup", json_boolean(p->cleanup));
	set(o, "restores_service", json_boolean(p->restores_service));
	set(o, "parallel", json_integer(p->parallel));
	set(o, "started_at", j_ts(p->started_ms));
	set(o, "ended_at", j_ts(p->ended_ms));
	json_t *steps = json_array();
	for (size_t i = 0; i < p->nsteps; i++)
		json_array_append_new(steps, step_json(&p->steps[i]));
	set(o, "steps", steps);
	return o;
}

/* As recorded; a run that declared no RPO says "none" even if the engine left it unset. */
static json_t *rpo_status_json(const struct run_rec *r)
{
	if (r->rpo_status)
		return j_str(r->rpo_status);
	return isnan(r->rpo_target_s) ? json_string("none") : json_null();
}

static json_t *run_json(const struct run_rec *r)
{
	json_t *o = json_object();
	set(o, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	set(o, "run_id", j_str(r->id));
	set(o, "runbook", j_str(r->runbook));
	set(o, "mode", j_str(r->mode));
	set(o, "trigger", j_str(r->trigger));
	set(o, "env", j_str(r->env));
	set(o, "operator", j_str(r->operator));
	set(o, "status", json_string(status_name(r->status)));
	set(o, "started_at", j_ts(r->started_ms));
	set(o, "ended_at", j_ts(r->ended_ms));
	set(o, "runbook_sha256", j_str(r->sha256));
	set(o, "signed_by", j_str(r->signed_by));
	set(o, "incident_at", j_ts(r->incident_ms));
	set(o, "restored_at", j_ts(r->restored_ms));
	set(o, "human_wait_s", j_secs(r->human_wait_s));

	json_t *rto = json_object();
	set(rto, "target_s", j_secs(r->rto_target_s));
	set(rto, "achieved_s", j_secs(r->rto_achieved_s));
	set(rto, "met", j_tri(r->rto_met));
	set(o, "rto", rto);
	json_t *rpo = json_object();
	set(rpo, "target_s", j_secs(r->rpo_target_s));
	set(rpo, "achieved_s", j_secs(r->rpo_achieved_s));
	set(rpo, "met", j_tri(r->rpo_met));
	set(rpo, "status", rpo_status_json(r));
	set(o, "rpo", rpo);

	set(o, "recovery_point", j_ts(r->recovery_point_ms));
	json_t *params = r->params_json ? json_loads(r->params_json, JSON_DECODE_ANY, NULL) : NULL;
	set(o, "params", params);
	set(o, "file", j_str(r->file));
	set(o, "uid", j_int(r->uid, -1));
	set(o, "host", j_str(r->host));
	set(o, "pid", j_int(r->pid, 0));
	set(o, "exit_code", j_int(r->exit_code, -1));
	set(o, "strict_budgets", json_boolean(r->strict_budgets));
	set(o, "error", j_str(r->error));

	json_t *phases = json_array();
	for (size_t i = 0; i < r->nphases; i++)
		json_array_append_new(phases, phase_json(&r->phases[i]));
	set(o, "phases", phases);
	json_t *notes = json_array();
	for (size_t i = 0; i < r->nnotes; i++) {
		json_t *n = json_object();
		set(n, "at", j_ts(r->notes[i].at_ms));
		set(n, "operator", j_str(r->notes[i].operator));
		set(n, "text", j_str(r->notes[i].text));
		set(n, "after_end", json_boolean(note_after_end(r, &r->notes[i])));
		json_array_append_new(notes, n);
	}
	set(o, "notes", notes);
	return o;
}

char *report_json_string(const struct run_rec *run, int pretty)
{
	json_t *o = run_json(run);
	/* 15 significant digits print ms-rounded seconds as written: 0.1, not 0.1000...01 */
	size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
		       (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	char *s = json_dumps(o, flags);
	json_decref(o);
	if (!s)
		die_oom(0);
	/* jansson's allocator is malloc: hand back our own copy all the same */
	char *out = pretty ? xasprintf("%s\n", s) : xstrdup(s);
	free(s);
	return out;
}

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
		size_t len = utf8_decode(p, n, &c);
		if (!len) {
			strbuf_addstr(sb, replacement);
			len = 1;
		} else if (c == 0x1b && n > 1 && p[1] == '[') {
			len = 2;
			while (len < n && !(p[len] >= 0x40 && p[len] <= 0x7e))
				len++;
			len += len < n;
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

static void xml_add(struct strbuf *sb, const char *s, int attr)
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
static char *first_line(const char *s)
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

static int run_finished(const struct run_rec *r)
{
	return r->status != ST_PENDING && r->status != ST_RUNNING;
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
	if (isnan(target) || (status && !strcmp(status, "none"))) {
		out = isnan(achieved) ? xasprintf("no %s declared", what)
				      : xasprintf("no %s declared; achieved %s", what, ab);
	} else if (status && !strcmp(status, "unmeasured")) {
		oc = OUT_FAILURE;
		msg = xasprintf("%s unmeasured: no recovery point was reported; achieved none vs "
				"target %s", what, tb);
	} else if (met == 0 || (status && !strcmp(status, "missed"))) {
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
	objective_case(&su, run, "RTO", run->rto_target_s, run->rto_achieved_s, run->rto_met,
		       NULL);
	objective_case(&su, run, "RPO", run->rpo_target_s, run->rpo_achieved_s, run->rpo_met,
		       run->rpo_status);

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

/* ---- files ---- */

/* mkdir -p of the folder that will hold path */
static int mkdir_parents(const char *path)
{
	char *dir = xstrdup(path);
	int rc = 0;
	for (char *p = dir + 1; *p && !rc; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	int saved = errno;
	free(dir);
	errno = saved;
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * A reader (a CI collecting reports, a dashboard) sees the old file or the
 * new one, never half of one. The temporary name carries the pid so two
 * lifeboats writing the same report do not write into one temporary file.
 */
int report_write_file(const char *path, const char *text, char **err)
{
	if (err)
		*err = NULL;
	if (!path || !*path) {
		if (err)
			*err = xstrdup("cannot write a report: no file name given");
		return -1;
	}
	if (mkdir_parents(path)) {
		if (err)
			*err = xasprintf("cannot create the folder for '%s': %s", path,
					 strerror(errno));
		return -1;
	}
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	int rc = fd < 0 ? -1 : 0;
	if (!rc)
		rc = write_all(fd, text ? text : "", text ? strlen(text) : 0);
	if (!rc)
		rc = fsync(fd);
	if (fd >= 0 && close(fd) && !rc)
		rc = -1;
	if (!rc)
		rc = rename(tmp, path);
	if (rc) {
		int saved = errno;
		if (fd >= 0)
			unlink(tmp);
		if (err)
			*err = xasprintf("cannot write '%s': %s", path, strerror(saved));
	}
	free(tmp);
	return rc ? -1 : 0;
}

/* ---- formats by name ---- */

static const struct {
	const char *name, *ext;
} formats[] = {
	{ "json", "json" }, { "junit", "xml" }, { "md", "md" }, { "html", "html" },
	{ "prom", "prom" },
};

const char *report_format_name(const char *format)
{
	static const struct {
		const char *alias, *name;
	} aliases[] = { { "markdown", "md" }, { "xml", "junit" }, { "prometheus", "prom" } };
	if (!format)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(format, formats[i].name))
			return formats[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(format, aliases[i].alias))
			return aliases[i].name;
	return NULL;
}

const char *report_format_ext(const char *format)
{
	const char *name = report_format_name(format);
	for (size_t i = 0; name && i < ARRAY_SIZE(formats); i++)
		if (!strcmp(name, formats[i].name))
			return formats[i].ext;
	return NULL;
}

const char *report_format_for_path(const char *path)
{
	static const struct {
		const char *ext, *name;
	} exts[] = { { ".json", "json" }, { ".xml", "junit" }, { ".md", "md" },
		     { ".markdown", "md" }, { ".html", "html" }, { ".htm", "html" },
		     { ".prom", "prom" } };
	const char *slash = path ? strrchr(path, '/') : NULL;
	const char *dot = path ? strrchr(slash ? slash : path, '.') : NULL;
	for (size_t i = 0; dot && i < ARRAY_SIZE(exts); i++)
		if (!strcasecmp(dot, exts[i].ext))
			return exts[i].name;
	return NULL;
}

char *report_render(const struct run_rec *run, const char *format,
		    const struct report_trend *trend)
{
	const char *name = report_format_name(format);
	if (!name)
		return NULL;
	if (!strcmp(name, "json"))
		return report_json_string(run, 1);
	if (!strcmp(name, "junit"))
		return report_junit_string(run);
	if (!strcmp(name, "md"))
		return report_markdown_string(run, trend);
	if (!strcmp(name, "html"))
		return report_html_string(run, trend);
	return report_prom_string(run);
}

/* ---- the trend, from the history ---- */

int report_trend_load(struct store *st, const struct run_rec *run, struct report_trend *trend)
{
	*trend = (struct report_trend){ NULL, NULL, 0, run->rto_target_s };
	struct objective_point *pts = NULL;
	size_t n = 0;
	if (!run->runbook)
		return 0;
	if (store_objectives(st, run->runbook, run->env, run->started_ms, REPORT_TREND_RUNS * 2, &pts, &n))
		return -1;
	trend->rto_s = xmalloc((n ? n : 1) * sizeof(double));
	trend->started_ms = xmalloc((n ? n : 1) * sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		if (isnan(pts[i].rto_s))
			continue;	/* an RPO alone: nothing to draw */
		trend->rto_s[trend->n] = pts[i].rto_s;
		trend->started_ms[trend->n++] = pts[i].started_ms;
		if (isnan(run->rto_target_s) && !isnan(pts[i].rto_target_s))
			trend->target_s = pts[i].rto_target_s;	/* the newest declared one */
	}
	if (trend->n > REPORT_TREND_RUNS) {
		size_t drop = trend->n - REPORT_TREND_RUNS;
		memmove(trend->rto_s, trend->rto_s + drop, REPORT_TREND_RUNS * sizeof(double));
		memmove(trend->started_ms, trend->started_ms + drop,
			REPORT_TREND_RUNS * sizeof(int64_t));
		trend->n = REPORT_TREND_RUNS;
	}
	free(pts);
	return 0;
}

void report_trend_release(struct report_trend *trend)
{
	free(trend->rto_s);
	free(trend->started_ms);
	*trend = (struct report_trend){ NULL, NULL, 0, NAN };
}

/* ---- Prometheus text format ---- */

/*
 * Label values escape \, " and newline; HELP text \ and newline. The
 * exposition format is UTF-8: bad bytes become U+FFFD, control characters
 * go, so one odd runbook name cannot make the collector drop the file.
 */
static void prom_escape(struct strbuf *sb, const char *s, int label)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n) {
		unsigned long c;
		size_t len = utf8_decode(p, n, &c);
		if (!len) {
			strbuf_addstr(sb, replacement);
			len = 1;
		} else if (c == '\\') {
			strbuf_addstr(sb, "\\\\");
		} else if (c == '\n') {
			strbuf_addstr(sb, "\\n");
		} else if (c == '"' && label) {
			strbuf_addstr(sb, "\\\"");
		} else if (c >= 0x20 && c != 0x7f) {
			strbuf_add(sb, p, len);
		}
		p += len;
		n -= len;
	}
}

struct prom {
	struct strbuf sb;
	struct strbuf labels;	/* runbook="...",env="..." */
};

static void prom_help(struct prom *pm, const char *name, const char *help)
{
	strbuf_addf(&pm->sb, "# HELP %s ", name);
	prom_escape(&pm->sb, help, 0);
	strbuf_addf(&pm->sb, "\n# TYPE %s gauge\n", name);
}

/* name{labels[,phase="..."]} value */
static void prom_sample(struct prom *pm, const char *name, const char *phase, double v)
{
	strbuf_addf(&pm->sb, "%s{%s", name, pm->labels.buf);
	if (phase) {
		strbuf_addstr(&pm->sb, ",phase=\"");
		prom_escape(&pm->sb, phase, 1);
		strbuf_addch(&pm->sb, '"');
	}
	strbuf_addf(&pm->sb, "} %.15g\n", round(v * 1000.0) / 1000.0);
}

/* A family with one sample, or nothing when the value is absent. */
static void prom_one(struct prom *pm, const char *name, const char *help, double v)
{
	if (!isfinite(v))
		return;
	prom_help(pm, name, help);
	prom_sample(pm, name, NULL, v);
}

char *report_prom_string(const struct run_rec *run)
{
	struct prom pm = { STRBUF_INIT, STRBUF_INIT };
	strbuf_init(&pm.sb, 2048);
	strbuf_init(&pm.labels, 64);
	strbuf_addstr(&pm.labels, "runbook=\"");
	prom_escape(&pm.labels, run->runbook, 1);
	strbuf_addstr(&pm.labels, "\",env=\"");
	prom_escape(&pm.labels, run->env, 1);
	strbuf_addch(&pm.labels, '"');

	prom_one(&pm, "lifeboat_rto_seconds",
		 "Achieved recovery time (t1 - t0) of the runbook's last reported run.",
		 run->rto_achieved_s);
	prom_one(&pm, "lifeboat_rto_target_seconds", "Declared recovery time objective.",
		 run->rto_target_s);
	prom_one(&pm, "lifeboat_rpo_seconds",
		 "Achieved recovery point (t0 - recovery point) of the last reported run.",
		 run->rpo_achieved_s);
	prom_one(&pm, "lifeboat_rpo_target_seconds", "Declared recovery point objective.",
		 run->rpo_target_s);
	if (run_finished(run))
		prom_one(&pm, "lifeboat_run_success",
			 "1 when the last reported run succeeded, 0 when it did not.",
			 run->status == ST_SUCCEEDED);
	int64_t at = run->ended_ms != TS_NONE ? run->ended_ms : run->started_ms;
	if (at != TS_NONE)
		prom_one(&pm, "lifeboat_run_timestamp_seconds",
			 "When the last reported run ended (started, while running), unix seconds.",
			 (double)at / 1000.0);
	prom_one(&pm, "lifeboat_human_wait_seconds",
		 "Time manual steps waited for a person in the last reported run.",
		 run->human_wait_s);
	static const struct {
		const char *name, *help;
		int budget;
	} per_phase[] = {
		{ "lifeboat_phase_duration_seconds", "Duration of each phase of the last reported run.", 0 },
		{ "lifeboat_phase_budget_seconds", "Declared budget of each phase.", 1 },
	};
	for (size_t k = 0; k < ARRAY_SIZE(per_phase); k++) {
		int any = 0;
		for (size_t i = 0; i < run->nphases; i++) {
			const struct phase_rec *p = &run->phases[i];
			double v = per_phase[k].budget ? p->budget_s : p->duration_s;
			if (!isfinite(v))
				continue;
			if (!any++)
				prom_help(&pm, per_phase[k].name, per_phase[k].help);
			prom_sample(&pm, per_phase[k].name, p->name ? p->name : "", v);
		}
	}
	strbuf_release(&pm.labels);
	return strbuf_detach(&pm.sb);
}

/* ---- shared by Markdown and HTML ---- */

#define TAIL_LINES 40		/* of a failed step's output, in Markdown and HTML */

/* "2025-11-22 01:53:00 UTC", or "-" */
static const char *ts_human(int64_t ms, char out[32])
{
	char iso[32];
	if (ms == TS_NONE)
		return strcpy(out, "-");
	clock_iso8601(ms, iso);
	snprintf(out, 32, "%.10s %.8s UTC", iso, iso + 11);
	return out;
}

static const char *dur(double secs, char buf[32])
{
	return duration_format(secs, buf, 32);
}

enum tone { TONE_OK, TONE_BAD, TONE_NONE, TONE_PENDING };
static const char *const tone_class[] = { "ok", "bad", "none", "pending" };

static enum tone status_tone(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return TONE_OK;
	case ST_SKIPPED: case ST_PENDING: return TONE_NONE;
	case ST_RUNNING: case ST_INTERRUPTED: return TONE_PENDING;
	default: return TONE_BAD;
	}
}

/* "failed" -> "failed", "timed_out" -> "timed out" */
static const char *status_words(enum status st, char buf[32])
{
	snprintf(buf, 32, "%s", status_name(st));
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
	return buf;
}

/* An objective's verdict, worded once for both formats. */
struct verdict {
	const char *word;	/* "met", "MISSED", "UNMEASURED", "no target", ... */
	enum tone tone;
	double achieved, target;
	char *sentence;		/* "RTO met: achieved 50.00s vs target 15m00s"; owned */
};

static void verdict_make(struct verdict *v, const struct run_rec *r, const char *what,
			 double target, double achieved, int met, const char *status)
{
	char a[32], t[32];
	dur(achieved, a);
	dur(target, t);
	v->achieved = achieved;
	v->target = target;
	if (isnan(target) || (status && !strcmp(status, "none"))) {
		v->word = "no target", v->tone = TONE_NONE;
		v->sentence = isnan(achieved) ? xasprintf("%s: no target declared", what)
					      : xasprintf("%s: no target declared; achieved %s",
							  what, a);
	} else if (status && !strcmp(status, "unmeasured")) {
		v->word = "UNMEASURED", v->tone = TONE_BAD;
		v->sentence = xasprintf("%s UNMEASURED: no recovery point was reported (target %s); "
					"counts as missed", what, t);
	} else if (met == 1 || (met < 0 && status && !strcmp(status, "met"))) {
		v->word = "met", v->tone = TONE_OK;
		v->sentence = xasprintf("%s met: achieved %s vs target %s", what, a, t);
	} else if (met == 0 || (status && !strcmp(status, "missed"))) {
		v->word = "MISSED", v->tone = TONE_BAD;
		v->sentence = isnan(achieved)
			? xasprintf("%s MISSED: service not restored (target %s)", what, t)
			: xasprintf("%s MISSED: achieved %s vs target %s", what, a, t);
	} else if (!run_finished(r)) {
		v->word = "in progress", v->tone = TONE_PENDING;
		v->sentence = xasprintf("%s: run in progress (target %s)", what, t);
	} else {
		v->word = !strcmp(what, "RTO") ? "NOT RESTORED" : "NOT MEASURED";
		v->tone = TONE_BAD;
		v->sentence = xasprintf("%s %s: service not restored (target %s)", what,
					!strcmp(what, "RTO") ? "not met" : "not measured", t);
	}
}

static void verdicts_make(const struct run_rec *r, struct verdict *rto, struct verdict *rpo)
{
	verdict_make(rto, r, "RTO", r->rto_target_s, r->rto_achieved_s, r->rto_met, NULL);
	const char *st = r->rpo_status ? r->rpo_status : isnan(r->rpo_target_s) ? "none" : NULL;
	verdict_make(rpo, r, "RPO", r->rpo_target_s, r->rpo_achieved_s, r->rpo_met, st);
}

/* Wall time from start to end; NAN while running. */
static double run_span_s(const struct run_rec *r)
{
	if (r->started_ms == TS_NONE || r->ended_ms == TS_NONE)
		return NAN;
	return (double)(r->ended_ms - r->started_ms) / 1000.0;
}

static int step_failed(const struct step_rec *s)
{
	return s->status == ST_FAILED || s->status == ST_TIMED_OUT ||
	       s->status == ST_INTERRUPTED || s->status == ST_DECLINED;
}

/*
 * The last TAIL_LINES lines (at most TAIL_BYTES) of a step's output, on a
 * character boundary; *cut says whether anything was left out. NULL when
 * there is no output. Caller frees.
 */
static char *output_tail(const struct step_rec *s, int *cut)
{
	*cut = s->output_cut > 0;
	if (!s->output || !*s->output)
		return NULL;
	const char *start = s->output, *end = s->output + strlen(s->output);
	while (end > start && end[-1] == '\n')
		end--;
	const char *p = end;
	int lines = 0;
	while (p > start && lines < TAIL_LINES) {
		p--;
		if (*p == '\n' && ++lines == TAIL_LINES) {
			p++;
			break;
		}
	}
	if (end - p > TAIL_BYTES) {
		p = end - TAIL_BYTES;
		while (p < end && ((unsigned char)*p & 0xc0) == 0x80)
			p++;
	}
	if (p > start)
		*cut = 1;
	return xstrndup(p, (size_t)(end - p));
}

/* Up to max characters of s, with "…" when cut. Caller frees. */
static char *utf8_trunc(const char *s, size_t max)
{
	s = s ? s : "";
	size_t chars = 0, i = 0, n = strlen(s);
	while (i < n && chars < max) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return i < n ? xasprintf("%.*s\xe2\x80\xa6", (int)i, s) : xstrdup(s);
}

static size_t utf8_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* The trend's figures: p50/p95, risk, and whether the run is one of the points. */
struct trend_view {
	size_t n;
	double p50, p95, target;
	struct rto_risk risk;
	char *why;		/* at-risk reason, owned; NULL when not at risk */
	char *describe;		/* how close, owned; NULL without a target */
};

static void trend_view(const struct report_trend *t, const struct run_rec *r,
		       struct trend_view *v)
{
	memset(v, 0, sizeof(*v));
	v->p50 = v->p95 = NAN;
	v->target = t ? t->target_s : r->rto_target_s;
	if (!t || !t->n) {
		rto_risk(NULL, 0, v->target, &v->risk);
		return;
	}
	v->n = t->n;
	v->p50 = percentile(t->rto_s, t->n, 50);
	v->p95 = percentile(t->rto_s, t->n, 95);
	rto_at_risk(t->rto_s, t->n, v->target, &v->why);
	rto_risk(t->rto_s, t->n, v->target, &v->risk);
	v->describe = rto_risk_describe(&v->risk);
}

static void trend_view_release(struct trend_view *v)
{
	free(v->why);
	free(v->describe);
}

/* ---- Markdown ---- */

/*
 * Text for a Markdown line or table cell: the punctuation Markdown acts on
 * is backslash-escaped, HTML's specials become entities (GitHub passes raw
 * HTML through), line breaks become spaces, control characters and bad
 * bytes go as in XML.
 */
static void md_add(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	while (n) {
		unsigned long c;
		size_t len = utf8_decode(p, n, &c);
		if (!len) {
			strbuf_addstr(sb, replacement);
			len = 1;
		} else if (c == 0x1b && n > 1 && p[1] == '[') {
			len = 2;
			while (len < n && !(p[len] >= 0x40 && p[len] <= 0x7e))
				len++;
			len += len < n;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			strbuf_addch(sb, ' ');
		} else if (c < 0x20 || c == 0x7f) {
			/* dropped */
		} else if (c == '&') {
			strbuf_addstr(sb, "&amp;");
		} else if (c == '<') {
			strbuf_addstr(sb, "&lt;");
		} else if (c == '>') {
			strbuf_addstr(sb, "&gt;");
		} else if (strchr("\\`*_[]|#~!", (int)c)) {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (int)c);
		} else {
			strbuf_add(sb, p, len);
		}
		p += len;
		n -= len;
	}
}

/*
 * Inline code: backticks around the text, more of them than any run inside.
 * In a table cell a pipe still ends the cell unless escaped, even in code.
 */
static void md_code_in(struct strbuf *sb, const char *s, int cell)
{
	s = s ? s : "";
	size_t run = 0, longest = 0;
	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	struct strbuf clean = STRBUF_INIT;
	strbuf_init(&clean, strlen(s));
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (cell && *p == '|')
			strbuf_addch(&clean, '\\');
		strbuf_addch(&clean, *p < 0x20 || *p == 0x7f ? ' ' : *p);
	}
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_addstr(sb, clean.buf[0] == '`' ? " " : "");
	strbuf_addstr(sb, clean.buf);
	strbuf_addstr(sb, clean.len && clean.buf[clean.len - 1] == '`' ? " " : "");
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_release(&clean);
}

static void md_code(struct strbuf *sb, const char *s)
{
	md_code_in(sb, s, 0);
}

/* A fenced block of raw text: the fence is longer than any backtick run inside. */
static void md_fence(struct strbuf *sb, const char *text)
{
	size_t run = 0, longest = 2;
	for (const char *p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	struct strbuf body = STRBUF_INIT;
	strbuf_init(&body, strlen(text) + 16);
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text);
	while (n) {	/* as XML text: readable bytes only, terminal escapes out */
		unsigned long c;
		size_t len = utf8_decode(p, n, &c);
		if (!len) {
			strbuf_addstr(&body, replacement);
			len = 1;
		} else if (c == 0x1b && n > 1 && p[1] == '[') {
			len = 2;
			while (len < n && !(p[len] >= 0x40 && p[len] <= 0x7e))
				len++;
			len += len < n;
		} else if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f)) {
			strbuf_add(&body, p, len);
		}
		p += len;
		n -= len;
	}
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_addstr(sb, "text\n");
	strbuf_addstr(sb, body.buf);
	if (!body.len || body.buf[body.len - 1] != '\n')
		strbuf_addch(sb, '\n');
	for (size_t i = 0; i <= longest; i++)
		strbuf_addch(sb, '`');
	strbuf_addstr(sb, "\n\n");
	strbuf_release(&body);
}

static const char *md_mark(enum tone t)
{
	static const char *const marks[] = { "\xe2\x9c\x85 ", "\xe2\x9d\x8c ", "", "\xe2\x8f\xb3 " };
	return marks[t];
}

/* The earliest and latest instants the record knows; 0 when it knows none. */
static int run_bounds(const struct run_rec *r, int64_t *lo, int64_t *hi)
{
	int64_t a = r->started_ms, b = r->ended_ms;
#define WIDEN(t)                                         \
	do {                                             \
		int64_t t_ = (t);                        \
		if (t_ != TS_NONE) {                     \
			if (a == TS_NONE || t_ < a)      \
				a = t_;                  \
			if (b == TS_NONE || t_ > b)      \
				b = t_;                  \
		}                                        \
	} while (0)
	WIDEN(r->started_ms);
	WIDEN(r->restored_ms);
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		WIDEN(p->started_ms);
		WIDEN(p->ended_ms);
		for (size_t j = 0; j < p->nsteps; j++) {
			WIDEN(p->steps[j].started_ms);
			WIDEN(p->steps[j].ended_ms);
		}
	}
#undef WIDEN
	if (a == TS_NONE)
		return 0;
	*lo = a;
	*hi = b > a ? b : a + 1;
	return 1;
}

/*
 * The time axis of a timeline: the run, stretched to show t0, the RTO
 * deadline and the phases' budgets when they lie near it; what lies far
 * away is named at the edge instead, or a 15-minute budget would squeeze a
 * 40-second drill into a sliver.
 */
struct axis {
	int64_t lo, hi;		/* what the axis shows, unix ms */
	int64_t origin;		/* what its labels count from: t0 when shown, else lo */
};

static int axis_make(const struct run_rec *r, struct axis *ax)
{
	int64_t lo, hi;
	if (!run_bounds(r, &lo, &hi))
		return 0;
	double span = (double)(hi - lo) > 100 ? (double)(hi - lo) : 100;
	int64_t far_right = lo + (int64_t)(span * 2.5), far_left = hi - (int64_t)(span * 2.5);
	int64_t right = hi;
	if (r->incident_ms != TS_NONE && isfinite(r->rto_target_s)) {
		int64_t dl = r->incident_ms + (int64_t)(r->rto_target_s * 1000.0);
		if (dl > right && dl <= far_right)
			right = dl;
	}
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		if (p->started_ms == TS_NONE || !isfinite(p->budget_s))
			continue;
		int64_t be = p->started_ms + (int64_t)(p->budget_s * 1000.0);
		if (be > right && be <= far_right)
			right = be;
	}
	if (r->incident_ms != TS_NONE && r->incident_ms < lo && r->incident_ms >= far_left)
		lo = r->incident_ms;
	ax->lo = lo;
	ax->hi = right + (int64_t)((double)(right - lo) * 0.02) + 1;
	ax->origin = r->incident_ms != TS_NONE && r->incident_ms >= ax->lo &&
				     r->incident_ms <= ax->hi
			     ? r->incident_ms
			     : ax->lo;
	return 1;
}

/* Fraction 0..1 of the axis at ms (clamped). */
static double axis_at(const struct axis *ax, int64_t ms)
{
	double f = (double)(ms - ax->lo) / (double)(ax->hi - ax->lo);
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

static int axis_has(const struct axis *ax, int64_t ms)
{
	return ms != TS_NONE && ms >= ax->lo && ms <= ax->hi;
}

/* A round tick interval giving at most max ticks over secs. */
static double nice_step(double secs, int max)
{
	static const double steps[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10,
					15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
					10800, 21600, 43200, 86400, 172800, 604800 };
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (secs / steps[i] <= max)
			return steps[i];
	return ceil(secs / max / 86400.0) * 86400.0;
}

/* "0", "+250ms", "+30s", "+1m", "+1m30s", "+2h", "-5s" */
static const char *tick_label(double secs, char buf[32])
{
	const char *sign = secs < -1e-9 ? "-" : "+";
	double a = fabs(secs);
	long s = lround(a);
	if (a < 1e-9)
		snprintf(buf, 32, "0");
	else if (a < 1)
		snprintf(buf, 32, "%s%ldms", sign, lround(a * 1000));
	else if (a < 60 && fabs(a - round(a)) > 0.001)
		snprintf(buf, 32, "%s%.1fs", sign, a);
	else if (a < 60)
		snprintf(buf, 32, "%s%lds", sign, s);
	else if (a < 3600)
		snprintf(buf, 32, s % 60 ? "%s%ldm%02lds" : "%s%ldm", sign, s / 60, s % 60);
	else if (s % 3600)
		snprintf(buf, 32, "%s%ldh%02ldm", sign, s / 3600, (s / 60) % 60);
	else
		snprintf(buf, 32, "%s%ldh", sign, s / 3600);
	return buf;
}

#define MD_COLS 48	/* width of the Markdown timeline's track */

/* The timeline as text: one line per phase, machine time █, waits ▒, budget ·. */
static void md_timeline(struct strbuf *sb, const struct run_rec *r, const struct axis *ax)
{
	static const char *const glyph[] = { " ", "\xc2\xb7", "\xe2\x96\x88", "\xe2\x96\x92",
					     "\xe2\x94\x86" };	/* space · █ ▒ ┆ */
	enum { G_NONE, G_BUDGET, G_BAR, G_WAIT, G_LINE };
	size_t namew = 5;
	char **names = xcalloc(r->nphases ? r->nphases : 1, sizeof(*names));
	for (size_t i = 0; i < r->nphases; i++) {
		names[i] = utf8_trunc(r->phases[i].name, 28);
		size_t w = utf8_width(names[i]);
		namew = w > namew ? w : namew;
	}
	int64_t dl = r->incident_ms != TS_NONE && isfinite(r->rto_target_s)
			     ? r->incident_ms + (int64_t)(r->rto_target_s * 1000.0)
			     : TS_NONE;
	const int64_t marks[3] = { r->incident_ms, r->restored_ms, dl };
	const char *const mark_names[3] = { "t0", "t1", "RTO" };
#define COL(ms) ((int)(axis_at(ax, (ms)) * (MD_COLS - 1) + 0.5))
	struct strbuf body = STRBUF_INIT;
	strbuf_init(&body, 4096);
	/* the markers' names above the track */
	char top[MD_COLS + 16];
	memset(top, ' ', sizeof(top));
	for (int k = 0; k < 3; k++) {
		if (!axis_has(ax, marks[k]))
			continue;
		int c = COL(marks[k]);
		size_t len = strlen(mark_names[k]);
		if (c + (int)len > MD_COLS + 8)
			c = MD_COLS + 8 - (int)len;
		memcpy(top + c, mark_names[k], len);
	}
	int last = MD_COLS + 7;
	while (last >= 0 && top[last] == ' ')
		last--;
	strbuf_addf(&body, "%*s  %.*s\n", (int)namew, "", last + 1, top);
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		int cell[MD_COLS];
		for (int c = 0; c < MD_COLS; c++)
			cell[c] = G_NONE;
		if (p->started_ms != TS_NONE) {
			int a = COL(p->started_ms);
			if (isfinite(p->budget_s))
				for (int c = a; c <= COL(p->started_ms + (int64_t)(p->budget_s * 1000)); c++)
					cell[c] = G_BUDGET;
			int64_t end = p->ended_ms != TS_NONE ? p->ended_ms : ax->hi;
			for (int c = a; c <= COL(end); c++)
				cell[c] = G_BAR;
			for (size_t j = 0; j < p->nsteps; j++) {
				const struct step_rec *s = &p->steps[j];
				if (s->started_ms == TS_NONE || !(s->human_wait_s > 0))
					continue;
				int64_t we = s->started_ms + (int64_t)(s->human_wait_s * 1000);
				if (s->ended_ms != TS_NONE && we > s->ended_ms)
					we = s->ended_ms;
				for (int c = COL(s->started_ms); c <= COL(we); c++)
					cell[c] = G_WAIT;
			}
		}
		for (int k = 0; k < 3; k++)
			if (axis_has(ax, marks[k]) && cell[COL(marks[k])] != G_BAR &&
			    cell[COL(marks[k])] != G_WAIT)
				cell[COL(marks[k])] = G_LINE;
		strbuf_addstr(&body, names[i]);
		for (size_t w = utf8_width(names[i]); w < namew; w++)
			strbuf_addch(&body, ' ');
		strbuf_addstr(&body, " \xe2\x94\x82");
		for (int c = 0; c < MD_COLS; c++)
			strbuf_addstr(&body, glyph[cell[c]]);
		char d[32], b[32];
		strbuf_addf(&body, "\xe2\x94\x82 %s", p->started_ms == TS_NONE ? "not run" : dur(p->duration_s, d));
		if (isfinite(p->budget_s))
			strbuf_addf(&body, " of %s", dur(p->budget_s, b));
		if (p->human_wait_s > 0)
			strbuf_addf(&body, ", %s waiting", dur(p->human_wait_s, d));
		if (p->over_budget)
			strbuf_addstr(&body, "  OVER BUDGET");
		strbuf_addch(&body, '\n');
	}
	char t1[32], t2[32];
	strbuf_addf(&body, "%*s  %-*s%s\n", (int)namew, "", MD_COLS - 4,
		    tick_label((double)(ax->lo - ax->origin) / 1000.0, t1),
		    tick_label((double)(ax->hi - ax->origin) / 1000.0, t2));
#undef COL
	md_fence(sb, body.buf);
	strbuf_release(&body);
	for (size_t i = 0; i < r->nphases; i++)
		free(names[i]);
	free(names);
	strbuf_addf(sb, "`\xe2\x96\x88` machine time, `\xe2\x96\x92` waiting for a person, "
			"`\xc2\xb7` budget, `\xe2\x94\x86` t0 (incident), t1 (restored) and the RTO "
			"deadline; times count from %s",
		    ax->origin == r->incident_ms ? "t0" : "the start of the run");
	if (r->incident_ms != TS_NONE && r->incident_ms < ax->lo) {
		char d[32];
		strbuf_addf(sb, "; t0 was %s earlier", dur((double)(ax->lo - r->incident_ms) / 1000.0, d));
	}
	if (dl != TS_NONE && !axis_has(ax, dl)) {
		char d[32];
		strbuf_addf(sb, "; the RTO deadline, t0 + %s, lies beyond the chart",
			    dur(r->rto_target_s, d));
	}
	strbuf_addstr(sb, ".\n\n");
}

static void md_verdict_row(struct strbuf *sb, const char *label, const struct verdict *v)
{
	char a[32], t[32];
	strbuf_addf(sb, "| %s | %s | %s | %s%s%s%s |\n", label, dur(v->achieved, a),
		    dur(v->target, t), md_mark(v->tone), v->tone == TONE_BAD ? "**" : "", v->word,
		    v->tone == TONE_BAD ? "**" : "");
}

char *report_markdown_string(const struct run_rec *run, const struct report_trend *trend)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 8192);
	char b1[32], b2[32];
	struct verdict rto, rpo;
	verdicts_make(run, &rto, &rpo);

	strbuf_addstr(&sb, "# ");
	md_add(&sb, run->runbook ? run->runbook : "lifeboat run");
	strbuf_addf(&sb, " \xe2\x80\x94 %s %s%s%s\n\n", run->mode ? run->mode : "run",
		    status_words(run->status, b1), rto.tone == TONE_BAD ? ", RTO missed" : "",
		    rpo.tone == TONE_BAD ? ", RPO missed" : "");
	strbuf_addstr(&sb, "Run ");
	md_code(&sb, run->id);
	if (run->env) {
		strbuf_addstr(&sb, " \xc2\xb7 env ");
		md_code(&sb, run->env);
	}
	if (run->operator) {
		strbuf_addstr(&sb, " \xc2\xb7 operator ");
		md_add(&sb, run->operator);
	}
	strbuf_addf(&sb, " \xc2\xb7 started %s", ts_human(run->started_ms, b1));
	if (isfinite(run_span_s(run)))
		strbuf_addf(&sb, " \xc2\xb7 lasted %s", dur(run_span_s(run), b2));
	strbuf_addstr(&sb, "\n\n");
	if (run->error) {
		strbuf_addstr(&sb, "> **Error:** ");
		md_add(&sb, run->error);
		strbuf_addstr(&sb, "\n\n");
	}

	strbuf_addstr(&sb, "## Verdicts\n\n| Objective | Achieved | Target | Verdict |\n"
			   "| --- | ---: | ---: | --- |\n");
	md_verdict_row(&sb, "RTO (recovery time)", &rto);
	md_verdict_row(&sb, "RPO (recovery point)", &rpo);
	strbuf_addf(&sb, "\n%s  \n%s\n\n", rto.sentence, rpo.sentence);
	if (run->human_wait_s > 0)
		strbuf_addf(&sb, "Waiting for people: %s of the run's %s, kept apart from machine "
				 "time.\n\n", dur(run->human_wait_s, b1), dur(run_span_s(run), b2));

	struct trend_view tv;
	trend_view(trend, run, &tv);
	if (tv.why)
		strbuf_addf(&sb, "> [!WARNING]\n> **RTO at risk:** %s.\n\n", tv.describe ? tv.describe : tv.why);

	struct axis ax;
	strbuf_addstr(&sb, "## Timeline\n\n");
	if (run->nphases && axis_make(run, &ax))
		md_timeline(&sb, run, &ax);
	else
		strbuf_addstr(&sb, "No phase has run.\n\n");

	strbuf_addstr(&sb, "## Phases\n\n| Phase | Role | Status | Duration | Budget | Waiting "
			   "for people | |\n| --- | --- | --- | ---: | ---: | ---: | --- |\n");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		char d[32], b[32], h[32], s[32];
		strbuf_addstr(&sb, "| ");
		md_add(&sb, p->name);
		strbuf_addstr(&sb, " | ");
		md_add(&sb, p->role ? p->role : "-");
		const char *tags[4];
		size_t nt = 0;
		if (p->over_budget)
			tags[nt++] = "**over budget**";
		if (p->fault)
			tags[nt++] = "fault";
		if (p->restores_service)
			tags[nt++] = "restores service";
		if (p->cleanup)
			tags[nt++] = "cleanup";
		strbuf_addf(&sb, " | %s%s | %s | %s | %s | ", md_mark(status_tone(p->status)),
			    status_words(p->status, s), dur(p->duration_s, d),
			    isfinite(p->budget_s) ? dur(p->budget_s, b) : "-",
			    p->human_wait_s > 0 ? dur(p->human_wait_s, h) : "-");
		for (size_t k = 0; k < nt; k++)
			strbuf_addf(&sb, "%s%s", k ? ", " : "", tags[k]);
		strbuf_addstr(&sb, " |\n");
	}
	strbuf_addch(&sb, '\n');

	strbuf_addstr(&sb, "## Steps\n\n| Phase | Step | Kind | Role | Status | Attempts | "
			   "Duration | Waiting | Exit | Confirmed by |\n"
			   "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			char d[32], h[32], st[32];
			strbuf_addstr(&sb, "| ");
			md_add(&sb, p->name);
			strbuf_addstr(&sb, s->section == SEC_ROLLBACK ? " | \xe2\x86\xba rollback: " : " | ");
			md_add(&sb, s->name);
			strbuf_addstr(&sb, " | ");
			md_add(&sb, s->kind ? s->kind : "-");
			strbuf_addstr(&sb, " | ");
			md_add(&sb, s->role ? s->role : "-");
			strbuf_addf(&sb, " | %s%s | %d | %s | %s | ", md_mark(status_tone(s->status)),
				    status_words(s->status, st), s->attempts, dur(s->duration_s, d),
				    s->human_wait_s > 0 ? dur(s->human_wait_s, h) : "-");
			if (s->exit_code >= 0)
				strbuf_addf(&sb, "%d", s->exit_code);
			else
				strbuf_addch(&sb, '-');
			strbuf_addstr(&sb, " | ");
			char *how = step_confirmed_text(s);
			md_add(&sb, how ? how : "-");
			free(how);
			strbuf_addstr(&sb, " |\n");
			for (size_t k = 0; k < s->nhosts; k++) {	/* remote steps: a row per host */
				const struct host_rec *hr = &s->hosts[k];
				strbuf_addstr(&sb, "|  | \xe2\x86\xb3 @ ");
				md_add(&sb, hr->host);
				strbuf_addstr(&sb, " | host |  | ");
				md_add(&sb, hr->status ? hr->status : "-");
				strbuf_addf(&sb, " | %d | %s | - | ", hr->attempts, dur(hr->duration_s, d));
				if (hr->exit_code >= 0)
					strbuf_addf(&sb, "%d", hr->exit_code);
				else
					strbuf_addch(&sb, '-');
				strbuf_addstr(&sb, " | - |\n");
			}
		}
	}
	strbuf_addch(&sb, '\n');

	int any_failed = 0;
	for (size_t i = 0; i < run->nphases; i++) {
		const struct phase_rec *p = &run->phases[i];
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			if (!step_failed(s))
				continue;
			if (!any_failed++)
				strbuf_addstr(&sb, "## Failed steps\n\n");
			char st[32];
			strbuf_addstr(&sb, "### ");
			md_add(&sb, p->name);
			strbuf_addstr(&sb, " \xe2\x80\xba ");
			md_add(&sb, s->name);
			strbuf_addf(&sb, " \xe2\x80\x94 %s", status_words(s->status, st));
			if (s->exit_code >= 0)
				strbuf_addf(&sb, ", exit %d", s->exit_code);
			if (s->attempts > 1)
				strbuf_addf(&sb, ", %d attempts", s->attempts);
			strbuf_addstr(&sb, "\n\n");
			if (s->error) {
				strbuf_addstr(&sb, "**Error:** ");
				md_add(&sb, s->error);
				strbuf_addstr(&sb, "\n\n");
			}
			int cut;
			char *tail = output_tail(s, &cut);
			if (tail) {
				strbuf_addstr(&sb, cut ? "Last lines of its output:\n\n" : "Its output:\n\n");
				md_fence(&sb, tail);
				free(tail);
			}
		}
	}

	if (run->nnotes) {
		strbuf_addstr(&sb, "## Notes\n\n");
		for (size_t i = 0; i < run->nnotes; i++) {
			const struct note_rec *n = &run->notes[i];
			strbuf_addf(&sb, "- %s \xe2\x80\x94 **", ts_human(n->at_ms, b1));
			md_add(&sb, n->operator ? n->operator : "?");
			strbuf_addstr(&sb, note_after_end(run, n) ? "** (after the end): " : "**: ");
			md_add(&sb, n->text);
			strbuf_addch(&sb, '\n');
		}
		strbuf_addch(&sb, '\n');
	}

	strbuf_addstr(&sb, "## RTO trend\n\n");
	if (!tv.n) {
		strbuf_addstr(&sb, "No achieved RTO in the history yet.\n\n");
	} else {
		char spark[3 * REPORT_TREND_RUNS + 4], p50[32], p95[32], tg[32];
		sparkline(trend->rto_s, trend->n, spark, sizeof(spark));
		strbuf_addf(&sb, "`%s` the last %zu achieved RTO%s, oldest first, up to this run: "
				 "p50 %s, p95 %s, target %s.\n\n", spark, tv.n, tv.n > 1 ? "s" : "",
			    dur(tv.p50, p50), dur(tv.p95, p95), dur(tv.target, tg));
		if (tv.describe)
			strbuf_addf(&sb, "%s%s.\n\n", tv.why ? "**At risk:** " : "", tv.describe);
	}

	strbuf_addstr(&sb, "## Run details\n\n| | |\n| --- | --- |\n");
#define ROW(label, value)                                      \
	do {                                                   \
		strbuf_addstr(&sb, "| " label " | ");          \
		md_add(&sb, (value) ? (value) : "-");          \
		strbuf_addstr(&sb, " |\n");                    \
	} while (0)
#define ROW_CODE(label, value)                                 \
	do {                                                   \
		strbuf_addstr(&sb, "| " label " | ");          \
		md_code_in(&sb, (value) ? (value) : "-", 1);   \
		strbuf_addstr(&sb, " |\n");                    \
	} while (0)
	ROW_CODE("Run id", run->id);
	ROW_CODE("Runbook file", run->file);
	ROW_CODE("Runbook SHA-256", run->sha256);
	ROW_CODE("Signed by key", run->signed_by ? run->signed_by : "unsigned");
	ROW("Mode", run->mode);
	ROW("Trigger", run->trigger);
	ROW("Host", run->host);
	ROW_CODE("Params", run->params_json);
	ROW("Incident (t0)", run->incident_ms == TS_NONE ? NULL : ts_human(run->incident_ms, b1));
	ROW("Restored (t1)", run->restored_ms == TS_NONE ? NULL : ts_human(run->restored_ms, b1));
	ROW("Recovery point",
	    run->recovery_point_ms == TS_NONE ? NULL : ts_human(run->recovery_point_ms, b1));
	ROW("Ended", run->ended_ms == TS_NONE ? NULL : ts_human(run->ended_ms, b1));
#undef ROW
#undef ROW_CODE
	if (run->exit_code >= 0)
		strbuf_addf(&sb, "| Exit code | %d |\n", run->exit_code);
	strbuf_addstr(&sb, "\n<sub>lifeboat " LIFEBOAT_VERSION " report</sub>\n");

	trend_view_release(&tv);
	free(rto.sentence);
	free(rpo.sentence);
	return strbuf_detach(&sb);
}

/* ---- HTML ---- */

#define SVG_W 1000		/* viewBox width of both charts */
#define G_LABEL_W 250		/* the timeline's label column */
#define G_X 262			/* where its track starts */
#define G_W (SVG_W - G_X - 14)
#define G_TOP 46		/* room for the markers' names */
#define G_PHASE_H 38
#define G_STEP_H 20
#define G_GAP 6
#define G_AXIS_H 28
#define G_MAX_STEPS 60		/* past this many steps the chart shows phases only */

static const char html_css[] =
	":root{--ink:#1a1d23;--muted:#667085;--line:#e4e7ec;--bg:#f5f7fa;--card:#fff;"
	"--ok:#1f7a3a;--ok-bg:#e7f6ec;--bad:#c4262e;--bad-bg:#fdecec;--none:#667085;"
	"--none-bg:#f0f2f5;--pending:#b45309;--pending-bg:#fff4e5;--machine:#4c6ef5}\n"
	"*{box-sizing:border-box}\n"
	"html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
	"main{max-width:1100px;margin:0 auto;padding:28px 28px 40px}\n"
	"code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace}\n"
	"code{font-size:12px;background:#e9ecf1;padding:1px 6px;border-radius:4px}\n"
	".eyebrow{font-size:12px;font-weight:700;letter-spacing:.09em;text-transform:uppercase;color:var(--muted)}\n"
	"h1{font-size:30px;line-height:1.2;margin:4px 0 8px;display:flex;align-items:center;gap:14px;flex-wrap:wrap}\n"
	"h2{font-size:17px;margin:0 0 14px}\n"
	"h3{font-size:14px;margin:0 0 6px}\n"
	".meta{color:var(--muted);margin:0}\n"
	".badge{font-size:12px;font-weight:800;letter-spacing:.08em;text-transform:uppercase;"
	"padding:4px 12px;border-radius:999px}\n"
	".ok{--tone:var(--ok);--tone-bg:var(--ok-bg)}.bad{--tone:var(--bad);--tone-bg:var(--bad-bg)}"
	".none{--tone:var(--none);--tone-bg:var(--none-bg)}.pending{--tone:var(--pending);--tone-bg:var(--pending-bg)}\n"
	".badge,.pill{color:var(--tone);background:var(--tone-bg)}\n"
	".run-error{margin:12px 0 0;padding:10px 14px;border-radius:8px;background:var(--bad-bg);color:var(--bad);font-weight:600}\n"
	".verdicts{display:grid;grid-template-columns:repeat(3,1fr);gap:16px;margin:22px 0 16px}\n"
	".card{background:var(--card);border:1px solid var(--line);border-top:6px solid var(--tone);"
	"border-radius:12px;padding:16px 20px 14px}\n"
	".card .head{display:flex;justify-content:space-between;align-items:center;gap:8px}\n"
	".card .label{font-size:12px;font-weight:700;letter-spacing:.07em;text-transform:uppercase;color:var(--muted)}\n"
	".pill{white-space:nowrap;font-size:13px;font-weight:800;letter-spacing:.08em;text-transform:uppercase;padding:3px 12px;border-radius:6px}\n"
	".card .value{font-size:40px;font-weight:750;line-height:1.1;margin:10px 0 2px;"
	"font-variant-numeric:tabular-nums;color:var(--tone)}\n"
	".card.none .value{color:var(--ink)}\n"
	".card .sub{color:var(--muted);font-size:13px}\n"
	".meter{position:relative;height:10px;margin:12px 0 8px;background:#edf0f4;border-radius:5px}\n"
	".meter .fill{position:absolute;left:0;top:0;bottom:0;border-radius:5px;background:var(--tone)}\n"
	".meter .machine{background:var(--machine)}\n"
	".meter .wait,.sw.wait{background:repeating-linear-gradient(45deg,#f08c00 0 3px,#ffe3a3 3px 6px)}\n"
	".meter .mark{position:absolute;top:-4px;bottom:-4px;width:2px;background:var(--ink)}\n"
	".card .sentence{margin:0;font-size:12px;color:var(--muted)}\n"
	".risk{margin:0 0 16px;padding:12px 16px;border-radius:10px;background:var(--pending-bg);"
	"border-left:5px solid #f08c00;color:#7a3e00}\n"
	"section.block{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 22px;margin:16px 0}\n"
	"svg{display:block;width:100%;height:auto}\n"
	"svg text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;fill:var(--ink)}\n"
	"svg .pl{font-size:13px;font-weight:650}svg .ps{font-size:11px;fill:var(--muted)}"
	"svg .over{fill:var(--bad);font-weight:700}svg .sl{font-size:12px}svg .sd{font-size:11px;fill:var(--muted)}"
	"svg .tick{font-size:11px;fill:var(--muted)}svg .mk{font-size:11px;font-weight:700}\n"
	".legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:10px 0 0;font-size:12px;color:var(--muted)}\n"
	".sw{display:inline-block;width:16px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}\n"
	".sw.machine{background:var(--machine)}.sw.failed{background:#e03131}"
	".sw.budget{background:#f1f3f7;border:1.5px dashed #98a2b3}\n"
	".sw.t0,.sw.t1,.sw.dl{width:3px;height:14px;vertical-align:-3px}.sw.t0{background:#e8590c}"
	".sw.t1{background:#2b8a3e}.sw.dl{background:repeating-linear-gradient(#c92a2a 0 3px,transparent 3px 5px)}"
	".sw.note{width:9px;height:9px;background:#7048e8;transform:rotate(45deg);border-radius:1px}\n"
	"table{width:100%;border-collapse:collapse;font-size:13px}\n"
	"th{text-align:left;font-size:11px;font-weight:700;letter-spacing:.05em;text-transform:uppercase;"
	"color:var(--muted);border-bottom:2px solid var(--line);padding:6px 8px}\n"
	"td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"tr.phase-row td{background:#f6f7fa;padding-top:9px;padding-bottom:9px}\n"
	".pname{font-weight:700}.pmeta{color:var(--muted);margin-left:8px}\n"
	".st{font-weight:650;color:var(--tone)}.phase-row .st{margin-left:10px}\n"
	".errmsg{margin:6px 0 0;color:var(--bad);font-weight:600}\n"
	".flag{margin-left:8px;font-size:11px;font-weight:800;letter-spacing:.05em;text-transform:uppercase;"
	"color:var(--bad);background:var(--bad-bg);padding:1px 8px;border-radius:4px}\n"
	".tag{margin-left:6px;font-size:11px;color:var(--muted);border:1px solid var(--line);padding:0 6px;border-radius:4px}\n"
	"tr.err td{color:var(--bad);font-size:12px;border-top:0;padding-top:0}\n"
	".fail{margin:0 0 18px}.fail:last-child{margin-bottom:0}\n"
	"pre{margin:8px 0 0;background:#101623;color:#e6edf3;padding:12px 14px;border-radius:8px;"
	"font-size:12px;line-height:1.45;white-space:pre-wrap;word-break:break-word;overflow:auto}\n"
	".small{font-size:12px;color:var(--muted)}\n"
	"ul.notes{margin:0;padding:0;list-style:none}ul.notes li{padding:6px 0;border-bottom:1px solid var(--line)}"
	"ul.notes li:last-child{border-bottom:0}ul.notes time{color:var(--muted);margin-right:10px;font-variant-numeric:tabular-nums}\n"
	"dl.details{display:grid;grid-template-columns:180px 1fr;gap:4px 16px;margin:0;font-size:13px}\n"
	"dl.details dt{color:var(--muted)}dl.details dd{margin:0;word-break:break-all}\n"
	"footer{margin-top:18px;font-size:12px;color:var(--muted);text-align:center}\n"
	"@media (max-width:800px){.verdicts{grid-template-columns:1fr}dl.details{grid-template-columns:1fr}}\n"
	"@media print{@page{margin:14mm}body{background:#fff;font-size:10.5pt}main{max-width:none;padding:0}"
	".card,section.block{break-inside:avoid;border-color:#c9ced6}section.block{padding:10px 0;border:0;"
	"border-top:1px solid #c9ced6;border-radius:0}pre{background:#f6f7f9;color:#111;border:1px solid #d0d5dd}"
	"tr{break-inside:avoid}.verdicts{grid-template-columns:repeat(3,1fr)}}\n";

static void h_text(struct strbuf *sb, const char *s)
{
	xml_add(sb, s ? s : "", 0);
}

static const char *status_fill(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return "#4c6ef5";
	case ST_SKIPPED: case ST_PENDING: return "#ced4da";
	case ST_RUNNING: case ST_INTERRUPTED: return "#fab005";
	case ST_ROLLED_BACK: return "#f76707";
	default: return "#e03131";
	}
}

static double gx(const struct axis *ax, int64_t ms)
{
	return G_X + axis_at(ax, ms) * G_W;
}

/* The stretch of a step spent waiting for a person, hatched over the band y..y+h. */
static void svg_wait(struct strbuf *sb, const struct axis *ax, const struct step_rec *s, double y,
		     double h)
{
	if (s->started_ms == TS_NONE || !(s->human_wait_s > 0))
		return;
	int64_t end = s->started_ms + (int64_t)(s->human_wait_s * 1000.0);
	if (s->ended_ms != TS_NONE && end > s->ended_ms)
		end = s->ended_ms;
	double x1 = gx(ax, s->started_ms), x2 = gx(ax, end);
	char d[32];
	strbuf_addf(sb, "<rect class=\"wait\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"url(#lb-wait)\"><title>", x1, y, x2 - x1 < 2 ? 2 : x2 - x1, h);
	h_text(sb, s->name);
	strbuf_addf(sb, ": waited %s for a person</title></rect>\n", dur(s->human_wait_s, d));
}

/* A bar's tooltip: "name: 1.23s of 5m00s budget, failed" */
static void svg_title(struct strbuf *sb, const char *name, double secs, double budget,
		      enum status st, int attempts)
{
	char d[32], b[32], w[32];
	strbuf_addstr(sb, "<title>");
	h_text(sb, name);
	strbuf_addf(sb, ": %s", dur(secs, d));
	if (isfinite(budget))
		strbuf_addf(sb, " of %s budget", dur(budget, b));
	strbuf_addf(sb, ", %s", status_words(st, w));
	if (attempts > 1)
		strbuf_addf(sb, ", %d attempts", attempts);
	strbuf_addstr(sb, "</title>");
}

struct marker {
	int64_t ms;
	const char *name, *color, *dash;
};

/*
 * t0, t1 and the deadline as vertical lines, their names above the chart
 * in two rows so that close ones do not overprint; a marker off the axis
 * is named at the edge it lies beyond.
 */
static void svg_markers(struct strbuf *sb, const struct run_rec *r, const struct axis *ax,
			double bottom)
{
	int64_t dl = r->incident_ms != TS_NONE && isfinite(r->rto_target_s)
			     ? r->incident_ms + (int64_t)(r->rto_target_s * 1000.0)
			     : TS_NONE;
	const struct marker m[] = {
		{ r->incident_ms, "t0 incident", "#e8590c", NULL },
		{ r->restored_ms, "t1 restored", "#2b8a3e", NULL },
		{ dl, "RTO deadline", "#c92a2a", "6 4" },
	};
	double row_end[2] = { -1e9, -1e9 };
	for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
		if (m[i].ms == TS_NONE)
			continue;
		char d[32], label[96];
		double x;
		const char *anchor = "start";
		if (axis_has(ax, m[i].ms)) {
			x = gx(ax, m[i].ms);
			snprintf(label, sizeof(label), "%s", m[i].name);
			strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
					"stroke-width=\"2\"%s%s%s/>\n", x, G_TOP - 12, x, bottom,
				    m[i].color, m[i].dash ? " stroke-dasharray=\"" : "",
				    m[i].dash ? m[i].dash : "", m[i].dash ? "\"" : "");
		} else if (m[i].ms > ax->hi) {
			x = G_X + G_W;
			if (i == 2)	/* the deadline says what it is: t0 + the target */
				snprintf(label, sizeof(label), "%s at t0 + %s \xe2\x86\x92", m[i].name,
					 dur(r->rto_target_s, d));
			else
				snprintf(label, sizeof(label), "%s %s later \xe2\x86\x92", m[i].name,
					 dur((double)(m[i].ms - ax->hi) / 1000.0, d));
			anchor = "end";
		} else {
			x = G_X;
			snprintf(label, sizeof(label), "\xe2\x86\x90 %s %s earlier", m[i].name,
				 dur((double)(ax->lo - m[i].ms) / 1000.0, d));
		}
		double w = 6.4 * (double)utf8_width(label);
		double from = x + 4;
		if (!strcmp(anchor, "end") || from + w > SVG_W - 2) {
			anchor = "end";
			from = x - 4 - w;
		}
		int row = from > row_end[0] + 8 ? 0 : from > row_end[1] + 8 ? 1 : 1;
		row_end[row] = from + w;
		strbuf_addf(sb, "<text class=\"mk\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
				"style=\"fill:%s\">", !strcmp(anchor, "end") ? x - 4 : x + 4,
			    row ? 30 : 14, anchor, m[i].color);
		h_text(sb, label);
		strbuf_addstr(sb, "</text>\n");
	}
	for (size_t i = 0; i < r->nnotes; i++) {	/* notes: small diamonds on the top edge */
		const struct note_rec *n = &r->notes[i];
		if (!axis_has(ax, n->at_ms))
			continue;
		double x = gx(ax, n->at_ms), y = G_TOP - 8;
		strbuf_addf(sb, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"#7048e8\"><title>note by ",
			    x, y - 5);
		h_text(sb, n->operator ? n->operator : "?");
		strbuf_addstr(sb, ": ");
		h_text(sb, n->text);
		strbuf_addstr(sb, "</title></path>\n");
	}
}

static void html_gantt(struct strbuf *sb, const struct run_rec *r, const struct axis *ax)
{
	size_t nsteps = 0;
	for (size_t i = 0; i < r->nphases; i++)
		nsteps += r->phases[i].nsteps;
	int with_steps = nsteps <= G_MAX_STEPS;
	double h = G_TOP + G_AXIS_H;
	for (size_t i = 0; i < r->nphases; i++)
		h += G_PHASE_H + G_GAP + (with_steps ? (double)r->phases[i].nsteps * G_STEP_H : 0);
	double bottom = h - G_AXIS_H;
	char d[32], b[32];
	strbuf_addf(sb, "<svg class=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d "
			"%.0f\" role=\"img\" aria-label=\"Timeline of phases and steps against their "
			"budgets\">\n", SVG_W, h);
	strbuf_addstr(sb, "<defs><pattern id=\"lb-wait\" width=\"6\" height=\"6\" "
			  "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
			  "<rect width=\"6\" height=\"6\" fill=\"#ffe3a3\"/>"
			  "<rect width=\"3\" height=\"6\" fill=\"#f08c00\"/></pattern></defs>\n");

	/* phase bands first, so grid lines and bars draw over them */
	double y = G_TOP;
	for (size_t i = 0; i < r->nphases; i++) {
		double bh = G_PHASE_H + (with_steps ? (double)r->phases[i].nsteps * G_STEP_H : 0);
		if (i % 2 == 0)
			strbuf_addf(sb, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
					"fill=\"#f7f8fb\"/>\n", y - G_GAP / 2.0, SVG_W, bh + G_GAP);
		y += bh + G_GAP;
	}
	/* the time grid, counted from t0 */
	double step = nice_step((double)(ax->hi - ax->lo) / 1000.0, 8);
	double from = (double)(ax->lo - ax->origin) / 1000.0, to = (double)(ax->hi - ax->origin) / 1000.0;
	for (double k = ceil(from / step - 1e-9); k * step <= to + 1e-9; k++) {
		int64_t ms = ax->origin + (int64_t)llround(k * step * 1000.0);
		double x = gx(ax, ms);
		/* a label at an edge hangs inward instead of off the chart */
		const char *anchor = x < G_X + 12 ? "start" : x > G_X + G_W - 12 ? "end" : "middle";
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e7ec\"/>\n"
				"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
			    x, G_TOP - 6, x, bottom, x, bottom + 18, anchor, tick_label(k * step, d));
	}
	strbuf_addf(sb, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#98a2b3\"/>\n", G_X,
		    bottom, G_X + G_W, bottom);

	y = G_TOP;
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		char *name = utf8_trunc(p->name, 30);
		strbuf_addf(sb, "<text class=\"pl\" x=\"10\" y=\"%.1f\">", y + 15);
		h_text(sb, name);
		strbuf_addf(sb, "</text>\n<text class=\"ps\" x=\"10\" y=\"%.1f\">", y + 30);
		char *role = utf8_trunc(p->role ? p->role : "", 14);
		h_text(sb, role);
		strbuf_addstr(sb, *role ? " \xc2\xb7 " : "");
		free(role);
		if (p->started_ms == TS_NONE)
			strbuf_addstr(sb, "not run");
		else
			strbuf_addstr(sb, dur(p->duration_s, d));
		if (isfinite(p->budget_s))
			strbuf_addf(sb, " of %s", dur(p->budget_s, b));
		if (p->over_budget)
			strbuf_addstr(sb, " <tspan class=\"over\">over budget</tspan>");
		else if (p->fault)
			strbuf_addstr(sb, " \xc2\xb7 fault");
		else if (p->cleanup)
			strbuf_addstr(sb, " \xc2\xb7 cleanup");
		strbuf_addstr(sb, "</text>\n");
		free(name);

		double by = y + 8, bh = 22;
		if (p->started_ms != TS_NONE) {
			double x1 = gx(ax, p->started_ms);
			if (isfinite(p->budget_s)) {
				int64_t be = p->started_ms + (int64_t)(p->budget_s * 1000.0);
				double x2 = gx(ax, be);
				strbuf_addf(sb, "<rect class=\"budget\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
						"height=\"%.1f\" rx=\"4\" fill=\"#eef1f6\" stroke=\"#98a2b3\" "
						"stroke-width=\"1.2\" stroke-dasharray=\"4 3\"><title>budget %s"
						"</title></rect>\n", x1, by - 4, x2 - x1 < 1 ? 1 : x2 - x1,
					    bh + 8, dur(p->budget_s, b));
				if (be > ax->hi)
					strbuf_addf(sb, "<text class=\"ps\" x=\"%d\" y=\"%.1f\" "
							"text-anchor=\"end\">budget %s \xe2\x86\x92</text>\n",
						    G_X + G_W - 4, by + 15, b);
			}
			int64_t end = p->ended_ms != TS_NONE ? p->ended_ms : ax->hi;
			double x2 = gx(ax, end);
			strbuf_addf(sb, "<rect class=\"phase\" data-phase=\"");
			xml_add(sb, p->name ? p->name : "", 1);
			strbuf_addf(sb, "\" data-status=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					"height=\"%.1f\" rx=\"3\" fill=\"%s\"%s>", status_name(p->status), x1,
				    by, x2 - x1 < 3 ? 3 : x2 - x1, bh, status_fill(p->status),
				    p->over_budget ? " stroke=\"#c4262e\" stroke-width=\"2\"" : "");
			svg_title(sb, p->name, p->duration_s, p->budget_s, p->status, 0);
			strbuf_addstr(sb, "</rect>\n");
			for (size_t j = 0; j < p->nsteps; j++)
				svg_wait(sb, ax, &p->steps[j], by, bh);
		} else {
			strbuf_addstr(sb, "<rect class=\"phase\" data-phase=\"");
			xml_add(sb, p->name ? p->name : "", 1);
			strbuf_addf(sb, "\" data-status=\"%s\" x=\"%d\" y=\"%.1f\" width=\"0\" "
					"height=\"%.1f\" fill=\"%s\"/>\n<text class=\"ps\" x=\"%d\" "
					"y=\"%.1f\">not run</text>\n", status_name(p->status), G_X, by, bh,
				    status_fill(p->status), G_X + 6, by + 15);
		}
		y += G_PHASE_H;
		for (size_t j = 0; with_steps && j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			char *sname = utf8_trunc(s->name, 26);
			strbuf_addf(sb, "<text class=\"sl\" x=\"24\" y=\"%.1f\">%s", y + 14,
				    s->section == SEC_ROLLBACK ? "\xe2\x86\xba " : "");
			h_text(sb, sname);
			free(sname);
			strbuf_addf(sb, "</text>\n<text class=\"sd\" x=\"%d\" y=\"%.1f\" "
					"text-anchor=\"end\">", G_LABEL_W, y + 14);
			if (s->started_ms != TS_NONE)
				strbuf_addstr(sb, dur(s->duration_s, d));
			if (s->attempts > 1)
				strbuf_addf(sb, " \xc3\x97%d", s->attempts);
			strbuf_addstr(sb, "</text>\n");
			if (s->started_ms != TS_NONE) {
				int64_t end = s->ended_ms != TS_NONE ? s->ended_ms : ax->hi;
				double x1 = gx(ax, s->started_ms), x2 = gx(ax, end);
				strbuf_addf(sb, "<rect class=\"step\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
						"height=\"9\" rx=\"2\" fill=\"%s\" fill-opacity=\"0.7\">",
					    x1, y + 6, x2 - x1 < 3 ? 3 : x2 - x1,
					    status_fill(s->status));
				svg_title(sb, s->name, s->duration_s, NAN, s->status, s->attempts);
				strbuf_addstr(sb, "</rect>\n");
				svg_wait(sb, ax, s, y + 6, 9);
			}
			y += G_STEP_H;
		}
		y += G_GAP;
	}
	svg_markers(sb, r, ax, bottom);
	strbuf_addstr(sb, "</svg>\n");
}

/* 0 as "0", otherwise as duration_format writes it */
static const char *axis_secs(double v, char buf[32])
{
	return v == 0 ? strcpy(buf, "0") : dur(v, buf);
}

/* The recent achieved RTOs as columns, the target as a dashed line, this run outlined. */
static void html_trend_svg(struct strbuf *sb, const struct report_trend *t,
			   const struct run_rec *r, double target)
{
	const double H = 200, L = 70, R = 130, T = 20, B = 34;
	const double pw = SVG_W - L - R, ph = H - T - B;
	double vmax = 0;
	for (size_t i = 0; i < t->n; i++)
		vmax = t->rto_s[i] > vmax ? t->rto_s[i] : vmax;
	if (isfinite(target) && target > vmax)
		vmax = target;
	vmax = vmax > 0 ? vmax * 1.15 : 1;
#define TY(v) (T + ph - (v) / vmax * ph)
	char d[32], d2[32];
	strbuf_addf(sb, "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %.0f\" "
			"role=\"img\" aria-label=\"Achieved RTO of the recent runs against the target\">\n",
		    SVG_W, H);
	double step = nice_step(vmax, 4);
	for (double v = 0; v <= vmax + 1e-9; v += step)
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n"
				"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			    L, TY(v), L + pw, TY(v), v == 0 ? "#98a2b3" : "#eceef2", L - 8, TY(v) + 4,
			    axis_secs(v, d));
	double slot = pw / (double)t->n;
	slot = slot > 56 ? 56 : slot;
	double x0 = L + pw - slot * (double)t->n;
	for (size_t i = 0; i < t->n; i++) {
		double v = t->rto_s[i], x = x0 + slot * (double)i + slot * 0.18, w = slot * 0.64;
		double top = TY(v), hh = T + ph - top < 1 ? 1 : T + ph - top;
		const char *fill = !isfinite(target) ? "#4c6ef5"
				 : v > target ? "#e03131"
				 : v > RISK_P95_SHARE * target ? "#f59f00" : "#4c6ef5";
		int current = t->started_ms[i] == r->started_ms;
		strbuf_addf(sb, "<rect class=\"trend-bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" rx=\"2\" fill=\"%s\"%s><title>%s: %s</title></rect>\n",
			    x, T + ph - hh, w, hh, fill,
			    current ? " stroke=\"#1a1d23\" stroke-width=\"2\"" : "",
			    ts_human(t->started_ms[i], d2), dur(v, d));
		if (current)
			strbuf_addf(sb, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
					"text-anchor=\"middle\" style=\"font-weight:700;fill:#1a1d23\">"
					"this run</text>\n", x + w / 2, T + ph - hh - 6);
	}
	/* the first and last runs' dates under their columns */
	for (size_t k = 0; k < (t->n > 1 ? 2u : 1u); k++) {
		size_t i = k ? t->n - 1 : 0;
		char iso[32];
		clock_iso8601(t->started_ms[i], iso);
		strbuf_addf(sb, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">"
				"%.5s %.5s</text>\n", k ? x0 + slot * (double)(i + 1) : x0, T + ph + 18,
			    k ? "end" : "start", iso + 5, iso + 11);
	}
	if (isfinite(target)) {
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c92a2a\" "
				"stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
				"<text class=\"mk\" x=\"%.1f\" y=\"%.1f\" style=\"fill:#c92a2a\">target %s"
				"</text>\n", L, TY(target), L + pw, TY(target), L + pw + 8, TY(target) + 4,
			    dur(target, d));
		double r80 = RISK_P95_SHARE * target;
		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f08c00\" "
				"stroke-dasharray=\"2 3\"/>\n<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">"
				"%.0f%%: at risk above</text>\n", L, TY(r80), L + pw, TY(r80), L + pw + 8,
			    TY(r80) + 4, 100.0 * RISK_P95_SHARE);
	}
#undef TY
	strbuf_addstr(sb, "</svg>\n");
}

static void html_card(struct strbuf *sb, const char *label, const struct verdict *v)
{
	char d[32], t[32];
	strbuf_addf(sb, "<div class=\"card %s\">\n<div class=\"head\"><span class=\"label\">%s</span>"
			"<span class=\"pill %s\">", tone_class[v->tone], label, tone_class[v->tone]);
	h_text(sb, v->word);
	strbuf_addf(sb, "</span></div>\n<div class=\"value\">%s</div>\n",
		    isnan(v->achieved) ? "\xe2\x80\x94" : dur(v->achieved, d));
	strbuf_addf(sb, "<div class=\"sub\">%s%s</div>\n", isnan(v->target) ? "no target declared" : "target ",
		    isnan(v->target) ? "" : dur(v->target, t));
	if (isfinite(v->target) && v->target > 0) {
		double scale = isfinite(v->achieved) && v->achieved > v->target ? v->achieved : v->target;
		double fill = isfinite(v->achieved) ? 100.0 * v->achieved / scale : 0;
		strbuf_addf(sb, "<div class=\"meter\"><span class=\"fill\" style=\"width:%.1f%%\"></span>"
				"<span class=\"mark\" style=\"left:calc(%.1f%% - 1px)\" title=\"target\">"
				"</span></div>\n", fill, 100.0 * v->target / scale);
	} else {
		strbuf_addstr(sb, "<div class=\"meter\"></div>\n");
	}
	strbuf_addstr(sb, "<p class=\"sentence\">");
	h_text(sb, v->sentence);
	strbuf_addstr(sb, "</p>\n</div>\n");
}

/* People vs machines: the run's wall time split into waiting for a person and the rest. */
static void html_time_card(struct strbuf *sb, const struct run_rec *r)
{
	char d[32], h[32], m[32];
	double span = run_span_s(r), wait = r->human_wait_s > 0 ? r->human_wait_s : 0;
	strbuf_addf(sb, "<div class=\"card none\">\n<div class=\"head\"><span class=\"label\">"
			"Run time</span><span class=\"pill %s\">", tone_class[status_tone(r->status)]);
	status_words(r->status, d);
	h_text(sb, d);
	strbuf_addf(sb, "</span></div>\n<div class=\"value\">%s</div>\n",
		    isnan(span) ? "\xe2\x80\x94" : dur(span, d));
	if (isfinite(span) && span > 0) {
		double machine = span - wait > 0 ? span - wait : 0;
		strbuf_addf(sb, "<div class=\"sub\">machines %s \xc2\xb7 waiting for people %s</div>\n",
			    dur(machine, m), dur(wait, h));
		double wp = 100.0 * (wait < span ? wait : span) / span;
		strbuf_addf(sb, "<div class=\"meter\"><span class=\"fill machine\" style=\"width:100%%\">"
				"</span><span class=\"fill wait\" style=\"left:auto;right:0;width:%.1f%%;"
				"border-radius:0 5px 5px 0\"></span></div>\n", wp);
		if (wait > 0)
			strbuf_addf(sb, "<p class=\"sentence\">%.0f%% of the run waited for a person "
					"(manual steps); the rest was machine time</p>\n", wp);
		else
			strbuf_addstr(sb, "<p class=\"sentence\">no step waited for a person: all "
					  "machine time</p>\n");
	} else {
		strbuf_addstr(sb, "<div class=\"sub\">still running</div>\n<div class=\"meter\"></div>\n");
	}
	strbuf_addstr(sb, "</div>\n");
}

static void html_steps(struct strbuf *sb, const struct run_rec *r)
{
	char d[32], b[32], w[32];
	strbuf_addstr(sb, "<section class=\"block\">\n<h2>Steps</h2>\n<table class=\"steps\">\n"
			  "<thead><tr><th>Step</th><th>Kind</th><th>Role</th><th>Status</th>"
			  "<th class=\"num\">Attempts</th><th class=\"num\">Duration</th>"
			  "<th class=\"num\">Waiting</th><th class=\"num\">Exit</th>"
			  "<th>Confirmed by</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		strbuf_addstr(sb, "<tr class=\"phase-row\"><td colspan=\"9\"><span class=\"pname\">");
		h_text(sb, p->name);
		strbuf_addstr(sb, "</span><span class=\"pmeta\">");
		if (p->role) {
			h_text(sb, p->role);
			strbuf_addstr(sb, " \xc2\xb7 ");
		}
		strbuf_addstr(sb, p->started_ms == TS_NONE ? "not run" : dur(p->duration_s, d));
		if (isfinite(p->budget_s))
			strbuf_addf(sb, " of %s budget", dur(p->budget_s, b));
		if (p->human_wait_s > 0)
			strbuf_addf(sb, " \xc2\xb7 waiting %s", dur(p->human_wait_s, w));
		strbuf_addf(sb, "</span> <span class=\"st %s\">%s</span>", tone_class[status_tone(p->status)],
			    status_words(p->status, w));
		if (p->over_budget)
			strbuf_addstr(sb, "<span class=\"flag\">over budget</span>");
		if (p->fault)
			strbuf_addstr(sb, "<span class=\"tag\">fault</span>");
		if (p->restores_service)
			strbuf_addstr(sb, "<span class=\"tag\">restores service</span>");
		if (p->cleanup)
			strbuf_addstr(sb, "<span class=\"tag\">cleanup</span>");
		strbuf_addstr(sb, "</td></tr>\n");
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			strbuf_addstr(sb, "<tr><td>");
			if (s->section == SEC_ROLLBACK)
				strbuf_addstr(sb, "<span class=\"tag\">rollback</span> ");
			h_text(sb, s->name);
			strbuf_addstr(sb, "</td><td>");
			h_text(sb, s->kind ? s->kind : "-");
			strbuf_addstr(sb, "</td><td>");
			h_text(sb, s->role ? s->role : "-");
			strbuf_addf(sb, "</td><td><span class=\"st %s\">%s</span></td><td class=\"num\">%d</td>"
					"<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">",
				    tone_class[status_tone(s->status)], status_words(s->status, w),
				    s->attempts, dur(s->duration_s, d),
				    s->human_wait_s > 0 ? dur(s->human_wait_s, b) : "-");
			if (s->exit_code >= 0)
				strbuf_addf(sb, "%d", s->exit_code);
			else
				strbuf_addch(sb, '-');
			strbuf_addstr(sb, "</td><td>");
			char *how = step_confirmed_text(s);
			h_text(sb, how ? how : "-");
			free(how);
			strbuf_addstr(sb, "</td></tr>\n");
			for (size_t k = 0; k < s->nhosts; k++) {	/* remote steps: a row per host */
				const struct host_rec *hr = &s->hosts[k];
				strbuf_addstr(sb, "<tr class=\"host\"><td></td><td>&#8627; @ ");
				h_text(sb, hr->host);
				strbuf_addstr(sb, "</td><td>host</td><td></td><td><span class=\"st ");
				strbuf_addstr(sb, host_ok(hr) ? "ok" : "bad");
				strbuf_addstr(sb, "\">");
				h_text(sb, hr->status ? hr->status : "-");
				strbuf_addf(sb, "</span></td><td class=\"num\">%d</td><td class=\"num\">%s</td>"
						"<td class=\"num\">-</td><td class=\"num\">", hr->attempts,
					    dur(hr->duration_s, d));
				if (hr->exit_code >= 0)
					strbuf_addf(sb, "%d", hr->exit_code);
				else
					strbuf_addch(sb, '-');
				strbuf_addstr(sb, "</td><td>");
				if (hr->error && !host_ok(hr))
					h_text(sb, hr->error);
				strbuf_addstr(sb, "</td></tr>\n");
			}
			if (s->error && s->status != ST_SUCCEEDED) {
				char *first = first_line(s->error);
				strbuf_addstr(sb, "<tr class=\"err\"><td colspan=\"9\">");
				h_text(sb, first);
				strbuf_addstr(sb, "</td></tr>\n");
				free(first);
			}
		}
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n</section>\n");
}

static void html_failures(struct strbuf *sb, const struct run_rec *r)
{
	int any = 0;
	char w[32];
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		for (size_t j = 0; j < p->nsteps; j++) {
			const struct step_rec *s = &p->steps[j];
			if (!step_failed(s))
				continue;
			if (!any++)
				strbuf_addstr(sb, "<section class=\"block\">\n<h2>Failed steps</h2>\n");
			strbuf_addstr(sb, "<div class=\"fail\">\n<h3>");
			h_text(sb, p->name);
			strbuf_addstr(sb, " \xe2\x80\xba ");
			h_text(sb, s->name);
			strbuf_addf(sb, " <span class=\"st bad\">%s</span></h3>\n<p class=\"small\">",
				    status_words(s->status, w));
			if (s->exit_code >= 0)
				strbuf_addf(sb, "exit %d \xc2\xb7 ", s->exit_code);
			strbuf_addf(sb, "%d attempt%s", s->attempts, s->attempts == 1 ? "" : "s");
			if (s->role) {
				strbuf_addstr(sb, " \xc2\xb7 role ");
				h_text(sb, s->role);
			}
			strbuf_addstr(sb, "</p>\n");
			if (s->error) {	/* a traceback keeps its lines */
				int lines = strchr(s->error, '\n') != NULL;
				strbuf_addstr(sb, lines ? "<pre>" : "<p class=\"errmsg\">");
				h_text(sb, s->error);
				strbuf_addstr(sb, lines ? "</pre>\n" : "</p>\n");
			}
			int cut;
			char *tail = output_tail(s, &cut);
			if (tail) {
				strbuf_addf(sb, "<p class=\"small\">%s</p>\n<pre>",
					    cut ? "The last lines of its output:" : "Its output:");
				h_text(sb, tail);
				strbuf_addstr(sb, "</pre>\n");
				free(tail);
			}
			strbuf_addstr(sb, "</div>\n");
		}
	}
	if (any)
		strbuf_addstr(sb, "</section>\n");
}

static void html_detail(struct strbuf *sb, const char *label, const char *value, int code)
{
	strbuf_addf(sb, "<dt>%s</dt><dd>%s", label, code && value ? "<code>" : "");
	h_text(sb, value ? value : "-");
	strbuf_addf(sb, "%s</dd>\n", code && value ? "</code>" : "");
}

char *report_html_string(const struct run_rec *run, const struct report_trend *trend)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 32768);
	char b1[32], b2[32];
	struct verdict rto, rpo;
	verdicts_make(run, &rto, &rpo);
	struct trend_view tv;
	trend_view(trend, run, &tv);
	const char *rb = run->runbook ? run->runbook : "lifeboat run";

	strbuf_addstr(&sb, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
			   "<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" "
			   "content=\"width=device-width, initial-scale=1\"/>\n<meta name=\"generator\" "
			   "content=\"lifeboat " LIFEBOAT_VERSION "\"/>\n<title>");
	h_text(&sb, rb);
	strbuf_addf(&sb, " \xc2\xb7 %s ", run->mode ? run->mode : "run");
	h_text(&sb, run->id);
	strbuf_addf(&sb, " \xc2\xb7 %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
		    status_words(run->status, b1), html_css);

	strbuf_addstr(&sb, "<header>\n<div class=\"eyebrow\">lifeboat recovery report</div>\n<h1>");
	h_text(&sb, rb);
	strbuf_addf(&sb, " <span class=\"badge %s\">%s</span>", tone_class[status_tone(run->status)],
		    status_words(run->status, b1));
	/* steps can all succeed while an objective is missed: say so beside the status */
	if (rto.tone == TONE_BAD)
		strbuf_addstr(&sb, " <span class=\"badge bad\">RTO missed</span>");
	if (rpo.tone == TONE_BAD)
		strbuf_addstr(&sb, " <span class=\"badge bad\">RPO missed</span>");
	strbuf_addf(&sb, "</h1>\n<p class=\"meta\">%s \xc2\xb7 run <code>",
		    run->mode && !strcmp(run->mode, "drill") ? "chaos drill" : "run");
	h_text(&sb, run->id);
	strbuf_addstr(&sb, "</code>");
	if (run->env) {
		strbuf_addstr(&sb, " \xc2\xb7 env <b>");
		h_text(&sb, run->env);
		strbuf_addstr(&sb, "</b>");
	}
	if (run->operator) {
		strbuf_addstr(&sb, " \xc2\xb7 operator <b>");
		h_text(&sb, run->operator);
		strbuf_addstr(&sb, "</b>");
	}
	strbuf_addf(&sb, " \xc2\xb7 started %s", ts_human(run->started_ms, b1));
	if (isfinite(run_span_s(run)))
		strbuf_addf(&sb, " \xc2\xb7 lasted %s", dur(run_span_s(run), b2));
	strbuf_addstr(&sb, "</p>\n");
	if (run->error) {
		strbuf_addstr(&sb, "<p class=\"run-error\">");
		h_text(&sb, run->error);
		strbuf_addstr(&sb, "</p>\n");
	}
	strbuf_addstr(&sb, "</header>\n<section class=\"verdicts\" aria-label=\"Verdicts\">\n");
	html_card(&sb, "RTO \xc2\xb7 recovery time", &rto);
	html_card(&sb, "RPO \xc2\xb7 recovery point", &rpo);
	html_time_card(&sb, run);
	strbuf_addstr(&sb, "</section>\n");
	if (tv.why) {
		strbuf_addstr(&sb, "<p class=\"risk\"><b>RTO at risk:</b> ");
		h_text(&sb, tv.describe ? tv.describe : tv.why);
		strbuf_addstr(&sb, ".</p>\n");
	}

	strbuf_addstr(&sb, "<section class=\"block\">\n<h2>Timeline</h2>\n");
	struct axis ax;
	if (run->nphases && axis_make(run, &ax)) {
		html_gantt(&sb, run, &ax);
		strbuf_addf(&sb, "<div class=\"legend\"><span><i class=\"sw machine\"></i>machine time"
				   "</span><span><i class=\"sw wait\"></i>waiting for a person</span>"
				   "<span><i class=\"sw failed\"></i>failed</span><span><i class=\"sw "
				   "budget\"></i>budget</span><span><i class=\"sw t0\"></i>t0 incident"
				   "</span><span><i class=\"sw t1\"></i>t1 restored</span><span><i "
				   "class=\"sw dl\"></i>RTO deadline</span><span><i class=\"sw note\"></i>"
				   "note</span><span>times count from %s</span></div>\n",
			    ax.origin == run->incident_ms ? "t0" : "the start of the run");
	} else {
		strbuf_addstr(&sb, "<p class=\"small\">No phase has run.</p>\n");
	}
	strbuf_addstr(&sb, "</section>\n");

	html_steps(&sb, run);
	html_failures(&sb, run);

	if (run->nnotes) {
		strbuf_addstr(&sb, "<section class=\"block\">\n<h2>Notes</h2>\n<ul class=\"notes\">\n");
		for (size_t i = 0; i < run->nnotes; i++) {
			const struct note_rec *n = &run->notes[i];
			strbuf_addf(&sb, "<li><time>%s</time><b>", ts_human(n->at_ms, b1));
			h_text(&sb, n->operator ? n->operator : "?");
			strbuf_addstr(&sb, note_after_end(run, n) ? "</b> <i>(after the end)</i> " : "</b> ");
			h_text(&sb, n->text);
			strbuf_addstr(&sb, "</li>\n");
		}
		strbuf_addstr(&sb, "</ul>\n</section>\n");
	}

	strbuf_addstr(&sb, "<section class=\"block\">\n<h2>RTO trend</h2>\n");
	if (tv.n) {
		html_trend_svg(&sb, trend, run, tv.target);
		char p50[32], p95[32], tg[32];
		strbuf_addf(&sb, "<p class=\"small\">The last %zu achieved RTO%s of ", tv.n,
			    tv.n > 1 ? "s" : "");
		h_text(&sb, rb);
		strbuf_addf(&sb, ", up to this run: p50 %s, p95 %s, target %s.", dur(tv.p50, p50),
			    dur(tv.p95, p95), dur(tv.target, tg));
		if (tv.describe) {
			strbuf_addstr(&sb, tv.why ? " <b>At risk:</b> " : " ");
			h_text(&sb, tv.describe);
			strbuf_addch(&sb, '.');
		}
		strbuf_addstr(&sb, "</p>\n");
	} else {
		strbuf_addstr(&sb, "<p class=\"small\">No achieved RTO in the history yet.</p>\n");
	}
	strbuf_addstr(&sb, "</section>\n");

	strbuf_addstr(&sb, "<section class=\"block\">\n<h2>Run details</h2>\n<dl class=\"details\">\n");
	html_detail(&sb, "Run id", run->id, 1);
	html_detail(&sb, "Runbook file", run->file, 1);
	html_detail(&sb, "Runbook SHA-256", run->sha256, 1);
	html_detail(&sb, "Signed by key", run->signed_by ? run->signed_by : "unsigned", 1);
	char *mode = xasprintf("%s \xc2\xb7 %s", run->mode ? run->mode : "-",
			       run->trigger ? run->trigger : "-");
	html_detail(&sb, "Mode \xc2\xb7 trigger", mode, 0);
	free(mode);
	html_detail(&sb, "Host", run->host, 0);
	html_detail(&sb, "Params", run->params_json, 1);
	html_detail(&sb, "Incident (t0)", run->incident_ms == TS_NONE ? NULL : ts_human(run->incident_ms, b1), 0);
	html_detail(&sb, "Restored (t1)", run->restored_ms == TS_NONE ? NULL : ts_human(run->restored_ms, b1), 0);
	html_detail(&sb, "Recovery point",
		    run->recovery_point_ms == TS_NONE ? NULL : ts_human(run->recovery_point_ms, b1), 0);
	html_detail(&sb, "Ended", run->ended_ms == TS_NONE ? NULL : ts_human(run->ended_ms, b1), 0);
	if (run->exit_code >= 0) {
		snprintf(b1, sizeof(b1), "%d", run->exit_code);
		html_detail(&sb, "Exit code", b1, 0);
	}
	strbuf_addstr(&sb, "</dl>\n</section>\n<footer>lifeboat " LIFEBOAT_VERSION
			   " \xc2\xb7 this page is self-contained: it loads nothing</footer>\n"
			   "</main>\n</body>\n</html>\n");

	trend_view_release(&tv);
	free(rto.sentence);
	free(rpo.sentence);
	return strbuf_detach(&sb);
}
