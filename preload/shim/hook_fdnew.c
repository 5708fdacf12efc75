/* Calls that create descriptors without being socket calls. A number the
 * table knew as a socket may have been freed by code we cannot see (libc's
 * internal close in fclose, a raw close_range): whatever the number is now,
 * it is not that socket, so forget it. Not traced. */
#include "fdtable.h"
#include "real.h"
#include "fortify.h"
#include "shim.h"
#include "stack.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int fresh(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		st_fd_forget(fd);
		errno = saved;
	}
	return fd;
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, mode) \
	do { \
		if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) { \
			va_list ap; \
			va_start(ap, flags); \
			mode = (mode_t)va_arg(ap, int); \
			va_end(ap); \
		} \
	} while (0)

ST_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	st_ensure_init();
	return fresh(real_open(path, flags, mode));
}

ST_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	st_ensure_init();
	return fresh(real_open64(path, flags, mode));
}

ST_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	st_ensure_init();
	return fresh(real_openat(dirfd, path, flags, mode));
}

ST_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	st_ensure_init();
	return fresh(real_openat64(dirfd, path, flags, mode));
}

ST_EXPORT int __open_2(const char *path, int flags)
{
	st_ensure_init();
	return fresh(real___open_2(path, flags));
}

ST_EXPORT int __open64_2(const char *path, int flags)
{
	st_ensure_init();
	return fresh(real___open64_2(path, flags));
}

ST_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	st_ensure_init();
	return fresh(real___openat_2(dirfd, path, flags));
}

ST_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	st_ensure_init();
	return fresh(real___openat64_2(dirfd, path, flags));
}

static int fresh_pair(int ret, int fds[2])
{
	if (ret == 0) {
		fresh(fds[0]);
		fresh(fds[1]);
	}
	return ret;
}

ST_EXPORT int pipe(int fds[2])
{
	st_ensure_init();
	return fresh_pair(real_pipe(fds), fds);
}

ST_EXPORT int pipe2(int fds[2], int flags)
{
	int ret;

	st_ensure_init();
	ret = real_pipe2(fds, flags);
	/* libunwind makes a pipe the first time it unwinds, to check memory
	 * through: it would take the lowest free numbers, the ones the
	 * program's next socket() expects. The shim's own descriptors live
	 * above the program's range. */
	if (ret == 0 && st_unlikely(st_stack_unwinding())) {
		int saved = errno;
		fds[0] = st_move_fd_high(fds[0]);
		fds[1] = st_move_fd_high(fds[1]);
		errno = saved;
		return ret;
	}
	return fresh_pair(ret, fds);
}

ST_EXPORT int eventfd(unsigned initval, int flags)
{
	st_ensure_init();
	return fresh(real_eventfd(initval, flags));
}

ST_EXPORT int timerfd_create(int clockid, int flags)
{
	st_ensure_init();
	return fresh(real_timerfd_create(clockid, flags));
}

ST_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	st_ensure_init();
	return fresh(real_signalfd(fd, mask, flags));
}

ST_EXPORT int epoll_create(int size)
{
	st_ensure_init();
	return fresh(real_epoll_create(size));
}

ST_EXPORT int epoll_create1(int flags)
{
	st_ensure_init();
	return fresh(real_epoll_create1(flags));
}

ST_EXPORT int memfd_create(const char *name, unsigned flags)
{
	st_ensure_init();
	return fresh(real_memfd_create(name, flags));
}
