/*
 * Starting a child for proc.c (see there why vfork): the child's setup
 * between vfork and execve (its own group, clean signals, stdin from
 * /dev/null, the output pipes, chdir, every other descriptor closed), the
 * lookup of the command in the step's own PATH, and the pipes themselves.
 */
#include "proc-int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "util.h"

void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * The pipe ends must not be 0..2: the child's file actions put /dev/null and
 * the pipes there, and one would overwrite another (only if lifeboat itself was
 * started with a standard descriptor closed).
 */
static int fd_above_stdio(int fd)
{
	if (fd > 2)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int saved = errno;
	close(fd);
	errno = saved;
	return nfd;
}

/*
 * Only our end is non-blocking: O_NONBLOCK lives on the open file, which the
 * child shares, and a child seeing EAGAIN on its stdout would fail.
 */
int make_pipe(int p[2], int both_nonblock)
{
	if (pipe2(p, O_CLOEXEC | (both_nonblock ? O_NONBLOCK : 0)) == -1)
		return -1;
	p[0] = fd_above_stdio(p[0]);
	p[1] = fd_above_stdio(p[1]);
	if (p[0] >= 0 && p[1] >= 0 && (both_nonblock || fcntl(p[0], F_SETFL, O_NONBLOCK) == 0))
		return 0;
	int saved = errno;
	close_fd(&p[0]);
	close_fd(&p[1]);
	errno = saved;
	return -1;
}

/*
 * posix_spawnp would search lifeboat's PATH, but a step's PATH is the one in
 * its own environment. Returns an xmalloc'd path, or NULL with errno.
 */
char *path_lookup(const char *name, char *const *envp)
{
	const char *path = NULL;
	for (char *const *e = envp; e && *e; e++) {
		if (!strncmp(*e, "PATH=", 5)) {
			path = *e + 5;
			break;
		}
	}
	if (!path)
		path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	int err = ENOENT;
	if (!*name) {
		errno = ENOENT;
		return NULL;
	}
	for (const char *s = path;; s++) {
		const char *end = strchrnul(s, ':');
		int n = (int)(end - s);
		char *cand = n ? xasprintf("%.*s/%s", n, s, name) : xasprintf("./%s", name);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			err = EACCES;
		}
		free(cand);
		if (!*end)
			break;
		s = end;
	}
	errno = err;
	return NULL;
}

/* Every descriptor from 3 up, in the vfork child: close_range, or one by one where it is missing. */
static void close_from_3(int max_fd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	for (int fd = 3; fd < max_fd; fd++)
		close(fd);
}

/* Largest descriptor number + 1 (the fallback of close_from_3), asked once. */
static int fd_limit(void)
{
	static int limit;
	if (!limit) {
		long n = sysconf(_SC_OPEN_MAX);
		limit = n > 0 && n < INT_MAX ? (int)n : 1024;
	}
	return limit;
}

/*
 * Dispositions lifeboat ignores (SIGPIPE) or a parent shell made it ignore
 * must not leak into steps: these are set to the default in every child.
 */
static const int reset_always[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGXFSZ,
				    SIGTTIN, SIGTTOU, SIGTSTP, SIGUSR1, SIGUSR2, SIGALRM };

/*
 * The other signals this process catches (ASan's SIGSEGV, the console's
 * SIGWINCH...): the child resets them too before it unblocks signals, so no
 * handler of ours can run in it. Asking for every disposition costs 64
 * system calls, more than the rest of a spawn, so the answer is kept for a
 * second: handlers are installed as a program starts, not per step. (A
 * handler installed since would matter only for a signal sent to the child
 * in the microseconds between its sigprocmask and its execve.)
 */
static int caught_other[NSIG], ncaught_other;
static int64_t caught_at;

static void caught_refresh(void)
{
	int64_t now = clock_mono_ns();
	if (caught_at && now - caught_at < 1000 * NS_PER_MS)
		return;
	caught_at = now;
	ncaught_other = 0;
	for (int sig = 1; sig < NSIG; sig++) {
		int always = 0;
		for (size_t i = 0; i < ARRAY_SIZE(reset_always); i++)
			always |= reset_always[i] == sig;
		struct sigaction cur;
		if (!always && sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &cur) == 0 &&
		    cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)
			caught_other[ncaught_other++] = sig;
	}
}

/* /dev/null for the children's stdin, opened once (close-on-exec, above 2). */
int dev_null(void)
{
	static int fd = -1;
	if (fd < 0)
		fd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	return fd;
}

/*
 * Starts path in its own process group with stdin from in_r, stdout on
 * out_w, stderr on err_w, in cwd (NULL: ours), every other descriptor closed.
 * Returns the pid, or -1 with errno (exec errors included: nothing runs).
 *
 * The child borrows our memory and stack until execve (vfork), so it makes
 * system calls only and reports a failure through child_err. All signals are
 * blocked around vfork, and the child sets every caught signal to its default
 * before unblocking, so no handler of ours can ever run in the child.
 *
 * The child starts on the CPU we run on: from vfork until it exits we only
 * wait for it, so it takes our CPU rather than waking another one (an idle
 * CPU of a virtual machine wakes slowly) or queueing behind other work
 * there. Our thread is pinned to its CPU around vfork, and the child puts
 * back our full affinity before execve, so the command never sees the pin
 * (a step running nproc sees what lifeboat was given); the scheduler may
 * move it anywhere from then on.
 */
pid_t spawn_child(const char *path, char *const argv[], char *const envp[],
			 const char *cwd, int in_r, int out_w, int err_w)
{
	volatile int child_err = 0;
	fd_limit();	/* asked here: the child only reads the answers */
	caught_refresh();
	sigset_t all, old, none;
	sigfillset(&all);
	sigemptyset(&none);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	int saved = errno;
	cpu_set_t mask, here;
	int pinned = 0, cpu = sched_getcpu();
	if (cpu >= 0 && cpu < CPU_SETSIZE && sched_getaffinity(0, sizeof mask, &mask) == 0 &&
	    CPU_COUNT(&mask) > 1) {
		CPU_ZERO(&here);
		CPU_SET(cpu, &here);
		pinned = sched_setaffinity(0, sizeof here, &here) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = vfork();
	if (pid == 0) {
		if (pinned && sched_setaffinity(0, sizeof mask, &mask) == -1) {
			child_err = errno;
			_exit(127);
		}
		for (size_t i = 0; i < ARRAY_SIZE(reset_always); i++)
			sigaction(reset_always[i], &dfl, NULL);
		for (int i = 0; i < ncaught_other; i++)
			sigaction(caught_other[i], &dfl, NULL);
		if (setpgid(0, 0) == -1 || dup2(in_r, 0) == -1 || dup2(out_w, 1) == -1 ||
		    dup2(err_w, 2) == -1 || (cwd && chdir(cwd) == -1)) {
			child_err = errno;
			_exit(127);
		}
		close_from_3(fd_limit());
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, argv, envp);
		child_err = errno;
		_exit(127);
	}
	int err = pid == -1 ? errno : child_err;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pinned)
		sched_setaffinity(0, sizeof mask, &mask);
	if (pid > 0 && err) {
		waitpid(pid, NULL, 0);	/* it never ran anything */
		pid = -1;
	}
	errno = err ? err : saved;
	return pid;
}
