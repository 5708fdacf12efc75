#include "ctlfile.h"

#include "dirsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const op_names[ST_CTL_OP_COUNT] = {
	[ST_CTL_OP_NONE] = "none",
	[ST_CTL_OP_REPLACE] = "replace",
	[ST_CTL_OP_ADD] = "add",
	[ST_CTL_OP_ENABLE] = "enable",
	[ST_CTL_OP_DISABLE] = "disable",
	[ST_CTL_OP_CLEAR] = "clear",
};

const char *st_ctl_op_name(enum st_ctl_op op)
{
	return (unsigned)op < ST_CTL_OP_COUNT ? op_names[op] : "none";
}

/* The shim calls these from inside hooked calls: raw system calls, so
 * that none of them lands in one of our own hooks. */
static int raw_openat(int dir, const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, dir, path, flags, mode);
}

static void raw_close(int fd)
{
	syscall(SYS_close, fd);
}

static bool owned_dir(const char *path, uid_t uid)
{
	struct stat st;

	return syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_uid == uid;
}

bool st_ctl_dir_path(unsigned i, char *out, size_t cap, const char *setting, const char *xdg,
		     uid_t uid)
{
	int n;

	if (setting && *setting) {
		if (i > 0 || strcmp(setting, "off") == 0 || setting[0] != '/')
			return false;
		n = snprintf(out, cap, "%s", setting);
	} else if (xdg && xdg[0] == '/' && owned_dir(xdg, uid)) {
		/* The session's own tmpfs, private to the user by definition. */
		if (i > 0)
			return false;
		n = snprintf(out, cap, "%s/socktrace", xdg);
	} else if (i < 2) {
		n = snprintf(out, cap, "%s/socktrace-ctl-%u", i == 0 ? "/dev/shm" : "/tmp",
			     (unsigned)uid);
	} else {
		return false;
	}
	return n > 0 && (size_t)n < cap;
}

static int raw_stat(const char *path, struct stat *st, int flags)
{
	return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, flags);
}

/* why: "control directory PATH " and what st_dir_safe says. */
static void unsafe(char *why, size_t cap, const char *path, const char *phrase)
{
	snprintf(why, cap, "control directory %s %s", path, phrase);
}

int st_ctl_dir_open(const char *path, uid_t uid, bool create, struct stat *out, char *why,
		    size_t why_cap)
{
	struct stat link, st;
	char phrase[160];
	int fd, err;

	why[0] = '\0';
	if (raw_stat(path, &link, AT_SYMLINK_NOFOLLOW) != 0 &&
	    (errno != ENOENT || !create ||
	     (syscall(SYS_mkdirat, AT_FDCWD, path, 0700) != 0 && errno != EEXIST) ||
	     raw_stat(path, &link, AT_SYMLINK_NOFOLLOW) != 0))
		return -1;
	/* A link planted by another user is not even followed. */
	if (!st_dir_link_safe(&link, uid, phrase, sizeof(phrase))) {
		unsafe(why, why_cap, path, phrase);
		return -1;
	}
	fd = raw_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		/* Say why when it is the directory's fault: not one, or
		 * another user's that we may not even open. */
		err = errno;
		if (err == ENOTDIR || err == EACCES) {
			if (raw_stat(path, &st, 0) != 0)
				st = link;
			if (!st_dir_safe(&link, &st, uid, phrase, sizeof(phrase)))
				unsafe(why, why_cap, path, phrase);
			else if (err == EACCES)
				unsafe(why, why_cap, path, "cannot be opened (permission denied)");
		}
		errno = err;
		return -1;
	}
	if (syscall(SYS_fstat, fd, &st) != 0) {
		raw_close(fd);
		return -1;
	}
	if (!st_dir_safe(&link, &st, uid, phrase, sizeof(phrase))) {
		unsafe(why, why_cap, path, phrase);
		raw_close(fd);
		errno = EACCES;
		return -1;
	}
	if (out)
		*out = st;
	return fd;
}

bool st_ctl_dir_still(const char *path, uid_t uid, dev_t dev, ino_t ino)
{
	struct stat link, st;
	char phrase[160];

	if (raw_stat(path, &link, AT_SYMLINK_NOFOLLOW) != 0)
		return false;
	if (!S_ISLNK(link.st_mode))
		st = link;
	else if (raw_stat(path, &st, 0) != 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino &&
	       st_dir_safe(&link, &st, uid, phrase, sizeof(phrase));
}

void st_ctl_file_name(char *out, size_t cap, int pid)
{
	snprintf(out, cap, "%d%s", pid, ST_CTL_SUFFIX);
}

bool st_ctl_parse_name(const char *name, int *pid)
{
	char check[32];
	int p;

	if (sscanf(name, "%d", &p) != 1 || p <= 0)
		return false;
	st_ctl_file_name(check, sizeof(check), p);
	if (strcmp(check, name) != 0)
		return false;
	*pid = p;
	return true;
}
