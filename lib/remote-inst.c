/*
 * Remote instances (remote.h): one command on one host, a small state
 * machine over an ssh client proc sharing its host's master. The command
 * runs inside a wrapper sent over stdin (BOOT, WRAPPER below) that keeps a
 * lock per step and host, stops the command's process group when asked or
 * when heartbeats stop, and ends with a marker line giving the exit code.
 * The heartbeat thread writes to every live instance; rstep fans one
 * attempt out over several hosts.
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
#include <unistd.h>

#include "clock.h"
#include "util.h"

#define KEEP_TAIL 16384		/* bytes of prefixed output kept per instance */
#define CAPTURE_LIMIT (16u << 20)
#define BACKSTOP_NS (3000LL * 1000000)	/* after a stop request, beyond the grace */

/* ---- instances --------------------------------------------------------- */

/*
 * The one line ssh runs on the host: it reads the wrapper from stdin up to a
 * line ".", byte by byte (POSIX `read` on a pipe), and evaluates it, so the
 * rest of stdin stays for the wrapper's heartbeats.
 */
static const char BOOT[] =
	"exec sh -c 'n=$(printf \"\\nx\"); n=${n%x}; w=; "
	"while IFS= read -r l && [ \"$l\" != . ]; do w=$w$l$n; done; eval \"$w\"'";

/*
 * The wrapper, after the variables lb_nonce, lb_grace, lb_lock, lb_wd,
 * lb_cmd and the exports. A reader (R) takes heartbeats and requests from
 * stdin, a watchdog (T) stops the command after 10 s without a heartbeat
 * (by the clock: a loaded host's `sleep 1` takes longer than a second);
 * they talk through files in a private folder. The lock is a directory
 * (mkdir is atomic) holding the owner's pid; one left by a dead wrapper is
 * taken over, one still held is waited for (then its group is killed after
 * 20 s). Background helpers write to /dev/null, or sshd would wait for them.
 */
static const char WRAPPER[] =
	"lb_end() { printf '\\036LB%s:%s:%s\\n' \"$lb_nonce\" \"$1\" \"$2\"; exit 0; }\n"
	"command -v setsid >/dev/null 2>&1 || { echo \"lifeboat: setsid is not installed on this host (util-linux)\" >&2; lb_end 127 setup; }\n"
	"lb_d=$(mktemp -d \"${TMPDIR:-/tmp}/lifeboat-w.XXXXXX\") || lb_end 126 setup\n"
	"exec 3<&0 </dev/null\n"
	"lb_stop() {\n"
	"  [ -e \"$lb_d/why\" ] || echo \"$1\" >\"$lb_d/why\"\n"
	"  lb_p=$(cat \"$lb_d/pg\" 2>/dev/null)\n"
	"  [ -n \"$lb_p\" ] || return 0\n"
	"  if [ \"$2\" = now ]; then kill -KILL -\"$lb_p\" 2>/dev/null; return 0; fi\n"
	"  kill -TERM -\"$lb_p\" 2>/dev/null\n"
	"  ( sleep \"$lb_grace\"; kill -KILL -\"$lb_p\" 2>/dev/null ) &\n"
	"}\n"
	"( while IFS= read -r l; do\n"
	"    case $l in h) : >\"$lb_d/hb\" ;; t) lb_stop timeout ;; a) lb_stop abort ;; k) lb_stop abort now ;; esac\n"
	"  done\n"
	"  lb_stop eof ) <&3 >/dev/null 2>&1 &\n"
	"lb_r=$!\n"
	"( lb_h=$(date +%s)\n"
	"  while [ ! -e \"$lb_d/done\" ]; do\n"
	"    sleep 1\n"
	"    lb_n=$(date +%s)\n"
	"    if [ -e \"$lb_d/hb\" ]; then rm -f \"$lb_d/hb\"; lb_h=$lb_n; fi\n"
	"    if [ $((lb_n - lb_h)) -ge 10 ]; then lb_stop heartbeat; break; fi\n"
	"  done ) >/dev/null 2>&1 &\n"
	"lb_t=$!\n"
	"exec 3<&-\n"
	"lb_w=0\n"
	"until mkdir \"$lb_lock\" 2>/dev/null; do\n"
	"  [ -e \"$lb_d/why\" ] && break\n"
	"  lb_o=$(cat \"$lb_lock/pid\" 2>/dev/null)\n"
	"  if [ -n \"$lb_o\" ] && ! kill -0 \"$lb_o\" 2>/dev/null; then rm -rf \"$lb_lock\"; continue; fi\n"
	"  [ \"$lb_w\" = 0 ] && echo \"lifeboat: waiting for the previous instance of this step on this host to end\" >&2\n"
	"  lb_w=$((lb_w + 1))\n"
	"  if [ \"$lb_w\" -ge 20 ]; then\n"
	"    lb_o=$(cat \"$lb_lock/pg\" 2>/dev/null)\n"
	"    [ -n \"$lb_o\" ] && kill -KILL -\"$lb_o\" 2>/dev/null\n"
	"    rm -rf \"$lb_lock\"\n"
	"  fi\n"
	"  sleep 1\n"
	"done\n"
	"lb_code=125\n"
	"[ -e \"$lb_d/why\" ] || echo $$ >\"$lb_lock/pid\"\n"
	"if [ ! -e \"$lb_d/why\" ]; then\n"
	"  if [ -n \"$lb_wd\" ] && ! cd \"$lb_wd\"; then\n"
	"    lb_code=126; echo setup >\"$lb_d/why\"\n"
	"  else\n"
	"    ( lb_exports; LB_CMD=$lb_cmd exec setsid sh -c 'c=$LB_CMD; unset LB_CMD; eval \"$c\"' ) </dev/null &\n"
	"    lb_p=$!\n"
	"    echo \"$lb_p\" >\"$lb_d/pg\"\n"
	"    echo \"$lb_p\" >\"$lb_lock/pg\"\n"
	"    [ -e \"$lb_d/why\" ] && kill -TERM -\"$lb_p\" 2>/dev/null\n"
	"    wait \"$lb_p\" 2>/dev/null\n"
	"    lb_code=$?\n"
	"    if kill -TERM -\"$lb_p\" 2>/dev/null; then\n"
	"      lb_i=0\n"
	"      while kill -0 -\"$lb_p\" 2>/dev/null && [ \"$lb_i\" -lt $((lb_grace * 10)) ]; do sleep 0.1; lb_i=$((lb_i + 1)); done\n"
	"      kill -KILL -\"$lb_p\" 2>/dev/null\n"
	"    fi\n"
	"  fi\n"
	"fi\n"
	"[ \"$(cat \"$lb_lock/pid\" 2>/dev/null)\" = $$ ] && rm -rf \"$lb_lock\"\n"
	": >\"$lb_d/done\"\n"
	"kill \"$lb_r\" \"$lb_t\" 2>/dev/null\n"
	"lb_why=$(cat \"$lb_d/why\" 2>/dev/null) || lb_why=exit\n"
	"rm -rf \"$lb_d\"\n"
	"lb_end \"$lb_code\" \"$lb_why\"\n"
	".\n";

static void *heartbeat_main(void *arg);

enum istate { I_WAIT_MASTER, I_RUNNING, I_DONE };

struct rinst {
	struct remote *r;
	struct procset *ps;
	struct rinst_spec s;		/* strings borrowed from the caller, but: */
	char *dest;			/* owned copies of what must outlive the call */
	char *header;			/* what goes over stdin first, owned */
	struct master *m;
	enum istate state;
	struct proc *proc;
	int in_fd;			/* write end of ssh's stdin, -1 when closed; under r->mu */
	int hb_ok;			/* header written: heartbeats may follow; under r->mu */
	char nonce[17];
	int64_t start_ns, deadline_ns, backstop_ns;
	int asked_timeout, asked_abort;
	struct strbuf line[3];		/* partial lines per stream */
	struct strbuf tail;		/* kept output, prefixed */
	struct strbuf cap[3];		/* capture */
	int marker_seen;
	int marker_code;
	char marker_why[16];
	struct rinst_result res;
};

static void live_add(struct remote *r, struct rinst *i)
{
	pthread_mutex_lock(&r->mu);
	if (r->nlive == r->alive) {
		r->alive = r->alive ? r->alive * 2 : 16;
		r->live = xrealloc(r->live, r->alive * sizeof(*r->live));
	}
	r->live[r->nlive++] = i;
	if (!r->hb_started && !pthread_create(&r->hb, NULL, heartbeat_main, r))
		r->hb_started = 1;
	pthread_mutex_unlock(&r->mu);
}

static void live_remove(struct remote *r, struct rinst *i)
{
	pthread_mutex_lock(&r->mu);
	for (size_t k = 0; k < r->nlive; k++)
		if (r->live[k] == i) {
			r->live[k] = r->live[--r->nlive];
			break;
		}
	if (i->in_fd >= 0) {
		close(i->in_fd);
		i->in_fd = -1;
	}
	pthread_mutex_unlock(&r->mu);
}

/* Writes a request line ("t", "a", "k") to the wrapper; nothing when it cannot. */
static void tell(struct rinst *i, const char *what)
{
	pthread_mutex_lock(&i->r->mu);
	if (i->in_fd >= 0 && i->hb_ok) {
		ssize_t w = write(i->in_fd, what, strlen(what));
		(void)w;
	}
	pthread_mutex_unlock(&i->r->mu);
}

static void *heartbeat_main(void *arg)
{
	struct remote *r = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);	/* signals are the main thread's */
	pthread_mutex_lock(&r->mu);
	while (!r->quit) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 2;
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		if (r->quit)
			break;
		for (size_t k = 0; k < r->nlive; k++) {
			struct rinst *i = r->live[k];
			if (i->in_fd >= 0 && i->hb_ok) {
				ssize_t w = write(i->in_fd, "h\n", 2);
				(void)w;
			}
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* A shell word that sets a variable to v exactly, whatever bytes it holds. */
static void sh_assign(struct strbuf *sb, const char *name, const char *v)
{
	int plain = 1;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			plain = 0;
	if (plain) {
		strbuf_addf(sb, "%s='", name);
		for (const char *p = v; *p; p++) {
			if (*p == '\'')
				strbuf_addstr(sb, "'\\''");
			else
				strbuf_addch(sb, *p);
		}
		strbuf_addstr(sb, "'\n");
		return;
	}
	/* newlines and control characters: printf %b octal escapes, on one line */
	strbuf_addf(sb, "%s=$(printf '%%b_' '", name);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\'' || *p == '\\')
			strbuf_addf(sb, "\\0%03o", *p);
		else
			strbuf_addch(sb, (char)*p);
	}
	strbuf_addf(sb, "'); %s=${%s%%_}\n", name, name);
}

static char *lock_name(const char *lock, const char *dest)
{
	/* FNV-1a of (lock, dest): a file name on the host with nothing from the runbook in it */
	uint64_t h = 1469598103934665603ULL;
	for (const char *s = lock ? lock : ""; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *s = dest; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return xasprintf("lifeboat-%016llx.lock", (unsigned long long)h);
}

static char *build_header(const struct rinst_spec *s, const char *nonce)
{
	struct strbuf sb;
	strbuf_init(&sb, 4096);
	char *lock = lock_name(s->lock, s->dest);
	int64_t grace = s->grace_ms > 0 ? (s->grace_ms + 999) / 1000 : 2;
	strbuf_addf(&sb, "lb_nonce=%s; lb_grace=%lld; lb_lock=${TMPDIR:-/tmp}/%s\n", nonce, (long long)grace, lock);
	free(lock);
	sh_assign(&sb, "lb_wd", s->workdir ? s->workdir : "");
	sh_assign(&sb, "lb_cmd", s->cmd);
	/* exported in the command's own shell only: the wrapper's helpers carry none of it */
	strbuf_addstr(&sb, "lb_exports() {\n");
	for (char *const *e = s->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char *name = xstrndup(*e, (size_t)(eq - *e));
		strbuf_addf(&sb, "export %s; ", name);
		sh_assign(&sb, name, eq + 1);
		free(name);
	}
	strbuf_addstr(&sb, "export LIFEBOAT_HOST; ");
	sh_assign(&sb, "LIFEBOAT_HOST", s->dest);
	strbuf_addstr(&sb, ":\n}\n");
	strbuf_addstr(&sb, WRAPPER);
	return strbuf_detach(&sb);
}

static void keep_line(struct rinst *i, int stream, const char *text, size_t len)
{
	if (i->s.capture && stream >= 1 && stream <= 2 && i->cap[stream].len < CAPTURE_LIMIT) {
		strbuf_add(&i->cap[stream], text, len);
		strbuf_addch(&i->cap[stream], '\n');
	}
	struct strbuf *t = &i->tail;
	strbuf_addf(t, "%s: ", i->dest);
	strbuf_add(t, text, len);
	strbuf_addch(t, '\n');
	if (t->len > 2 * KEEP_TAIL) {
		size_t drop = t->len - KEEP_TAIL;
		const char *nl = memchr(t->buf + drop, '\n', t->len - drop);
		if (nl)
			drop = (size_t)(nl + 1 - t->buf);
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
		t->buf[t->len] = '\0';
	}
	if (i->s.on_output) {
		char *out = xasprintf("%s: %.*s\n", i->dest, (int)len, text);
		i->s.on_output(i->s.ud, (enum proc_stream)stream, out, strlen(out));
		free(out);
	}
}

/* One line of the host's output (without its newline): the end marker, or output. */
static void take_line(struct rinst *i, int stream, const char *text, size_t len)
{
	if (stream == PROC_STDOUT) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "\036LB%s:", i->nonce);
		for (size_t k = 0; k + (size_t)kl <= len; k++) {
			if (memcmp(text + k, key, (size_t)kl))
				continue;
			char rest[64];
			size_t rl = len - k - (size_t)kl;
			if (rl >= sizeof(rest))
				rl = sizeof(rest) - 1;
			memcpy(rest, text + k + kl, rl);
			rest[rl] = '\0';
			int code = -1;
			char why[16] = "";
			if (sscanf(rest, "%d:%15[a-z]", &code, why) == 2) {
				i->marker_seen = 1;
				i->marker_code = code;
				snprintf(i->marker_why, sizeof(i->marker_why), "%s", why);
			}
			if (k)
				keep_line(i, stream, text, k);
			return;
		}
	}
	keep_line(i, stream, text, len);
}

static void inst_output(void *ud, enum proc_stream stream, const char *data, size_t len)
{
	struct rinst *i = ud;
	struct strbuf *b = &i->line[stream];
	strbuf_add(b, data, len);
	size_t start = 0;
	for (size_t k = 0; k < b->len; k++)
		if (b->buf[k] == '\n') {
			take_line(i, stream, b->buf + start, k - start);
			start = k + 1;
		}
	if (start) {
		memmove(b->buf, b->buf + start, b->len - start);
		b->len -= start;
		b->buf[b->len] = '\0';
	}
	if (b->len > 65536) {	/* a line without end: keep it in pieces */
		take_line(i, stream, b->buf, b->len);
		strbuf_reset(b);
	}
}

static void inst_finish(struct rinst *i, enum rstatus st, int code, char *error)
{
	for (int s = 1; s <= 2; s++)
		if (i->line[s].len) {
			take_line(i, s, i->line[s].buf, i->line[s].len);
			strbuf_reset(&i->line[s]);
		}
	i->res.status = st;
	i->res.exit_code = code;
	free(i->res.error);
	i->res.error = error;
	i->res.duration_s = (double)(clock_mono_ns() - i->start_ns) / 1e9;
	i->state = I_DONE;
	live_remove(i->r, i);
}

static void inst_spawn(struct rinst *i)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		inst_finish(i, RS_FAILED, -1, xasprintf("cannot make a pipe: %s", strerror(errno)));
		return;
	}
	size_t hlen = strlen(i->header);
	if (hlen + 4096 > 65536)
		fcntl(p[1], F_SETPIPE_SZ, (int)(hlen + 4096 > (1u << 20) ? (1u << 20) : hlen + 4096));
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
	struct argv a = { 0 };
	base_argv(i->r, &a, i->m, 0);
	add_dest(&a, i->dest);
	av_add(&a, BOOT);
	struct proc_opts po = {
		.argv = a.v, .keep_head = 0, .keep_tail = 0,
		.on_output = inst_output, .ud = i, .redact = i->s.redact,
		.stdin_pipe = 1, .stdin_fd = p[0],
	};
	int rc = proc_spawn(i->ps, &po, &i->proc);
	int saved = errno;
	close(p[0]);
	av_release(&a);
	if (rc) {
		close(p[1]);
		i->proc = NULL;
		inst_finish(i, RS_FAILED, -1, xasprintf("cannot start ssh: %s", strerror(saved)));
		return;
	}
	ssize_t w = write(p[1], i->header, hlen);
	i->in_fd = p[1];
	if (w != (ssize_t)hlen) {
		/* the header must go in one piece; too many params for a pipe */
		rinst_stop(i, 1);
		free(i->res.error);
		i->res.error = xstrdup("the command and params are too large to send (over 1 MiB)");
	}
	i->state = I_RUNNING;
	i->hb_ok = 1;
	live_add(i->r, i);
}

struct rinst *rinst_start(struct remote *r, struct procset *ps, const struct rinst_spec *s)
{
	struct rinst *i = xcalloc(1, sizeof(*i));
	i->r = r;
	i->ps = ps;
	i->s = *s;
	i->dest = xstrdup(s->dest);
	i->s.dest = i->dest;
	i->in_fd = -1;
	i->res.exit_code = -1;
	i->res.status = RS_RUNNING;
	for (int k = 0; k < 3; k++) {
		strbuf_init(&i->line[k], 0);
		strbuf_init(&i->cap[k], 0);
	}
	strbuf_init(&i->tail, 0);
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t x = (uint64_t)clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)i;
		memcpy(rnd, &x, sizeof(rnd));
	}
	for (int k = 0; k < 8; k++)
		snprintf(i->nonce + 2 * k, 3, "%02x", rnd[k]);
	i->header = build_header(&i->s, i->nonce);
	i->start_ns = clock_mono_ns();
	i->deadline_ns = s->timeout_s > 0 ? i->start_ns + (int64_t)(s->timeout_s * 1e9) : 0;
	i->m = master_use(r, ps, s->dest);
	i->state = I_WAIT_MASTER;
	rinst_poll(i);
	return i;
}

static void finish_from_proc(struct rinst *i)
{
	const struct proc_result *pr = proc_result(i->proc);
	int code = pr->code;
	proc_free(i->proc);
	i->proc = NULL;
	char *preset = i->res.error;
	i->res.error = NULL;
	if (i->marker_seen) {
		const char *why = i->marker_why;
		int c = i->marker_code;
		if (!strcmp(why, "exit"))
			inst_finish(i, c ? RS_FAILED : RS_SUCCEEDED, c,
				    c ? xasprintf("exited with code %d", c) : NULL);
		else if (!strcmp(why, "timeout"))
			inst_finish(i, RS_TIMED_OUT, -1, xasprintf("timed out after %gs (stopped on the host)",
								   i->s.timeout_s));
		else if (!strcmp(why, "abort"))
			inst_finish(i, RS_INTERRUPTED, -1, xstrdup("stopped: the run was aborted"));
		else if (!strcmp(why, "heartbeat"))
			inst_finish(i, RS_UNREACHABLE, -1,
				    xstrdup("lost contact: no heartbeat from lifeboat for 10 s (a network partition?); "
					    "the command was stopped on the host"));
		else if (!strcmp(why, "setup"))
			inst_finish(i, RS_FAILED, c, xasprintf("could not start the command on the host (%s)",
							       i->s.workdir ? "remote_workdir missing?" :
							       "see its output"));
		else
			inst_finish(i, RS_UNREACHABLE, -1,
				    xasprintf("the connection closed (%s); the command was stopped on the host", why));
	} else if (i->asked_timeout) {
		inst_finish(i, RS_TIMED_OUT, -1, xasprintf("timed out after %gs; the connection was cut, the "
							   "host stops the command within 10 s", i->s.timeout_s));
	} else if (i->asked_abort) {
		inst_finish(i, RS_INTERRUPTED, -1, xstrdup("stopped: the run was aborted"));
	} else if (code == 255) {
		/* ssh's own errors are the last stderr lines */
		char *last = NULL;
		const char *t = i->tail.buf;
		for (const char *s = t; s && *s;) {
			const char *e = strchr(s, '\n');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			if (len) {
				free(last);
				last = xstrndup(s, len);
			}
			s = e ? e + 1 : s + len;
		}
		inst_finish(i, RS_UNREACHABLE, -1, xasprintf("the connection failed or was lost%s%s",
							     last ? ": " : "", last ? last : ""));
		free(last);
	} else {
		inst_finish(i, RS_FAILED, code, xasprintf("the remote wrapper did not report (ssh exited with "
							  "code %d): does the host have a POSIX sh?", code));
	}
	if (preset) {
		free(i->res.error);
		i->res.error = preset;
	}
}

int rinst_poll(struct rinst *i)
{
	if (i->state == I_WAIT_MASTER) {
		if (i->asked_abort) {
			inst_finish(i, RS_INTERRUPTED, -1, xstrdup("stopped: the run was aborted before it connected"));
			return 1;
		}
		switch (master_poll(i->m)) {
		case M_UP:
			inst_spawn(i);
			break;
		case M_FAILED:
			inst_finish(i, RS_UNREACHABLE, -1, xstrdup(i->m->error));
			return 1;
		default:
			return 0;
		}
	}
	if (i->state != I_RUNNING)
		return i->state == I_DONE;
	int64_t now = clock_mono_ns();
	if (proc_state(i->proc) == PROC_DONE) {
		finish_from_proc(i);
		return 1;
	}
	if (i->deadline_ns && now >= i->deadline_ns && !i->asked_timeout && !i->asked_abort) {
		i->asked_timeout = 1;
		tell(i, "t\n");
		i->backstop_ns = now + (i->s.grace_ms > 0 ? i->s.grace_ms : 2000) * 1000000 + BACKSTOP_NS;
	}
	if (i->backstop_ns && now >= i->backstop_ns) {
		proc_stop(i->proc, 1);
		i->backstop_ns = 0;
	}
	return 0;
}

void rinst_stop(struct rinst *i, int hard)
{
	if (i->state == I_DONE)
		return;
	i->asked_abort = 1;
	if (i->state != I_RUNNING)
		return;
	tell(i, hard ? "k\n" : "a\n");
	int64_t now = clock_mono_ns();
	int64_t bs = now + (hard ? 0 : (i->s.grace_ms > 0 ? i->s.grace_ms : 2000) * 1000000) + BACKSTOP_NS;
	if (!i->backstop_ns || bs < i->backstop_ns)
		i->backstop_ns = bs;
}

const struct rinst_result *rinst_result(const struct rinst *i)
{
	return &i->res;
}

const char *rinst_output(const struct rinst *i)
{
	return i->tail.buf ? i->tail.buf : "";
}

const char *rinst_stream(const struct rinst *i, int stream, size_t *len)
{
	*len = i->cap[stream].len;
	return i->cap[stream].buf ? i->cap[stream].buf : "";
}

void rinst_free(struct rinst *i)
{
	if (!i)
		return;
	if (i->proc) {
		proc_stop(i->proc, 1);
		while (proc_state(i->proc) != PROC_DONE)
			procset_poll(i->ps, 100);
		proc_free(i->proc);
	}
	live_remove(i->r, i);
	for (int k = 0; k < 3; k++) {
		strbuf_release(&i->line[k]);
		strbuf_release(&i->cap[k]);
	}
	strbuf_release(&i->tail);
	free(i->res.error);
	free(i->header);
	free(i->dest);
	free(i);
}

/* ---- fan-out ----------------------------------------------------------- */

struct rstep {
	struct remote *r;
	struct procset *ps;
	struct rstep_spec s;		/* its strings point at the owned copies below */
	char **hosts;			/* owned copies */
	char *cmd, *workdir, *lock;
	char **env;
	unsigned char *told;		/* per host: 1 start reported, 2 end reported */
	struct rinst **insts;
	size_t next;
	int running, failed, stopped, hard;
};

struct rstep *rstep_start(struct remote *r, struct procset *ps, const struct rstep_spec *s)
{
	struct rstep *st = xcalloc(1, sizeof(*st));
	st->r = r;
	st->ps = ps;
	st->s = *s;
	st->hosts = xcalloc(s->nhosts + 1, sizeof(char *));
	for (size_t k = 0; k < s->nhosts; k++)
		st->hosts[k] = xstrdup(s->hosts[k]);
	st->s.hosts = (const char *const *)st->hosts;
	st->cmd = xstrdup(s->inst.cmd);
	st->workdir = s->inst.workdir ? xstrdup(s->inst.workdir) : NULL;
	st->lock = s->inst.lock ? xstrdup(s->inst.lock) : NULL;
	size_t ne = 0;
	while (s->inst.env && s->inst.env[ne])
		ne++;
	st->env = xcalloc(ne + 1, sizeof(char *));
	for (size_t k = 0; k < ne; k++)
		st->env[k] = xstrdup(s->inst.env[k]);
	st->s.inst.cmd = st->cmd;
	st->s.inst.workdir = st->workdir;
	st->s.inst.lock = st->lock;
	st->s.inst.env = st->env;
	st->insts = xcalloc(s->nhosts + 1, sizeof(*st->insts));
	st->told = xcalloc(s->nhosts + 1, 1);
	if (st->s.parallel < 1)
		st->s.parallel = 1;
	rstep_poll(st);
	return st;
}

int rstep_poll(struct rstep *st)
{
	for (size_t k = 0; k < st->next; k++) {
		struct rinst *i = st->insts[k];
		if (!i || i->state == I_DONE)
			continue;
		if (rinst_poll(i)) {
			st->running--;
			if (i->res.status != RS_SUCCEEDED)
				st->failed++;
		}
	}
	while (!st->stopped && st->next < st->s.nhosts && st->running < st->s.parallel &&
	       st->s.failed_before + st->failed <= st->s.max_failed) {
		struct rinst_spec is = st->s.inst;
		is.dest = st->hosts[st->next];
		struct rinst *i = rinst_start(st->r, st->ps, &is);
		st->insts[st->next++] = i;
		if (i->state == I_DONE) {
			if (i->res.status != RS_SUCCEEDED)
				st->failed++;
		} else {
			st->running++;
		}
	}
	return st->running == 0;
}

void rstep_stop(struct rstep *st, int hard)
{
	st->stopped = 1;
	for (size_t k = 0; k < st->next; k++)
		if (st->insts[k])
			rinst_stop(st->insts[k], hard);
}

int rstep_next_event(struct rstep *st, size_t *k, int *started)
{
	for (size_t i = 0; i < st->next; i++) {
		if (!st->insts[i] || st->told[i] == 2)
			continue;
		if (st->told[i] == 0) {
			st->told[i] = 1;
			*k = i;
			*started = 1;
			return 1;
		}
		if (st->insts[i]->state == I_DONE) {
			st->told[i] = 2;
			*k = i;
			*started = 0;
			return 1;
		}
	}
	return 0;
}

size_t rstep_count(const struct rstep *st)
{
	return st->s.nhosts;
}

const struct rinst *rstep_inst(const struct rstep *st, size_t k)
{
	return k < st->next ? st->insts[k] : NULL;
}

void rstep_free(struct rstep *st)
{
	if (!st)
		return;
	for (size_t k = 0; k < st->s.nhosts; k++) {
		rinst_free(st->insts[k]);
		free(st->hosts[k]);
	}
	free(st->insts);
	free(st->told);
	free(st->hosts);
	free(st->cmd);
	free(st->workdir);
	free(st->lock);
	for (char **e = st->env; *e; e++)
		free(*e);
	free(st->env);
	free(st);
}
