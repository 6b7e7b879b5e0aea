/*
 * What proc.c (the poll loop, a process's life until its group is empty)
 * and proc-spawn.c (starting the child) share. Nothing else includes this.
 */
#ifndef LB_PROC_INT_H
#define LB_PROC_INT_H
#include <sys/types.h>

#include "proc.h"

#define NS_PER_MS 1000000LL

/* Closes *fd when open and sets it to -1. */
void close_fd(int *fd);
/* A pipe whose read end is non-blocking (both ends with both_nonblock), above 0..2: 0, or -1 with errno. */
int make_pipe(int p[2], int both_nonblock);
/* /dev/null for the children's stdin, opened once (close-on-exec, above 2); -1 with errno. */
int dev_null(void);
/* name in envp's PATH (else ours): an xmalloc'd path, or NULL with errno. */
char *path_lookup(const char *name, char *const *envp);
/* Starts path in its own process group (see proc-spawn.c): the pid, or -1 with errno. */
pid_t spawn_child(const char *path, char *const argv[], char *const envp[],
		  const char *cwd, int in_r, int out_w, int err_w);
#endif
