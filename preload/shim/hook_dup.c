/* dup, dup2, dup3 and fcntl(F_DUPFD*): the new number must carry the same
 * connection in the fd table, and a dup2 onto a known number replaces what
 * it held. Traced as events only when the source is a socket. */
#include "call.h"
#include "hooks.h"
#include "fdtable.h"
#include "names.h"
#include "real.h"
#include "writer.h"

#include <fcntl.h>
#include <stdarg.h>

/* Records the duplication; src's kind decides whether it is an event. */
static void after_dup(enum st_fn fn, int src, int dst_arg, int ret, int err,
		      uint64_t t0, uint64_t t1, int cmd, const struct st_fault *f, enum st_via via)
{
	struct st_rec r;
	/* A dup succeeds on any descriptor: ask whether src still is the
	 * socket the table remembers before copying its entry. */
	bool socket = st_fd_kind(src) == ST_FD_SOCKET && (!st_enter() || st_fd_still_socket(src));

	if (ret >= 0)
		st_fd_copy(ret, src);
	if (!st_enter() || !st_tracing_on() || !socket)
		return;
	st_rec_begin(&r, fn, src, t0, t1, ret, err, via);
	if (fn == ST_FN_fcntl)
		rb_cname(&r.b, ST_F_cmd, st_fcntl_name(cmd));
	else if (fn != ST_FN_dup)
		rb_i64(&r.b, ST_F_newfd, dst_arg);
	st_rec_fault(&r, f);
	st_rec_emit(&r, src);
}

int st_dup(int fd, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;

	st_ensure_init();
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_dup, fd, NULL, 0, false, 0, t0, ret, err, real_dup(fd));
	t1 = st_time_end();
	after_dup(ST_FN_dup, fd, -1, ret, err, t0, t1, 0, &f, via);
	errno = err;
	return ret;
}

ST_EXPORT int dup(int fd)
{
	return st_dup(fd, ST_VIA_NONE);
}

int st_dup23(enum st_fn fn, int fd, int fd2, int flags, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;

	st_ensure_init();
	st_fd_is_socket(fd);
	/* The program may take any number, ours included: move ours away. */
	if (fd != fd2 && st_writer_owns_fd(fd2) && !st_in_borrowed_memory())
		st_writer_evict_fd(fd2);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, fn, fd, NULL, 0, false, 0, t0, ret, err,
			 fn == ST_FN_dup2 ? real_dup2(fd, fd2) : real_dup3(fd, fd2, flags));
	t1 = st_time_end();
	/* dup2 onto stdout between vfork and exec is the classic case: the
	 * parent's table must not learn that its fd 1 became a socket. */
	if (!st_in_borrowed_memory())
		after_dup(fn, fd, fd2, ret, err, t0, t1, 0, &f, via);
	errno = err;
	return ret;
}

ST_EXPORT int dup2(int fd, int fd2)
{
	return st_dup23(ST_FN_dup2, fd, fd2, 0, ST_VIA_NONE);
}

ST_EXPORT int dup3(int fd, int fd2, int flags)
{
	return st_dup23(ST_FN_dup3, fd, fd2, flags, ST_VIA_NONE);
}

/* fcntl's third argument is an int or a pointer depending on cmd; like
 * glibc itself we carry it as a pointer-sized value. */
int st_fcntl(int (*real)(int, int, void *), int fd, int cmd, void *arg, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;

	/* The exported wrappers have initialised the shim already. */
	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return real(fd, cmd, arg);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_fcntl, fd, NULL, 0, false, 0, t0, ret, err, real(fd, cmd, arg));
	t1 = st_time_end();
	after_dup(ST_FN_fcntl, fd, -1, ret, err, t0, t1, cmd, &f, via);
	errno = err;
	return ret;
}

ST_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	st_ensure_init();
	return st_fcntl(real_fcntl, fd, cmd, arg, ST_VIA_NONE);
}

ST_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	st_ensure_init();
	return st_fcntl(real_fcntl64 ? real_fcntl64 : real_fcntl, fd, cmd, arg, ST_VIA_NONE);
}
