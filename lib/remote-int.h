/*
 * What remote.c (masters, ssh command lines) and remote-inst.c (instances,
 * heartbeats, fan-out) share. Nothing else includes this.
 */
#ifndef LB_REMOTE_INT_H
#define LB_REMOTE_INT_H
#include <pthread.h>
#include <stdint.h>

#include "remote.h"

enum mstate { M_NONE, M_CONNECTING, M_UP, M_FAILED };

struct master {
	char *dest;
	char *sock;		/* control socket path, owned */
	enum mstate state;
	struct proc *proc;	/* while connecting */
	int64_t start_ns;
	double connect_s;
	char *error;		/* when failed, owned */
	const char *hostkey;
};

struct rinst;

struct remote {
	char *dir;			/* the 0700 control folder, owned */
	char *config;
	double connect_timeout_s;
	char **options;			/* owned copy */
	struct master **masters;	/* each xcalloc'd: instances point at them */
	size_t nmasters;
	struct procset *ps;		/* the set masters were started in (the last one) */
	pthread_t hb;
	int hb_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit;
	struct rinst **live;		/* instances that get heartbeats, under mu */
	size_t nlive, alive;
};

/* ssh's argv up to (not including) the destination; the caller frees the array only. */
struct argv {
	char **v;
	size_t n, alloc;
	char *owned[4];
	size_t nowned;
};

void av_add(struct argv *a, const char *s);
void av_release(struct argv *a);
/* ssh's options for m (master: the command that starts it), up to the destination. */
void base_argv(struct remote *r, struct argv *a, const struct master *m, int master);
void add_dest(struct argv *a, const char *dest);
/* The master for dest, started in ps if there is none yet. */
struct master *master_use(struct remote *r, struct procset *ps, const char *dest);
enum mstate master_poll(struct master *m);
#endif
