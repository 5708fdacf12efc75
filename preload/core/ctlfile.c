#include "ctlfile.h"

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

int st_ctl_dir_open(const char *path, uid_t uid, bool create, char *why, size_t why_cap)
{
	struct stat st;
	int fd;

	why[0] = '\0';
	/* O_NOFOLLOW|O_DIRECTORY: a symlink planted in /tmp by another user
	 * is refused, not followed. */
	fd = raw_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0 && errno == ENOENT && create &&
	    (syscall(SYS_mkdirat, AT_FDCWD, path, 0700) == 0 || errno == EEXIST))
		fd = raw_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			snprintf(why, why_cap, "%s is not a directory (a symbolic link?)", path);
		else if (errno == EACCES)
			snprintf(why, why_cap, "%s cannot be opened: it belongs to another user", path);
		return -1;
	}
	if (syscall(SYS_fstat, fd, &st) != 0) {
		raw_close(fd);
		return -1;
	}
	if (st.st_uid != uid || (st.st_mode & 077) != 0) {
		snprintf(why, why_cap,
			 "%s belongs to uid %u with mode %03o; it must be uid %u's alone (mode 0700)",
			 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777), (unsigned)uid);
		raw_close(fd);
		return -1;
	}
	return fd;
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
