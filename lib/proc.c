/*
 * The process runner behind proc.h. Why it is built the way it is:
 *
 *  - vfork, not fork: starting a step costs no copy of lifeboat's page
 *    tables. The child's setup (own group, clean signals, /dev/null stdin,
 *    the output pipe, chdir, closefrom(3)) is system calls only, between
 *    vfork and exec: what posix_spawn does, without the per-call work glibc
 *    adds (a stack mapped and unmapped, six getrlimit for the file actions),
 *    which on a run of short steps is measurable (tests/bench). The child
 *    starts on our CPU (see spawn_child): we only wait while it runs.
 *  - A step's stdout and stderr share one pipe (merge_stderr): one pipe to
 *    make, poll and close instead of two, and the output kept in the order
 *    it was written. Lua's sh() keeps them apart.
 *  - Each leader has a pidfd polled next to its pipes, so its exit wakes
 *    poll() like output does: no SIGCHLD handler to install, and no ticks or
 *    sleeps on the path of a command that simply runs and exits.
 *  - Reaping is waitpid(-1): lifeboat is a subreaper, so whatever a step
 *    orphaned comes back to us and must be reaped by someone.
 *  - A proc becomes DONE only when its group is empty (or, after the final
 *    SIGKILL, KILL_WAIT_MS has passed), so "DONE" means nothing of the step
 *    is left running. Nothing signals "group empty", so only in that state,
 *    leader reaped and pipes closed with members still dying, do we recheck
 *    on a short backoff tick.
 *
 * Starting the child (vfork and its setup, the PATH lookup, the pipes) is
 * in proc-spawn.c; the output kept of a process is a headtail.h buffer.
 *
 * Nothing here is thread-safe: all sets are served from one thread, and
 * procset_wake()/proc_wake_all() are the only entry points for signal handlers
 * and other threads. They write to one wake pipe for the whole process, made
 * once and never closed, so a handler that fires while a set is being freed
 * never writes through a freed set or a closed (maybe reused) descriptor.
 */
#include "proc-int.h"

#include "clock.h"
#include "headtail.h"
#include "redact.h"
#include "util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEVER INT64_MAX
/* After the drain's SIGKILL, how long to wait for the group to vanish (D state) */
#define KILL_WAIT_MS 1000
/* Backoff while waiting for a group whose death has no event of its own */
#define RECHECK_FIRST_NS (1 * NS_PER_MS)
#define RECHECK_MAX_NS (64 * NS_PER_MS)
#define DEFAULT_SPLIT_LIMIT ((size_t)16 << 20)
#define READ_CHUNK 65536
/* Reads per pipe per round, so one chatty process cannot starve the others */
#define READS_PER_ROUND 16

enum pfd_kind { PFD_WAKE, PFD_PIDFD, PFD_OUT, PFD_ERR };

struct proc {
	struct procset *ps;	/* the set whose list holds p */
	struct proc *prev, *next;
	enum proc_state state;
	pid_t pid;		/* the leader, and the id of its group */
	int pidfd;		/* -1 once the leader is reaped */
	int fd[3];		/* pipe read ends indexed by enum proc_stream; -1 at EOF */
	int reaped;
	int group_gone;		/* group seen empty after the reap: never signal it again */
	int leave_group;	/* proc_opts.leave_group */

	/* Deadlines on the monotonic clock, NEVER when not armed */
	int64_t timeout_at;	/* RUNNING: TERM for the timeout */
	int64_t kill_at;	/* end of a grace: KILL */
	int64_t drain_at;	/* DRAINING: give up on pipes and group, KILL */
	int64_t final_at;	/* after that KILL: stop waiting for the group */
	int64_t recheck_at;	/* next look at a group that has no event */
	int64_t recheck_ns;
	int64_t start_ns;
	int64_t grace_ns;
	struct proc_result res;

	proc_output_fn on_output;
	void *ud;
	struct headtail out;	/* merged output, bounded */
	int capture_split;
	size_t split_limit;
	struct strbuf split[3];	/* indexed by enum proc_stream */
	int64_t split_cut[3];
	struct redactor *red[3];	/* per stream, redact_dup'd from the options; NULL: none */
};

struct procset {
	struct procset *next_set;	/* on all_sets */
	struct proc *procs;
	int nactive;
	struct pollfd *pfd;		/* scratch for procset_poll, xrealloc'd */
	struct proc **pfd_proc;
	enum pfd_kind *pfd_kind;
	size_t pfd_alloc;
	char rbuf[READ_CHUNK];
};

/* waitpid(-1) reaps for every set, so a reaped pid is looked up in all of them. */
static struct procset *all_sets;

/* The process-wide self-pipe (see the top of the file): -1 until wake_once ran. */
static atomic_int wake_rd = -1, wake_wr = -1;
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void signal_group(struct proc *p, int sig)
{
	if (p->group_gone)
		return;
	if (kill(-p->pid, sig) == 0 || errno != ESRCH)
		return;
	if (p->reaped)
		p->group_gone = 1;
	else
		kill(p->pid, sig);	/* the leader left its group: still stop it */
}

/* Only meaningful once the leader is reaped (a zombie leader keeps the group). */
static int group_empty(struct proc *p)
{
	if (!p->group_gone && kill(-p->pid, 0) == -1 && errno == ESRCH)
		p->group_gone = 1;
	return p->group_gone;
}

/* TERM now and KILL after the grace, or KILL now; never later than already armed. */
static void begin_stop(struct proc *p, int hard, int64_t now)
{
	if (hard) {
		signal_group(p, SIGKILL);
		p->kill_at = NEVER;
		return;
	}
	signal_group(p, SIGTERM);
	p->kill_at = min64(p->kill_at, now + p->grace_ns);
}

/* Output as everyone but the runbook's Lua sees it: redacted, streamed, kept bounded. */
static void keep_output(struct proc *p, enum proc_stream s, const char *d, size_t n)
{
	if (p->on_output)
		p->on_output(p->ud, s, d, n);

	headtail_add(&p->out, d, n);
}

struct redacted_to {
	struct proc *p;
	enum proc_stream s;
};

static void redacted_out(void *ud, const char *data, size_t len)
{
	struct redacted_to *to = ud;
	keep_output(to->p, to->s, data, len);
}

static void take_output(struct proc *p, enum proc_stream s, const char *d, size_t n)
{
	if (p->capture_split) {
		struct strbuf *sb = &p->split[s];
		size_t room = p->split_limit - sb->len;
		size_t k = n < room ? n : room;
		if (k)
			strbuf_add(sb, d, k);
		p->split_cut[s] += (int64_t)(n - k);
	}
	if (!p->red[s]) {
		keep_output(p, s, d, n);
		return;
	}
	struct redacted_to to = { p, s };
	redact_feed(p->red[s], d, n, redacted_out, &to);
}

/* A stream ended (EOF, or given up on): what its redactor held back goes out now. */
static void close_stream(struct proc *p, enum proc_stream s)
{
	if (p->fd[s] < 0)
		return;
	close_fd(&p->fd[s]);
	if (p->red[s]) {
		struct redacted_to to = { p, s };
		redact_flush(p->red[s], redacted_out, &to);
	}
}

static void read_pipe(struct proc *p, enum proc_stream s)
{
	char *buf = p->ps->rbuf;
	for (int i = 0; i < READS_PER_ROUND && p->fd[s] >= 0; i++) {
		ssize_t n = read(p->fd[s], buf, READ_CHUNK);
		if (n > 0) {
			take_output(p, s, buf, (size_t)n);
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else if (n == -1 && errno == EAGAIN) {
			return;
		} else {
			close_stream(p, s);	/* EOF, or an error no retry will cure */
		}
	}
}

static void leader_gone(struct proc *p, int exited, int code, int sig, int64_t now)
{
	p->reaped = 1;
	close_fd(&p->pidfd);
	p->res.duration_ns = now - p->start_ns;
	p->res.exited = exited;
	p->res.code = code;
	p->res.signal = sig;
	p->state = PROC_DRAINING;
	p->timeout_at = NEVER;
	p->drain_at = now + PROC_DRAIN_MS * NS_PER_MS;
	if (p->leave_group)
		p->group_gone = 1;
	else
		signal_group(p, SIGTERM);	/* ESRCH, the common case, marks the group gone */
}

static struct proc *find_leader(pid_t pid)
{
	for (struct procset *ps = all_sets; ps; ps = ps->next_set)
		for (struct proc *p = ps->procs; p; p = p->next)
			if (p->pid == pid && !p->reaped)
				return p;
	return NULL;
}

/* Reaps every child that has exited; pids that are not leaders are orphans we adopted. */
static void reap_all(int64_t now)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0)
			return;
		struct proc *p = find_leader(pid);
		if (!p)
			continue;
		if (WIFEXITED(st))
			leader_gone(p, 1, WEXITSTATUS(st), 0, now);
		else
			leader_gone(p, 0, 128 + WTERMSIG(st), WTERMSIG(st), now);
	}
}

/*
 * The pidfd says the leader exited but reap_all did not get it: someone else
 * in the process reaped our child (waitpid(-1) or SIGCHLD ignored elsewhere).
 * The status is lost; code -1 says so, rather than polling a readable pidfd forever.
 */
static void check_lost(struct proc *p, int64_t now)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) == 0) {
		if (si.si_pid == 0)
			return;
		if (si.si_code == CLD_EXITED)
			leader_gone(p, 1, si.si_status, 0, now);
		else
			leader_gone(p, 0, 128 + si.si_status, si.si_status, now);
	} else if (errno == ECHILD) {
		leader_gone(p, 0, -1, 0, now);
	}
}

static void finish(struct proc *p)
{
	close_stream(p, PROC_STDOUT);
	close_stream(p, PROC_STDERR);
	close_fd(&p->pidfd);
	p->state = PROC_DONE;
	p->ps->nactive--;
}

/* Advances p's state machine to now. Returns 1 when p just became DONE. */
static int proc_step(struct proc *p, int64_t now)
{
	if (p->state == PROC_DONE)
		return 0;
	if (now >= p->kill_at) {
		p->kill_at = NEVER;
		signal_group(p, SIGKILL);
	}
	if (p->state == PROC_RUNNING) {
		if (now >= p->timeout_at) {
			p->timeout_at = NEVER;
			p->res.timed_out = 1;
			begin_stop(p, 0, now);
		}
		return 0;
	}

	int pipes_open = p->fd[PROC_STDOUT] >= 0 || p->fd[PROC_STDERR] >= 0;
	if (pipes_open && now < p->drain_at)
		return 0;
	if (now >= p->drain_at) {
		/* Whatever still holds the pipes or the group has had its second. */
		p->drain_at = NEVER;
		signal_group(p, SIGKILL);
		close_stream(p, PROC_STDOUT);
		close_stream(p, PROC_STDERR);
		p->final_at = now + KILL_WAIT_MS * NS_PER_MS;
	}
	if (group_empty(p) || now >= p->final_at) {
		finish(p);
		return 1;
	}
	if (!p->recheck_ns)
		p->recheck_ns = RECHECK_FIRST_NS;
	p->recheck_at = now + p->recheck_ns;
	p->recheck_ns = min64(p->recheck_ns * 2, RECHECK_MAX_NS);
	return 0;
}

static int64_t proc_deadline(const struct proc *p)
{
	if (p->state == PROC_DONE)
		return NEVER;
	int64_t t = min64(p->kill_at, p->timeout_at);
	t = min64(t, p->drain_at);
	t = min64(t, p->final_at);
	if (p->state == PROC_DRAINING && p->fd[PROC_STDOUT] < 0 && p->fd[PROC_STDERR] < 0)
		t = min64(t, p->recheck_at);
	return t;
}

static void pfd_push(struct procset *ps, size_t *n, int fd, struct proc *p, enum pfd_kind kind)
{
	if (*n == ps->pfd_alloc) {
		ps->pfd_alloc = ps->pfd_alloc ? ps->pfd_alloc * 2 : 16;
		ps->pfd = xrealloc(ps->pfd, ps->pfd_alloc * sizeof *ps->pfd);
		ps->pfd_proc = xrealloc(ps->pfd_proc, ps->pfd_alloc * sizeof *ps->pfd_proc);
		ps->pfd_kind = xrealloc(ps->pfd_kind, ps->pfd_alloc * sizeof *ps->pfd_kind);
	}
	ps->pfd[*n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	ps->pfd_proc[*n] = p;
	ps->pfd_kind[*n] = kind;
	(*n)++;
}

static int wake_errno;

static void wake_pipe_make(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int p[2];
	if (make_pipe(p, 1) == -1) {
		wake_errno = errno;
		return;
	}
	atomic_store(&wake_rd, p[0]);
	atomic_store(&wake_wr, p[1]);
}

struct procset *procset_new(void)
{
	pthread_once(&wake_once, wake_pipe_make);
	if (atomic_load_explicit(&wake_rd, memory_order_relaxed) < 0) {
		errno = wake_errno;
		return NULL;
	}
	struct procset *ps = xcalloc(1, sizeof *ps);
	ps->next_set = all_sets;
	all_sets = ps;
	return ps;
}

void procset_free(struct procset *ps)
{
	if (!ps)
		return;
	for (struct proc *p = ps->procs; p; p = p->next)
		proc_stop(p, 0);
	while (ps->nactive > 0) {
		if (procset_poll(ps, -1) == -1) {
			/* poll itself is failing: kill outright and stop waiting */
			for (struct proc *p = ps->procs; p; p = p->next) {
				if (p->state != PROC_DONE) {
					signal_group(p, SIGKILL);
					finish(p);
				}
			}
		}
	}
	reap_all(clock_mono_ns());
	while (ps->procs)
		proc_free(ps->procs);
	for (struct procset **pp = &all_sets; *pp; pp = &(*pp)->next_set) {
		if (*pp == ps) {
			*pp = ps->next_set;
			break;
		}
	}
	free(ps->pfd);
	free(ps->pfd_proc);
	free(ps->pfd_kind);
	free(ps);
}

int proc_spawn(struct procset *ps, const struct proc_opts *o, struct proc **out)
{
	if (!ps || !o || !o->argv || !o->argv[0]) {
		errno = EINVAL;
		return -1;
	}
	char *resolved = NULL;
	if (!strchr(o->argv[0], '/') && !(resolved = path_lookup(o->argv[0], o->envp)))
		return -1;

	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int rc = -1, err = 0;
	int merged = o->merge_stderr && !o->capture_split;
	pid_t pid = -1;
	int pidfd = -1;

	int nul = dev_null();
	if (nul == -1 || make_pipe(outp, 0) == -1 || (!merged && make_pipe(errp, 0) == -1)) {
		err = errno;
		goto pipes;
	}
	int64_t start = clock_mono_ns();
	pid = spawn_child(resolved ? resolved : o->argv[0], o->argv, o->envp ? o->envp : environ,
			  o->cwd, o->stdin_pipe ? o->stdin_fd : nul, outp[1], merged ? outp[1] : errp[1]);
	if (pid == -1) {
		err = errno;
		goto pipes;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd == -1) {
		err = errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto pipes;
	}

	struct proc *p = xcalloc(1, sizeof *p);
	p->ps = ps;
	p->state = PROC_RUNNING;
	p->pid = pid;
	p->pidfd = pidfd;
	p->fd[0] = -1;
	p->fd[PROC_STDOUT] = outp[0];
	p->fd[PROC_STDERR] = errp[0];
	outp[0] = errp[0] = -1;
	p->start_ns = start;
	p->grace_ns = (o->grace_ms > 0 ? o->grace_ms : PROC_DEFAULT_GRACE_MS) * NS_PER_MS;
	p->timeout_at = o->timeout_ms > 0 ? start + o->timeout_ms * NS_PER_MS : NEVER;
	p->kill_at = p->drain_at = p->final_at = p->recheck_at = NEVER;
	p->on_output = o->on_output;
	p->ud = o->ud;
	headtail_init(&p->out, o->keep_head, o->keep_tail);
	p->leave_group = o->leave_group;
	p->capture_split = o->capture_split;
	p->split_limit = o->split_limit ? o->split_limit : DEFAULT_SPLIT_LIMIT;
	for (int i = 0; i < 3; i++)
		p->split[i] = (struct strbuf)STRBUF_INIT;
	if (o->redact) {
		p->red[PROC_STDOUT] = redact_dup(o->redact);
		if (!merged)
			p->red[PROC_STDERR] = redact_dup(o->redact);
	}
	p->next = ps->procs;
	if (ps->procs)
		ps->procs->prev = p;
	ps->procs = p;
	ps->nactive++;
	if (out)
		*out = p;
	rc = 0;
pipes:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	free(resolved);
	if (rc)
		errno = err;
	return rc;
}

int procset_poll(struct procset *ps, int timeout_ms)
{
	int64_t now = clock_mono_ns();
	int done = 0;

	/*
	 * Step first: a proc may have been stopped, or its leader reaped by
	 * another set's poll, since the last call, and must not wait for an event.
	 */
	int64_t due = NEVER;
	size_t n = 0;
	pfd_push(ps, &n, atomic_load_explicit(&wake_rd, memory_order_relaxed), NULL, PFD_WAKE);
	for (struct proc *p = ps->procs; p; p = p->next) {
		done += proc_step(p, now);
		if (p->state == PROC_DONE)
			continue;
		due = min64(due, proc_deadline(p));
		if (p->pidfd >= 0)
			pfd_push(ps, &n, p->pidfd, p, PFD_PIDFD);
		if (p->fd[PROC_STDOUT] >= 0)
			pfd_push(ps, &n, p->fd[PROC_STDOUT], p, PFD_OUT);
		if (p->fd[PROC_STDERR] >= 0)
			pfd_push(ps, &n, p->fd[PROC_STDERR], p, PFD_ERR);
	}

	int wait = timeout_ms < 0 ? -1 : timeout_ms;
	if (done)
		wait = 0;
	if (due != NEVER) {
		/* rounded up, so we never wake just before a deadline and spin */
		int64_t ms = due <= now ? 0 : (due - now + NS_PER_MS - 1) / NS_PER_MS;
		if (ms > INT_MAX)
			ms = INT_MAX;
		if (wait < 0 || ms < wait)
			wait = (int)ms;
	}

	int rc = poll(ps->pfd, (nfds_t)n, wait);
	if (rc == -1 && errno != EINTR)
		return -1;
	now = clock_mono_ns();

	int pidfd_ready = 0;
	for (size_t i = 0; rc > 0 && i < n; i++) {
		if (!ps->pfd[i].revents)
			continue;
		struct proc *p = ps->pfd_proc[i];
		switch (ps->pfd_kind[i]) {
		case PFD_WAKE:
			while (read(ps->pfd[i].fd, ps->rbuf, sizeof ps->rbuf) > 0)
				;
			break;
		case PFD_PIDFD:
			pidfd_ready = 1;
			break;
		case PFD_OUT:
			read_pipe(p, PROC_STDOUT);
			break;
		case PFD_ERR:
			read_pipe(p, PROC_STDERR);
			break;
		}
	}
	reap_all(now);
	if (pidfd_ready) {
		for (size_t i = 0; i < n; i++) {
			struct proc *p = ps->pfd_proc[i];
			if (ps->pfd_kind[i] == PFD_PIDFD && ps->pfd[i].revents && !p->reaped)
				check_lost(p, now);
		}
	}
	for (struct proc *p = ps->procs; p; p = p->next)
		done += proc_step(p, now);
	return done;
}

void proc_wake_all(void)
{
	int fd = atomic_load(&wake_wr);	/* set once before any set exists, never closed */
	if (fd < 0)
		return;		/* no set yet: nobody to wake */
	int saved = errno;
	if (write(fd, "", 1) == -1) {
		/* full (a wake is already pending) is as good as written */
	}
	errno = saved;
}

void procset_wake(struct procset *ps)
{
	(void)ps;
	proc_wake_all();
}

int procset_active(const struct procset *ps)
{
	return ps->nactive;
}

enum proc_state proc_state(const struct proc *p)
{
	return p->state;
}

pid_t proc_pid(const struct proc *p)
{
	return p->pid;
}

void proc_stop(struct proc *p, int hard)
{
	if (p->state == PROC_DONE)
		return;
	/* After the leader's own exit its status stands; the stop only clears its leftovers. */
	if (p->state == PROC_RUNNING) {
		p->res.killed = 1;
		p->timeout_at = NEVER;
	}
	begin_stop(p, hard, clock_mono_ns());
}

const struct proc_result *proc_result(const struct proc *p)
{
	return &p->res;
}

char *proc_output(const struct proc *p, int64_t *cut)
{
	return headtail_text(&p->out, cut);
}

const char *proc_stream_text(const struct proc *p, enum proc_stream s, size_t *len)
{
	int ok = p->capture_split && (s == PROC_STDOUT || s == PROC_STDERR) && p->split[s].buf;
	if (len)
		*len = ok ? p->split[s].len : 0;
	return ok ? p->split[s].buf : "";
}

int64_t proc_stream_cut(const struct proc *p, enum proc_stream s)
{
	if (!p->capture_split || (s != PROC_STDOUT && s != PROC_STDERR))
		return 0;
	return p->split_cut[s];
}

void proc_free(struct proc *p)
{
	if (!p)
		return;
	struct procset *ps = p->ps;
	if (p->state != PROC_DONE) {
		/* The contract asks for a DONE proc; freeing a live one must not orphan it. */
		proc_stop(p, 1);
		while (p->state != PROC_DONE)
			procset_poll(ps, -1);
	}
	if (p->prev)
		p->prev->next = p->next;
	else
		ps->procs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	headtail_release(&p->out);
	for (int i = 0; i < 3; i++) {
		strbuf_release(&p->split[i]);
		redact_free(p->red[i]);
	}
	free(p);
}

int proc_run(struct procset *ps, const struct proc_opts *opts, struct proc **out)
{
	struct proc *p;
	if (proc_spawn(ps, opts, &p) == -1)
		return -1;
	while (p->state != PROC_DONE)
		procset_poll(ps, -1);
	if (out)
		*out = p;
	else
		proc_free(p);
	return 0;
}

void proc_set_ud(struct proc *p, void *ud)
{
	p->ud = ud;
}

/*
 * Stops every process whose environment holds `entry` exactly (such as
 * LIFEBOAT_RUN_ID=abc): what a killed lifeboat left behind, found even when
 * a step moved itself to another process group or session. TERM first,
 * KILL after grace_ms. Returns how many were found.
 */
int proc_kill_tagged(const char *entry, int grace_ms)
{
	size_t elen = strlen(entry);
	pid_t *found = NULL;
	size_t n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *de;
	char path[64];
	char *buf = xmalloc(65536);
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, 65535);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (ssize_t off = 0; off < len;) {
			size_t l = strlen(buf + off);
			if (l == elen && !memcmp(buf + off, entry, elen)) {
				found = xrealloc(found, (n + 1) * sizeof(*found));
				found[n++] = (pid_t)pid;
				break;
			}
			off += (ssize_t)l + 1;
		}
	}
	closedir(d);
	free(buf);
	for (size_t i = 0; i < n; i++)
		kill(found[i], SIGTERM);
	int64_t until = clock_mono_ns() + (int64_t)grace_ms * 1000000;
	for (;;) {
		int alive = 0;
		for (size_t i = 0; i < n; i++) {
			while (waitpid(found[i], NULL, WNOHANG) > 0)
				;
			if (found[i] > 0 && kill(found[i], 0) == 0)
				alive = 1;
		}
		if (!alive || clock_mono_ns() >= until)
			break;
		clock_sleep_ms(20);
	}
	for (size_t i = 0; i < n; i++)
		if (kill(found[i], 0) == 0)
			kill(found[i], SIGKILL);
	free(found);
	return (int)n;
}
