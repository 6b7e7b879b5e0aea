/* Run ownership through flock: see runlock.h. */
#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *runlock_dir(const char *db_path)
{
	const char *slash = strrchr(db_path, '/');
	if (!slash)
		return xstrdup("locks");
	return xasprintf("%.*s/locks", (int)(slash - db_path), db_path);
}

static char *lock_path(const char *dir, const char *run_id)
{
	return xasprintf("%s/run-%s.lock", dir, run_id);
}

int runlock_acquire(const char *dir, const char *run_id)
{
	mkdir(dir, 0755);
	char *path = lock_path(dir, run_id);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -1;
	}
	char line[32];
	int len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, line, (size_t)len, 0) < 0) {
		/* the lock is what matters; the pid inside is for people */
	}
	return fd;
}

void runlock_release(const char *dir, const char *run_id, int fd)
{
	if (fd < 0)
		return;
	char *path = lock_path(dir, run_id);
	unlink(path);
	free(path);
	close(fd);
}

int runlock_alive(const char *dir, const char *run_id)
{
	char *path = lock_path(dir, run_id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	int alive = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}
