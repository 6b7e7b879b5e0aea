/*
 * Who owns a running run. The executing process holds an flock on
 * <history folder>/locks/run-<id>.lock for as long as it runs; the kernel
 * drops it when the process dies, however it dies. So a reader can tell a
 * run that is still executing from one whose process is gone (kill -9, a
 * reboot) and show the latter as interrupted instead of running forever.
 */
#ifndef LB_RUNLOCK_H
#define LB_RUNLOCK_H

/* The locks folder for a history database path (owned string). */
char *runlock_dir(const char *db_path);
/* Takes the run's lock; returns the descriptor, or -1 (then nobody can tell; not fatal). */
int runlock_acquire(const char *lock_dir, const char *run_id);
/* Releases and removes the lock file. */
void runlock_release(const char *lock_dir, const char *run_id, int fd);
/* 1 when a live process holds the run's lock, 0 when none does. */
int runlock_alive(const char *lock_dir, const char *run_id);

#endif
