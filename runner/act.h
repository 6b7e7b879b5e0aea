/* Acting on a run that another process executes: shared by confirm, decline, note, abort. */
#ifndef LB_ACT_H
#define LB_ACT_H

/*
 * Writes the request for the run main loaded (NEED_RUN) into the history,
 * then waits (up to a few seconds) for the executing process to answer, and
 * prints the answer. Returns the exit code: 0 done, 5 refused, 1 no answer
 * (the run is not executing).
 */
int act_on_run(const char *cmd, const char *kind, const char *step, const char *text);

/*
 * The channel itself, printing nothing (the console uses it): writes the
 * request as the operator and, when r's process runs on this host, nudges it
 * with SIGUSR1 so it reads the request now. 0 and *id, or -1 (store_error).
 */
struct store;
struct run_rec;
int act_request(struct store *st, const struct run_rec *r, const char *kind, const char *step,
		const char *text, long *id);

#endif
