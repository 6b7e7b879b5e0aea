/*
 * Reports from a run record: the JSON report of SPEC 7 and JUnit XML.
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
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
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
	set(o, "section", json_string(s->section == SEC_ROLLBACK ? "rollback" : "main"));
	set(o, "idempotent", json_boolean(s->idempotent));
	set(o, "human_wait_s", j_secs(s->human_wait_s));
	set(o, "started_at", j_ts(s->started_ms));
	set(o, "ended_at", j_ts(s->ended_ms));
	set(o, "error", j_str(s->error));
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

static void step_case(struct suite *su, const struct phase_rec *p, const struct step_rec *s)
{
	char *name = s->section == SEC_ROLLBACK ? xasprintf("rollback: %s", s->name ? s->name : "")
						: xstrdup(s->name ? s->name : "");
	char *out = s->confirmed_by ? xasprintf("confirmed by %s", s->confirmed_by) : NULL;
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
		for (size_t j = 0; j < run->phases[i].nsteps; j++)
			step_case(&su, &run->phases[i], &run->phases[i].steps[j]);
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
			strbuf_addstr(&sb, ": ");
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
