/*
 * The config file on real files in a temporary folder: a full config comes
 * back field for field, relative paths resolve against the file's folder
 * (whatever the working directory), every kind of mistake is reported with
 * file:line:column and the key, and the role and permission helpers answer
 * as SPEC 4 says.
 */
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

struct fixture {
	char dir[64];		/* the temporary folder, as created */
	char *real;		/* its realpath: where relative paths must land */
	char *path;		/* dir/lifeboat.yaml */
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/lb-config-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->real = realpath(f->dir, NULL);
	f->path = xasprintf("%s/lifeboat.yaml", f->dir);
	char *sub = xasprintf("%s/runbooks", f->dir);
	mkdir(sub, 0700);
	free(sub);
	char *rb = xasprintf("%s/runbooks/feature-store.lua", f->dir);
	write_file(rb, "return runbook { name = 'x' }\n", 30);
	free(rb);
	rb = xasprintf("%s/rb.lua", f->dir);
	write_file(rb, "return runbook { name = 'y' }\n", 30);
	free(rb);
	setenv("LB_TEST_LONG", "long-secret-value", 1);
	setenv("LB_TEST_SHORT", "abc12", 1);
	unsetenv("LB_TEST_UNSET");
	unsetenv("TZDIR");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f->real);
	free(f->path);
	free(f);
	return 0;
}

static void write_config(const struct fixture *f, const char *text)
{
	write_file(f->path, text, strlen(text));
}

static void test_full_config(void **state)
{
	struct fixture *f = *state;
	char *text = xasprintf(
		"# the team's drills\n"
		"db: .lifeboat/history.db\n"
		"reports_dir: out/reports\n"
		"lua_memory: 64MiB\n"
		"sync: full\n"
		"roles:\n"
		"  commander: { members: [alice] }\n"
		"  data-eng:  { members: [bob, carol], notify: \"http://127.0.0.1:9000/hook\" }\n"
		"  sre:\n"
		"    members:\n"
		"      - dave\n"
		"      - alice\n"
		"  observer: {}\n"
		"environments:\n"
		"  staging: { rto: 30m, rpo: 2h, params: { backups: /srv/backups, port: 8080 } }\n"
		"  prod:    { rto: 15m, rpo: 1h }\n"
		"  dev:\n"
		"permissions:\n"
		"  prod: { run: [commander, sre] }        # roles whose members may run here\n"
		"  staging: { run: [data-eng] }\n"
		"notify:\n"
		"  webhook: \"https://chat.example.com/hooks/abc\"\n"
		"  events: [run_started, step_failed, run_finished]\n"
		"schedules:\n"
		"  - { runbook: runbooks/feature-store.lua, cron: \"0 3 * * 1\", env: staging, yes: false }\n"
		"  - runbook: %s/rb.lua\n"
		"    cron: \"*/30 9-17 * * mon-fri\"\n"
		"    yes: true\n"
		"timezone: Europe/Berlin\n"
		"secrets: [LB_TEST_LONG, LB_TEST_UNSET]\n",
		f->dir);
	write_config(f, text);
	free(text);

	struct config *cfg;
	char *err = NULL;
	if (config_load(f->path, &cfg, &err))
		fail_msg("%s", err);
	assert_null(err);
	char *want = xasprintf("%s/.lifeboat/history.db", f->real);
	assert_string_equal(cfg->db, want);
	free(want);
	want = xasprintf("%s/out/reports", f->real);
	assert_string_equal(cfg->reports_dir, want);
	free(want);
	assert_string_equal(cfg->dir, f->real);
	assert_string_equal(cfg->path, f->path);
	assert_int_equal(cfg->lua_memory, (size_t)64 << 20);
	assert_int_equal(cfg->sync, CONFIG_SYNC_FULL);

	assert_int_equal(cfg->nroles, 4);
	const struct config_role *r = config_role(cfg, "commander");
	assert_non_null(r);
	assert_int_equal(r->nmembers, 1);
	assert_string_equal(r->members[0], "alice");
	assert_null(r->notify);
	assert_int_equal(r->line, 7);
	r = config_role(cfg, "data-eng");
	assert_int_equal(r->nmembers, 2);
	assert_string_equal(r->members[1], "carol");
	assert_string_equal(r->notify, "http://127.0.0.1:9000/hook");
	r = config_role(cfg, "sre");
	assert_int_equal(r->nmembers, 2);
	assert_string_equal(r->members[0], "dave");
	assert_string_equal(r->members[1], "alice");
	r = config_role(cfg, "observer");
	assert_int_equal(r->nmembers, 0);
	assert_null(config_role(cfg, "nobody"));

	assert_int_equal(cfg->nenvs, 3);
	const struct config_env *e = config_env(cfg, "staging");
	assert_true(e->rto_s == 1800 && e->rpo_s == 7200);
	assert_int_equal(e->nparams, 2);
	assert_string_equal(e->params[0].name, "backups");
	assert_string_equal(e->params[0].value, "/srv/backups");
	assert_string_equal(e->params[1].name, "port");
	assert_string_equal(e->params[1].value, "8080");
	assert_true(e->restricted);
	assert_int_equal(e->nrun_roles, 1);
	e = config_env(cfg, "prod");
	assert_true(e->rto_s == 900 && e->rpo_s == 3600);
	assert_true(e->restricted);
	assert_int_equal(e->nrun_roles, 2);
	assert_string_equal(e->run_roles[1], "sre");
	e = config_env(cfg, "dev");
	assert_true(isnan(e->rto_s) && isnan(e->rpo_s));
	assert_false(e->restricted);
	assert_int_equal(e->nparams, 0);

	assert_string_equal(cfg->webhook, "https://chat.example.com/hooks/abc");
	assert_true(config_wants_event(cfg, CONFIG_EVENT_RUN_STARTED));
	assert_true(config_wants_event(cfg, CONFIG_EVENT_STEP_FAILED));
	assert_true(config_wants_event(cfg, CONFIG_EVENT_RUN_FINISHED));
	assert_false(config_wants_event(cfg, CONFIG_EVENT_PHASE_STARTED));
	assert_false(config_wants_event(cfg, CONFIG_EVENT_RTO_AT_RISK));

	assert_int_equal(cfg->nschedules, 2);
	const struct config_schedule *s = &cfg->schedules[0];
	want = xasprintf("%s/runbooks/feature-store.lua", f->real);
	assert_string_equal(s->runbook, want);
	free(want);
	assert_string_equal(s->cron_expr, "0 3 * * 1");
	assert_string_equal(s->env, "staging");
	assert_int_equal(s->yes, 0);
	assert_int_equal(s->line, 25);
	assert_non_null(strstr(s->key, "feature-store.lua|0 3 * * 1|staging"));
	struct tm monday = { .tm_year = 125, .tm_mon = 5, .tm_mday = 2, .tm_hour = 3, .tm_wday = 1 };
	assert_true(cron_matches(&s->cron, &monday));
	s = &cfg->schedules[1];
	want = xasprintf("%s/rb.lua", f->dir);	/* absolute paths stay as written */
	assert_string_equal(s->runbook, want);
	free(want);
	assert_null(s->env);
	assert_int_equal(s->yes, 1);
	assert_string_not_equal(cfg->schedules[0].key, s->key);

	assert_string_equal(cfg->timezone, "Europe/Berlin");
	assert_int_equal(cfg->nsecrets, 2);
	assert_string_equal(config_secret(cfg, "LB_TEST_LONG"), "long-secret-value");
	assert_null(config_secret(cfg, "LB_TEST_UNSET"));
	assert_string_equal(cfg->secrets[1].name, "LB_TEST_UNSET");

	/* Who may run, who may confirm. */
	char *why = NULL;
	assert_int_equal(config_may_run(cfg, "prod", "alice", &why), 1);
	assert_int_equal(config_may_run(cfg, "prod", "dave", &why), 1);
	assert_int_equal(config_may_run(cfg, "prod", "bob", &why), 0);
	assert_non_null(why);
	assert_non_null(strstr(why, "'bob' may not run in environment 'prod'"));
	assert_non_null(strstr(why, "commander, sre (alice, dave)"));
	free(why);
	assert_int_equal(config_may_run(cfg, "staging", "carol", &why), 1);
	assert_int_equal(config_may_run(cfg, "staging", "alice", &why), 0);
	free(why);
	assert_int_equal(config_may_run(cfg, "dev", "anyone", &why), 1);
	assert_int_equal(config_may_run(cfg, NULL, "anyone", &why), 1);
	assert_int_equal(config_may_run(cfg, "nowhere", "anyone", &why), 1);
	assert_int_equal(config_may_run(NULL, "prod", "anyone", &why), 1);
	assert_null(why);
	assert_true(config_role_has_member(cfg, "sre", "alice"));
	assert_false(config_role_has_member(cfg, "sre", "bob"));
	assert_false(config_role_has_member(cfg, "nobody", "bob"));
	assert_false(config_role_has_member(cfg, "sre", NULL));
	assert_int_equal(config_may_confirm(cfg, "data-eng", "bob", &why), 1);
	assert_int_equal(config_may_confirm(cfg, "data-eng", "alice", &why), 0);
	assert_non_null(strstr(why, "'alice' may not confirm a step of role 'data-eng': its members are bob, carol"));
	free(why);
	assert_int_equal(config_may_confirm(cfg, "observer", "anyone", &why), 1);
	assert_int_equal(config_may_confirm(NULL, "sre", "anyone", &why), 1);

	const char *ok_roles[] = { "commander", "sre" };
	assert_int_equal(config_check_roles(cfg, ok_roles, 2, &err), 0);
	assert_null(err);
	const char *bad_roles[] = { "commander", "sres", "zzz-unrelated" };
	assert_int_equal(config_check_roles(cfg, bad_roles, 3, &err), -1);
	assert_non_null(strstr(err, "role 'sres' is not defined in"));
	assert_non_null(strstr(err, "lifeboat.yaml; add it under roles (did you mean 'sre'?)"));
	assert_non_null(strstr(err, "role 'zzz-unrelated' is not defined"));
	free(err);
	config_free(cfg);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = { "", "# nothing yet\n", "---\n", "~\n" };
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		write_config(f, texts[i]);
		struct config *cfg;
		char *err = NULL;
		if (config_load(f->path, &cfg, &err))
			fail_msg("'%s': %s", texts[i], err);
		assert_null(cfg->db);
		assert_null(cfg->reports_dir);
		assert_int_equal(cfg->lua_memory, CONFIG_LUA_MEMORY_DEFAULT);
		assert_int_equal(cfg->sync, CONFIG_SYNC_NORMAL);
		assert_string_equal(cfg->timezone, "UTC");
		assert_int_equal(cfg->events, CONFIG_EVENTS_ALL);
		assert_int_equal(cfg->nroles + cfg->nenvs + cfg->nschedules + cfg->nsecrets, 0);
		assert_null(cfg->webhook);
		config_free(cfg);
	}
	/* Sizes and booleans in their other spellings. */
	write_config(f, "lua_memory: 1GiB\nsync: normal\nnotify: { events: [] }\n");
	struct config *cfg;
	char *err = NULL;
	assert_int_equal(config_load(f->path, &cfg, &err), 0);
	assert_int_equal(cfg->lua_memory, (size_t)1 << 30);
	assert_int_equal(cfg->events, 0);
	config_free(cfg);
	write_config(f, "lua_memory: 2097152\n");
	assert_int_equal(config_load(f->path, &cfg, &err), 0);
	assert_int_equal(cfg->lua_memory, (size_t)2 << 20);
	config_free(cfg);
	write_config(f, "lua_memory: 4096 KiB\n");
	assert_int_equal(config_load(f->path, &cfg, &err), 0);
	assert_int_equal(cfg->lua_memory, (size_t)4 << 20);
	config_free(cfg);
}

/* Relative paths follow the file, not the working directory; config_find follows SPEC 3. */
static void test_paths(void **state)
{
	struct fixture *f = *state;
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	write_config(f, "db: ./state/../h.db\nreports_dir: /var/tmp/lb-reports\n"
			"schedules: [{ runbook: ./runbooks/feature-store.lua, cron: '@daily' }]\n");
	char *sub = xasprintf("%s/elsewhere", f->dir);
	mkdir(sub, 0700);

	assert_int_equal(chdir(f->dir), 0);
	char *found = NULL;
	assert_int_equal(config_find(NULL, &found), 1);
	assert_string_equal(found, "lifeboat.yaml");
	struct config *cfg;
	char *err = NULL;
	if (config_load(found, &cfg, &err))
		fail_msg("%s", err);
	free(found);
	assert_string_equal(cfg->dir, f->real);
	char *want = xasprintf("%s/state/../h.db", f->real);
	assert_string_equal(cfg->db, want);
	free(want);
	assert_string_equal(cfg->reports_dir, "/var/tmp/lb-reports");
	want = xasprintf("%s/runbooks/feature-store.lua", f->real);
	assert_string_equal(cfg->schedules[0].runbook, want);
	free(want);
	config_free(cfg);

	/* From a folder below, without a lifeboat.yaml: none, unless named. */
	assert_int_equal(chdir(sub), 0);
	assert_int_equal(config_find(NULL, &found), 0);
	assert_null(found);
	assert_int_equal(config_find("../lifeboat.yaml", &found), 1);
	assert_string_equal(found, "../lifeboat.yaml");
	if (config_load(found, &cfg, &err))
		fail_msg("%s", err);
	assert_string_equal(cfg->dir, f->real);
	want = xasprintf("%s/runbooks/feature-store.lua", f->real);
	assert_string_equal(cfg->schedules[0].runbook, want);
	free(want);
	config_free(cfg);
	free(found);

	/* A runbook path relative to the working directory, not the file, is not found. */
	write_config(f, "schedules: [{ runbook: ../rb.lua, cron: '@daily' }]\n");
	assert_int_equal(config_load("../lifeboat.yaml", &cfg, &err), -1);
	assert_non_null(strstr(err, "../lifeboat.yaml:1:24: schedules[0].runbook: runbook '../rb.lua' does not exist"));
	free(err);

	assert_int_equal(chdir(cwd), 0);
	free(sub);

	/* A missing file. */
	char *missing = xasprintf("%s/nope.yaml", f->dir);
	assert_int_equal(config_load(missing, &cfg, &err), -1);
	assert_null(cfg);
	assert_non_null(strstr(err, "cannot read config '"));
	assert_non_null(strstr(err, "nope.yaml': No such file or directory"));
	free(err);
	free(missing);
}

struct error_case {
	const char *yaml;
	const char *where;	/* "LINE:COLUMN" */
	const char *key;	/* "" when the message names none */
	const char *msg;
};

static const struct error_case error_cases[] = {
	{ "db: x.db\nenviroments:\n  prod: {}\n", "2:1", "enviroments", "unknown key; did you mean 'environments'?" },
	{ "foo: 1\n", "1:1", "foo", "unknown key; the keys here are db, reports_dir, lua_memory" },
	{ "roles:\n  data-eng: { members: [bob], notfiy: \"http://x/\" }\n", "2:31", "roles.data-eng.notfiy",
	  "unknown key; did you mean 'notify'?" },
	{ "environments:\n  prod:\n    rto: 15x\n", "3:10", "environments.prod.rto",
	  "'15x' is not a duration; use 500ms, 90s, 15m" },
	{ "environments:\n  prod: { rpo: [1h] }\n", "2:16", "environments.prod.rpo",
	  "expected a duration such as 15m, found a list" },
	{ "roles:\n  commander: { members: [alice] }\nenvironments:\n  prod: {}\npermissions:\n"
	  "  prod: { run: [comander] }\n", "6:17", "permissions.prod.run[0]",
	  "role 'comander' is not defined under roles; define it there or fix the name (did you mean 'commander'?)" },
	{ "roles:\n  sre: {}\npermissions:\n  prod: { run: [sre] }\n", "4:3", "permissions.prod",
	  "environment 'prod' is not defined under environments" },
	{ "roles:\n  sre: {}\nenvironments: { prod: {} }\npermissions:\n  prod:\n    run:\n", "6:9",
	  "permissions.prod.run", "has no roles; list the roles whose members may run here, or write run: [] to let nobody" },
	{ "environments: { prod: {} }\npermissions:\n  prod: { deny: [x] }\n", "3:11", "permissions.prod.deny",
	  "unknown key" },
	{ "schedules:\n  - { runbook: rb.lua, cron: \"0 3 * * mon-sux\" }\n", "2:30", "schedules[0].cron",
	  "invalid cron expression '0 3 * * mon-sux': day-of-week value 'sux' is not a number 0-7 or a name sun-sat" },
	{ "schedules:\n  - { runbook: rb.lua, cron: 5 }\n", "2:30", "schedules[0].cron",
	  "invalid cron expression '5': expected 5 fields" },
	{ "timezone: Europe/Berln\n", "1:11", "timezone", "unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?" },
	{ "timezone: europe/berlin\n", "1:11", "timezone", "did you mean 'Europe/Berlin'?" },
	{ "timezone: Mars/Olympus_Mons\n", "1:11", "timezone",
	  "unknown time zone 'Mars/Olympus_Mons'; use an IANA name such as UTC or Europe/Berlin" },
	{ "timezone: ../../etc/passwd\n", "1:11", "timezone", "unknown time zone" },
	{ "schedules:\n  - runbook: runbooks/missing.lua\n    cron: \"0 3 * * 1\"\n", "2:14", "schedules[0].runbook",
	  "runbook 'runbooks/missing.lua' does not exist; fix the path (relative paths start from the config file's folder" },
	{ "schedules:\n  - runbook: runbooks\n    cron: \"0 3 * * 1\"\n", "2:14", "schedules[0].runbook",
	  "runbook 'runbooks' is not a file" },
	{ "schedules:\n  - runbook: rb.lua\n", "2:5", "schedules[0]", "needs cron: \"MIN HOUR DAY MONTH WEEKDAY\"" },
	{ "schedules:\n  - { runbok: rb.lua, cron: \"@daily\" }\n", "2:7", "schedules[0].runbok",
	  "unknown key; did you mean 'runbook'?" },
	{ "schedules:\n  - { runbok: rb.lua, cron: \"@daily\" }\n", "2:5", "schedules[0]", "needs runbook: FILE" },
	{ "environments:\n  staging: {}\nschedules:\n  - { runbook: rb.lua, cron: \"@daily\", env: stagin }\n", "4:45",
	  "schedules[0].env", "environment 'stagin' is not defined under environments; define it there or fix the name "
	  "(did you mean 'staging'?)" },
	{ "schedules:\n  - { runbook: rb.lua, cron: \"@daily\", yes: maybe }\n", "2:45", "schedules[0].yes",
	  "'maybe' is not true or false" },
	{ "schedules: { runbook: rb.lua }\n", "1:12", "schedules", "expected a list of { runbook: FILE" },
	{ "secrets: [LB_TEST_LONG, LB_TEST_SHORT]\n", "1:25", "secrets[1]",
	  "the value of secret 'LB_TEST_SHORT' is shorter than 6 characters; set a longer one" },
	{ "secrets: [DB-PASSWORD]\n", "1:11", "secrets[0]", "'DB-PASSWORD' is not an environment variable name" },
	{ "secrets: [LB_TEST_LONG, LB_TEST_LONG]\n", "1:25", "secrets[1]", "secret 'LB_TEST_LONG' is listed twice" },
	{ "secrets: LB_TEST_LONG\n", "1:10", "secrets", "expected a list of environment variable names" },
	{ "roles: [commander, sre]\n", "1:8", "roles", "expected a map of role names to { members: [...], notify: URL }, "
	  "found a list" },
	{ "roles:\n  sre: { members: alice }\n", "2:19", "roles.sre.members",
	  "expected a list of operator names such as [alice, bob], found a single value" },
	{ "roles:\n  sre: { members: [alice, [bob]] }\n", "2:27", "roles.sre.members[1]",
	  "expected an operator name, found a list" },
	{ "roles:\n  sre: { notify: ftp://x }\n", "2:18", "roles.sre.notify", "'ftp://x' is not an http:// or https:// URL" },
	{ "roles:\n  sre: alice\n", "2:8", "roles.sre", "expected a map such as { members: [alice, bob] }, found a single value" },
	{ "environments:\n  prod: [a]\n", "2:9", "environments.prod", "expected a map such as { rto: 15m, rpo: 1h, params: {...} }, "
	  "found a list" },
	{ "environments:\n  prod:\n    params: { PATH: /bin }\n", "3:15", "environments.prod.params.PATH", "'PATH' is reserved" },
	{ "environments:\n  prod:\n    params: { LIFEBOAT_X: 1 }\n", "3:15", "environments.prod.params.LIFEBOAT_X", "is reserved" },
	{ "environments:\n  prod:\n    params: { 9lives: 1 }\n", "3:15", "environments.prod.params.9lives",
	  "is not a valid param name" },
	{ "environments:\n  prod:\n    params: { store: [a, b] }\n", "3:22", "environments.prod.params.store",
	  "expected a single value (text or number), found a list" },
	{ "lua_memory: 512MB\n", "1:13", "lua_memory", "'512MB' is not a size; sizes use binary units: write 512MiB" },
	{ "lua_memory: lots\n", "1:13", "lua_memory", "use a number of bytes or KiB, MiB, GiB, such as 256MiB" },
	{ "lua_memory: 1KiB\n", "1:13", "lua_memory", "too small for Lua to run; give at least 1MiB" },
	{ "lua_memory: 99999999999999999999999GiB\n", "1:13", "lua_memory", "is not a size" },
	{ "sync: fast\n", "1:7", "sync", "'fast' is not normal or full" },
	{ "sync: ful\n", "1:7", "sync", "(did you mean 'full'?)" },
	{ "notify:\n  events: [run_started, run_start]\n", "2:25", "notify.events[1]",
	  "unknown event 'run_start'; did you mean 'run_started'?" },
	{ "notify:\n  events: [everything]\n", "2:12", "notify.events[0]", "the events are run_started, phase_started" },
	{ "notify:\n  webhook: slack\n", "2:12", "notify.webhook", "'slack' is not an http:// or https:// URL" },
	{ "notify: https://x/hook\n", "1:9", "notify", "expected a map such as { webhook: URL, events: [...] }" },
	{ "db: a.db\ndb: b.db\n", "2:1", "db", "appears twice in the same map; keep one" },
	{ "db: [a, b]\n", "1:5", "db", "expected a path, found a list" },
	{ "db:\n", "1:4", "db", "expected a path, found nothing" },
	{ "db: \"a\\0b\"\n", "1:5", "db", "contains a NUL character" },
	{ "- a\n- b\n", "1:1", "", "expected a map of settings (db, roles, environments, ...), found a list" },
	{ "db: a.db\n---\ndb: b.db\n", "3:1", "", "a second YAML document" },
	{ "roles: {a: [x}\n", "1:14", "",
	  "invalid YAML: did not find expected ',' or ']', while parsing a flow sequence at line 1" },
	{ "roles:\n  sre: {}\n bad: 1\n", "3:2", "",
	  "invalid YAML: did not find expected key, while parsing a block mapping at line 1; check the indentation" },
	{ "db: \"unterminated\n", "2:1", "", "invalid YAML: found unexpected end of stream, while scanning a quoted scalar at line 1" },
	{ "roles: *nowhere\n", "1:8", "", "invalid YAML: found undefined alias" },
	{ "db: a.db\nsync: \xff\n", "2:7", "", "invalid text (invalid leading UTF-8 octet); save the file as UTF-8" },
	{ "? [a]\n: 1\n", "1:3", "", "keys must be plain text names, found a list" },
};

static void test_errors(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		write_config(f, c->yaml);
		static struct config sentinel;
		struct config *cfg = &sentinel;	/* must come back NULL */
		char *err = NULL;
		if (!config_load(f->path, &cfg, &err))
			fail_msg("case %zu (%s) should fail", i, c->yaml);
		assert_null(cfg);
		assert_non_null(err);
		char *prefix = c->key[0] ? xasprintf("%s:%s: %s: ", f->path, c->where, c->key)
					 : xasprintf("%s:%s: ", f->path, c->where);
		if (!strstr(err, prefix) || !strstr(err, c->msg))
			fail_msg("case %zu: got\n%s\nwant \"%s\" and \"%s\"", i, err, prefix, c->msg);
		/* No message ever shows a secret's value. */
		assert_null(strstr(err, "abc12"));
		assert_null(strstr(err, "long-secret-value"));
		free(prefix);
		free(err);
	}
}

/* All problems at once, in file order, though the sections are checked in another order. */
static void test_errors_in_file_order(void **state)
{
	struct fixture *f = *state;
	write_config(f, "timezone: Nowhere/City\nsync: fast\nroles: { sre: { members: alice } }\n"
			"environments: { prod: { rto: soon } }\n");
	struct config *cfg;
	char *err = NULL;
	assert_int_equal(config_load(f->path, &cfg, &err), -1);
	const char *a = strstr(err, ":1:11: timezone: ");
	const char *b = strstr(err, ":2:7: sync: ");
	const char *c = strstr(err, ":3:26: roles.sre.members: ");
	const char *d = strstr(err, ":4:30: environments.prod.rto: ");
	if (!a || !b || !c || !d)
		fail_msg("got\n%s", err);
	assert_true(a < b && b < c && c < d);
	size_t lines = 1;
	for (const char *p = err; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 4);
	free(err);
}

/* A file full of mistakes: the first fifty, then a line saying there are more. */
static void test_too_many_errors(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb;
	strbuf_init(&sb, 0);
	for (int i = 0; i < 80; i++)
		strbuf_addf(&sb, "bogus_%d: 1\n", i);
	write_config(f, sb.buf);
	strbuf_release(&sb);
	struct config *cfg;
	char *err = NULL;
	assert_int_equal(config_load(f->path, &cfg, &err), -1);
	size_t lines = 1;
	for (const char *p = err; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 51);
	assert_non_null(strstr(err, ":1:1: bogus_0: unknown key"));
	assert_non_null(strstr(err, ":50:1: bogus_49: unknown key"));
	assert_null(strstr(err, "bogus_50"));
	assert_non_null(strstr(err, "lifeboat.yaml: too many problems; fix these first"));
	free(err);
}

static void test_events(void **state)
{
	(void)state;
	for (int i = 0; i < CONFIG_EVENT_COUNT; i++)
		assert_int_equal(config_event_parse(config_event_name((enum config_event)i)), i);
	assert_string_equal(config_event_name(CONFIG_EVENT_RTO_AT_RISK), "rto_at_risk");
	assert_string_equal(config_event_name(CONFIG_EVENT_MANUAL_WAITING), "manual_waiting");
	assert_int_equal(config_event_parse("run_start"), -1);
	assert_null(config_event_name(CONFIG_EVENT_COUNT));
	assert_false(config_wants_event(NULL, CONFIG_EVENT_RUN_STARTED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_in_file_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_errors, setup, teardown),
		cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
