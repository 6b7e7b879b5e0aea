/*
 * `lifeboat run --dry-run FILE` (and drill): the preflight users reach for
 * first (Ansible's --check, Chaos Toolkit's --dry). The runbook is loaded
 * with the params, environment and config in force, every function-valued
 * field that can be resolved without side effects is resolved (outside a
 * run the functions that act raise, so one that would act says so), and
 * each step is printed as it would run: the command, the URL, the role and
 * who may confirm. Nothing runs and nothing is recorded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "redact.h"
#include "run-setup.h"

/* A string-or-function field as it would be at run time (a function gets 5 s: a preflight never hangs), or why it cannot be known now. */
static void add_value(struct strbuf *sb, struct luahost *h, const struct rb_value *v, int expand)
{
	char *out = NULL, *err = NULL;
	if (luahost_eval(h, v, expand, 5, &out, &err)) {
		strbuf_addf(sb, "(decided at run time: %s)", err ? err : "the function raised");
		free(err);
		return;
	}
	strbuf_addstr(sb, out ? out : "");
	free(out);
}

/* `on =`: the destinations a run would resolve (the inventory's groups expanded, as engine-remote.c does), or why not now. */
static void add_hosts(struct strbuf *sb, struct luahost *h, const struct config *cfg, const char *env,
		      const struct rb_step *d)
{
	char **names = d->on, **owned = NULL, *err = NULL;
	const char **hosts = NULL;
	size_t n = 0;
	strbuf_addstr(sb, "\n      on: ");
	if (d->on_ref != RB_NOREF) {
		if (luahost_eval_names(h, d->on_ref, &owned, &err)) {
			strbuf_addf(sb, "(decided at run time: %s)", err ? err : "the function raised");
			free(err);
			return;
		}
		names = owned;
	}
	int rc = 0;
	for (char **on = names; on && *on && !rc; on++)
		rc = config_resolve_target(cfg, env, *on, 0, &hosts, &n, &err);
	if (rc)
		strbuf_addf(sb, "(a run would refuse: %s)", err ? err : "?");
	else {
		for (size_t k = 0; k < n; k++)
			strbuf_addf(sb, "%s%s", k ? " " : "", hosts[k]);
		strbuf_addf(sb, " (%zu host%s)", n, n == 1 ? "" : "s");
	}
	free(err);
	free(hosts);
	for (char **w = owned; w && *w; w++)
		free(*w);
	free(owned);
}

static void add_confirmers(struct strbuf *sb, const struct rb_step *d, int yes)
{
	if (yes) {
		strbuf_addstr(sb, ", auto-confirmed (--yes)");
		return;
	}
	const struct config_role *r = d->role ? config_role(runner_config(), d->role) : NULL;
	if (!r || !r->nmembers) {
		strbuf_addstr(sb, ", anyone may confirm");
		return;
	}
	strbuf_addstr(sb, ", confirmed by ");
	for (size_t i = 0; i < r->nmembers; i++)
		strbuf_addf(sb, "%s%s", i ? " or " : "", r->members[i]);
}

static void print_step(struct luahost *h, const struct runbook *rb, const struct rb_phase *p,
		       const struct rb_step *d, const struct engine_opts *o, int rollback, int yes)
{
	struct strbuf sb = STRBUF_INIT;
	char b[32];
	strbuf_init(&sb, 0);
	luahost_ctx_where(h, p->name, d->name);
	strbuf_addf(&sb, "  %s %s\n      ", rollback ? "↺" : "·", d->name);
	switch (d->kind) {
	case STEP_SH: {
		char **shell = d->shell ? d->shell : rb->shell;
		strbuf_addstr(&sb, d->service ? "service: " : "sh: ");
		struct strbuf cmd = STRBUF_INIT;
		strbuf_init(&cmd, 0);
		add_value(&cmd, h, &d->value, 0);
		/* a multi-line script: trimmed, its lines under the first */
		const char *t = cmd.buf;
		while (*t == ' ' || *t == '\t' || *t == '\n')
			t++;
		size_t len = strlen(t);
		while (len && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\n'))
			len--;
		for (size_t k = 0; k < len; k++) {
			if (t[k] == '\n')
				strbuf_addstr(&sb, "\n        ");
			else
				strbuf_addch(&sb, t[k]);
		}
		strbuf_release(&cmd);
		if (d->on || d->on_ref != RB_NOREF)
			add_hosts(&sb, h, o->inventory, o->env, d);
		strbuf_addstr(&sb, "\n      [shell");
		for (char **w = shell; w && *w; w++)
			strbuf_addf(&sb, " %s", *w);
		break;
	}
	case STEP_RUN:
		strbuf_addf(&sb, "run: Lua function (%s:%d)\n      [", rb->path, d->line);
		break;
	case STEP_HTTP: {
		strbuf_addf(&sb, "http: %s ", d->method ? d->method : "GET");
		add_value(&sb, h, &d->value, 1);
		strbuf_addf(&sb, " -> expect %d", d->expect ? d->expect : 200);
		if (d->contains)
			strbuf_addf(&sb, " containing '%s'", d->contains);
		if (d->body.str || d->body.fn_ref != RB_NOREF) {
			strbuf_addstr(&sb, "\n      body: ");
			add_value(&sb, h, &d->body, 1);
		}
		char **headers = NULL, *err = NULL;
		if (luahost_eval_headers(h, d->headers_ref, 5, &headers, &err)) {
			strbuf_addf(&sb, "\n      headers: (decided at run time: %s)", err ? err : "?");
			free(err);
		}
		for (char **hd = headers; hd && *hd; hd++) {
			strbuf_addf(&sb, "\n      header: %s", *hd);
			free(*hd);
		}
		free(headers);
		strbuf_addstr(&sb, "\n      [");
		break;
	}
	case STEP_MANUAL:
		strbuf_addstr(&sb, "manual: ");
		add_value(&sb, h, &d->value, 1);
		strbuf_addstr(&sb, "\n      [");
		break;
	}
	int first = d->kind != STEP_SH;
#define SEP (first ? (first = 0, "") : ", ")
	strbuf_addf(&sb, "%srole %s", SEP, d->role ? d->role : "-");
	if (d->kind == STEP_MANUAL)
		add_confirmers(&sb, d, yes);
	double timeout = !isnan(d->timeout_s) ? d->timeout_s : d->kind == STEP_MANUAL ? NAN : rb->step_timeout_s;
	if (!isnan(timeout))
		strbuf_addf(&sb, "%stimeout %s", SEP, fmt_dur(timeout, b, sizeof(b)));
	if (d->retries)
		strbuf_addf(&sb, "%sretries %d every %s", SEP, d->retries, fmt_dur(d->retry_delay_s, b, sizeof(b)));
	if (d->continue_on_error)
		strbuf_addf(&sb, "%scontinue_on_error", SEP);
	if (!d->idempotent)
		strbuf_addf(&sb, "%snot idempotent", SEP);
#undef SEP
	strbuf_addstr(&sb, "]\n");
	/* params may hold secrets: the preflight shows what a run would, redacted */
	char *red = redact_string(runner_redactor(), sb.buf);
	fputs(red, stdout);
	free(red);
	strbuf_release(&sb);
}

int dry_run_print(struct run_setup *s, const struct run_args *a, enum run_mode mode)
{
	const struct runbook *rb = s->rb;
	const struct engine_opts *o = &s->o;
	int drill = mode == MODE_DRILL;
	char b[32], c[32];
	luahost_ctx_init(s->host, s->params, s->nparams, "dry-run", a->env, g_opts.operator, run_mode_name(mode));
	printf("%slifeboat %s --dry-run%s %s (%s) · operator %s%s%s\n", c_bold(), run_mode_name(mode), c_reset(),
	       rb->name, rb->path, g_opts.operator, a->env ? " · env " : "", a->env ? a->env : "");
	double rto = !isnan(o->rto_s) ? o->rto_s : rb->rto_s, rpo = !isnan(o->rpo_s) ? o->rpo_s : rb->rpo_s;
	printf("  RTO %s, RPO %s · workdir %s\n", isnan(rto) ? "-" : fmt_dur(rto, b, sizeof(b)),
	       isnan(rpo) ? "-" : fmt_dur(rpo, c, sizeof(c)), rb->workdir);
	struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 0);
	for (size_t i = 0; i < s->nparams; i++)
		strbuf_addf(&sb, "%s%s=%s", i ? " " : "", s->params[i].name, s->params[i].value);
	char *red = redact_string(runner_redactor(), sb.buf);
	printf("  params: %s\n", s->nparams ? red : "none");
	free(red);
	strbuf_release(&sb);
	for (size_t i = 0; i < rb->nphases; i++) {
		const struct rb_phase *p = &rb->phases[i];
		if (p->fault && !drill) {
			printf("%s▷ %s [fault] skipped: fault phases run only in drill mode%s\n", c_dim(),
			       p->name, c_reset());
			continue;
		}
		if (p->probe == PROBE_BEFORE && !drill) {
			printf("%s▷ %s [probes] skipped: the probes run before the fault only in drill mode%s\n",
			       c_dim(), p->name, c_reset());
			continue;
		}
		printf("%s▶ %s%s [role %s", c_bold(), p->name, c_reset(), p->role ? p->role : "-");
		if (!isnan(p->budget_s))
			printf(", budget %s", fmt_dur(p->budget_s, b, sizeof(b)));
		if (p->fault)
			printf(", fault");
		if (p->cleanup)
			printf(", cleanup: runs at the end whatever happened");
		if (p->probe)
			printf(", probes: checks that change nothing; one failing fails the run");
		if ((int)i == rb->restoring)
			printf(", restores service: the RTO stops here");
		if (p->parallel > 1)
			printf(", parallel %d", p->parallel);
		printf("]\n");
		for (size_t j = 0; j < p->nsteps; j++)
			print_step(s->host, rb, p, &p->steps[j], o, 0, a->yes);
		for (size_t j = 0; j < p->nrollback; j++)
			print_step(s->host, rb, p, &p->rollback[j], o, 1, a->yes);
	}
	printf("dry run: nothing ran and nothing was recorded · exit 0\n");
	return 0;
}
