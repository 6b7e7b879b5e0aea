/*
 * Reports from hand-built run records: the JSON is parsed back and every
 * SPEC 7 field checked (absent values as null, keys in the spec's order);
 * the JUnit XML is checked for structure, escaping and the RTO/RPO cases,
 * and validated with xmllint against the junit-10 schema CI readers use;
 * Prometheus lines are parsed, Markdown checked for escaping, and the HTML
 * page read as well-formed XML with one timeline bar per phase.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "clock.h"
#include "record.h"
#include "report.h"
#include "util.h"

#define T0 1763776380123LL	/* 2025-11-22T01:53:00.123Z */
#define T0_ISO "2025-11-22T01:53:00.123Z"

static void step_fill(struct step_rec *s, const char *name, enum section sec,
		      enum status st, double secs)
{
	step_rec_init(s);
	s->name = xstrdup(name);
	s->kind = xstrdup(sec == SEC_MAIN ? "sh" : "run");
	s->role = xstrdup("data-eng");
	s->section = sec;
	s->status = st;
	s->attempts = 1;
	s->started_ms = T0;
	s->ended_ms = T0 + (int64_t)(secs * 1000);
	s->duration_s = secs;
	s->exit_code = st == ST_SUCCEEDED ? 0 : 1;
}

static struct run_rec *full_run(void)
{
	struct run_rec *r = xmalloc(sizeof(*r));
	run_rec_init(r);
	r->id = xstrdup("0f3a9c2d1e7b");
	r->runbook = xstrdup("feature-store");
	r->file = xstrdup("/srv/runbooks/feature-store.lua");
	r->sha256 = xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	r->mode = xstrdup("drill");
	r->trigger = xstrdup("cli");
	r->env = xstrdup("staging");
	r->operator = xstrdup("alice");
	r->uid = 1000;
	r->host = xstrdup("db-1");
	r->pid = 4242;
	r->params_json = xstrdup("{\"store\":\"demo/state/features.db\",\"port\":\"8080\"}");
	r->status = ST_FAILED;
	r->started_ms = T0;
	r->ended_ms = T0 + 62500;
	r->incident_ms = T0 + 100;
	r->restored_ms = T0 + 50101;
	r->rto_target_s = 900;
	r->rto_achieved_s = 50.001;
	r->rto_met = 1;
	r->rpo_target_s = 3600;
	r->rpo_achieved_s = 4000.12345;
	r->rpo_met = 0;
	r->rpo_status = xstrdup("missed");
	r->recovery_point_ms = T0 - 3900000;
	r->human_wait_s = 12.3456;
	r->exit_code = 1;
	r->error = xstrdup("step 'copy snapshot' failed");

	r->nphases = 2;
	r->phases = xcalloc(2, sizeof(*r->phases));
	struct phase_rec *p = &r->phases[0];
	phase_rec_init(p);
	p->name = xstrdup("break the store");
	p->role = xstrdup("sre");
	p->fault = 1;
	p->status = ST_SUCCEEDED;
	p->duration_s = 0.1;
	p->nsteps = 1;
	p->steps = xcalloc(1, sizeof(*p->steps));
	step_fill(&p->steps[0], "delete the online store", SEC_MAIN, ST_SUCCEEDED, 0.1);

	p = &r->phases[1];
	phase_rec_init(p);
	p->name = xstrdup("restore");
	p->role = xstrdup("data-eng");
	p->budget_s = 300;
	p->restores_service = 1;
	p->status = ST_ROLLED_BACK;
	p->started_ms = T0 + 100;
	p->ended_ms = T0 + 50101;
	p->duration_s = 50.00149;
	p->human_wait_s = 3.5;
	p->over_budget = 1;
	p->nsteps = 4;
	p->steps = xcalloc(4, sizeof(*p->steps));
	step_fill(&p->steps[0], "commander signs off", SEC_MAIN, ST_SUCCEEDED, 5);
	p->steps[0].kind = (free(p->steps[0].kind), xstrdup("manual"));
	p->steps[0].confirmed_by = xstrdup("alice");
	p->steps[0].auto_confirmed = 1;
	p->steps[0].human_wait_s = 4.9;
	p->steps[0].exit_code = -1;
	step_fill(&p->steps[1], "copy snapshot", SEC_MAIN, ST_FAILED, 1.23456);
	p->steps[1].attempts = 3;
	p->steps[1].error = xstrdup("exit status 1");
	p->steps[1].output = xstrdup("cp: cannot stat 'demo/backups/latest.db'\n");
	step_fill(&p->steps[2], "warm cache", SEC_MAIN, ST_PENDING, NAN);
	p->steps[2].started_ms = p->steps[2].ended_ms = TS_NONE;
	p->steps[2].exit_code = -1;
	step_fill(&p->steps[3], "put the store aside", SEC_ROLLBACK, ST_SUCCEEDED, 0.02);

	run_rec_add_note(r, T0 + 10, "bob", "paged the data team");
	return r;
}

/* ---- JSON ---- */

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("invalid JSON at line %d: %s\n%s", e.line, e.text, text);
	return j;
}

static json_t *get(json_t *o, const char *key)
{
	assert_true(json_is_object(o));
	json_t *v = json_object_get(o, key);
	if (!v)
		fail_msg("key '%s' missing", key);
	return v;
}

static void is_str(json_t *o, const char *key, const char *want)
{
	json_t *v = get(o, key);
	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void is_null(json_t *o, const char *key)
{
	if (!json_is_null(get(o, key)))
		fail_msg("'%s' is not null", key);
}

static void is_real(json_t *o, const char *key, double want)
{
	json_t *v = get(o, key);
	if (!json_is_real(v))
		fail_msg("'%s' is not a real", key);
	if (fabs(json_real_value(v) - want) > 1e-9)
		fail_msg("'%s': %.17g, want %.17g", key, json_real_value(v), want);
}

static void is_int(json_t *o, const char *key, long long want)
{
	json_t *v = get(o, key);
	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	assert_int_equal(json_integer_value(v), want);
}

static void is_bool(json_t *o, const char *key, int want)
{
	json_t *v = get(o, key);
	if (!json_is_boolean(v))
		fail_msg("'%s' is not a boolean", key);
	assert_int_equal(json_is_true(v), want);
}

/* The spec's keys appear in the spec's order (extra keys may sit between them). */
static void in_order(json_t *o, const char *const *keys)
{
	size_t k = 0;
	for (void *it = json_object_iter(o); it && keys[k]; it = json_object_iter_next(o, it))
		if (!strcmp(json_object_iter_key(it), keys[k]))
			k++;
	if (keys[k])
		fail_msg("key '%s' missing or out of the spec's order", keys[k]);
}

static const char *const run_keys[] = {
	"schema_version", "run_id", "runbook", "mode", "trigger", "env", "operator", "status",
	"started_at", "ended_at", "runbook_sha256", "incident_at", "restored_at",
	"human_wait_s", "rto", "rpo", "phases", "notes", NULL
};
static const char *const phase_keys[] = {
	"name", "role", "budget_s", "duration_s", "human_wait_s", "over_budget", "status",
	"steps", NULL
};
static const char *const step_keys[] = {
	"name", "kind", "role", "status", "attempts", "duration_s", "exit_code", "confirmed_by", "auto_confirmed",
	NULL
};

static void test_json_full(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	char *text = report_json_string(r, 1);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	assert_non_null(strstr(text, "\n  \"run_id\""));	/* indented */
	/* rounded to the ms and printed as such */
	assert_non_null(strstr(text, "\"duration_s\": 1.235,"));
	assert_non_null(strstr(text, "\"achieved_s\": 4000.123,"));
	json_t *j = parse(text);
	free(text);

	in_order(j, run_keys);
	is_int(j, "schema_version", REPORT_SCHEMA_VERSION);
	is_str(j, "run_id", "0f3a9c2d1e7b");
	is_str(j, "runbook", "feature-store");
	is_str(j, "mode", "drill");
	is_str(j, "trigger", "cli");
	is_str(j, "env", "staging");
	is_str(j, "operator", "alice");
	is_str(j, "status", "failed");
	is_str(j, "started_at", T0_ISO);
	is_str(j, "ended_at", "2025-11-22T01:54:02.623Z");
	is_str(j, "runbook_sha256", r->sha256);
	is_str(j, "incident_at", "2025-11-22T01:53:00.223Z");
	is_str(j, "restored_at", "2025-11-22T01:53:50.224Z");
	is_real(j, "human_wait_s", 12.346);

	json_t *rto = get(j, "rto");
	static const char *const rto_keys[] = { "target_s", "achieved_s", "met", NULL };
	in_order(rto, rto_keys);
	is_real(rto, "target_s", 900);
	is_real(rto, "achieved_s", 50.001);
	is_bool(rto, "met", 1);
	json_t *rpo = get(j, "rpo");
	static const char *const rpo_keys[] = { "target_s", "achieved_s", "met", "status", NULL };
	in_order(rpo, rpo_keys);
	is_real(rpo, "target_s", 3600);
	is_real(rpo, "achieved_s", 4000.123);
	is_bool(rpo, "met", 0);
	is_str(rpo, "status", "missed");

	/* extras */
	is_str(j, "recovery_point", "2025-11-22T00:48:00.123Z");
	is_str(get(j, "params"), "port", "8080");
	is_int(j, "uid", 1000);
	is_str(j, "host", "db-1");
	is_int(j, "exit_code", 1);
	is_str(j, "error", "step 'copy snapshot' failed");

	json_t *phases = get(j, "phases");
	assert_int_equal(json_array_size(phases), 2);
	json_t *p0 = json_array_get(phases, 0), *p1 = json_array_get(phases, 1);
	in_order(p0, phase_keys);
	in_order(p1, phase_keys);
	is_str(p0, "name", "break the store");
	is_null(p0, "budget_s");
	is_real(p0, "duration_s", 0.1);
	is_real(p0, "human_wait_s", 0);
	is_bool(p0, "over_budget", 0);
	is_str(p0, "status", "succeeded");
	is_bool(p0, "fault", 1);
	is_null(p0, "started_at");
	is_str(p1, "role", "data-eng");
	is_real(p1, "budget_s", 300);
	is_real(p1, "duration_s", 50.001);
	is_real(p1, "human_wait_s", 3.5);
	is_bool(p1, "over_budget", 1);
	is_str(p1, "status", "rolled_back");
	is_bool(p1, "restores_service", 1);
	is_str(p1, "started_at", "2025-11-22T01:53:00.223Z");

	json_t *steps = get(p1, "steps");
	assert_int_equal(json_array_size(steps), 4);
	for (size_t i = 0; i < 4; i++)
		in_order(json_array_get(steps, i), step_keys);
	json_t *s0 = json_array_get(steps, 0);
	is_str(s0, "name", "commander signs off");
	is_str(s0, "kind", "manual");
	is_str(s0, "role", "data-eng");
	is_str(s0, "status", "succeeded");
	is_int(s0, "attempts", 1);
	is_real(s0, "duration_s", 5);
	is_null(s0, "exit_code");
	is_str(s0, "confirmed_by", "alice");
	assert_true(json_is_true(json_object_get(s0, "auto_confirmed")));
	is_real(s0, "human_wait_s", 4.9);
	is_str(s0, "section", "main");
	json_t *s1 = json_array_get(steps, 1);
	is_str(s1, "status", "failed");
	is_int(s1, "attempts", 3);
	is_real(s1, "duration_s", 1.235);
	is_int(s1, "exit_code", 1);
	is_null(s1, "confirmed_by");
	is_str(s1, "error", "exit status 1");
	json_t *s2 = json_array_get(steps, 2);
	is_str(s2, "status", "pending");
	is_null(s2, "duration_s");
	is_null(s2, "started_at");
	json_t *s3 = json_array_get(steps, 3);
	is_str(s3, "name", "put the store aside");
	is_str(s3, "section", "rollback");
	is_str(s3, "kind", "run");

	json_t *notes = get(j, "notes");
	assert_int_equal(json_array_size(notes), 1);
	json_t *n = json_array_get(notes, 0);
	static const char *const note_keys[] = { "at", "operator", "text", NULL };
	in_order(n, note_keys);
	is_str(n, "at", "2025-11-22T01:53:00.133Z");
	is_str(n, "operator", "bob");
	is_str(n, "text", "paged the data team");
	json_decref(j);
	run_rec_free(r);
}

static void test_json_absent(void **state)
{
	(void)state;
	struct run_rec r;
	run_rec_init(&r);
	r.id = xstrdup("abc");
	r.runbook = xstrdup("bad \xff\xfe utf-8 \xc3");
	r.status = ST_RUNNING;
	r.human_wait_s = NAN;
	r.params_json = xstrdup("{not json");
	char *text = report_json_string(&r, 0);
	assert_null(strchr(text, '\n'));	/* compact */
	assert_null(strstr(text, ": "));
	json_t *j = parse(text);
	free(text);
	in_order(j, run_keys);
	is_str(j, "status", "running");
	is_str(j, "runbook", "bad \xef\xbf\xbd\xef\xbf\xbd utf-8 \xef\xbf\xbd");
	static const char *const nulls[] = {
		"mode", "trigger", "env", "operator", "started_at", "ended_at", "runbook_sha256",
		"incident_at", "restored_at", "human_wait_s", "recovery_point", "params", "uid",
		"host", "exit_code", "error",
	};
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		is_null(j, nulls[i]);
	json_t *rto = get(j, "rto"), *rpo = get(j, "rpo");
	is_null(rto, "target_s");
	is_null(rto, "achieved_s");
	is_null(rto, "met");
	is_null(rpo, "target_s");
	is_null(rpo, "achieved_s");
	is_null(rpo, "met");
	is_str(rpo, "status", "none");	/* no RPO declared */
	assert_int_equal(json_array_size(get(j, "phases")), 0);
	assert_int_equal(json_array_size(get(j, "notes")), 0);
	json_decref(j);

	/* declared but not yet measured: status unknown, not "none" */
	r.rpo_target_s = 60;
	text = report_json_string(&r, 0);
	j = parse(text);
	is_null(get(j, "rpo"), "status");
	json_decref(j);
	free(text);
	run_rec_release(&r);
}

/* ---- JUnit ---- */

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The testcase element whose name attribute is name, as a new string. */
static char *testcase_of(const char *xml, const char *name)
{
	char *needle = xasprintf(" name=\"%s\"", name);
	const char *p = strstr(xml, needle);
	free(needle);
	if (!p)
		fail_msg("no testcase named '%s' in\n%s", name, xml);
	while (p > xml && strncmp(p, "<testcase", 9))
		p--;
	const char *end = strstr(p, ">");
	if (end[-1] != '/')
		end = strstr(p, "</testcase>") + strlen("</testcase>");
	else
		end++;
	return xstrndup(p, (size_t)(end - p));
}

/* tmpl with {A} and {T} replaced by duration_format of achieved and target */
static char *expand(const char *tmpl, double achieved, double target)
{
	char a[32], t[32];
	duration_format(achieved, a, sizeof(a));
	duration_format(target, t, sizeof(t));
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 0);
	for (const char *p = tmpl; *p; p++) {
		if (!strncmp(p, "{A}", 3) || !strncmp(p, "{T}", 3)) {
			strbuf_addstr(&sb, p[1] == 'A' ? a : t);
			p += 2;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb);
}

static const char *schema_path(void)
{
	static char path[4096];
	const char *env = getenv("LIFEBOAT_JUNIT_XSD");
	if (env)
		return env;
	/* the repo's copy: this file is <project>/tests/unit/test_report.c, the schema
	 * <project>/tests/schemas/junit-10.xsd */
	snprintf(path, sizeof(path), "%s", __FILE__);
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(path, sizeof(path), ".");
	}
	size_t len = strlen(path);
	snprintf(path + len, sizeof(path) - len, "/schemas/junit-10.xsd");
	return path;
}

static char tmpdir[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lb-report-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Writes xml to a file and validates it with xmllint: exit status 0 or the test fails. */
static void validate(const char *xml, const char *name)
{
	const char *xsd = schema_path();
	struct stat sb;
	if (stat(xsd, &sb))
		fail_msg("junit schema '%s' not found (set LIFEBOAT_JUNIT_XSD)", xsd);
	char *path = xasprintf("%s/junit/%s.xml", tmpdir, name);
	char *log = xasprintf("%s/junit/%s.log", tmpdir, name);
	char *err = NULL;
	if (report_write_file(path, xml, &err))
		fail_msg("%s", err);
	char *cmd = xasprintf("xmllint --noout --schema '%s' '%s' >'%s' 2>&1", xsd, path, log);
	int rc = system(cmd);
	if (rc != 0) {
		char *out = read_file(log, NULL);
		fail_msg("xmllint failed (%d) on %s:\n%s\n%s", rc, path, out ? out : "", xml);
	}
	free(cmd);
	free(log);
	free(path);
}

static void test_junit_structure(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	char *xml = report_junit_string(r);
	assert_true(!strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 50));
	assert_int_equal(count(xml, "<testsuite "), 1);
	/* 5 steps + RTO + RPO; failures: the failed step and the missed RPO; skipped: pending */
	assert_non_null(strstr(xml, "<testsuite name=\"feature-store\" tests=\"7\" failures=\"2\" "
				    "errors=\"0\" skipped=\"1\" time=\"62.500\" "
				    "timestamp=\"" T0_ISO "\""));
	assert_int_equal(count(xml, "<testcase "), 7);
	assert_non_null(strstr(xml, "<property name=\"run_id\" value=\"0f3a9c2d1e7b\"/>"));

	char *tc = testcase_of(xml, "copy snapshot");
	assert_non_null(strstr(tc, "classname=\"restore\""));
	assert_non_null(strstr(tc, "time=\"1.235\""));
	assert_non_null(strstr(tc, "<failure type=\"failed\" message=\"exit status 1\">"));
	assert_non_null(strstr(tc, "cp: cannot stat &apos;demo/backups/latest.db&apos;"));
	free(tc);
	tc = testcase_of(xml, "commander signs off");
	assert_non_null(strstr(tc, "<system-out>auto-confirmed (--yes by alice)</system-out>"));
	assert_null(strstr(tc, "<failure"));
	free(tc);
	tc = testcase_of(xml, "warm cache");
	assert_non_null(strstr(tc, "<skipped message=\"not run\"/>"));
	free(tc);
	tc = testcase_of(xml, "rollback: put the store aside");
	assert_non_null(strstr(tc, "classname=\"restore\""));
	free(tc);
	tc = testcase_of(xml, "delete the online store");
	assert_non_null(strstr(tc, "classname=\"break the store\""));
	assert_non_null(strstr(tc, "/>"));
	free(tc);
	tc = testcase_of(xml, "RTO");
	assert_non_null(strstr(tc, "classname=\"feature-store\""));
	assert_null(strstr(tc, "<failure"));
	char *want = expand("<system-out>RTO met: achieved {A} vs target {T}</system-out>",
			    50.001, 900);
	assert_non_null(strstr(tc, want));
	free(want);
	free(tc);
	tc = testcase_of(xml, "RPO");
	want = expand("<failure type=\"objective\" message=\"RPO missed: achieved {A} vs target "
		      "{T}\"/>", 4000.12345, 3600);
	assert_non_null(strstr(tc, want));
	free(want);
	free(tc);
	assert_non_null(strstr(xml, "note by bob: paged the data team"));
	assert_non_null(strstr(xml, "<system-err>step &apos;copy snapshot&apos; failed"
				    "</system-err>"));
	validate(xml, "structure");
	free(xml);
	run_rec_free(r);
}

static void test_junit_escaping(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	free(r->runbook);
	r->runbook = xstrdup("a<b>&\"c\" 'd'");
	struct phase_rec *p = &r->phases[1];
	free(p->name);
	p->name = xstrdup("ph\x01\x02\x1f" "ase \xe2\x9c\x93");
	struct step_rec *s = &p->steps[1];
	free(s->name);
	s->name = xstrdup("x<y & \"z\"\ttab");
	free(s->error);
	s->error = xstrdup("boom <here> & \"there\"\nstack traceback:\n\t[C]: in ?");
	free(s->output);
	/* a terminal color code, a bell, bad UTF-8, a form feed and U+FFFE */
	s->output = xstrdup("\x1b[31mred\x1b[0m \x07 bad\xff \x0c ok \xef\xbf\xbe end ]]> \r\n");
	char *xml = report_junit_string(r);

	assert_non_null(strstr(xml, "<testsuite name=\"a&lt;b&gt;&amp;&quot;c&quot; "
				    "&apos;d&apos;\""));
	assert_non_null(strstr(xml, "classname=\"phase \xe2\x9c\x93\""));
	char *tc = testcase_of(xml, "x&lt;y &amp; &quot;z&quot;&#9;tab");
	/* the message is the first line; the whole error and the output are the body */
	assert_non_null(strstr(tc, "message=\"boom &lt;here&gt; &amp; &quot;there&quot;\">"));
	assert_non_null(strstr(tc, "stack traceback:\n\t[C]: in ?"));
	assert_non_null(strstr(tc, "in ?\n\nred  bad\xef\xbf\xbd  ok  end ]]&gt; &#13;\n"
				   "</failure>"));
	free(tc);
	for (const char *c = xml; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u < 0x20 && u != '\n' && u != '\t')
			fail_msg("control byte 0x%02x left in the XML", u);
	}
	validate(xml, "escaping");
	free(xml);
	run_rec_free(r);
}

static void test_junit_output_tail(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	struct step_rec *s = &r->phases[1].steps[1];
	free(s->output);
	size_t n = 20000;
	s->output = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s->output[i] = i < 100 ? 'H' : (char)('a' + i % 26);
	memcpy(s->output + n - 7, "THE-END", 7);
	/* a multibyte character straddling the cut must not be split */
	memcpy(s->output + n - 4096 - 1, "\xe2\x9c\x93", 3);
	s->output[n] = '\0';
	char *xml = report_junit_string(r);
	char *tc = testcase_of(xml, "copy snapshot");
	assert_non_null(strstr(tc, "THE-END"));
	assert_null(strstr(tc, "HHH"));
	assert_non_null(strstr(tc, "output shortened"));
	assert_true(strlen(tc) < 4096 + 1024);
	free(tc);
	validate(xml, "tail");
	free(xml);
	run_rec_free(r);
}

/*
 * How RTO and RPO become testcases: declared or not, met, missed, unmeasured.
 * {A} and {T} in the expected text stand for the achieved and target durations
 * as duration_format writes them.
 */
static void test_junit_objectives(void **state)
{
	(void)state;
	static const struct {
		enum status run_status;
		double rto_t, rto_a;
		int rto_met;
		double rpo_t, rpo_a;
		int rpo_met;
		const char *rpo_status;
		const char *rto_want, *rpo_want;	/* a substring of each testcase */
		int failures;
	} cases[] = {
		{ ST_SUCCEEDED, 900, 100, 1, 3600, 60, 1, "met",
		  "RTO met: achieved {A} vs target {T}", "RPO met: achieved {A} vs target {T}", 0 },
		{ ST_SUCCEEDED, 900, 1000, 0, 3600, 60, 1, "met",
		  "<failure type=\"objective\" message=\"RTO missed: achieved {A} vs target "
		  "{T}\"/>",
		  "<system-out>RPO met", 1 },
		{ ST_SUCCEEDED, 900, 100, 1, 3600, NAN, -1, "unmeasured", "RTO met",
		  "<failure type=\"objective\" message=\"RPO unmeasured: no recovery point was "
		  "reported; achieved none vs target {T}\"/>", 1 },
		{ ST_SUCCEEDED, 900, 100, 1, 3600, 7200, 0, "missed", "RTO met",
		  "message=\"RPO missed: achieved {A} vs target {T}\"", 1 },
		{ ST_SUCCEEDED, NAN, 100, -1, NAN, NAN, -1, "none",
		  "<system-out>no RTO declared; achieved {A}</system-out>",
		  "<system-out>no RPO declared</system-out>", 0 },
		{ ST_SUCCEEDED, NAN, NAN, -1, NAN, NAN, -1, NULL,
		  "<system-out>no RTO declared</system-out>",
		  "<system-out>no RPO declared</system-out>", 0 },
		{ ST_FAILED, 900, NAN, 0, 3600, NAN, -1, "unmeasured",
		  "message=\"RTO missed: service not restored; achieved none vs target {T}\"",
		  "RPO unmeasured", 2 },
		{ ST_FAILED, 900, NAN, -1, NAN, NAN, -1, "none",
		  "message=\"RTO not measured: service not restored; achieved none vs target {T}\"",
		  "no RPO declared", 1 },
		{ ST_RUNNING, 900, NAN, -1, 3600, NAN, -1, NULL,
		  "<skipped message=\"run still in progress; target {T}\"/>",
		  "<skipped message=\"run still in progress; target {T}\"/>", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_rec r;
		run_rec_init(&r);
		r.id = xstrdup("id");
		r.runbook = xstrdup("rb");
		r.status = cases[i].run_status;
		r.rto_target_s = cases[i].rto_t;
		r.rto_achieved_s = cases[i].rto_a;
		r.rto_met = cases[i].rto_met;
		r.rpo_target_s = cases[i].rpo_t;
		r.rpo_achieved_s = cases[i].rpo_a;
		r.rpo_met = cases[i].rpo_met;
		r.rpo_status = xstrdup(cases[i].rpo_status);
		char *xml = report_junit_string(&r);
		char *rto = testcase_of(xml, "RTO"), *rpo = testcase_of(xml, "RPO");
		char *rto_want = expand(cases[i].rto_want, cases[i].rto_a, cases[i].rto_t);
		char *rpo_want = expand(cases[i].rpo_want, cases[i].rpo_a, cases[i].rpo_t);
		if (!strstr(rto, rto_want))
			fail_msg("case %zu: RTO lacks '%s':\n%s", i, rto_want, rto);
		if (!strstr(rpo, rpo_want))
			fail_msg("case %zu: RPO lacks '%s':\n%s", i, rpo_want, rpo);
		free(rto_want);
		free(rpo_want);
		assert_non_null(strstr(rto, "classname=\"rb\""));
		char *want = xasprintf("tests=\"2\" failures=\"%d\"", cases[i].failures);
		if (!strstr(xml, want))
			fail_msg("case %zu: want %s in\n%s", i, want, xml);
		free(want);
		char name[32];
		snprintf(name, sizeof(name), "objectives-%zu", i);
		validate(xml, name);
		free(rto);
		free(rpo);
		free(xml);
		run_rec_release(&r);
	}
}

static void test_junit_minimal(void **state)
{
	(void)state;
	struct run_rec r;
	run_rec_init(&r);	/* nothing known: no name, no times */
	struct phase_rec ph;
	phase_rec_init(&ph);
	struct step_rec st;
	step_rec_init(&st);
	st.status = ST_INTERRUPTED;
	ph.steps = &st;
	ph.nsteps = 1;
	r.phases = &ph;
	r.nphases = 1;
	char *xml = report_junit_string(&r);
	/* no times known: no time attribute rather than a made-up one */
	assert_non_null(strstr(xml, "<testsuite name=\"lifeboat\" tests=\"3\" failures=\"0\" "
				    "errors=\"1\" skipped=\"0\">"));
	assert_non_null(strstr(xml, "<error type=\"interrupted\" message=\"interrupted\"/>"));
	validate(xml, "minimal");
	free(xml);
}

static void test_write_file(void **state)
{
	(void)state;
	char *path = xasprintf("%s/deep/er/report.json", tmpdir);
	char *err = (char *)"untouched";
	assert_int_equal(report_write_file(path, "{\"a\": 1}\n", &err), 0);
	assert_null(err);
	size_t len;
	char *got = read_file(path, &len);
	assert_non_null(got);
	assert_string_equal(got, "{\"a\": 1}\n");
	free(got);
	/* replaced whole, and no temporary file left beside it */
	assert_int_equal(report_write_file(path, "second", &err), 0);
	got = read_file(path, &len);
	assert_string_equal(got, "second");
	free(got);
	char *dir = xasprintf("%s/deep/er", tmpdir);
	char *cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);

	/* a folder that cannot exist: the message names the file and why */
	char *bad = xasprintf("%s/sub/x.xml", path);
	assert_int_equal(report_write_file(bad, "x", &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, strerror(ENOTDIR)));
	free(err);
	free(bad);
	/* a folder where the file should go: rename fails, the temporary file goes */
	bad = xasprintf("%s/deep", tmpdir);
	assert_int_equal(report_write_file(bad, "x", &err), -1);
	assert_non_null(strstr(err, bad));
	free(err);
	assert_int_equal(report_write_file(bad, "x", NULL), -1);
	cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 1", bad);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(bad);
	free(path);
}

/* ---- Prometheus ---- */

/* Every sample line is name{labels} value; comments are HELP or TYPE. */
static void prom_lines_ok(const char *text)
{
	const char *line = text;
	while (*line) {
		const char *nl = strchr(line, '\n');
		if (!nl)
			fail_msg("the last line has no newline:\n%s", text);
		char *l = xstrndup(line, (size_t)(nl - line));
		if (!strncmp(l, "# HELP lifeboat_", 16) || !strncmp(l, "# TYPE lifeboat_", 16)) {
			if (l[2] == 'T' && !strstr(l, " gauge"))
				fail_msg("not a gauge: %s", l);
		} else {
			char *brace = strchr(l, '{'), *close = strrchr(l, '}');
			if (strncmp(l, "lifeboat_", 9) || !brace || !close || close[1] != ' ')
				fail_msg("bad sample line: '%s'", l);
			char *end;
			strtod(close + 2, &end);
			if (end == close + 2 || *end)
				fail_msg("bad value in '%s'", l);
			for (char *c = l; c < brace; c++)
				if (!(*c == '_' || (*c >= 'a' && *c <= 'z')))
					fail_msg("bad metric name in '%s'", l);
		}
		free(l);
		line = nl + 1;
	}
}

static void test_prom(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	char *text = report_prom_string(r);
	prom_lines_ok(text);
	static const char *const want[] = {
		"# TYPE lifeboat_rto_seconds gauge\n",
		"lifeboat_rto_seconds{runbook=\"feature-store\",env=\"staging\"} 50.001\n",
		"lifeboat_rto_target_seconds{runbook=\"feature-store\",env=\"staging\"} 900\n",
		"lifeboat_rpo_seconds{runbook=\"feature-store\",env=\"staging\"} 4000.123\n",
		"lifeboat_rpo_target_seconds{runbook=\"feature-store\",env=\"staging\"} 3600\n",
		"lifeboat_run_success{runbook=\"feature-store\",env=\"staging\"} 0\n",
		"lifeboat_run_timestamp_seconds{runbook=\"feature-store\",env=\"staging\"} 1763776442.623\n",
		"lifeboat_phase_duration_seconds{runbook=\"feature-store\",env=\"staging\",phase=\"break the store\"} 0.1\n",
		"lifeboat_phase_duration_seconds{runbook=\"feature-store\",env=\"staging\",phase=\"restore\"} 50.001\n",
		"lifeboat_phase_budget_seconds{runbook=\"feature-store\",env=\"staging\",phase=\"restore\"} 300\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(text, want[i]))
			fail_msg("missing '%s' in\n%s", want[i], text);
	/* one HELP and one TYPE per family */
	assert_int_equal(count(text, "# TYPE lifeboat_phase_duration_seconds "), 1);
	assert_int_equal(count(text, "# HELP "), count(text, "# TYPE "));
	free(text);

	/* labels escaped; absent values left out; no env: empty label */
	free(r->runbook);
	r->runbook = xstrdup("a\"b\\c\nd \xff");
	free(r->env);
	r->env = NULL;
	r->rpo_target_s = NAN;
	r->rpo_achieved_s = NAN;
	r->status = ST_SUCCEEDED;
	text = report_prom_string(r);
	prom_lines_ok(text);
	assert_non_null(strstr(text, "lifeboat_run_success{runbook=\"a\\\"b\\\\c\\nd \xef\xbf\xbd\",env=\"\"} 1\n"));
	assert_null(strstr(text, "lifeboat_rpo_seconds"));
	assert_null(strstr(text, "lifeboat_rpo_target_seconds"));
	free(text);

	/* a run in progress: no success sample yet */
	r->status = ST_RUNNING;
	r->rto_achieved_s = NAN;
	text = report_prom_string(r);
	prom_lines_ok(text);
	assert_null(strstr(text, "lifeboat_run_success"));
	assert_null(strstr(text, "lifeboat_rto_seconds{"));
	assert_non_null(strstr(text, "lifeboat_rto_target_seconds{"));
	free(text);
	run_rec_free(r);
}

/* ---- Markdown ---- */

static void test_markdown(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	struct step_rec *s = &r->phases[1].steps[1];
	free(s->output);
	s->output = xstrdup("line 1\n```\nnot the end of the block\n\x1b[31mred\x1b[0m\n");
	free(r->phases[1].name);
	r->phases[1].name = xstrdup("re|store <b>");
	double rtos[] = { 40, 45, 50.001 };
	int64_t at[] = { T0 - 2000000, T0 - 1000000, T0 };
	struct report_trend tr = { rtos, at, 3, 900, { TS_NONE, TS_NONE, TS_NONE } };
	char *md = report_markdown_string(r, &tr);

	static const char head[] = "# feature-store \xe2\x80\x94 drill failed, RPO missed\n";
	assert_true(!strncmp(md, head, sizeof(head) - 1));
	assert_non_null(strstr(md, "| RTO (recovery time) | 50s | 15m00s | \xe2\x9c\x85 met |"));
	assert_non_null(strstr(md, "| RPO (recovery point) | 1h06m40s | 1h00m00s | \xe2\x9d\x8c **MISSED** |"));
	assert_non_null(strstr(md, "RPO MISSED: achieved 1h06m40s vs target 1h00m00s"));
	/* a pipe would end the table cell, a tag would render */
	assert_non_null(strstr(md, "| re\\|store &lt;b&gt; | data-eng |"));
	assert_null(strstr(md, "| re|store"));
	assert_null(strstr(md, "<b> |"));
	/* the output's own ``` cannot close the block: the fence is longer */
	assert_non_null(strstr(md, "````text\nline 1\n```\nnot the end of the block\nred\n````\n"));
	assert_non_null(strstr(md, "**bob**: paged the data team"));
	assert_non_null(strstr(md, "the last 3 achieved RTOs"));
	assert_non_null(strstr(md, "## Timeline\n\n```text\n"));
	/* the verdicts, phases and steps tables */
	assert_int_equal(count(md, "| ---: | --- |\n"), 3);
	assert_non_null(strstr(md, "| \xe2\x86\xba rollback: put the store aside |"));
	free(md);

	/* no trend, nothing run */
	struct run_rec empty;
	run_rec_init(&empty);
	empty.id = xstrdup("x");
	empty.status = ST_RUNNING;
	md = report_markdown_string(&empty, NULL);
	assert_non_null(strstr(md, "No phase has run."));
	assert_non_null(strstr(md, "No achieved RTO in the history yet."));
	free(md);
	run_rec_release(&empty);
	run_rec_free(r);
}

/* ---- HTML ---- */

/* Well-formed XML, as xmllint reads it: the page is XHTML-compatible. */
static void well_formed(const char *html, const char *name)
{
	char *path = xasprintf("%s/html/%s.html", tmpdir, name);
	char *log = xasprintf("%s/html/%s.log", tmpdir, name);
	char *err = NULL;
	if (report_write_file(path, html, &err))
		fail_msg("%s", err);
	char *cmd = xasprintf("xmllint --noout '%s' >'%s' 2>&1", path, log);
	if (system(cmd) != 0) {
		char *out = read_file(log, NULL);
		fail_msg("not well-formed (%s):\n%s", path, out ? out : "");
	}
	free(cmd);
	free(log);
	free(path);
}

static void test_html(void **state)
{
	(void)state;
	struct run_rec *r = full_run();
	free(r->phases[1].name);
	r->phases[1].name = xstrdup("re<store> & \"more\"");
	struct step_rec *s = &r->phases[1].steps[1];
	free(s->output);
	s->output = xstrdup("<script>alert(1)</script>\n\x1b[31mred\x1b[0m ]]> \x01 end\n");
	double rtos[] = { 40, 45, 750, 50.001 };
	int64_t at[] = { T0 - 3000000, T0 - 2000000, T0 - 1000000, T0 };
	struct report_trend tr = { rtos, at, 4, 900, { TS_NONE, TS_NONE, TS_NONE } };
	char *html = report_html_string(r, &tr);
	well_formed(html, "full");

	assert_true(!strncmp(html, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"", 56));
	/* self-contained: no script, nothing fetched */
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "url(http"));
	assert_int_equal(count(html, "http://") + count(html, "https://"),
			 count(html, "xmlns=\"http://www.w3.org/"));
	assert_non_null(strstr(html, "@media print"));
	/* verdicts up top, as text */
	assert_non_null(strstr(html, "RTO met: achieved 50s vs target 15m00s"));
	assert_non_null(strstr(html, "RPO MISSED: achieved 1h06m40s vs target 1h00m00s"));
	assert_true(strstr(html, "RTO met") < strstr(html, "<svg class=\"gantt\""));
	/* one bar per phase, named, escaped */
	assert_int_equal(count(html, "<rect class=\"phase\""), 2);
	assert_non_null(strstr(html, "data-phase=\"break the store\""));
	assert_non_null(strstr(html, "data-phase=\"re&lt;store&gt; &amp; &quot;more&quot;\""));
	/* budget ghost, the person's wait hatched, t0/t1/deadline */
	assert_int_equal(count(html, "<rect class=\"budget\""), 1);
	assert_true(count(html, "<rect class=\"wait\"") >= 2);	/* phase row and step row */
	assert_non_null(strstr(html, ">t0 incident</text>"));
	assert_non_null(strstr(html, ">t1 restored</text>"));
	assert_non_null(strstr(html, "RTO deadline"));
	/* the steps table, failed output escaped, notes, trend */
	assert_non_null(strstr(html, "<td>auto-confirmed (--yes by alice)</td>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;\nred ]]&gt;  end</pre>"));
	assert_non_null(strstr(html, "paged the data team"));
	assert_int_equal(count(html, "<rect class=\"trend-bar\""), 4);
	assert_non_null(strstr(html, ">target 15m00s</text>"));
	assert_non_null(strstr(html, ">this run</text>"));
	/* 750 of 900 among the last 4: p95 at 83% of the target, at risk */
	assert_non_null(strstr(html, "<p class=\"risk\"><b>RTO at risk:</b>"));
	free(html);

	/* a run that did not get far: no times, no trend, still well-formed */
	struct run_rec bare;
	run_rec_init(&bare);
	bare.id = xstrdup("x");
	bare.status = ST_RUNNING;
	struct phase_rec ph;
	phase_rec_init(&ph);
	ph.name = xstrdup("only");
	bare.phases = &ph;
	bare.nphases = 1;
	html = report_html_string(&bare, NULL);
	well_formed(html, "bare");
	assert_non_null(strstr(html, "No phase has run."));
	assert_non_null(strstr(html, "No achieved RTO in the history yet."));
	free(html);
	bare.phases = NULL;
	bare.nphases = 0;
	free(ph.name);
	run_rec_release(&bare);
	run_rec_free(r);
}

/*
 * The markers' names (t0, t1, the RTO deadline) never overprint, however
 * close their lines: each <text class="mk"> is read back, its width taken
 * as the page estimates it (6.4 units a character), and those in one row
 * compared; each lies inside the chart's view.
 */
static void marker_names_apart(const char *html, int want)
{
	struct {
		double from, to;
		int y;
	} box[8];
	int n = 0, top, width;
	const char *svg = strstr(html, "<svg class=\"gantt\"");
	assert_non_null(svg);
	assert_int_equal(sscanf(strstr(svg, "viewBox=\""), "viewBox=\"0 %d %d", &top, &width), 2);
	for (const char *p = html; (p = strstr(p, "<text class=\"mk\"")) && n < 8; p++) {
		double x;
		char anchor[8];
		assert_int_equal(sscanf(p, "<text class=\"mk\" x=\"%lf\" y=\"%d\" text-anchor=\"%7[a-z]\"",
					&x, &box[n].y, anchor), 3);
		const char *t = strchr(p, '>') + 1, *e = strstr(t, "</text>");
		size_t chars = 0;
		for (const char *c = t; c < e; c++)
			chars += ((unsigned char)*c & 0xc0) != 0x80;
		double w = 6.4 * (double)chars;
		box[n].from = strcmp(anchor, "end") ? x : x - w;
		box[n].to = box[n].from + w;
		assert_true(box[n].from >= 0 && box[n].to <= width);	/* inside the view */
		assert_true(box[n].y - 10 >= top);
		n++;
	}
	assert_int_equal(n, want);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (box[i].y == box[j].y && box[i].to > box[j].from && box[j].to > box[i].from)
				fail_msg("marker names %d [%.1f, %.1f] and %d [%.1f, %.1f] overlap in row y=%d",
					 j, box[j].from, box[j].to, i, box[i].from, box[i].to, box[i].y);
}

static void test_html_markers(void **state)
{
	(void)state;
	static const struct {
		int64_t incident, restored;	/* after T0 */
		double rto_s;
		int names;
	} cases[] = {
		{ 100, 2100, 1, 3 },		/* t0, the deadline and t1 within 25 of 724 units */
		{ 100, 100, 0, 3 },		/* all three on one line */
		{ 100, 50101, 900, 3 },		/* the deadline named at the right edge */
		{ 60000, 62000, 1, 3 },		/* all three at the right end */
		{ 100, 1100, NAN, 2 },		/* no target: no deadline */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_rec *r = full_run();
		r->incident_ms = T0 + cases[i].incident;
		r->restored_ms = T0 + cases[i].restored;
		r->rto_target_s = cases[i].rto_s;
		char *html = report_html_string(r, NULL);
		marker_names_apart(html, cases[i].names);
		free(html);
		run_rec_free(r);
	}
}

static void test_formats(void **state)
{
	(void)state;
	static const struct {
		const char *path, *format, *ext;
	} cases[] = {
		{ "r.json", "json", "json" },	{ "a/b.c/r.xml", "junit", "xml" },
		{ "R.MD", "md", "md" },		{ "x.markdown", "md", "md" },
		{ "x.html", "html", "html" },	{ "x.htm", "html", "html" },
		{ "node.prom", "prom", "prom" },	{ "x.txt", NULL, NULL },
		{ "noext", NULL, NULL },	{ "dir.json/x", NULL, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *f = report_format_for_path(cases[i].path);
		if (!cases[i].format) {
			assert_null(f);
			continue;
		}
		assert_non_null(f);
		assert_string_equal(f, cases[i].format);
		assert_string_equal(report_format_ext(f), cases[i].ext);
	}
	assert_string_equal(report_format_name("markdown"), "md");
	assert_string_equal(report_format_name("prometheus"), "prom");
	assert_null(report_format_name("pdf"));
	struct run_rec *r = full_run();
	assert_null(report_render(r, "pdf", NULL));
	static const char *const names[] = { "json", "junit", "md", "html", "prom" };
	static const char *const starts[] = { "{\n", "<?xml", "# ", "<!DOCTYPE html>", "# HELP" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *text = report_render(r, names[i], NULL);
		assert_non_null(text);
		if (strncmp(text, starts[i], strlen(starts[i])))
			fail_msg("%s starts with '%.20s'", names[i], text);
		free(text);
	}
	run_rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_full),
		cmocka_unit_test(test_json_absent),
		cmocka_unit_test(test_junit_structure),
		cmocka_unit_test(test_junit_escaping),
		cmocka_unit_test(test_junit_output_tail),
		cmocka_unit_test(test_junit_objectives),
		cmocka_unit_test(test_junit_minimal),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_markers),
		cmocka_unit_test(test_formats),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
