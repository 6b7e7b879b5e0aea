/* Acting on a run that another process executes: shared by confirm, decline, note, abort. */
#ifndef LB_ACT_H
#define LB_ACT_H

/*
 * Writes the request into the history, then waits (up to a few seconds) for
 * the executing process to answer, and prints the answer. Returns the exit
 * code: 0 done, 5 refused, 1 no answer (the run is not executing), 2 usage.
 */
int act_on_run(const char *cmd, const char *run_id, const char *kind, const char *step,
	       const char *text);

#endif
