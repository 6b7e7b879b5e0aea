/*
 * The process runner against real processes: exit statuses, pipes that must
 * not deadlock, bounded output, timeouts and leftovers that must die with
 * their step, and no descriptor or zombie left behind. Timings are only
 * checked against generous bounds, never used to wait for something.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "proc.h"
#include "redact.h"
#include "util.h"

#define MIB (1024 * 1024)

static double now_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}

static int group_dead(pid_t pgid)
{
	return kill(-pgid, 0) == -1 && errno == ESRCH;
}

/* Nothing of ours left: no child, live or zombie. */
static void assert_no_children(void)
{
	glob_t g;
	if (glob("/proc/self/task/*/children", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t len = 0;
			char *s = read_file(g.gl_pathv[i], &len);
			assert_non_null(s);
			if (len)
				fail_msg("children left: %s", s);
			free(s);
		}
		globfree(&g);
	}
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

struct sink {
	int64_t bytes[3];
	int64_t chunks;
	int bad_stream;
};

static void sink_fn(void *ud, enum proc_stream s, const char *data, size_t len)
{
	struct sink *k = ud;
	(void)data;
	if (s != PROC_STDOUT && s != PROC_STDERR) {
		k->bad_stream = 1;
		return;
	}
	k->bytes[s] += (int64_t)len;
	k->chunks++;
}

static struct proc_opts sh_opts(const char *script)
{
	/* argv is only read by proc_spawn, so one static copy serves every call */
	static char buf[1024];
	static char *argv[] = { (char *)"sh", (char *)"-c", buf, NULL };
	snprintf(buf, sizeof buf, "%s", script);
	return (struct proc_opts){ .argv = argv, .keep_head = 64 * 1024, .keep_tail = 64 * 1024 };
}

static void wait_done(struct procset *ps, struct proc *p)
{
	while (proc_state(p) != PROC_DONE)
		assert_true(procset_poll(ps, -1) >= 0);
}

static void test_exit_status(void **state)
{
	static const struct {
		const char *script;
		int exited, code, sig;
	} cases[] = {
		{ "exit 0", 1, 0, 0 },
		{ "true", 1, 0, 0 },
		{ "exit 3", 1, 3, 0 },
		{ "exit 255", 1, 255, 0 },
		{ "kill -TERM $$", 0, 128 + SIGTERM, SIGTERM },
		{ "kill -KILL $$", 0, 128 + SIGKILL, SIGKILL },
	};
	(void)state;
	struct procset *ps = procset_new();
	assert_non_null(ps);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_opts o = sh_opts(cases[i].script);
		struct proc *p;
		assert_int_equal(proc_run(ps, &o, &p), 0);
		const struct proc_result *r = proc_result(p);
		assert_int_equal(r->exited, cases[i].exited);
		assert_int_equal(r->code, cases[i].code);
		assert_int_equal(r->signal, cases[i].sig);
		assert_false(r->timed_out);
		assert_false(r->killed);
		assert_true(r->duration_ns > 0);
		assert_true(group_dead(proc_pid(p)));
		proc_free(p);
	}
	assert_int_equal(procset_active(ps), 0);
	procset_free(ps);
	assert_no_children();
}

static void test_output_small(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	struct proc_opts o = sh_opts("echo hello; echo world");
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	int64_t cut = -1;
	char *out = proc_output(p, &cut);
	assert_string_equal(out, "hello\nworld\n");
	assert_int_equal(cut, 0);
	free(out);
	proc_free(p);

	o = sh_opts("true");
	assert_int_equal(proc_run(ps, &o, &p), 0);
	out = proc_output(p, &cut);
	assert_string_equal(out, "");
	assert_int_equal(cut, 0);
	free(out);
	proc_free(p);
	procset_free(ps);
}

/* head + marker + tail, for every way a write can straddle the boundaries */
static void test_output_bounds(void **state)
{
	static const struct {
		const char *script;
		size_t head, tail;
		const char *want;
		int64_t cut;
	} cases[] = {
		{ "printf 0123456789", 4, 4, "0123\n[... 2 bytes cut ...]\n6789", 2 },
		{ "printf 01234567", 4, 4, "01234567", 0 },
		{ "printf 012345", 4, 4, "012345", 0 },
		{ "printf 0123; printf 45; printf 6789ab", 4, 4, "0123\n[... 4 bytes cut ...]\n89ab", 4 },
		{ "printf 0123456789", 0, 3, "\n[... 7 bytes cut ...]\n789", 7 },
		{ "printf 0123456789", 3, 0, "012\n[... 7 bytes cut ...]\n", 7 },
		{ "printf 0123456789", 0, 0, "\n[... 10 bytes cut ...]\n", 10 },
		{ "for i in 1 2 3 4 5 6 7 8 9; do printf $i; done", 2, 5, "12\n[... 2 bytes cut ...]\n56789", 2 },
	};
	(void)state;
	struct procset *ps = procset_new();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_opts o = sh_opts(cases[i].script);
		o.keep_head = cases[i].head;
		o.keep_tail = cases[i].tail;
		struct proc *p;
		assert_int_equal(proc_run(ps, &o, &p), 0);
		int64_t cut;
		char *out = proc_output(p, &cut);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(cut, cases[i].cut);
		free(out);
		proc_free(p);
	}
	procset_free(ps);
}

/* Both pipes full at once must not deadlock; output stays bounded. */
static void test_interleaved_streams(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	struct sink k = { 0 };
	struct proc_opts o = sh_opts("yes o | head -c 4194304 & yes e | head -c 4194304 >&2; wait");
	o.keep_head = 1000;
	o.keep_tail = 1000;
	o.on_output = sink_fn;
	o.ud = &k;
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	assert_false(k.bad_stream);
	assert_int_equal(k.bytes[PROC_STDOUT], 4 * MIB);
	assert_int_equal(k.bytes[PROC_STDERR], 4 * MIB);
	assert_int_equal(proc_result(p)->code, 0);
	int64_t cut;
	char *out = proc_output(p, &cut);
	assert_int_equal(cut, 8 * MIB - 2000);
	char marker[64];
	snprintf(marker, sizeof marker, "\n[... %lld bytes cut ...]\n", (long long)cut);
	assert_int_equal(strlen(out), 2000 + strlen(marker));
	assert_non_null(strstr(out, marker));
	free(out);
	proc_free(p);
	procset_free(ps);
	assert_no_children();
}

static long maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_huge_output_bounded(void **state)
{
	(void)state;
	const int64_t total = 200000000;
	struct procset *ps = procset_new();
	struct sink k = { 0 };
	struct proc_opts o = sh_opts("head -c 200000000 /dev/zero");
	o.keep_head = 4096;
	o.keep_tail = 4096;
	o.capture_split = 1;
	o.split_limit = 1000;
	o.on_output = sink_fn;
	o.ud = &k;
	long before = maxrss_kib();
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	assert_int_equal(k.bytes[PROC_STDOUT], total);
	int64_t cut;
	char *out = proc_output(p, &cut);
	assert_int_equal(cut, total - 8192);
	free(out);
	size_t len;
	proc_stream_text(p, PROC_STDOUT, &len);
	assert_int_equal(len, 1000);
	assert_int_equal(proc_stream_cut(p, PROC_STDOUT), total - 1000);
	/* a leak of the stream would show as ~200 MB */
	assert_true(maxrss_kib() - before < 32 * 1024);
	proc_free(p);
	procset_free(ps);
}

static void test_timeout_kills_group(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	struct proc_opts o = sh_opts("sleep 30 & sleep 30 & sh -c 'sleep 30' & wait");
	o.timeout_ms = 300;
	struct proc *p;
	double t0 = now_s();
	assert_int_equal(proc_run(ps, &o, &p), 0);
	double took = now_s() - t0;
	const struct proc_result *r = proc_result(p);
	assert_true(r->timed_out);
	assert_false(r->killed);
	assert_false(r->exited);
	assert_int_equal(r->signal, SIGTERM);
	assert_int_equal(r->code, 128 + SIGTERM);
	assert_true(took >= 0.29);
	assert_true(took < 0.3 + 0.7);
	assert_true(r->duration_ns >= 290 * 1000000LL);
	assert_true(group_dead(proc_pid(p)));
	proc_free(p);
	procset_free(ps);
	assert_no_children();
}

/* A leader that ignores TERM gets KILL when the grace ends. */
static void test_timeout_grace(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	struct proc_opts o = sh_opts("trap '' TERM; sleep 30; sleep 30");
	o.timeout_ms = 200;
	o.grace_ms = 300;
	struct proc *p;
	double t0 = now_s();
	assert_int_equal(proc_run(ps, &o, &p), 0);
	double took = now_s() - t0;
	const struct proc_result *r = proc_result(p);
	assert_true(r->timed_out);
	assert_int_equal(r->signal, SIGKILL);
	assert_true(took >= 0.49);
	assert_true(took < 0.5 + 0.7);
	assert_true(group_dead(proc_pid(p)));
	proc_free(p);
	procset_free(ps);
	assert_no_children();
}

/* The leader may exit only once its child has set its trap. */
#define READY "f=${TMPDIR:-/tmp}/lb-proc-ready-$$; "
#define WAIT_READY "while [ ! -e \"$f\" ]; do sleep 0.01; done; rm -f \"$f\"; exit 0"

/* Leftovers of a shell that exited: TERM them, and be done as soon as they are gone. */
static void test_leftovers(void **state)
{
	static const struct {
		const char *script;
		double min_s, max_s;
	} cases[] = {
		{ "sleep 100 & exit 0", 0, 0.5 },
		{ "sleep 100 >/dev/null 2>&1 & sleep 100 & exit 0", 0, 0.5 },
		/* ignores TERM and holds the pipes: KILLed at the end of the drain */
		{ READY "(trap '' TERM; : >\"$f\"; sleep 100) & " WAIT_READY, 0.95, 2.5 },
		/* ignores TERM with the pipes closed: no EOF to wait for, still KILLed */
		{ READY "(trap '' TERM; : >\"$f\"; sleep 100) >/dev/null 2>&1 & " WAIT_READY, 0.95, 2.5 },
	};
	(void)state;
	struct procset *ps = procset_new();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_opts o = sh_opts(cases[i].script);
		struct proc *p;
		double t0 = now_s();
		assert_int_equal(proc_run(ps, &o, &p), 0);
		double took = now_s() - t0;
		if (took < cases[i].min_s || took > cases[i].max_s)
			fail_msg("'%s' took %.3f s", cases[i].script, took);
		const struct proc_result *r = proc_result(p);
		assert_int_equal(r->exited, 1);
		assert_int_equal(r->code, 0);
		assert_true(r->duration_ns < 500 * 1000000LL);
		assert_true(group_dead(proc_pid(p)));
		proc_free(p);
		assert_no_children();
	}
	procset_free(ps);
}

static void test_stdin_is_devnull(void **state)
{
	(void)state;
	char *argv[] = { (char *)"cat", NULL };
	struct proc_opts o = { .argv = argv, .keep_head = 100, .keep_tail = 100, .timeout_ms = 5000 };
	struct procset *ps = procset_new();
	struct proc *p;
	double t0 = now_s();
	assert_int_equal(proc_run(ps, &o, &p), 0);
	assert_true(now_s() - t0 < 1.0);
	assert_false(proc_result(p)->timed_out);
	assert_int_equal(proc_result(p)->code, 0);
	char *out = proc_output(p, NULL);
	assert_string_equal(out, "");
	free(out);
	proc_free(p);
	procset_free(ps);
}

static void test_no_fd_leak(void **state)
{
	(void)state;
	int leaky = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */
	assert_true(leaky > 2);
	struct procset *ps = procset_new();
	struct proc *busy;
	struct proc_opts so = sh_opts("sleep 5");	/* another proc's pipes are open too */
	assert_int_equal(proc_spawn(ps, &so, &busy), 0);
	char *argv[] = { (char *)"ls", (char *)"/proc/self/fd", NULL };
	struct proc_opts o = { .argv = argv, .keep_head = 1000, .keep_tail = 1000 };
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	char *out = proc_output(p, NULL);
	assert_string_equal(out, "0\n1\n2\n3\n");	/* 3: the directory ls reads */
	free(out);
	proc_free(p);
	proc_stop(busy, 1);
	wait_done(ps, busy);
	procset_free(ps);
	close(leaky);
}

static void test_concurrent(void **state)
{
	(void)state;
	char *argv[] = { (char *)"sleep", (char *)"1", NULL };
	struct proc_opts o = { .argv = argv };
	struct procset *ps = procset_new();
	struct proc *p[4];
	double t0 = now_s();
	for (int i = 0; i < 4; i++)
		assert_int_equal(proc_spawn(ps, &o, &p[i]), 0);
	assert_int_equal(procset_active(ps), 4);
	int done = 0;
	while (procset_active(ps) > 0) {
		int n = procset_poll(ps, -1);
		assert_true(n >= 0);
		done += n;
	}
	assert_int_equal(done, 4);
	double took = now_s() - t0;
	assert_true(took >= 0.95);
	assert_true(took < 1.6);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(proc_state(p[i]), PROC_DONE);
		assert_int_equal(proc_result(p[i])->code, 0);
		assert_true(proc_result(p[i])->duration_ns >= 950 * 1000000LL);
	}
	procset_free(ps);	/* frees the DONE procs too */
	assert_no_children();
}

static void test_capture_split(void **state)
{
	static const struct {
		const char *script;
		size_t limit;
		const char *out, *err;
		int64_t out_cut, err_cut;
	} cases[] = {
		{ "echo out; echo err >&2; echo out2", 100, "out\nout2\n", "err\n", 0, 0 },
		{ "printf 0123456789; printf abc >&2", 4, "0123", "abc", 6, 0 },
		{ "true", 4, "", "", 0, 0 },
	};
	(void)state;
	struct procset *ps = procset_new();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_opts o = sh_opts(cases[i].script);
		o.capture_split = 1;
		o.split_limit = cases[i].limit;
		struct proc *p;
		assert_int_equal(proc_run(ps, &o, &p), 0);
		size_t len;
		const char *s = proc_stream_text(p, PROC_STDOUT, &len);
		assert_string_equal(s, cases[i].out);
		assert_int_equal(len, strlen(cases[i].out));
		s = proc_stream_text(p, PROC_STDERR, &len);
		assert_string_equal(s, cases[i].err);
		assert_int_equal(len, strlen(cases[i].err));
		assert_int_equal(proc_stream_cut(p, PROC_STDOUT), cases[i].out_cut);
		assert_int_equal(proc_stream_cut(p, PROC_STDERR), cases[i].err_cut);
		proc_free(p);
	}
	/* without capture_split there is nothing kept apart */
	struct proc_opts o = sh_opts("echo x");
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	size_t len = 99;
	assert_string_equal(proc_stream_text(p, PROC_STDOUT, &len), "");
	assert_int_equal(len, 0);
	proc_free(p);
	procset_free(ps);
}

struct collect {
	struct strbuf s[3];	/* by stream */
};

static void collect_fn(void *ud, enum proc_stream s, const char *data, size_t len)
{
	struct collect *c = ud;
	strbuf_add(&c->s[s], data, len);
}

/*
 * Secrets are masked on each stream's raw bytes before the live callback
 * and the kept head and tail see them, however the writes cut them; Lua's
 * capture_split text stays raw; a prefix left at EOF comes out as it was.
 */
static void test_redacted_streams(void **state)
{
	static const struct {
		const char *script;
		size_t head;
		const char *out, *err, *merged;
	} cases[] = {
		{ "printf 'a hunter2x b\\n'", 64, "a *** b\n", "", "a *** b\n" },
		{ "for c in h u n t e r 2 x; do printf $c; sleep 0.01; done; echo; "
		  "for c in h u n t e r 2 x; do printf $c >&2; sleep 0.01; done",
		  64, "***\n", "***", "***\n***" },
		{ "printf hunt; sleep 0.1; printf er2x-and-more", 64, "***-and-more", "", "***-and-more" },
		/* the head ends inside the secret: it is masked before the bound is applied */
		{ "printf 0123hunter2x", 6, "0123***", "", "0123***" },
		{ "printf 'ends with hunte'", 64, "ends with hunte", "", "ends with hunte" },
	};
	(void)state;
	const char *const secrets[] = { "hunter2x" };
	char *err = NULL;
	struct redactor *r = redact_new(secrets, 1, &err);
	assert_non_null(r);
	struct procset *ps = procset_new();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct collect c;
		for (int k = 0; k < 3; k++)
			strbuf_init(&c.s[k], 0);
		struct proc_opts o = sh_opts(cases[i].script);
		o.redact = r;
		o.keep_head = cases[i].head;
		o.on_output = collect_fn;
		o.ud = &c;
		o.capture_split = 1;
		struct proc *p;
		assert_int_equal(proc_run(ps, &o, &p), 0);
		assert_string_equal(c.s[PROC_STDOUT].buf, cases[i].out);
		assert_string_equal(c.s[PROC_STDERR].buf, cases[i].err);
		char *merged = proc_output(p, NULL);
		assert_null(strstr(merged, "hunter2x"));
		if (cases[i].head >= 64)
			assert_string_equal(merged, cases[i].merged);
		free(merged);
		size_t len;
		const char *raw = proc_stream_text(p, PROC_STDOUT, &len);
		if (strstr(cases[i].out, "***"))
			assert_non_null(strstr(raw, "hunter2x"));
		proc_free(p);
		for (int k = 0; k < 3; k++)
			strbuf_release(&c.s[k]);
	}
	procset_free(ps);
	redact_free(r);
}

static void test_cwd_and_env(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/lb-proc-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *dir = realpath(tmpl, NULL);
	assert_non_null(dir);
	/* "sh" is found through the PATH given in envp */
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)"pwd -P; echo \"$FOO\"; echo \"${HOME-unset}\"", NULL };
	char *envp[] = { (char *)"FOO=bar baz", (char *)"PATH=/nonexistent:/usr/bin:/bin", NULL };
	struct proc_opts o = { .argv = argv, .envp = envp, .cwd = dir, .keep_head = 1000 };
	struct procset *ps = procset_new();
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	char *want = xasprintf("%s\nbar baz\nunset\n", dir);
	char *out = proc_output(p, NULL);
	assert_string_equal(out, want);
	free(out);
	free(want);
	proc_free(p);
	procset_free(ps);
	rmdir(dir);
	free(dir);
}

static void test_spawn_errors(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	struct proc *p = NULL;
	char *missing[] = { (char *)"lb-no-such-command", NULL };
	struct proc_opts o = { .argv = missing };
	errno = 0;
	assert_int_equal(proc_spawn(ps, &o, &p), -1);
	assert_int_equal(errno, ENOENT);

	char *abs[] = { (char *)"/nonexistent/lb", NULL };
	o.argv = abs;
	assert_int_equal(proc_spawn(ps, &o, &p), -1);
	assert_int_equal(errno, ENOENT);

	char *ok[] = { (char *)"true", NULL };
	o.argv = ok;
	o.cwd = "/nonexistent-lb-dir";
	assert_int_equal(proc_spawn(ps, &o, &p), -1);
	assert_int_equal(errno, ENOENT);

	char *none[] = { NULL };
	o.argv = none;
	o.cwd = NULL;
	assert_int_equal(proc_spawn(ps, &o, &p), -1);
	assert_int_equal(errno, EINVAL);

	assert_int_equal(procset_active(ps), 0);
	procset_free(ps);
	assert_no_children();
}

static void test_stop(void **state)
{
	static const struct {
		const char *script;
		int hard;
		int sig;
		double max_s;
	} cases[] = {
		{ "sleep 30 & wait", 0, SIGTERM, 0.5 },
		{ "sleep 30 & wait", 1, SIGKILL, 0.5 },
		{ "trap '' TERM; sleep 30; sleep 30", 0, SIGKILL, 0.3 + 0.5 },	/* grace 300 ms */
	};
	(void)state;
	struct procset *ps = procset_new();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_opts o = sh_opts(cases[i].script);
		o.grace_ms = 300;
		struct proc *p;
		assert_int_equal(proc_spawn(ps, &o, &p), 0);
		assert_int_equal(proc_state(p), PROC_RUNNING);
		procset_poll(ps, 50);
		double t0 = now_s();
		proc_stop(p, cases[i].hard);
		wait_done(ps, p);
		double took = now_s() - t0;
		if (took > cases[i].max_s)
			fail_msg("stop of '%s' took %.3f s", cases[i].script, took);
		const struct proc_result *r = proc_result(p);
		assert_true(r->killed);
		assert_false(r->timed_out);
		assert_int_equal(r->signal, cases[i].sig);
		assert_true(group_dead(proc_pid(p)));
		proc_stop(p, 1);	/* DONE: nothing happens */
		assert_int_equal(proc_state(p), PROC_DONE);
		proc_free(p);
	}
	procset_free(ps);
	assert_no_children();
}

static struct procset *alarm_set;

static void on_alarm(int sig)
{
	(void)sig;
	procset_wake(alarm_set);
}

static void test_wake(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	/* a wake before the poll makes it return at once */
	procset_wake(ps);
	double t0 = now_s();
	assert_int_equal(procset_poll(ps, 5000), 0);
	assert_true(now_s() - t0 < 0.5);

	/* from a signal handler while procset_poll waits for a process */
	char *argv[] = { (char *)"sleep", (char *)"5", NULL };
	struct proc_opts o = { .argv = argv };
	struct proc *p;
	assert_int_equal(proc_spawn(ps, &o, &p), 0);
	alarm_set = ps;
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	struct sigaction old;
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = now_s();
	assert_int_equal(procset_poll(ps, -1), 0);
	double took = now_s() - t0;
	assert_true(took >= 0.05 && took < 1.0);
	assert_int_equal(proc_state(p), PROC_RUNNING);
	sigaction(SIGALRM, &old, NULL);
	procset_free(ps);	/* stops the sleep: TERM is enough */
	assert_no_children();
}

static int count_fds(void)
{
	glob_t g;
	int n = 0;
	if (glob("/proc/self/fd/*", 0, NULL, &g) == 0) {
		n = (int)g.gl_pathc;
		globfree(&g);
	}
	return n;
}

static void test_free_stops_everything(void **state)
{
	(void)state;
	int fds = count_fds();
	struct procset *ps = procset_new();
	struct proc *p;
	struct proc_opts o = sh_opts("sleep 30 & sleep 30 & wait");
	assert_int_equal(proc_spawn(ps, &o, &p), 0);
	o = sh_opts("trap '' TERM; sleep 30 & wait");
	o.grace_ms = 200;
	assert_int_equal(proc_spawn(ps, &o, &p), 0);
	pid_t pg = proc_pid(p);
	procset_poll(ps, 50);
	double t0 = now_s();
	procset_free(ps);
	assert_true(now_s() - t0 < 1.5);
	assert_true(group_dead(pg));
	assert_no_children();
	assert_int_equal(count_fds(), fds);	/* pipes, pidfds, wake pipe all closed */
}

/* A child that left the group (setsid) is reparented to us and reaped by polling. */
static void test_orphans_reaped(void **state)
{
	(void)state;
	struct procset *ps = procset_new();
	struct proc_opts o = sh_opts("setsid sleep 0.2 >/dev/null 2>&1 & exit 0");
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	proc_free(p);
	double t0 = now_s();
	for (;;) {
		procset_poll(ps, 20);
		errno = 0;
		if (waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD)
			break;
		if (now_s() - t0 > 3)
			fail_msg("the orphan was not reaped");
	}
	procset_free(ps);
	assert_no_children();
}

static void test_duration(void **state)
{
	(void)state;
	char *argv[] = { (char *)"sleep", (char *)"0.2", NULL };
	struct proc_opts o = { .argv = argv };
	struct procset *ps = procset_new();
	struct proc *p;
	assert_int_equal(proc_run(ps, &o, &p), 0);
	int64_t d = proc_result(p)->duration_ns;
	assert_true(d >= 195 * 1000000LL && d < 1000 * 1000000LL);
	procset_free(ps);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);	/* must not leak into the children: `yes | head` needs it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_output_small),
		cmocka_unit_test(test_output_bounds),
		cmocka_unit_test(test_interleaved_streams),
		cmocka_unit_test(test_huge_output_bounded),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_grace),
		cmocka_unit_test(test_leftovers),
		cmocka_unit_test(test_stdin_is_devnull),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_capture_split),
		cmocka_unit_test(test_redacted_streams),
		cmocka_unit_test(test_cwd_and_env),
		cmocka_unit_test(test_spawn_errors),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_wake),
		cmocka_unit_test(test_free_stops_everything),
		cmocka_unit_test(test_orphans_reaped),
		cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
