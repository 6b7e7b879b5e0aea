/*
 * The one place user-facing messages and colours come from. Messages read
 * like git's: lowercase, no full stop, what is wrong and then what to do.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "runner.h"
#include "stats.h"
#include "term.h"
#include "trust.h"

static void vmsg(const char *kind, const char *color, const char *fmt, va_list ap)
{
	fflush(stdout);
	int tty = g_opts.color && isatty(2);
	fprintf(stderr, "lifeboat: %s%s%s", tty ? color : "", kind, tty ? "\033[0m" : "");
	char *text = NULL;
	int len = vasprintf(&text, fmt, ap);
	if (len < 0) {
		fputc('\n', stderr);
		return;
	}
	/* messages quote runbooks and Lua errors: keep their lines, show their control characters */
	term_put_lines(stderr, text, (size_t)len);
	free(text);
	fputc('\n', stderr);
}

void errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("error: ", "\033[31m", fmt, ap);
	va_end(ap);
}

void warnf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", "\033[33m", fmt, ap);
	va_end(ap);
}

void notef(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", "", fmt, ap);
	va_end(ap);
}

const char *c_green(void) { return g_opts.color ? "\033[32m" : ""; }
const char *c_red(void) { return g_opts.color ? "\033[31m" : ""; }
const char *c_yellow(void) { return g_opts.color ? "\033[33m" : ""; }
const char *c_bold(void) { return g_opts.color ? "\033[1m" : ""; }
const char *c_dim(void) { return g_opts.color ? "\033[2m" : ""; }
const char *c_reset(void) { return g_opts.color ? "\033[0m" : ""; }

const char *db_path(void)
{
	const struct config *cfg = runner_config();
	if (g_opts.db)
		return g_opts.db;
	return cfg && cfg->db ? cfg->db : ".lifeboat/history.db";
}

char *absolute_db(void)
{
	return path_absolute(db_path());
}

void install_stop_signals(void (*on_stop)(int), void (*on_wake)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocked wait must return so the stop is acted on */
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (on_wake) {
		sa.sa_handler = on_wake;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
	}
}

int history_exists(void)
{
	return access(db_path(), F_OK) == 0;
}

int open_history(struct store **out)
{
	if (!history_exists()) {
		errorf("no history at '%s': nothing has run there yet (check --db, or the config's db)",
		       db_path());
		return EXIT_USAGE;
	}
	return open_store(out);
}

int open_store(struct store **out)
{
	char *err = NULL;
	if (store_open(db_path(), runner_sync_full(), out, &err)) {
		errorf("cannot open the history '%s': %s", db_path(), err ? err : "unknown error");
		free(err);
		return EXIT_USAGE;
	}
	return 0;
}

/* Whether argv0 names an executable file, as execvp would find it. */
static int shell_exists(const char *argv0)
{
	if (strchr(argv0, '/'))
		return access(argv0, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, ":");
		char *full = xasprintf("%.*s/%s", (int)(len ? len : 1), len ? p : ".", argv0);
		int ok = access(full, X_OK) == 0;
		free(full);
		if (ok)
			return 1;
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

static int check_shell(const struct runbook *rb, char **shell, int line, const char *step)
{
	if (!shell || !shell[0] || shell_exists(shell[0]))
		return 0;
	fflush(stdout);
	if (line > 0)
		fprintf(stderr, "%s:%d: ", rb->path, line);
	else
		fprintf(stderr, "%s: ", rb->path);
	fprintf(stderr, "%s%s%sshell: '%s' does not exist on this machine; install it, or name one that does (shell = \"bash\", or {\"/bin/sh\", \"-c\"})\n",
		step ? "step '" : "runbook ", step ? step : "", step ? "' " : "", shell[0]);
	return 1;
}

int check_runbook_shells(const struct runbook *rb)
{
	int bad = check_shell(rb, rb->shell, 0, NULL);
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *p = &rb->phases[i];
		for (size_t j = 0; j < p->nsteps + p->nrollback; j++) {
			const struct rb_step *s = j < p->nsteps ? &p->steps[j] : &p->rollback[j - p->nsteps];
			if (s->kind == STEP_SH && !RB_STEP_REMOTE(s))	/* remote: the host's sh (SPEC 8) */
				bad |= check_shell(rb, s->shell, s->line, s->name);
		}
	}
	return bad ? EXIT_USAGE : 0;
}

const char *history_unwritable_why(void)
{
	static char why[512];
	char *dir = path_dirname(db_path());
	struct statvfs vfs;
	why[0] = '\0';
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		snprintf(why, sizeof(why), "the file system holding '%s' is read-only", dir);
	else if (statvfs(dir, &vfs) == 0 && vfs.f_bavail == 0)
		snprintf(why, sizeof(why), "the disk holding '%s' is full", dir);
	else if (access(dir, W_OK) != 0)
		snprintf(why, sizeof(why), "'%s' is not writable (%s)", dir, strerror(errno));
	free(dir);
	return why[0] ? why : NULL;
}

int load_runbook(const char *path, struct luahost **host, struct runbook **rb)
{
	if (luahost_new(runner_lua_memory(), host)) {
		errorf("cannot start the Lua interpreter");
		return EXIT_USAGE;
	}
	luahost_set_config(*host, runner_config());
	char *err = NULL;
	if (luahost_load(*host, path, rb, &err)) {
		fflush(stdout);
		fprintf(stderr, "%s\n", err);
		free(err);
		luahost_free(*host);
		*host = NULL;
		return EXIT_USAGE;
	}
	return 0;
}

int load_runbook_trusted(const char *path, const char *env, struct trust *t,
			 struct luahost **host, struct runbook **rb, char **why)
{
	trust_init(t, runner_config(), runner_policy(), env);
	/* the history, when there is one (never created here), to refuse an older signed version */
	struct store *seen = NULL;
	char *err = NULL;
	if ((t->required || t->nkeys) && history_exists() &&
	    !store_open(db_path(), runner_sync_full(), &seen, &err))
		t->seen = seen;
	free(err);
	int rc = load_runbook_with(path, t, host, rb, why);
	t->seen = NULL;
	if (seen)
		store_close(seen);
	return rc;
}

int load_runbook_with(const char *path, struct trust *t, struct luahost **host,
		      struct runbook **rb, char **why)
{
	*why = NULL;
	if (luahost_new(runner_lua_memory(), host)) {
		errorf("cannot start the Lua interpreter");
		return EXIT_USAGE;
	}
	luahost_set_config(*host, runner_config());
	luahost_set_verifier(*host, trust_verify, t, t->required);
	char *err = NULL;
	if (luahost_load(*host, path, rb, &err)) {
		int refused = luahost_refused(*host);
		luahost_free(*host);
		*host = NULL;
		if (refused) {
			*why = err;
			return EXIT_REFUSED;
		}
		fflush(stdout);
		term_put_lines(stderr, err, strlen(err));
		fputc('\n', stderr);
		free(err);
		return EXIT_USAGE;
	}
	return 0;
}

char *runbook_file_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".lua"))
		n -= 4;
	return xstrndup(base, n);
}

int refuse_unloaded(const char *path, struct store *st, const struct engine_opts *o,
		    const char *why)
{
	/* nothing of it ran, so its name is the file's: feature-store.lua is "feature-store" */
	struct runbook *rb = xcalloc(1, sizeof(*rb));
	rb->name = runbook_file_name(path);
	rb->path = xstrdup(path);
	rb->abspath = path_absolute(path);
	struct stat sb;	/* never open a FIFO put where the runbook should be: it would wait for a writer */
	if (stat(path, &sb) || !S_ISREG(sb.st_mode) || sha256_file(path, rb->sha256))
		rb->sha256[0] = '\0';
	rb->rto_s = rb->rpo_s = NAN;
	rb->restoring = -1;
	struct run_rec *r = NULL;
	int rc = engine_refuse(rb, st, o, "signature", why, &r);
	errorf("%s; nothing ran (recorded as run %s, refused)", why, r->id);
	run_rec_free(r);
	runbook_free(rb);
	return rc;
}

const char *fmt_dur(double secs, char *buf, size_t n)
{
	return duration_format(secs, buf, n);
}

const char *status_symbol(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return "ok";
	case ST_FAILED: return "FAILED";
	case ST_TIMED_OUT: return "TIMED OUT";
	case ST_DECLINED: return "DECLINED";
	case ST_SKIPPED: return "skipped";
	case ST_ROLLED_BACK: return "ROLLED BACK";
	case ST_INTERRUPTED: return "interrupted";
	case ST_ABORTED: return "ABORTED";
	case ST_REFUSED: return "REFUSED";
	case ST_RUNNING: return "running";
	default: return status_name(st);
	}
}

const char *status_color(enum status st)
{
	switch (st) {
	case ST_SUCCEEDED: return c_green();
	case ST_SKIPPED: case ST_PENDING: return c_dim();
	case ST_RUNNING: case ST_INTERRUPTED: return c_yellow();
	default: return c_red();
	}
}

/*
 * A run's status with every verdict that applies (SPEC 3): "succeeded, RTO
 * missed" rather than a bare "succeeded" beside exit 3. A run that failed
 * or was aborted says so, and its objectives follow from that. Used by every last
 * line (run, resume, console, show), so none of them can say less.
 */
const char *verdict_text(const struct run_rec *r, char *buf, size_t n)
{
	int len = snprintf(buf, n, "%s", status_name(r->status));
	if (r->status != ST_SUCCEEDED)
		return buf;	/* failed, aborted: the status says why already, and the exit follows it */
	int over = 0;
	for (size_t i = 0; i < r->nphases; i++)
		if (r->phases[i].over_budget && !r->phases[i].cleanup)
			over++;
	const char *rpo = rpo_status_of(r->rpo_status) == RPO_UNMEASURED ? "RPO unmeasured" :
			  r->rpo_met == 0 ? "RPO missed" :
			  r->exposure == EXPOSURE_MISSED ? "RPO exposed" :
			  r->exposure == EXPOSURE_UNMEASURED ? "RPO exposure unmeasured" : NULL;
	const char *parts[3] = { r->rto_met == 0 ? "RTO missed" : NULL, rpo,
				 over ? (over == 1 ? "a phase over budget" : "phases over budget") : NULL };
	for (size_t i = 0; i < 3 && len >= 0 && (size_t)len < n; i++)
		if (parts[i])
			len += snprintf(buf + len, n - (size_t)len, ", %s", parts[i]);
	return buf;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void verdict_line(FILE *f, const char *what, double achieved, double target, int met,
			 const char *status)
{
	char a[32], t[32];
	fprintf(f, "%s  achieved %-10s target %-10s ", what, fmt_dur(achieved, a, sizeof(a)),
		fmt_dur(target, t, sizeof(t)));
	if (rpo_status_of(status) == RPO_UNMEASURED)
		fprintf(f, "%sUNMEASURED (counts as missed)%s\n", c_red(), c_reset());
	else if (met == 1)
		fprintf(f, "%smet%s\n", c_green(), c_reset());
	else if (met == 0)
		fprintf(f, "%sMISSED%s\n", c_red(), c_reset());
	else
		fprintf(f, "%s(no target)%s\n", c_dim(), c_reset());
}

/* A probe run's RPO exposure (SPEC 10): how much would be lost if the incident were now. */
static void print_exposure(FILE *f, const struct run_rec *r)
{
	char a[32], t[32], iso[32];
	fprintf(f, "RPO exposure  %-10s target %-10s ", fmt_dur(r->exposure_s, a, sizeof(a)),
		fmt_dur(r->rpo_target_s, t, sizeof(t)));
	switch (r->exposure) {
	case EXPOSURE_MET:
		fprintf(f, "%smet%s", c_green(), c_reset());
		break;
	case EXPOSURE_MISSED:
		fprintf(f, "%sEXPOSED (the newest backup is older than the RPO)%s", c_red(), c_reset());
		break;
	case EXPOSURE_UNMEASURED:
		fprintf(f, "%sUNMEASURED (counts as exposed)%s", c_red(), c_reset());
		break;
	case EXPOSURE_NONE:
		fprintf(f, "%s(%s)%s", c_dim(), isnan(r->rpo_target_s) ? "no RPO" : "no newest_recoverable",
			c_reset());
		break;
	}
	if (r->newest_recoverable_ms != TS_NONE)
		fprintf(f, " · newest recoverable %s", clock_iso8601(r->newest_recoverable_ms, iso));
	fputc('\n', f);
}

void print_summary(FILE *f, const struct run_rec *r)
{
	size_t w = 5;
	for (size_t i = 0; i < r->nphases; i++)
		if (strlen(r->phases[i].name) > w)
			w = strlen(r->phases[i].name);
	if (w > 40)
		w = 40;
	/* a probe run of a runbook without probes (newest_recoverable alone) has no phase */
	if (r->nphases)
		fprintf(f, "\n%s%-*s  %-10s %9s %9s %9s  %s%s\n", c_bold(), (int)w, "phase", "role",
			"duration", "budget", "human", "verdict", c_reset());
	for (size_t i = 0; i < r->nphases; i++) {
		const struct phase_rec *p = &r->phases[i];
		char d[32], b[32], h[32];
		const char *tag = p->fault ? " (fault)" : p->cleanup ? " (cleanup)" : p->probe ? " (probes)" : "";
		fprintf(f, "%-*.*s  %-10s %9s %9s %9s  %s%s%s%s%s\n", (int)w, (int)w, term_text(p->name),
			term_text(or_dash(p->role)), fmt_dur(p->duration_s, d, sizeof(d)),
			isnan(p->budget_s) ? "-" : fmt_dur(p->budget_s, b, sizeof(b)),
			p->human_wait_s > 0 ? fmt_dur(p->human_wait_s, h, sizeof(h)) : "-",
			status_color(p->status), status_symbol(p->status), c_reset(),
			p->over_budget ? (g_opts.color ? "  \033[33mOVER BUDGET\033[0m" : "  OVER BUDGET") : "",
			tag);
	}
	fputc('\n', f);
	if (run_mode_of(r) == MODE_PROBE) {
		print_exposure(f, r);
		return;
	}
	verdict_line(f, "RTO", r->rto_achieved_s, r->rto_target_s, r->rto_met, NULL);
	verdict_line(f, "RPO", r->rpo_achieved_s, r->rpo_target_s, r->rpo_met, r->rpo_status);
	if (r->human_wait_s > 0) {
		char h[32];
		fprintf(f, "human wait %s (apart from machine time)\n",
			fmt_dur(r->human_wait_s, h, sizeof(h)));
	}
}

size_t trend_window(struct objective_point *pts, size_t n, double target)
{
	if (!n)
		return 0;
	if (isnan(target))
		target = pts[n - 1].rto_target_s;
	size_t kept = 0;
	/* newest first into the end of the array, then moved to the front, oldest first */
	for (size_t i = n; i-- > 0 && kept < RISK_WINDOW;) {
		double t = pts[i].rto_target_s;
		int same = isnan(t) ? isnan(target) : !isnan(target) && fabs(t - target) < 1e-6;
		if (same)
			pts[n - 1 - kept++] = pts[i];
	}
	memmove(pts, pts + n - kept, kept * sizeof(*pts));
	return kept;
}

int params_from_json(const char *text, struct rb_param **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return text ? -1 : 0;
	}
	*out = xcalloc(json_object_size(j) + 1, sizeof(**out));
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		(*out)[*n].name = xstrdup(k);
		(*out)[*n].value = xstrdup(json_is_string(v) ? json_string_value(v) : "");
		(*n)++;
	}
	json_decref(j);
	return 0;
}

void params_free(struct rb_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

int load_run(struct store *st, const char *id, struct run_rec **out)
{
	switch (store_run_load(st, id, out)) {
	case STORE_FOUND:
		return 0;
	case STORE_NOT_FOUND:
		errorf("no run '%s' in %s (see `lifeboat history%s`)", id, reader_name(),
		       reader_central() ? " --central" : "");
		return EXIT_USAGE;
	case STORE_AMBIGUOUS:
		errorf("'%s' matches several runs: give more of the id", id);
		return EXIT_USAGE;
	case STORE_FAILED:
		break;
	}
	errorf("cannot read the history '%s': %s", reader_name(), store_error(st));
	return 1;
}
