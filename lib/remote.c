/*
 * Remote hosts over OpenSSH (remote.h says what and why). The pieces:
 * masters (one ControlMaster connection per destination, here, with the
 * ssh command lines and `hosts --check`), and in remote-inst.c instances
 * (one command on one host, a small state machine over a proc), the
 * heartbeat thread, and rstep (fan-out of one attempt over several hosts).
 */
#include "remote-int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "util.h"

#define PERSIST "30"		/* a master outlives its last client by this (after a kill -9 too) */

static const char *const rstatus_names[] = {
	"pending", "running", "succeeded", "failed", "unreachable", "timed_out", "interrupted",
	"skipped", NULL
};

const char *rstatus_name(enum rstatus s)
{
	return (unsigned)s < sizeof(rstatus_names) / sizeof(rstatus_names[0]) - 1 ? rstatus_names[s] : "?";
}

int rstatus_parse(const char *name)
{
	for (int i = 0; rstatus_names[i]; i++)
		if (!strcmp(rstatus_names[i], name))
			return i;
	return -1;
}

/* ---- the run's connections --------------------------------------------- */

int remote_new(const struct remote_conf *c, struct remote **out, char **err)
{
	*out = NULL;
	*err = NULL;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp || strlen(tmp) > 60)
		tmp = "/tmp";
	char tag[16] = "run";
	if (c->tag) {
		size_t k = 0;
		for (const char *s = c->tag; *s && k < 12; s++)
			if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')
				tag[k++] = *s;
		tag[k] = '\0';
	}
	char *dir = xasprintf("%s/lifeboat-ssh-%s-XXXXXX", tmp, tag);
	if (!mkdtemp(dir)) {	/* mkdtemp makes it 0700 */
		*err = xasprintf("cannot create a folder for ssh control sockets in %s: %s", tmp, strerror(errno));
		free(dir);
		return -1;
	}
	struct remote *r = xcalloc(1, sizeof(*r));
	r->dir = dir;
	r->config = c->ssh_config ? xstrdup(c->ssh_config) : NULL;
	r->connect_timeout_s = c->connect_timeout_s > 0 ? c->connect_timeout_s : 5;
	size_t n = 0;
	while (c->options && c->options[n])
		n++;
	r->options = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r->options[i] = xstrdup(c->options[i]);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	*out = r;
	return 0;
}

void av_add(struct argv *a, const char *s)
{
	if (a->n + 2 > a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 32;
		a->v = xrealloc(a->v, a->alloc * sizeof(char *));
	}
	a->v[a->n++] = (char *)(uintptr_t)s;
	a->v[a->n] = NULL;
}

static void av_own(struct argv *a, char *s)
{
	a->owned[a->nowned++] = s;
	av_add(a, s);
}

void av_release(struct argv *a)
{
	for (size_t i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/*
 * ssh reads the first value it gets for an option: BatchMode, the host key
 * policy and the control path come first so no config can turn them off;
 * the user's options come next and may change the rest.
 */
void base_argv(struct remote *r, struct argv *a, const struct master *m, int master)
{
	av_add(a, "ssh");
	if (r->config) {
		av_add(a, "-F");
		av_add(a, r->config);
	}
	av_add(a, "-o");
	av_add(a, "BatchMode=yes");
	av_add(a, "-o");
	av_add(a, "StrictHostKeyChecking=yes");
	av_add(a, "-o");
	av_own(a, xasprintf("ControlPath=%s", m->sock));
	av_add(a, "-o");
	av_add(a, master ? "ControlMaster=yes" : "ControlMaster=no");
	if (master) {
		av_add(a, "-o");
		av_add(a, "ControlPersist=" PERSIST);
	}
	for (char **o = r->options; *o; o++)
		av_add(a, *o);
	av_add(a, "-o");
	av_own(a, xasprintf("ConnectTimeout=%d", (int)ceil(r->connect_timeout_s)));
	av_add(a, "-o");
	av_add(a, "ServerAliveInterval=5");
	av_add(a, "-o");
	av_add(a, "ServerAliveCountMax=3");
	av_add(a, "-T");
}

/* user@host:port is not a form ssh takes; ssh://user@host:port is. */
void add_dest(struct argv *a, const char *dest)
{
	av_add(a, "--");
	if (strchr(dest, ':') && strncmp(dest, "ssh://", 6))
		av_own(a, xasprintf("ssh://%s", dest));
	else
		av_add(a, dest);
}

static struct master *master_for(struct remote *r, const char *dest)
{
	for (size_t i = 0; i < r->nmasters; i++)
		if (!strcmp(r->masters[i]->dest, dest))
			return r->masters[i];
	r->masters = xrealloc(r->masters, (r->nmasters + 1) * sizeof(*r->masters));
	struct master *m = xcalloc(1, sizeof(*m));
	r->masters[r->nmasters] = m;
	m->dest = xstrdup(dest);
	m->sock = xasprintf("%s/m%zu", r->dir, r->nmasters);
	m->connect_s = NAN;
	m->hostkey = "?";
	r->nmasters++;
	return m;
}

/* What ssh said, as one line a person can act on. */
static void classify_failure(struct master *m, const char *text, int code)
{
	free(m->error);
	m->error = NULL;
	const char *last = NULL;
	/* the last non-empty line: ssh's verdict */
	for (const char *s = text; s && *s;) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len && strncmp(s, "Warning: Permanently added", 26))
			last = s;
		s = e ? e + 1 : s + len;
	}
	char *line = last ? xstrndup(last, strcspn(last, "\r\n")) : xasprintf("ssh exited with code %d", code);
	if (text && (strstr(text, "REMOTE HOST IDENTIFICATION HAS CHANGED") || strstr(text, "has changed and"))) {
		m->hostkey = "changed";
		m->error = xasprintf("the host key of '%s' CHANGED since it was recorded: it may be a different "
				     "machine; find out why before you remove the old key (ssh-keygen -R)", m->dest);
	} else if (text && (strstr(text, "Host key verification failed") || strstr(text, "host key is known"))) {
		m->hostkey = "unknown";
		m->error = xasprintf("the host key of '%s' is not known, and lifeboat never accepts one silently: "
				     "check its fingerprint with the host's owner, then add it with "
				     "`ssh -o StrictHostKeyChecking=accept-new %s true` (or ssh-keyscan into "
				     "known_hosts)", m->dest, m->dest);
	} else if (text && strstr(text, "Permission denied")) {
		m->hostkey = "known";
		m->error = xasprintf("cannot log in to '%s': %s (BatchMode: no password prompts; use a key or "
				     "an agent)", m->dest, line);
	} else {
		m->error = xasprintf("cannot connect to '%s': %s", m->dest, line);
	}
	free(line);
}

static void master_start(struct remote *r, struct procset *ps, struct master *m)
{
	struct argv a = { 0 };
	base_argv(r, &a, m, 1);
	av_add(&a, "-N");
	add_dest(&a, m->dest);
	unlink(m->sock);
	struct proc_opts po = {
		.argv = a.v, .keep_head = 4096, .keep_tail = 1024, .leave_group = 1,
		.timeout_ms = (int64_t)(r->connect_timeout_s * 1000) * 2 + 5000,
	};
	m->start_ns = clock_mono_ns();
	r->ps = ps;
	if (proc_spawn(ps, &po, &m->proc)) {
		m->state = M_FAILED;
		m->error = xasprintf("cannot start ssh: %s (install openssh-client)", strerror(errno));
		m->proc = NULL;
	} else {
		m->state = M_CONNECTING;
	}
	av_release(&a);
}

/* Moves a connecting master on; its state afterwards. */
enum mstate master_poll(struct master *m)
{
	if (m->state != M_CONNECTING || proc_state(m->proc) != PROC_DONE)
		return m->state;
	const struct proc_result *res = proc_result(m->proc);
	int64_t cut;
	char *text = proc_output(m->proc, &cut);
	struct stat sb;
	if (res->exited && res->code == 0 && !stat(m->sock, &sb)) {
		m->state = M_UP;
		m->hostkey = "known";
		m->connect_s = (double)(clock_mono_ns() - m->start_ns) / 1e9;
	} else {
		m->state = M_FAILED;
		if (res->timed_out)
			m->error = xasprintf("cannot connect to '%s': no answer within the connect timeout",
					     m->dest);
		else
			classify_failure(m, text, res->code);
	}
	free(text);
	proc_free(m->proc);
	m->proc = NULL;
	return m->state;
}

/* A master ready to use, (re)started when its socket went away (ControlPersist ran out). */
struct master *master_use(struct remote *r, struct procset *ps, const char *dest)
{
	struct master *m = master_for(r, dest);
	struct stat sb;
	if (m->state == M_UP && stat(m->sock, &sb))
		m->state = M_NONE;
	if (m->state == M_NONE || m->state == M_FAILED) {
		free(m->error);
		m->error = NULL;
		master_start(r, ps, m);
	}
	return m;
}

void remote_free(struct remote *r)
{
	if (!r)
		return;
	if (r->hb_started) {
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->hb, NULL);
	}
	/* close the masters: ssh -O exit, all at once, waited for briefly */
	struct procset *ps = procset_new();
	struct proc **closing = xcalloc(r->nmasters + 1, sizeof(*closing));
	for (size_t i = 0; i < r->nmasters; i++) {
		struct master *m = r->masters[i];
		if (m->proc) {
			proc_stop(m->proc, 1);
			while (proc_state(m->proc) != PROC_DONE)
				procset_poll(r->ps, 100);
			proc_free(m->proc);
			m->proc = NULL;
		}
		struct stat sb;
		if (stat(m->sock, &sb))
			continue;
		struct argv a = { 0 };
		base_argv(r, &a, m, 0);
		av_add(&a, "-O");
		av_add(&a, "exit");
		add_dest(&a, m->dest);
		struct proc_opts po = { .argv = a.v, .timeout_ms = 3000 };
		if (proc_spawn(ps, &po, &closing[i]))
			closing[i] = NULL;
		av_release(&a);
	}
	while (procset_active(ps))
		procset_poll(ps, 200);
	for (size_t i = 0; i < r->nmasters; i++) {
		if (closing[i])
			proc_free(closing[i]);
		unlink(r->masters[i]->sock);
		free(r->masters[i]->dest);
		free(r->masters[i]->sock);
		free(r->masters[i]->error);
		free(r->masters[i]);
	}
	free(closing);
	procset_free(ps);
	rmdir(r->dir);
	free(r->masters);
	free(r->dir);
	free(r->config);
	for (char **o = r->options; *o; o++)
		free(*o);
	free(r->options);
	free(r->live);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

/* ---- hosts --check ----------------------------------------------------- */

void remote_probe_all(struct remote *r, struct procset *ps, const char *const *dests, size_t n,
		      struct remote_probe *probes)
{
	struct master **ms = xcalloc(n + 1, sizeof(*ms));
	for (size_t k = 0; k < n; k++) {
		memset(&probes[k], 0, sizeof(probes[k]));
		probes[k].connect_s = probes[k].rtt_s = NAN;
		ms[k] = master_use(r, ps, dests[k]);
	}
	for (;;) {
		int pending = 0;
		for (size_t k = 0; k < n; k++)
			pending += master_poll(ms[k]) == M_CONNECTING;
		if (!pending)
			break;
		procset_poll(ps, 200);
	}
	/* a round trip through each connection: `exit 0` on the host */
	struct proc **ping = xcalloc(n + 1, sizeof(*ping));
	int64_t *t0 = xcalloc(n + 1, sizeof(*t0));
	for (size_t k = 0; k < n; k++) {
		if (ms[k]->state != M_UP)
			continue;
		struct argv a = { 0 };
		base_argv(r, &a, ms[k], 0);
		add_dest(&a, dests[k]);
		av_add(&a, "exit 0");
		struct proc_opts po = { .argv = a.v, .keep_head = 1024, .keep_tail = 256,
					.timeout_ms = (int64_t)(r->connect_timeout_s * 1000) + 5000 };
		t0[k] = clock_mono_ns();
		if (proc_spawn(ps, &po, &ping[k]))
			ping[k] = NULL;
		av_release(&a);
	}
	for (;;) {
		int left = 0;
		for (size_t k = 0; k < n; k++)
			if (ping[k] && proc_state(ping[k]) != PROC_DONE)
				left++;
		if (!left)
			break;
		procset_poll(ps, 200);
	}
	for (size_t k = 0; k < n; k++) {
		struct remote_probe *p = &probes[k];
		struct master *m = ms[k];
		p->hostkey = m->hostkey;
		if (m->state != M_UP) {
			p->error = xstrdup(m->error ? m->error : "cannot connect");
			continue;
		}
		p->connect_s = m->connect_s;
		const struct proc_result *res = ping[k] ? proc_result(ping[k]) : NULL;
		if (res && res->exited && res->code == 0) {
			p->reachable = 1;
			p->rtt_s = (double)res->duration_ns / 1e9;
		} else {
			p->error = xasprintf("connected, but a command did not run (ssh exited with code %d)",
					     res ? res->code : -1);
		}
		(void)t0;
		if (ping[k])
			proc_free(ping[k]);
	}
	free(ping);
	free(t0);
	free(ms);
}
