/*
 * `lifeboat console FILE [--drill] [run options]` and `lifeboat console
 * --watch RUN_ID`: the live ncurses screen for drills and incidents
 * (SPEC 6). This file starts it: the entry, the engine thread, the signals.
 * The console's other files: console-model.c (what the screen shows, from
 * the engine's events or the history), console-loop.c (the loop, the keys
 * and the requests they send), console-view.c (the drawing, the only file
 * that calls curses).
 *
 * Threads. ncurses is not thread-safe, so every curses call is made on the
 * main thread, the UI thread. A run started here executes on a second
 * thread: engine_execute with its own history connection and the Lua host
 * the runbook was loaded into (loaded on the main thread before the engine
 * thread exists, used by that thread only from then on). The engine
 * thread's hooks copy what the screen needs into a small model under a
 * mutex and write a byte to a pipe; the UI thread poll()s the terminal and
 * that pipe. A step that computes in Lua, blocks in sh(), http or SQLite
 * keeps only the engine thread busy: keys are still read and drawn at once.
 *
 * Signals and the terminal. SIGINT, SIGTERM and SIGHUP are blocked in the
 * engine thread, so they land on the UI thread, whose handler only asks the
 * engine to abort (engine_request_abort, async-signal-safe) and wakes the
 * loop; the loop leaves once the run has ended and restores the terminal
 * (endwin) before the summary is printed. SIGUSR1 is the other way round:
 * only the engine thread takes it, so engine_wake runs on the thread whose
 * flag it sets (a key sends it with pthread_kill). A crash restores the
 * terminal in its handler and re-raises; atexit covers every other exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"
#include "run-setup.h"

/* ------------------------------------------------------------------------ */
/* signals and restoring the terminal */

/*
 * A process-directed signal lands on whichever thread does not block it, the
 * engine's or the UI's, so these are C11 atomics (lock-free, so safe in a
 * handler) rather than volatile sig_atomic_t. The UI loop's pipe is made once
 * and never closed: a handler that loaded its descriptor can never write into
 * a descriptor that was closed and reused meanwhile.
 */
static atomic_int got_signal;		/* the first SIGINT/SIGTERM/SIGHUP */
static atomic_int signal_watching;	/* --watch: a signal only quits */
static atomic_int curses_active;
static int ui_pipe[2] = { -1, -1 };	/* made by ui_pipe_make, never closed */
static int ui_pipe_errno;
static pthread_once_t ui_pipe_once = PTHREAD_ONCE_INIT;
static atomic_int signal_pipe_w = -1;	/* ui_pipe[1] once the console is open */

int console_got_signal(void)
{
	return atomic_load(&got_signal);
}

static void ui_pipe_make(void)
{
	if (pipe2(ui_pipe, O_CLOEXEC | O_NONBLOCK))
		ui_pipe_errno = errno;
}

static void restore_terminal(void)
{
	if (atomic_exchange(&curses_active, 0))
		console_screen_end();
}

static void on_signal(int sig)
{
	int saved = errno, none = 0;
	atomic_compare_exchange_strong(&got_signal, &none, sig);
	if (!atomic_load(&signal_watching))
		engine_request_abort(sig);
	int fd = atomic_load(&signal_pipe_w);
	if (fd >= 0 && write(fd, "s", 1) < 0) {
		/* full: the loop is awake anyway */
	}
	errno = saved;
}

/* `lifeboat confirm` and friends on this host nudge us so the answer is immediate. */
static void on_wake(int sig)
{
	(void)sig;
	engine_wake();
}

/* A crash must not leave the terminal raw: restore it, then die of the same signal. */
static void on_crash(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(int watching)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	atomic_store(&signal_watching, watching);
	install_stop_signals(on_signal, on_wake);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
#ifdef LIFEBOAT_SANITIZE
	static const int fatal[] = { SIGABRT };	/* the sanitizers report the others */
#else
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#endif
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
}

/* ------------------------------------------------------------------------ */
/* the engine thread */

static void *engine_main(void *arg)
{
	struct console *c = arg;
	struct run_rec *r = NULL;
	int rc = engine_execute(c->setup.host, c->setup.rb, c->setup.st, &c->setup.o, &c->hooks, &r);
	console_model_finish(&c->m, r, rc);
	return NULL;
}

/*
 * The asynchronous signals. console_run blocks them before any thread is
 * started (the engine's, and those lib/ starts, such as the webhook
 * sender), so every thread inherits that and they all reach the UI thread
 * -- all but SIGUSR1, the nudge that makes the engine read requests now:
 * only the engine thread takes that one, so engine_wake runs on the thread
 * whose flag it sets, whether the nudge comes from `lifeboat confirm`
 * elsewhere or from a key here (pthread_kill).
 */
static void async_signals(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP,
				    SIGCONT, SIGQUIT, SIGALRM, SIGCHLD, SIGPIPE };
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(set, sigs[i]);
}

/* Starts the engine thread; the caller has blocked the asynchronous signals. */
static int engine_start(struct console *c)
{
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	int err = pthread_create(&c->engine, NULL, engine_main, c);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	if (err)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */

static int console_open(struct console *c)
{
	pthread_once(&ui_pipe_once, ui_pipe_make);
	if (ui_pipe[0] < 0) {
		errorf("cannot start the console: %s", strerror(ui_pipe_errno));
		return 1;
	}
	c->pipe_r = ui_pipe[0];
	c->pipe_w = ui_pipe[1];
	c->m.wake_fd = ui_pipe[1];
	atomic_store(&signal_pipe_w, ui_pipe[1]);
	pthread_mutex_init(&c->m.mu, NULL);
	c->m.cur_phase = c->m.wait_pi = c->m.wait_si = c->m.pause_pi = c->m.pause_si = -1;
	c->m.last_pi = c->m.last_si = -1;
	c->wait_text_pi = c->wait_text_si = -1;
	return 0;
}

static void console_close(struct console *c)
{
	for (size_t i = 0; i < c->npend; i++)
		free(c->pend[i].what);
	pthread_mutex_destroy(&c->m.mu);
	console_model_release(&c->m);
	free(c->watch_id);
	/* the pipe stays open (see ui_pipe): a late signal writes into it harmlessly */
	atomic_store(&signal_pipe_w, -1);
	if (c->ui_st)
		store_close(c->ui_st);
	if (c->wl_rb)
		runbook_free(c->wl_rb);
	if (c->wl_host)
		luahost_free(c->wl_host);
}

static int screen_start(void)
{
	if (console_screen_begin(g_opts.color)) {
		errorf("cannot start the console on this terminal (TERM=%s): check TERM, or use `lifeboat run`",
		       getenv("TERM") ? getenv("TERM") : "unset");
		return EXIT_USAGE;
	}
	atomic_store(&curses_active, 1);
	return 0;
}

static int console_watch(struct console *c)
{
	struct run_rec *r = NULL;
	int rc = load_run(c->ui_st, c->watch_id, &r);
	if (rc)
		return rc;
	console_watch_load_runbook(c, r);
	free(c->watch_id);
	c->watch_id = xstrdup(r->id);	/* the full id from now on */
	c->m.run = r;
	c->m.ended = r->status != ST_RUNNING;
	c->reloaded_ns = clock_mono_ns();
	console_watch_focus(c);
	rc = screen_start();
	if (rc)
		return rc;
	install_signals(1);
	console_loop(c);
	restore_terminal();
	pthread_mutex_lock(&c->m.mu);
	const struct run_rec *w = c->m.run;
	if (w->status == ST_RUNNING)
		printf("run %s is still running (process %ld on %s) · lifeboat show %s\n", w->id,
		       w->pid, w->host ? w->host : "?", w->id);
	char verdict[160];
	if (w->status != ST_RUNNING)
		printf("run %s %s · exit %d · lifeboat show %s\n", w->id,
		       verdict_text(w, verdict, sizeof(verdict)), w->exit_code, w->id);
	pthread_mutex_unlock(&c->m.mu);
	return got_signal == SIGINT ? EXIT_ABORTED : got_signal ? EXIT_TERMINATED : 0;
}

static int console_run(struct console *c, const struct run_args *a)
{
	sigset_t async, old;
	async_signals(&async);
	pthread_sigmask(SIG_BLOCK, &async, &old);
	int rc = run_setup_init(&c->setup, a, a->drill ? MODE_DRILL : MODE_RUN, TRIGGER_CONSOLE);
	if (!rc) {
		c->setup.o.pause_on_failure = 1;
		c->hooks = (struct engine_hooks){ .event = console_on_event, .manual = console_on_manual,
						  .ud = c };
		rc = screen_start();
	}
	if (!rc) {
		install_signals(0);
		if (engine_start(c)) {
			restore_terminal();
			errorf("cannot start the engine thread: %s", strerror(errno));
			rc = 1;
		}
	}
	if (rc) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	/* the UI thread takes them all now, but the engine's nudge */
	sigdelset(&async, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &async, NULL);
	console_loop(c);
	/*
	 * The loop leaves only once the run has ended, except when poll itself
	 * failed: then abort the run, and wait for its cleanup to end it.
	 */
	pthread_mutex_lock(&c->m.mu);
	int finished = c->m.finished;
	pthread_mutex_unlock(&c->m.mu);
	restore_terminal();
	if (!finished) {
		engine_request_abort(SIGTERM);
		fprintf(stderr, "lifeboat: the console failed: aborting the run, waiting for its cleanup\n");
	}
	pthread_join(c->engine, NULL);
	return run_finish(c->m.final, c->m.rc, a->report, a->junit);
}

static int cmd_console(const struct cmd_args *ca)
{
	struct run_args a = { 0 };
	int rc = run_args_parse(ca, &a);
	if (rc) {
		run_args_release(&a);
		return rc;
	}
	if (!isatty(0) || !isatty(1)) {
		run_args_release(&a);
		errorf("the console needs a terminal; `lifeboat run` works without one (and `lifeboat confirm` answers its manual steps from anywhere)");
		return EXIT_USAGE;
	}
	struct console c;
	memset(&c, 0, sizeof(c));
	c.watch = a.watch != NULL;
	c.watch_id = xstrdup(a.watch);
	atexit(restore_terminal);
	if (console_open(&c)) {
		run_args_release(&a);
		return 1;
	}
	rc = c.watch ? open_history(&c.ui_st) : open_store(&c.ui_st);
	if (!rc)
		rc = c.watch ? console_watch(&c) : console_run(&c, &a);
	restore_terminal();
	console_screen_release();
	console_close(&c);
	run_setup_release(&c.setup);
	run_args_release(&a);
	return rc;
}

static const struct opt console_options[] = {
	{ RUN_OPT_DRILL, "drill", NULL, "run the fault phases too: a drill" },
	{ RUN_OPT_WATCH, "watch", "RUN_ID", "follow and act on a run another process executes (no FILE then)" },
	RUN_OPTIONS,
	OPT_END
};

const struct cmd cmd_console_entry = {
	"console", cmd_console, "FILE",
	"run a runbook in the live console, or follow a run (--watch)",
	console_options,
	"console --drill --env staging failover.lua\n"
	"console --watch 3f9c2a",
	NEED_CONFIG, NULL,
};
