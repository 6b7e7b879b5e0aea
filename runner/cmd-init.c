/*
 * `lifeboat init [DIR]`: a starter to copy and adapt: a commented runbook
 * that uses every step kind, a lifeboat.yaml with roles and one
 * environment, the backup the runbook restores, and a CI script. It never
 * overwrites: every file is checked before the first is written, and each
 * is created with O_EXCL, so a refusal leaves nothing half made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

static const char starter_lua[] =
"-- A starter runbook: restore a small web site from its backup and check that it serves again.\n"
"-- Copy it and make it yours. `lifeboat check runbooks/starter.lua` validates it without running\n"
"-- anything; `lifeboat run --yes runbooks/starter.lua` runs it; `lifeboat drill --yes ...` also\n"
"-- runs the fault phase first; `man lifeboat-runbook` tells every key.\n"
"return runbook {\n"
"  name = \"starter\",\n"
"  description = \"Restore the web site from its backup and check that it serves again\",\n"
"  rto = \"5m\",                -- recovery time objective: from the incident to service restored\n"
"  -- rpo = \"1h\",             -- recovery point objective: how old the restored data may be;\n"
"  -- recovery_point = function(ctx) return fs.mtime(ctx.params.backup .. \"/index.html\") end,\n"
"  --                         (with an rpo, say how fresh the restored data is, as above)\n"
"  roles = { \"commander\", \"sre\" },   -- each must be a role in lifeboat.yaml\n"
"  workdir = \"..\",             -- steps run in the project's folder (default: this file's)\n"
"  -- params reach sh steps as environment variables; override with -p port=9000 or --env\n"
"  params = { site = \"site\", backup = \"backup\", port = \"8099\" },\n"
"\n"
"  -- A fault phase runs only in `lifeboat drill`: it breaks what the next phases repair.\n"
"  -- Fault phases come first.\n"
"  phase \"break the site\" { fault = true, role = \"sre\",\n"
"    step \"delete the site\" { sh = 'rm -rf \"$site\"' },\n"
"  },\n"
"\n"
"  phase \"restore\" { role = \"sre\", budget = \"1m\",\n"
"    -- sh: a shell command. Params are in its environment (\"$backup\"), never pasted into it.\n"
"    step \"copy the backup\" {\n"
"      sh = 'mkdir -p \"$site\" && cp \"$backup/index.html\" \"$site/index.html\"',\n"
"      timeout = \"30s\", retries = 1,\n"
"    },\n"
"    -- run: Lua in lifeboat, with the runbook API (fs, sql, http, json, log, ...).\n"
"    step \"check the copy\" { run = function(ctx)\n"
"      local text = assert(fs.read(ctx.params.site .. \"/index.html\"))\n"
"      assert(text:find(\"hello\", 1, true), \"the restored page lacks its text\")\n"
"      log(\"restored %d bytes\", #text)\n"
"    end },\n"
"    -- rollback: runs when a step of this phase finally fails; the run then fails.\n"
"    rollback = { step \"put the bad copy aside\" { sh = 'rm -rf \"$site.bad\"; mv \"$site\" \"$site.bad\"' } },\n"
"  },\n"
"\n"
"  -- The end of the phase that restores service is when the RTO clock stops.\n"
"  phase \"serve\" { role = \"sre\", budget = \"1m\", restores_service = true,\n"
"    -- service = true: a long-running process, stopped (with its children) when the run ends.\n"
"    step \"start the web server\" {\n"
"      sh = 'exec python3 -m http.server \"$port\" --bind 127.0.0.1 --directory \"$site\"',\n"
"      service = true, ready_after = \"300ms\",\n"
"    },\n"
"    -- http: a request; ${port} expands a param. Retried while the server starts.\n"
"    step \"the site answers\" {\n"
"      http = \"http://127.0.0.1:${port}/index.html\", expect = 200, contains = \"hello\",\n"
"      retries = 20, retry_delay = \"250ms\",\n"
"    },\n"
"    -- manual: a person of the role confirms, at the console, at the prompt or from any\n"
"    -- terminal with `lifeboat confirm RUN_ID`; --yes confirms it automatically (CI).\n"
"    step \"the commander signs off\" {\n"
"      manual = \"Open http://127.0.0.1:${port}/ and confirm that the site is back\",\n"
"      role = \"commander\",\n"
"    },\n"
"  },\n"
"\n"
"  -- A cleanup phase always runs at the end, whatever happened, outside the RTO.\n"
"  phase \"tidy up\" { cleanup = true,\n"
"    step \"say goodbye\" { run = function(ctx) log(\"run %s is over\", ctx.run_id) end },\n"
"  },\n"
"}\n";

/* %s: the operator, who becomes the only member of both roles */
static const char config_fmt[] =
"# lifeboat.yaml: read by every lifeboat command run in this folder (or given --config).\n"
"# `lifeboat check` validates it with the runbooks; `man lifeboat.yaml` tells every key.\n"
"db: .lifeboat/history.db          # the history of every run\n"
"reports_dir: reports              # where `lifeboat report` writes\n"
"\n"
"# Who may confirm a manual step of a role (--yes confirms any, recorded as automatic).\n"
"roles:\n"
"  commander: { members: [%s] }\n"
"  sre:       { members: [%s] }\n"
"\n"
"# --env staging takes these objectives and params over the runbook's.\n"
"environments:\n"
"  staging: { rto: 10m, params: { port: \"8099\" } }\n"
"\n"
"# Only members of these roles may run in an environment:\n"
"# permissions:\n"
"#   staging: { run: [sre] }\n"
"\n"
"# Webhooks (Slack and Mattermost take them as they are):\n"
"# notify:\n"
"#   webhook: \"http://127.0.0.1:9000/hook\"\n"
"#   events: [run_started, manual_waiting, step_failed, run_finished]\n"
"\n"
"# Drills on a schedule, run by `lifeboat scheduler`:\n"
"# schedules:\n"
"#   - { runbook: runbooks/starter.lua, cron: \"0 3 * * 1\", env: staging }\n";

static const char backup_html[] =
"<!doctype html>\n<title>starter</title>\n<p>hello from the backup</p>\n";

static const char ci_sh[] =
"#!/bin/sh\n"
"# lifeboat in CI: validate every runbook and the config, then run the starter and keep a JUnit\n"
"# report; the job fails when a step fails or the RTO is missed (exit status 1 to 6).\n"
"#\n"
"# GitLab CI (.gitlab-ci.yml):\n"
"#   recovery:\n"
"#     script: [sh ci/lifeboat-ci.sh]\n"
"#     artifacts: { when: always, reports: { junit: reports/starter.xml } }\n"
"# GitHub Actions (a step of a job):\n"
"#   - run: sh ci/lifeboat-ci.sh\n"
"set -eu\n"
"cd \"$(dirname \"$0\")/..\"\n"
"lifeboat check runbooks/*.lua\n"
"# more options for the run, such as -p port=9000, are passed on: sh ci/lifeboat-ci.sh -p port=9000\n"
"lifeboat run --yes --env staging --junit reports/starter.xml \"$@\" runbooks/starter.lua\n";

struct starter_file {
	const char *path;		/* under DIR */
	const char *text;		/* NULL: the config, made from config_fmt */
	mode_t mode;
};

static const struct starter_file starter_files[] = {
	{ "lifeboat.yaml", NULL, 0644 },
	{ "runbooks/starter.lua", starter_lua, 0644 },
	{ "backup/index.html", backup_html, 0644 },
	{ "ci/lifeboat-ci.sh", ci_sh, 0755 },
};

static int write_new(const char *path, const char *text, mode_t mode)
{
	if (mkdir_parents(path, 0777, NULL)) {
		errorf("cannot create the folder of '%s': %s", path, strerror(errno));
		return -1;
	}
	if (write_new_file(path, text, mode)) {
		errorf("cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	/* the umask may have taken the script's execute bits */
	if (mode & 0111)
		chmod(path, mode);
	return 0;
}

static int cmd_init(const struct cmd_args *a)
{
	if (a->nargs > 1)
		return usage_error("init", "one folder at a time");
	const char *dir = a->nargs ? a->args[0] : ".";
	if (!*dir)
		return usage_error("init", "the folder's name is empty");
	char *paths[ARRAY_SIZE(starter_files)];
	int rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(starter_files); i++)
		paths[i] = strcmp(dir, ".") ? xasprintf("%s/%s", dir, starter_files[i].path)
					    : xstrdup(starter_files[i].path);
	for (size_t i = 0; i < ARRAY_SIZE(starter_files) && !rc; i++) {
		struct stat sb;
		if (lstat(paths[i], &sb) == 0) {
			errorf("'%s' exists: init never overwrites a file, nothing was written (move it away, or give another folder: lifeboat init DIR)",
			       paths[i]);
			rc = EXIT_USAGE;
		}
	}
	/* the operator confirms the starter's manual step: a YAML-safe name, else a placeholder */
	const char *who = g_opts.operator;
	if (!who || !*who || strspn(who, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(who))
		who = "your-name";
	char *config = xasprintf(config_fmt, who, who);
	for (size_t i = 0; i < ARRAY_SIZE(starter_files) && !rc; i++) {
		const char *text = starter_files[i].text ? starter_files[i].text : config;
		if (write_new(paths[i], text, starter_files[i].mode)) {
			rc = 1;
			/* nothing half made: take back what this call wrote */
			while (i-- > 0)
				unlink(paths[i]);
		}
	}
	if (!rc && !g_opts.quiet) {
		for (size_t i = 0; i < ARRAY_SIZE(starter_files); i++)
			printf("created %s\n", paths[i]);
		const char *cd = strcmp(dir, ".") ? dir : NULL;
		printf("\nnext:%s%s%s\n"
		       "  lifeboat check runbooks/starter.lua       # validate, run nothing\n"
		       "  lifeboat plan runbooks/starter.lua        # phases, budgets, the RTO\n"
		       "  lifeboat run runbooks/starter.lua         # run it (you confirm the manual step)\n"
		       "  lifeboat drill --yes runbooks/starter.lua # break the site first, then recover\n"
		       "  sh ci/lifeboat-ci.sh                      # what a CI job runs\n",
		       cd ? "\n  cd " : "", cd ? cd : "", cd ? "" : "");
	}
	free(config);
	for (size_t i = 0; i < ARRAY_SIZE(starter_files); i++)
		free(paths[i]);
	return rc;
}

static const struct opt init_options[] = { OPT_END };

const struct cmd cmd_init_entry = {
	"init", cmd_init, "[DIR]",
	"a starter: a commented runbook, a lifeboat.yaml and a CI script",
	init_options,
	"init\n"
	"init drills && cd drills && lifeboat run --yes runbooks/starter.lua",
	NEED_CONFIG, NULL,
};
