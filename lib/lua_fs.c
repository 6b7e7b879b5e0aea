/*
 * fs: files for runbooks. Relative paths resolve against the runbook's
 * workdir. An expected failure (a missing file, no permission) returns
 * nil, "path: reason" as io.open does; a bad argument raises. Reads work
 * while a runbook loads; writes (write, copy, remove) raise then, since
 * loading never changes anything.
 *
 * Writes are atomic: the data goes to a temporary file in the target's
 * folder, is synced, and renamed over the target, so a crash or a full disk
 * leaves either the old file or the new one, never half of each. No Lua
 * call is made while a descriptor is open, so nothing can raise past it.
 */
#include "lua_libs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua_api.h"
#include "util.h"

#define FS_READ_MAX (64 * 1024 * 1024)	/* fs.read refuses bigger files: use sh */

/* nil, "path: what" for a failure that is not errno's */
static int fs_fail(lua_State *L, const char *path, const char *what)
{
	luaL_pushfail(L);
	lua_pushfstring(L, "%s: %s", path, what);
	return 2;
}

static int fs_exists(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct stat sb;
	if (stat(path, &sb) == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (errno == ENOENT || errno == ENOTDIR) {
		lua_pushboolean(L, 0);
		return 1;
	}
	return luaL_fileresult(L, 0, path);
}

/*
 * A path that must be a regular file: 0 with *sb filled, or the number of
 * results (nil, message) already pushed. A FIFO would block the host in open.
 */
static int regular_file(lua_State *L, const char *path, struct stat *sb)
{
	if (stat(path, sb))
		return luaL_fileresult(L, 0, path);
	if (S_ISDIR(sb->st_mode)) {
		errno = EISDIR;
		return luaL_fileresult(L, 0, path);
	}
	if (!S_ISREG(sb->st_mode))
		return fs_fail(L, path, "not a regular file");
	return 0;
}

static int fs_read(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct stat sb;
	int nres = regular_file(L, path, &sb);
	if (nres)
		return nres;
	if (sb.st_size > FS_READ_MAX) {
		const char *why = lua_pushfstring(L, "too big to read (%I bytes, more than %d MiB)",
						  (lua_Integer)sb.st_size, FS_READ_MAX >> 20);
		return fs_fail(L, path, why);
	}
	/* the buffer first: allocating may raise, and no descriptor is open yet */
	size_t size = (size_t)sb.st_size;
	luaL_Buffer b;
	char *buf = luaL_buffinitsize(L, &b, size + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return luaL_fileresult(L, 0, path);
	size_t got = 0;
	int err = 0;
	while (got <= size) {	/* one byte more than expected tells a file that grew */
		ssize_t n = read(fd, buf + got, size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errno;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (err) {
		errno = err;
		return luaL_fileresult(L, 0, path);
	}
	if (got > size)
		return fs_fail(L, path, "changed while it was read");
	luaL_pushresultsize(&b, got);
	return 1;
}

/*
 * The temporary file next to path: "<folder>/.<name>.lifeboat-XXXXXX" in tmp
 * (PATH_MAX bytes). -1 with errno when the name would be too long.
 */
static int temp_name(const char *path, char *tmp)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 0;
	const char *base = slash ? slash + 1 : path;
	int n = snprintf(tmp, PATH_MAX, "%.*s%s.%s.lifeboat-XXXXXX", dirlen, path,
			 slash ? "/" : "", base);
	if (n < 0 || n >= PATH_MAX || !*base) {
		errno = !*base ? EISDIR : ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Makes the rename durable; errors are ignored: the data itself is synced. */
static void sync_folder(const char *tmp)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(tmp, '/');
	if (!slash)
		return;
	snprintf(dir, sizeof(dir), "%.*s", slash == tmp ? 1 : (int)(slash - tmp), tmp);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * Finishes a temporary file written through fd: mode, sync, close, rename
 * over path. 0, or -1 with errno (the temporary file is gone either way).
 */
static int temp_commit(int fd, const char *tmp, const char *path, mode_t mode)
{
	int rc = fchmod(fd, mode) || fsync(fd) ? -1 : 0;
	int err = errno;
	if (close(fd) && !rc) {
		rc = -1;
		err = errno;
	}
	if (!rc && rename(tmp, path)) {
		rc = -1;
		err = errno;
	}
	if (rc) {
		unlink(tmp);
		errno = err;
		return -1;
	}
	sync_folder(tmp);
	return 0;
}

/* The mode a new file gets: the old file's, else 0666 less the umask. */
static mode_t new_mode(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) == 0)
		return sb.st_mode & 07777;
	mode_t mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

static int fs_write(lua_State *L)
{
	size_t len;
	luahost_need_running(L, "fs.write");
	const char *path = lua_api_path(L, 1);
	const char *data = luaL_checklstring(L, 2, &len);
	char tmp[PATH_MAX];
	if (temp_name(path, tmp))
		return luaL_fileresult(L, 0, path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return luaL_fileresult(L, 0, path);
	if (write_all(fd, data, len)) {
		int err = errno;
		close(fd);
		unlink(tmp);
		errno = err;
		return luaL_fileresult(L, 0, path);
	}
	if (temp_commit(fd, tmp, path, new_mode(path)))
		return luaL_fileresult(L, 0, path);
	lua_pushboolean(L, 1);
	return 1;
}

static int fs_copy(lua_State *L)
{
	luahost_need_running(L, "fs.copy");
	const char *src = lua_api_path(L, 1);
	const char *dst = lua_api_path(L, 2);
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (in < 0)
		return luaL_fileresult(L, 0, src);
	struct stat sb;
	if (fstat(in, &sb)) {
		int err = errno;
		close(in);
		errno = err;
		return luaL_fileresult(L, 0, src);
	}
	if (!S_ISREG(sb.st_mode)) {
		close(in);
		if (!S_ISDIR(sb.st_mode))
			return fs_fail(L, src, "not a regular file");
		errno = EISDIR;
		return luaL_fileresult(L, 0, src);
	}
	char tmp[PATH_MAX];
	int out = temp_name(dst, tmp) ? -1 : mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		int err = errno;
		close(in);
		errno = err;
		return luaL_fileresult(L, 0, dst);
	}
	char buf[65536];
	const char *failed = NULL;
	int err = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			failed = src;
			err = errno;
		} else if (n > 0 && write_all(out, buf, (size_t)n)) {
			failed = dst;
			err = errno;
		}
		if (n <= 0 || failed)
			break;
	}
	close(in);
	if (failed) {
		close(out);
		unlink(tmp);
		errno = err;
		return luaL_fileresult(L, 0, failed);
	}
	if (temp_commit(out, tmp, dst, sb.st_mode & 07777))
		return luaL_fileresult(L, 0, dst);
	lua_pushboolean(L, 1);
	return 1;
}

static int fs_remove(lua_State *L)
{
	luahost_need_running(L, "fs.remove");
	const char *path = lua_api_path(L, 1);
	int rc = unlink(path);
	if (rc && (errno == EISDIR || errno == EPERM)) {
		struct stat sb;
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			rc = rmdir(path);	/* empty folders only, as os.remove */
		else
			errno = EPERM;
	}
	return luaL_fileresult(L, rc == 0, path);
}

struct dir_list {
	struct dirent **names;	/* from scandir (malloc'd), owned */
	int n;
};

static void dir_list_release(void *p)
{
	struct dir_list *d = p;
	for (int i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
}


static int fs_list(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct dir_list *d = lua_api_scratch(L, sizeof(*d), dir_list_release);
	d->n = lua_api_scandir(path, &d->names);
	if (d->n < 0) {
		d->n = 0;
		return luaL_fileresult(L, 0, path);
	}
	lua_createtable(L, d->n, 0);
	for (int i = 0; i < d->n; i++) {
		lua_pushstring(L, d->names[i]->d_name);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int fs_mtime(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct stat sb;
	if (stat(path, &sb))
		return luaL_fileresult(L, 0, path);
	/* unix seconds with milliseconds, as now() */
	long long ms = (long long)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
	lua_pushnumber(L, (lua_Number)ms / 1000.0);
	return 1;
}

static int fs_size(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct stat sb;
	if (stat(path, &sb))
		return luaL_fileresult(L, 0, path);
	lua_pushinteger(L, (lua_Integer)sb.st_size);
	return 1;
}

static int fs_sha256(lua_State *L)
{
	const char *path = lua_api_path(L, 1);
	struct stat sb;
	int nres = regular_file(L, path, &sb);
	if (nres)
		return nres;
	char hex[65];
	if (sha256_file(path, hex))
		return luaL_fileresult(L, 0, path);
	lua_pushstring(L, hex);
	return 1;
}

static const luaL_Reg fs_funcs[] = {
	{ "exists", fs_exists },
	{ "read", fs_read },
	{ "write", fs_write },
	{ "copy", fs_copy },
	{ "remove", fs_remove },
	{ "list", fs_list },
	{ "mtime", fs_mtime },
	{ "size", fs_size },
	{ "sha256", fs_sha256 },
	{ NULL, NULL }
};

void lua_fs_register(lua_State *L)
{
	luaL_newlib(L, fs_funcs);
	lua_immutable_register(L);
}
