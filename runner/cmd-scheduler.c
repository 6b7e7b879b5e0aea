/*
 * `lifeboat scheduler [--once]`: runs the config's scheduled drills (SPEC 4)
 * when their cron expressions say so. It stays in the foreground (for
 * systemd, a container, tmux); --once runs what is due now and exits, for
 * cron or a Kubernetes CronJob.
 *
 * Each drill is a child process, `lifeboat drill` on this same binary
 * (/proc/self/exe) with the schedule's env and yes, the history and config
 * in force and LIFEBOAT_TRIGGER=schedule, so the run records trigger
 * schedule. A crash of one drill cannot take the scheduler down, and drills
 * of different runbooks run side by side; one runbook drills one at a time:
 * when its next slot comes while a drill of it still runs (here, or started
 * by anyone, as the history tells), the slot is skipped and recorded as
 * skipped (schedule_events and the audit log).
 *
 * The due rule is cron_due's: each schedule's last run is kept in the
 * history (schedules), so after downtime a missed drill runs once, and a
 * schedule seen for the first time does not back-fill. Slots are checked
 * once a minute, right after the minute turns.
 *
 * SIGTERM, SIGINT, SIGHUP: running drills get SIGTERM (they abort, run their
 * cleanup and record it), the scheduler waits for them and exits; a second
 * signal kills them outright.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "json.h"
#include "runner.h"
#include "scheduler-ha.h"

extern char **environ;

#define DRILL_GRACE_MS (120 * 1000)	/* a stopped drill's cleanup may take this long */
#define TICK_SLACK_MS 200		/* wake just after the minute turns */

struct child {
	struct proc *proc;
	size_t sched;			/* index into cfg->schedules */
	const char *label;		/* the runbook's file name, for output lines */
	int64_t slot;			/* HA: the slot claimed for it (unix seconds), else -1 */
	struct strbuf partial[3];	/* by enum proc_stream: a line still open */
};

struct scheduler {
	const struct config *cfg;
	struct store *st;
	struct procset *ps;
	struct child **kids;
	size_t nkids;
	char *exe, *db, *config;	/* absolute, owned */
	char **envp;			/* environ + LIFEBOAT_TRIGGER=schedule, owned */
	struct ha *ha;			/* scheduler.ha: slots are claimed centrally (NULL: local only) */
	int started;			/* drills started (--once: to tell "nothing due") */
	int rc;				/* --once: the first exit code by SPEC 3's order */
};

/* atomics, not volatile sig_atomic_t: a process-directed signal may land on any thread */
static atomic_int stop_signal, stop_count;

static void on_stop(int sig)
{
	int none = 0;
	atomic_compare_exchange_strong(&stop_signal, &none, sig);
	atomic_fetch_add(&stop_count, 1);
	proc_wake_all();	/* never through s->ps, which is freed at the end */
}


static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* A drill's output, line by line, each line prefixed with its runbook's file name. */
static void on_output(void *ud, enum proc_stream s, const char *data, size_t len)
{
	struct child *k = ud;
	struct strbuf *sb = &k->partial[s];
	FILE *f = s == PROC_STDERR ? stderr : stdout;
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			strbuf_add(sb, p, (size_t)(end - p));
			break;
		}
		fprintf(f, "[%s] %.*s%.*s\n", k->label, (int)sb->len, sb->buf, (int)(nl - p), p);
		strbuf_reset(sb);
		p = nl + 1;
	}
	fflush(f);
}

static void record(struct scheduler *s, const struct config_schedule *sc, const char *event,
		   int code, const char *detail)
{
	if (store_schedule_event(s->st, sc->key, event, code, detail))
		warnf("cannot record the schedule's %s in '%s': %s", event, db_path(), store_error(s->st));
}

/* A child of the runbook still running: a drill for a drill, a probe for a probe (they do not exclude each other). */
static const struct child *drilling(const struct scheduler *s, const char *runbook, int probe)
{
	for (size_t i = 0; i < s->nkids; i++) {
		const struct config_schedule *sc = &s->cfg->schedules[s->kids[i]->sched];
		if (!strcmp(sc->runbook, runbook) && !sc->probe == !probe)
			return s->kids[i];
	}
	return NULL;
}

/* The slot comes while a drill of the same runbook still runs: skip it, and say so. */
static void skip(struct scheduler *s, const struct config_schedule *sc, const char *why)
{
	printf("scheduler: %s (%s): skipped, %s\n", base_name(sc->runbook), sc->cron_expr, why);
	fflush(stdout);
	record(s, sc, "skipped", -1, why);
	char *detail = lbjson_dump(json_pack("{s:o, s:o}", "schedule", lbjson_string(sc->cron_expr),
					     "why", lbjson_string(why)));
	store_audit_append(s->st, NULL, "schedule_skipped", g_opts.operator, (long)getuid(), detail);
	free(detail);
}

static void start(struct scheduler *s, size_t idx, int64_t slot)
{
	const struct config_schedule *sc = &s->cfg->schedules[idx];
	const char *argv[16];
	size_t n = 0;
	argv[n++] = s->exe;
	argv[n++] = "--db";
	argv[n++] = s->db;
	argv[n++] = "--config";
	argv[n++] = s->config;
	argv[n++] = "--as";
	argv[n++] = g_opts.operator;
	if (g_opts.quiet)
		argv[n++] = "-q";
	argv[n++] = sc->probe ? "probe" : "drill";
	if (sc->env) {
		argv[n++] = "--env";
		argv[n++] = sc->env;
	}
	if (sc->yes && !sc->probe)
		argv[n++] = "--yes";
	argv[n++] = sc->runbook;
	argv[n] = NULL;
	struct child *k = xcalloc(1, sizeof(*k));
	k->sched = idx;
	k->slot = slot;
	k->label = base_name(sc->runbook);
	for (int i = 0; i < 3; i++)
		strbuf_init(&k->partial[i], 0);
	struct proc_opts po = {
		.argv = (char *const *)(uintptr_t)argv, .envp = s->envp, .grace_ms = DRILL_GRACE_MS,
		.on_output = on_output, .ud = k,
	};
	printf("scheduler: %s (%s%s%s): starting the %s\n", k->label, sc->cron_expr,
	       sc->env ? ", env " : "", sc->env ? sc->env : "", sc->probe ? "probe" : "drill");
	fflush(stdout);
	if (proc_spawn(s->ps, &po, &k->proc)) {
		char *why = xasprintf("cannot start '%s': %s", s->exe, strerror(errno));
		errorf("%s: %s", k->label, why);
		record(s, sc, "error", -1, why);
		if (slot >= 0)
			ha_finished(s->ha, idx, slot, NULL, -1, "error");
		free(why);
		for (int i = 0; i < 3; i++)
			strbuf_release(&k->partial[i]);
		free(k);
		s->rc = exit_code_precedence(s->rc, EXIT_STEP_FAILED);
		return;
	}
	char pid[32];
	snprintf(pid, sizeof(pid), "pid %ld", (long)proc_pid(k->proc));
	record(s, sc, "started", -1, pid);
	s->kids = xrealloc(s->kids, (s->nkids + 1) * sizeof(*s->kids));
	s->kids[s->nkids++] = k;
	s->started++;
}

/*
 * HA (SPEC 11): the slot is claimed centrally before anything runs; the
 * claim's holder alone decides on overlap, from the team's runs too.
 */
static void tick_ha(struct scheduler *s, size_t i, int64_t now)
{
	const struct config_schedule *sc = &s->cfg->schedules[i];
	int64_t slot = -1;
	char *why = NULL;
	switch (ha_decide(s->ha, i, now, &slot)) {
	case HA_NOT_DUE:
	case HA_TAKEN:
		return;
	case HA_DEGRADED:
		s->rc = exit_code_precedence(s->rc, EXIT_STEP_FAILED);
		return;
	case HA_LOCAL:
		slot = -1;
		break;
	case HA_CLAIMED:
		break;
	}
	if (drilling(s, sc->runbook, sc->probe)) {
		skip(s, sc, sc->probe ? "its previous probe is still running" : "its previous drill is still running");
		if (slot >= 0)
			ha_finished(s->ha, i, slot, NULL, -1, "skipped");
	} else if (!sc->probe && ha_running(s->ha, i, &why)) {
		skip(s, sc, why);
		ha_finished(s->ha, i, slot, NULL, -1, "skipped");
	} else {
		start(s, i, slot);
	}
	free(why);
}

/* Starts every schedule that is due at now (unix seconds). */
static void tick(struct scheduler *s, int64_t now)
{
	if (s->ha)
		ha_heartbeat(s->ha);
	for (size_t i = 0; i < s->cfg->nschedules && !stop_signal; i++) {
		const struct config_schedule *sc = &s->cfg->schedules[i];
		if (s->ha) {
			tick_ha(s, i, now);
			continue;
		}
		int64_t first_seen, last_run;
		int known = store_schedule_get(s->st, sc->key, &first_seen, &last_run);
		if (known < 0) {
			warnf("cannot read schedule state from '%s': %s", db_path(), store_error(s->st));
			continue;
		}
		/* never run: the first sight is where missed slots start to count, never before */
		int64_t since = last_run >= 0 ? last_run : known ? first_seen : -1;
		if (!known && store_schedule_seen(s->st, sc->key, now))
			warnf("cannot record schedule state in '%s': %s", db_path(), store_error(s->st));
		if (!cron_due(&sc->cron, s->cfg->timezone, now, since))
			continue;
		if (store_schedule_ran(s->st, sc->key, now)) {
			/* without the record the drill would start again every minute */
			warnf("cannot record the schedule's run in '%s': %s; not starting it",
			      db_path(), store_error(s->st));
			continue;
		}
		char *run_id = NULL;
		if (drilling(s, sc->runbook, sc->probe)) {
			skip(s, sc, sc->probe ? "its previous probe is still running" : "its previous drill is still running");
		} else if (!sc->probe && store_run_active(s->st, sc->runbook, &run_id) == 1) {
			char *why = xasprintf("run %s of it is still running", run_id);
			skip(s, sc, why);
			free(why);
		} else {
			start(s, i, -1);
		}
		free(run_id);
	}
}

/*
 * `evidence: true`: the bundle of the drill that just ended, into
 * <reports_dir>/evidence-<run id>/ (signed with evidence_key when set).
 */
static void evidence_after(struct scheduler *s, const struct config_schedule *sc, long pid)
{
	char *id = NULL;
	int found = store_run_by_pid(s->st, sc->runbook, pid, &id);
	if (found != 1) {
		warnf("%s: no run of the drill in the history, so no evidence%s%s", base_name(sc->runbook),
		      found < 0 ? ": " : "", found < 0 ? store_error(s->st) : "");
		free(id);
		return;
	}
	struct run_rec *r = NULL;
	if (store_run_load(s->st, id, &r) == STORE_FOUND) {
		char *dir = xasprintf("%s/evidence-%s", reports_dir(), r->id);
		if (!write_evidence(s->st, r, dir, NULL, 0)) {
			printf("scheduler: %s: evidence of run %s in %s\n", base_name(sc->runbook), r->id, dir);
			record(s, sc, "evidence", 0, dir);
		} else {
			record(s, sc, "evidence", 1, "the evidence bundle could not be written");
		}
		fflush(stdout);
		free(dir);
	} else {
		warnf("%s: cannot read run %s for its evidence: %s", base_name(sc->runbook), id,
		      store_error(s->st));
	}
	run_rec_free(r);
	free(id);
}

/* Collects the drills that ended. */
static void reap(struct scheduler *s)
{
	for (size_t i = 0; i < s->nkids;) {
		struct child *k = s->kids[i];
		if (proc_state(k->proc) != PROC_DONE) {
			i++;
			continue;
		}
		const struct config_schedule *sc = &s->cfg->schedules[k->sched];
		for (int j = 1; j < 3; j++)
			if (k->partial[j].len)
				on_output(k, (enum proc_stream)j, "\n", 1);
		const struct proc_result *r = proc_result(k->proc);
		int code = r->code;
		printf("scheduler: %s: the %s exited with %d\n", k->label, sc->probe ? "probe" : "drill", code);
		fflush(stdout);
		record(s, sc, "finished", code, NULL);
		s->rc = exit_code_precedence(s->rc, code);
		if (k->slot >= 0) {
			char *run_id = NULL;
			store_run_by_pid(s->st, sc->runbook, (long)proc_pid(k->proc), &run_id);
			ha_finished(s->ha, k->sched, k->slot, run_id, code, "finished");
			free(run_id);
		}
		if (sc->evidence)
			evidence_after(s, sc, (long)proc_pid(k->proc));
		proc_free(k->proc);
		for (int j = 0; j < 3; j++)
			strbuf_release(&k->partial[j]);
		free(k);
		s->kids[i] = s->kids[--s->nkids];
	}
}

/* Stops the running drills (TERM; KILL on a second signal) and waits for them. */
static void stop_all(struct scheduler *s)
{
	int hard_sent = 0;
	if (s->nkids)
		printf("scheduler: stopping %zu drill%s\n", s->nkids, s->nkids == 1 ? "" : "s");
	fflush(stdout);
	for (size_t i = 0; i < s->nkids; i++)
		proc_stop(s->kids[i]->proc, 0);
	while (s->nkids) {
		if (stop_count >= 2 && !hard_sent) {
			hard_sent = 1;
			for (size_t i = 0; i < s->nkids; i++)
				proc_stop(s->kids[i]->proc, 1);
		}
		procset_poll(s->ps, 1000);
		reap(s);
	}
}

static int64_t ms_to_next_minute(void)
{
	int64_t now = clock_wall_ms();
	return 60000 - now % 60000 + TICK_SLACK_MS;
}

static int setup(struct scheduler *s)
{
	s->cfg = runner_config();
	if (!s->cfg) {
		errorf("scheduler: there is no config file (lifeboat.yaml here, or --config FILE); its schedules: say what to drill when");
		return EXIT_USAGE;
	}
	if (!s->cfg->nschedules) {
		errorf("scheduler: %s has no schedules: add some, e.g. - { runbook: runbooks/x.lua, cron: \"0 3 * * 1\", env: staging }",
		       s->cfg->path);
		return EXIT_USAGE;
	}
	int rc = open_store(&s->st);
	if (rc)
		return rc;
	s->ha = ha_new(s->cfg, s->st);
	s->exe = realpath("/proc/self/exe", NULL);
	if (!s->exe) {
		errorf("scheduler: cannot find its own executable: %s", strerror(errno));
		return 1;
	}
	s->db = absolute_db();
	s->config = path_absolute(s->cfg->path);
	size_t n = 0;
	while (environ[n])
		n++;
	s->envp = xcalloc(n + 2, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LIFEBOAT_TRIGGER=", 17))
			s->envp[k++] = environ[i];
	s->envp[k] = "LIFEBOAT_TRIGGER=schedule";
	s->ps = procset_new();
	if (!s->ps) {
		errorf("scheduler: cannot set up: %s", strerror(errno));
		return 1;
	}
	install_stop_signals(on_stop, NULL);
	return 0;
}

static void release(struct scheduler *s)
{
	ha_free(s->ha);
	procset_free(s->ps);
	free(s->kids);
	free(s->exe);
	free(s->db);
	free(s->config);
	free(s->envp);
	store_close(s->st);
}

enum { SCHEDULER_OPT_ONCE = OPT_CODE + 64 };

static int cmd_scheduler(const struct cmd_args *a)
{
	int once = opt_count(a, SCHEDULER_OPT_ONCE) > 0;
	if (a->nargs)
		return usage_error("scheduler", "unknown argument '%s'", a->args[0]);
	struct scheduler s;
	memset(&s, 0, sizeof(s));
	int rc = setup(&s);
	if (rc) {
		release(&s);
		return rc;
	}
	if (!once)
		printf("scheduler: %zu schedule%s from %s, time zone %s; stop with SIGTERM or Ctrl-C\n",
		       s.cfg->nschedules, s.cfg->nschedules == 1 ? "" : "s", s.cfg->path, s.cfg->timezone);
	fflush(stdout);
	int64_t last_minute = -1;
	while (!stop_signal) {
		int64_t now = (int64_t)time(NULL);
		if (now / 60 != last_minute) {
			last_minute = now / 60;
			tick(&s, now);
			if (once)
				break;
		}
		procset_poll(s.ps, (int)ms_to_next_minute());
		reap(&s);
	}
	if (once) {
		if (!s.started && !s.rc)
			printf("scheduler: nothing is due\n");
		while (s.nkids && !stop_signal) {
			/* HA: the claims of the drills still running are looked after */
			procset_poll(s.ps, s.ha ? 60000 : -1);
			reap(&s);
			if (s.ha && s.nkids)
				ha_heartbeat(s.ha);
		}
	}
	if (stop_signal)
		stop_all(&s);
	rc = s.rc;
	if (!once && stop_signal)
		rc = 0;	/* stopped as asked: the interrupted drills say so in the history */
	release(&s);
	return rc;
}

static const struct opt scheduler_options[] = {
	{ SCHEDULER_OPT_ONCE, "once", NULL, "start the drills due now, wait for them, then exit" },
	OPT_END
};

const struct cmd cmd_scheduler_entry = {
	"scheduler", cmd_scheduler, "", "run the config's scheduled drills when due",
	scheduler_options,
	"scheduler\n"
	"scheduler --once",
	NEED_CONFIG, NULL,
};
