/*
 * `lifeboat run` and `lifeboat drill`: parse the options, load and check the
 * runbook, execute it through the engine, print what happens as it happens
 * and a summary at the end, write the reports asked for, exit with the
 * code CI acts on.
 *
 * Live output is line-based: each step's partial lines wait in a buffer
 * until their newline arrives so lines of parallel steps never interleave
 * mid-line; every line carries the step's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "report.h"
#include "run-setup.h"
#include "runner.h"
#include "term.h"

/* Per-step partial lines for the live view. */
struct view {
	struct strbuf **partial;	/* [phase][step] */
	const struct run_rec *run;
	int quiet;
	int tty;			/* stdout is a terminal: flush every event */
	char answer[256];		/* a y/N answer being typed */
	size_t answer_len;
	int64_t flushed_ns;		/* otherwise at most every FLUSH_NS */
	int resumed_without_yes;	/* say that --yes is not carried over when asking */
};
#define FLUSH_NS 200000000LL	/* 200 ms: a CI log stays live, 1000 steps do not cost 3000 writes */

static struct strbuf *partial_of(struct view *v, int pi, int si)
{
	if (!v->partial) {
		v->partial = xcalloc(v->run->nphases, sizeof(*v->partial));
		for (size_t i = 0; i < v->run->nphases; i++)
			v->partial[i] = xcalloc(v->run->phases[i].nsteps + 1, sizeof(struct strbuf));
	}
	return &v->partial[pi][si];
}

static void print_line(const struct run_rec *r, int pi, int si, const char *line, size_t len)
{
	const char *name = r->phases[pi].steps[si].name;
	printf("    %s%s |%s ", c_dim(), term_text(name), c_reset());
	if (term_is_tty()) {
		/* every control character visible, NUL as ^@ like the history keeps it (term.h) */
		fputs(term_textn(line, len), stdout);
		putchar('\n');
		return;
	}
	/* a NUL byte would end %.*s: it shows as it reads in the history */
	for (const char *p = line, *end = line + len; p < end;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		fwrite(p, 1, (size_t)((nul ? nul : end) - p), stdout);
		if (!nul)
			break;
		fputs(STRBUF_NUL, stdout);
		p = nul + 1;
	}
	putchar('\n');
}

static void flush_partial(struct view *v, int pi, int si)
{
	if (!v->partial)
		return;
	struct strbuf *sb = &v->partial[pi][si];
	if (sb->len) {
		print_line(v->run, pi, si, sb->buf, sb->len);
		strbuf_reset(sb);
	}
}

static void on_output_text(struct view *v, const struct engine_event *ev)
{
	struct strbuf *sb = partial_of(v, ev->phase, ev->step);
	const char *p = ev->data, *end = ev->data + ev->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			strbuf_add(sb, p, (size_t)(end - p));
			if (sb->len > 4096) {
				print_line(v->run, ev->phase, ev->step, sb->buf, sb->len);
				strbuf_reset(sb);
			}
			break;
		}
		if (sb->len) {
			strbuf_add(sb, p, (size_t)(nl - p));
			print_line(v->run, ev->phase, ev->step, sb->buf, sb->len);
			strbuf_reset(sb);
		} else {
			print_line(v->run, ev->phase, ev->step, p, (size_t)(nl - p));
		}
		p = nl + 1;
	}
}

/* A remote step's hosts under its line: the counts, and each host that is not ok (SPEC 8). */
static void print_step_hosts(const struct step_rec *s)
{
	char *sum = step_hosts_summary(s);
	if (!sum)
		return;
	printf("    %shosts: %s%s\n", c_dim(), sum, c_reset());
	free(sum);
	for (size_t k = 0; k < s->nhosts; k++) {
		const struct host_rec *h = &s->hosts[k];
		if (host_ok(h))
			continue;
		printf("    %s✗ %s%s %s%s%s\n", c_red(), h->host, c_reset(), h->status ? h->status : "?",
		       h->error ? ": " : "", h->error ? h->error : "");
	}
}

static void on_event(void *ud, const struct engine_event *ev)
{
	struct view *v = ud;
	const struct run_rec *r = ev->run;
	v->run = r;
	char d[32], b[32];
	if (ev->type == EV_MESSAGE) {
		if (ev->level >= 2)
			errorf("%.*s", (int)ev->len, ev->data);
		else if (ev->level == 1)
			warnf("%.*s", (int)ev->len, ev->data);
		else if (!v->quiet)
			printf("  %s%s%s\n", c_dim(), term_textn(ev->data, ev->len), c_reset());
		return;
	}
	if (v->quiet && ev->type != EV_MANUAL_WAITING)
		return;
	const struct phase_rec *p = ev->phase >= 0 ? &r->phases[ev->phase] : NULL;
	const struct step_rec *s = p && ev->step >= 0 ? &p->steps[ev->step] : NULL;
	switch (ev->type) {
	case EV_RUN_STARTED:
		printf("%slifeboat %s%s %s · run %s · operator %s%s%s\n", c_bold(), r->mode, c_reset(),
		       term_text(r->runbook), r->id, term_text(r->operator), r->env ? " · env " : "", r->env ? r->env : "");
		break;
	case EV_PHASE_STARTED: {
		printf("%s▶ %s%s", c_bold(), term_text(p->name), c_reset());
		int open = 0;
		if (p->role) {
			printf(" [role %s", term_text(p->role));
			open = 1;
		}
		if (!isnan(p->budget_s)) {
			printf("%sbudget %s", open ? ", " : " [", fmt_dur(p->budget_s, b, sizeof(b)));
			open = 1;
		}
		if (p->fault) {
			printf("%sfault", open ? ", " : " [");
			open = 1;
		}
		if (p->cleanup) {
			printf("%scleanup", open ? ", " : " [");
			open = 1;
		}
		if (p->parallel > 1) {
			printf("%sparallel %d", open ? ", " : " [", p->parallel);
			open = 1;
		}
		printf("%s\n", open ? "]" : "");
		break;
	}
	case EV_PHASE_FINISHED:
		if (p->status == ST_SKIPPED) {
			printf("%s▷ %s skipped%s%s\n", c_dim(), term_text(p->name),
			       p->fault && !run_is_drill(r) ? " (fault phase: only in drill mode)" : "",
			       c_reset());
		} else {
			printf("  %s%s%s %s in %s%s\n", status_color(p->status), status_symbol(p->status),
			       c_reset(), term_text(p->name), fmt_dur(p->duration_s, d, sizeof(d)),
			       p->over_budget ? " (over budget)" : "");
		}
		break;
	case EV_STEP_STARTED:
		if (ev->attempt > 1)
			printf("  %s· %s%s (attempt %d)\n", c_dim(), term_text(s->name), c_reset(), ev->attempt);
		else
			printf("  %s· %s%s%s\n", c_dim(), term_text(s->name),
			       s->section == SEC_ROLLBACK ? " (rollback)" : "", c_reset());
		break;
	case EV_STEP_OUTPUT:
		on_output_text(v, ev);
		break;
	case EV_STEP_RETRYING:
		flush_partial(v, ev->phase, ev->step);
		printf("  %s↻ %s%s: %s; retrying in %s\n", c_yellow(), term_text(s->name), c_reset(),
		       ev->data ? term_textn(ev->data, ev->len) : "", fmt_dur(ev->retry_in_s, d, sizeof(d)));
		break;
	case EV_STEP_FINISHED:
		flush_partial(v, ev->phase, ev->step);
		printf("  %s%s%s %s %s%s", status_color(s->status),
		       s->status == ST_SUCCEEDED ? "✓" : s->status == ST_SKIPPED ? "-" : "✗",
		       c_reset(), term_text(s->name), c_dim(), fmt_dur(s->duration_s, d, sizeof(d)));
		if (s->attempts > 1)
			printf(", %d attempts", s->attempts);
		if (s->confirmed_by) {
			char *how = step_confirmed_text(s);
			printf(s->auto_confirmed ? ", %s" : ", confirmed by %s", term_text(how));
			free(how);
		}
		printf("%s", c_reset());
		if (s->status != ST_SUCCEEDED && s->error)
			printf(" %s%s%s", c_red(), term_text(s->error), c_reset());
		putchar('\n');
		print_step_hosts(s);
		break;
	case EV_MANUAL_WAITING:
	case EV_NOTE:
		break;
	case EV_STEP_PAUSED:
		printf("  %s%s failed: waiting for a decision (lifeboat retry/skip from the console)%s\n",
		       c_yellow(), term_text(s->name), c_reset());
		break;
	case EV_RUN_FINISHED:
	case EV_MESSAGE:
		break;
	}
	int64_t now = clock_mono_ns();
	if (v->tty || ev->type == EV_PHASE_FINISHED || ev->type == EV_STEP_RETRYING ||
	    now - v->flushed_ns >= FLUSH_NS) {
		fflush(stdout);
		v->flushed_ns = now;
	}
}

/*
 * A waiting manual step: the y/N question on a terminal, and in any case the
 * command that answers it from another terminal. Polled by the engine,
 * never blocking, so whichever answer comes first wins.
 */
static enum manual_answer ask_manual(void *ud, const struct manual_request *rq, int first,
				     char **who, char **why)
{
	struct view *v = ud;
	(void)why;
	int tty = isatty(0);
	if (first) {
		const struct step_rec *s = &rq->run->phases[rq->phase].steps[rq->step];
		char *db = absolute_db();
		printf("\n  %s? %s%s: %s\n", c_yellow(), term_text(s->name), c_reset(), term_text(rq->text));
		if (rq->role)
			printf("    role %s\n", term_text(rq->role));
		/* the operator may not be one who can confirm: name one who can */
		const struct config *cfg = runner_config();
		const struct config_role *role = rq->role ? config_role(cfg, rq->role) : NULL;
		char *as = role && role->nmembers && !config_role_has_member(cfg, rq->role, g_opts.operator) ?
			   xasprintf(" --as %s", role->members[0]) : xstrdup("");
		if (*as)
			printf("    only members of role %s may confirm (%s is not)\n", rq->role,
			       g_opts.operator);
		printf("    from any terminal: lifeboat --db %s%s confirm %s '%s'   (or decline)\n", db,
		       as, rq->run->id, term_text(s->name));
		free(as);
		if (v->resumed_without_yes)
			printf("    (--yes of the original run is not carried over: resume --yes confirms manual steps)\n");
		if (tty)
			printf("    confirm here as %s? [y/N] ", g_opts.operator);
		else
			printf("    waiting: no terminal here (in CI, run with --yes to confirm manual steps automatically)\n");
		fflush(stdout);
		free(db);
		v->answer_len = 0;
	}
	if (!tty)
		return MANUAL_PENDING;
	struct pollfd pfd = { 0, POLLIN, 0 };
	while (poll(&pfd, 1, 0) > 0) {
		if (v->answer_len >= sizeof(v->answer) - 1)
			v->answer_len = 0;
		ssize_t got = read(0, v->answer + v->answer_len, sizeof(v->answer) - 1 - v->answer_len);
		if (got <= 0)
			return MANUAL_PENDING;	/* the terminal went away: others can still answer */
		v->answer_len += (size_t)got;
		v->answer[v->answer_len] = '\0';
		char *nl = strchr(v->answer, '\n');
		if (!nl)
			continue;
		*nl = '\0';
		*who = xstrdup(g_opts.operator);
		return v->answer[0] == 'y' || v->answer[0] == 'Y' ? MANUAL_CONFIRMED : MANUAL_DECLINED;
	}
	return MANUAL_PENDING;
}

static void on_signal(int sig)
{
	engine_request_abort(sig);
}

/* `lifeboat confirm` and friends on this host nudge us so the answer is immediate. */
static void on_wake(int sig)
{
	(void)sig;
	engine_wake();
}


/*
 * Executes x (a new run, or x->resume_run continued) with the live view and
 * the y/N prompt, then prints the summary and writes the reports asked for.
 * Shared by run, drill and resume.
 */
int run_with_view(struct run_exec *x, const char *report, const char *junit)
{
	struct view v = { .quiet = g_opts.quiet, .tty = isatty(1), .flushed_ns = clock_mono_ns(),
			  .resumed_without_yes = x->resume_run && !x->o->yes };
	struct engine_hooks hooks = { .event = on_event, .manual = ask_manual, .ud = &v };
	install_stop_signals(on_signal, on_wake);
	struct run_rec *r = NULL;
	int rc;
	if (x->resume_run) {
		char *refusal = NULL;
		r = x->resume_run;
		v.run = r;
		rc = engine_resume(x->host, x->rb, x->st, x->o, &hooks, r, &refusal);
		if (refusal) {
			errorf("cannot resume run %s: %s", r->id, refusal);
			free(refusal);
			return rc;
		}
	} else {
		rc = engine_execute(x->host, x->rb, x->st, x->o, &hooks, &r);
	}
	rc = run_finish(r, rc, report, junit);
	if (v.partial) {
		for (size_t i = 0; i < r->nphases; i++) {
			for (size_t j = 0; j <= r->phases[i].nsteps; j++)
				strbuf_release(&v.partial[i][j]);
			free(v.partial[i]);
		}
		free(v.partial);
	}
	if (!x->resume_run)
		run_rec_free(r);
	return rc;
}

static int run_common(const struct cmd_args *ca, enum run_mode mode)
{
	struct run_args a = { 0 };
	int rc = run_args_parse(ca, &a);
	if (!rc) {
		struct run_setup s;
		rc = run_setup_init(&s, &a, mode, TRIGGER_CLI);
		if (!rc && a.dry_run) {
			rc = dry_run_print(&s, &a, mode);
		} else if (!rc) {
			struct run_exec x = { .host = s.host, .rb = s.rb, .st = s.st, .o = &s.o };
			rc = run_with_view(&x, a.report, a.junit);
		}
		run_setup_release(&s);
	}
	run_args_release(&a);
	return rc;
}

static int cmd_run(const struct cmd_args *a)
{
	return run_common(a, MODE_RUN);
}

static int cmd_drill(const struct cmd_args *a)
{
	return run_common(a, MODE_DRILL);
}

static const struct opt run_options[] = {
	RUN_OPTIONS,
	{ RUN_OPT_DRY_RUN, "dry-run", NULL, "print each step as it would run (params, env, roles); run and record nothing" },
	OPT_END
};

const struct cmd cmd_run_entry = {
	"run", cmd_run, "FILE", "run a runbook (fault phases skipped) and judge its RTO/RPO",
	run_options,
	"run --yes failover.lua\n"
	"run --env prod -p region=eu-west-1 --report out.json failover.lua\n"
	"run --dry-run -p @params.yaml failover.lua",
	NEED_CONFIG, NULL,
};

const struct cmd cmd_drill_entry = {
	"drill", cmd_drill, "FILE", "run a runbook with its fault phases: a chaos drill",
	run_options,
	"drill --env staging --yes --junit drill.xml failover.lua",
	NEED_CONFIG, NULL,
};
