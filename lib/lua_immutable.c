/*
 * fs.refuses_writes(path): whether this process is kept from changing a
 * file or a folder tree — the "immutable" of a 3-2-1 backup policy (SPEC 10),
 * checked rather than declared. Root writes through mode bits, so only what
 * the kernel refuses to root counts when lifeboat runs as root: a read-only
 * mount (EROFS) or the immutable attribute of `chattr +i` (EPERM). As
 * another user, a missing write permission (EACCES) refuses too.
 *
 * Nothing is ever written: a regular file is opened for writing and closed at
 * once (no O_TRUNC, no O_CREAT, not a byte written; its times do not change),
 * a folder (which cannot be opened for writing) and anything else is asked
 * with faccessat(W_OK, AT_EACCESS), which the kernel answers with the same
 * read-only-mount and immutable checks as a real write. A folder refuses only
 * when it and everything under it refuse: one writable file in an otherwise
 * read-only snapshot is a snapshot that can be changed. Symbolic links under
 * the path are not followed (their targets are not part of the copy); the
 * path itself may be one.
 *
 * Returns true and the reason of the first refusal ("read-only file
 * system"), false and "PATH: writable by this process (uid N)" naming the
 * first writable entry, or nil and a message when the path cannot be read.
 */
#include "lua_libs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "util.h"

#define REFUSE_MAX_ENTRIES 100000	/* a backup tree bigger than this is checked in part: say so */

enum refusal {
	REFUSED,	/* the kernel refused the write */
	WRITABLE,	/* it would have been allowed */
	FAILED,		/* could not tell: errno says why */
};

struct walk {
	int err;		/* errno of the first refusal, for the reason */
	char *writable;		/* the first writable path (malloc'd, owned), or NULL */
	char *failed;		/* the path that could not be checked (owned), or NULL */
	int failed_errno;
	long entries;
	char *resolved;		/* the path with its links resolved (from realpath, owned) */
};

static void walk_release(void *p)
{
	struct walk *w = p;
	free(w->writable);
	free(w->failed);
	free(w->resolved);
}

static int refused_errno(int e)
{
	return e == EROFS || e == EPERM || e == EACCES;
}

static enum refusal probe_one(const char *path, const struct stat *sb, int *err)
{
	if (S_ISREG(sb->st_mode)) {
		/* O_NONBLOCK: no waiting on a mandatory lock or a lease; nothing is written */
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return WRITABLE;
		}
		*err = errno;
		return refused_errno(errno) ? REFUSED : FAILED;
	}
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0)
		return WRITABLE;
	*err = errno;
	return refused_errno(errno) ? REFUSED : FAILED;
}

/* 0 to go on, 1 when the answer is known (something writable or unreadable) */
static int walk_path(struct walk *w, const char *path)
{
	struct stat sb;
	int err = 0;
	if (lstat(path, &sb)) {
		w->failed = xstrdup(path);
		w->failed_errno = errno;
		return 1;
	}
	if (S_ISLNK(sb.st_mode))
		return 0;
	if (++w->entries > REFUSE_MAX_ENTRIES)
		return 0;
	switch (probe_one(path, &sb, &err)) {
	case WRITABLE:
		w->writable = xstrdup(path);
		return 1;
	case FAILED:
		w->failed = xstrdup(path);
		w->failed_errno = err;
		return 1;
	case REFUSED:
		if (!w->err)
			w->err = err;
		break;
	}
	if (!S_ISDIR(sb.st_mode))
		return 0;
	/* byte order, so the entry named is the same on every filesystem */
	struct dirent **names;
	int n = lua_api_scandir(path, &names);
	if (n < 0) {
		w->failed = xstrdup(path);
		w->failed_errno = errno;
		return 1;
	}
	int done = 0;
	for (int i = 0; i < n; i++) {
		if (!done) {
			char *child = xasprintf("%s/%s", path, names[i]->d_name);
			done = walk_path(w, child);
			free(child);
		}
		free(names[i]);
	}
	free(names);
	return done;
}

static const char *reason(int err)
{
	switch (err) {
	case EROFS:
		return "read-only file system";
	case EPERM:
		return "immutable (the kernel refuses even root: chattr +i)";
	case EACCES:
		return "no write permission for this user";
	default:
		return strerror(err);
	}
}

static int fs_refuses_writes(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct walk *w = lua_api_scratch(L, sizeof(*w), walk_release);
	/* the copy itself may be a link (to a mount): follow that one, and none below it */
	w->resolved = realpath(path, NULL);
	if (!w->resolved)
		return luaL_fileresult(L, 0, path);
	walk_path(w, w->resolved);
	if (w->failed) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: %s", w->failed, strerror(w->failed_errno));
		return 2;
	}
	if (w->writable) {
		lua_pushboolean(L, 0);
		lua_pushfstring(L, "%s: writable by this process (uid %d)", w->writable,
				(int)geteuid());
		return 2;
	}
	lua_pushboolean(L, 1);
	if (w->entries > REFUSE_MAX_ENTRIES)
		lua_pushfstring(L, "%s (the first %d entries checked)", reason(w->err),
				REFUSE_MAX_ENTRIES);
	else
		lua_pushstring(L, reason(w->err));
	return 2;
}

void lua_immutable_register(lua_State *L)
{
	lua_pushcfunction(L, fs_refuses_writes);
	lua_setfield(L, -2, "refuses_writes");
}
