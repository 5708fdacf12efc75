/* Teardown: close, shutdown, close_range, closefrom. The shim's own trace
 * descriptor is invisible to them: a program that sweeps every fd it does
 * not know sees EBADF for ours, exactly as if it were not there. */
#include "call.h"
#include "hooks.h"
#include "fdtable.h"
#include "names.h"
#include "real.h"
#include "writer.h"

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

int st_close(int fd, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fdsnap snap;
	bool is_socket;
	struct st_fault f;
	struct st_rec r;

	if (st_writer_owns_fd(fd)) {
		errno = EBADF;
		return -1;
	}
	st_ensure_init();
	is_socket = st_fd_snapshot(fd, &snap);
	/* close succeeds on any descriptor: only the kernel can say that
	 * this one is still the socket the table remembers (one fstat per
	 * socket closed, when it is to be traced or may be faulted). */
	if (is_socket && st_enter() && (st_tracing_on() || st_fault_may(ST_FN_close)) &&
	    !st_fd_still_socket(fd))
		is_socket = false;
	/* The address must be asked for before the socket is gone. */
	if (is_socket && (snap.local_pending || snap.peer_pending) && st_tracing_on())
		is_socket = st_fd_snapshot_full(fd, &snap);
	/* Taken before the real close: once the kernel frees the number,
	 * another thread's accept may get it and record its new socket,
	 * which a blind forget after would wipe. */
	uint32_t version = st_fd_version(fd);
	if (!st_enter() || (!is_socket && !st_fault_may(ST_FN_close))) {
		ret = real_close(fd);
		err = errno;
		/* Linux frees the number even when close fails with EINTR. */
		if (ret == 0 || err != EBADF)
			st_fd_forget_if_unchanged(fd, version);
		errno = err;
		return ret;
	}
	t0 = st_time_start();
	f.rule = NULL;
	/* An injected error still releases the descriptor, as Linux does
	 * for every close that fails: a fault must not leak it. */
	if (st_fault_may(ST_FN_close) && is_socket &&
	    st_fault_begin(&f, ST_FN_close, fd, NULL, 0, false, NULL, 0, t0)) {
		real_close(fd);
		ret = (int)f.ret;
		err = f.err;
		f.replaced = false;
	} else {
		ret = real_close(fd);
		err = errno;
	}
	t1 = st_time_end();
	if (ret == 0 || err != EBADF || f.rule)
		st_fd_forget_if_unchanged(fd, version);
	if (st_tracing_on() && is_socket) {
		st_rec_begin(&r, ST_FN_close, fd, t0, t1, ret, err, via);
		st_rec_fault(&r, &f);
		st_rec_emit_snap(&r, &snap);
	}
	errno = err;
	return ret;
}

ST_EXPORT int close(int fd)
{
	return st_close(fd, ST_VIA_NONE);
}

int st_shutdown(int fd, int how, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	const char *name;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_shutdown)))
		return real_shutdown(fd, how);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_shutdown, fd, NULL, 0, false, 0, t0, ret, err,
			 real_shutdown(fd, how));
	t1 = st_time_end();
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_shutdown, fd, t0, t1, ret, err, via);
	name = st_shutdown_name(how);
	rb_name_or_i64(&r.b, ST_F_how, name, how);
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int shutdown(int fd, int how)
{
	return st_shutdown(fd, how, ST_VIA_NONE);
}

static int close_range_raw(unsigned first, unsigned last, int flags)
{
	if (real_close_range)
		return real_close_range(first, last, flags);
	return (int)st_syscall(SYS_close_range, first, last, flags);
}

/* Closes [first, last] except our own descriptor, in at most two calls. */
int st_close_range(unsigned first, unsigned last, int flags)
{
	int ours = st_writer_fd();
	int ret, err;

	st_ensure_init();
	if (ours < 0 || (unsigned)ours < first || (unsigned)ours > last ||
	    (flags & CLOSE_RANGE_CLOEXEC) || first > last) {
		ret = close_range_raw(first, last, flags);
	} else {
		ret = 0;
		if ((unsigned)ours > first)
			ret = close_range_raw(first, (unsigned)ours - 1, flags);
		if (ret == 0 && (unsigned)ours < last)
			ret = close_range_raw((unsigned)ours + 1, last, flags);
	}
	err = errno;
	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		st_fd_forget_range(first, last);
	errno = err;
	return ret;
}

ST_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	return st_close_range(first, last, flags);
}

ST_EXPORT void closefrom(int lowfd)
{
	int saved = errno;

	/* Same as glibc: close_range first, the libc's own way if the kernel
	 * lacks it (then our descriptor is reopened when next needed). */
	if (lowfd >= 0 && st_close_range((unsigned)lowfd, ~0u, 0) == 0) {
		errno = saved;
		return;
	}
	errno = saved;
	if (real_closefrom)
		real_closefrom(lowfd);
	st_fd_forget_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0u);
}
