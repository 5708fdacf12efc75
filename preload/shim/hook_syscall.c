/* syscall(2): how programs reach what libc does not wrap, and how some
 * reach what it does. libuv (Node.js, bind9's dig) sends with
 * syscall(SYS_sendmmsg, ...) and closes with syscall(SYS_close, fd): a
 * shim that only hooks libc's functions misses those bytes, and worse,
 * keeps a closed socket in its fd table, so the next descriptor that gets
 * the number is traced as the old connection. Every socket-related call
 * made through syscall() therefore goes through the same hook body as
 * the libc function of that name (traced with "via":"syscall", faulted,
 * and kept in the fd table), which makes the same system call through
 * libc. The one difference: libc's functions are cancellation points,
 * syscall() is not, and a pthread_cancel aimed at a thread blocked in
 * such a call acts on it here (programs that use syscall() for these do
 * not cancel threads). Other numbers go straight to the kernel.
 *
 * io_uring moves socket I/O out of every call we see, so its use is worth
 * a warning in the trace rather than a silently thin one. */
#include "hooks.h"
#include "real.h"
#include "sandbox.h"
#include "shim.h"
#include "warn.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

st_syscall_fn st_real_syscall(void)
{
	/* Our own start-up may need a raw system call before binding. */
	if (st_unlikely(!real_syscall)) {
		void *p = dlsym(RTLD_NEXT, "syscall");
		memcpy(&real_syscall, &p, sizeof(p));
	}
	return real_syscall;
}

/* The socket calls, by system call number. Returns false for a number
 * that is not one of them; *ret is then untouched. */
static bool socket_call(long nr, const long *a, long *ret)
{
#define I(k) ((int)a[k])
#define P(k) ((void *)a[k])
	switch (nr) {
	case SYS_socket:
		*ret = st_socket(I(0), I(1), I(2), ST_VIA_SYSCALL);
		return true;
	case SYS_socketpair:
		*ret = st_socketpair(I(0), I(1), I(2), P(3), ST_VIA_SYSCALL);
		return true;
	case SYS_bind:
		*ret = st_bind(I(0), P(1), (socklen_t)a[2], ST_VIA_SYSCALL);
		return true;
	case SYS_listen:
		*ret = st_listen(I(0), I(1), ST_VIA_SYSCALL);
		return true;
	case SYS_connect:
		*ret = st_connect(I(0), P(1), (socklen_t)a[2], ST_VIA_SYSCALL);
		return true;
#ifdef SYS_accept
	case SYS_accept:
		*ret = st_accept(ST_FN_accept, I(0), P(1), P(2), 0, ST_VIA_SYSCALL);
		return true;
#endif
	case SYS_accept4:
		*ret = st_accept(ST_FN_accept4, I(0), P(1), P(2), I(3), ST_VIA_SYSCALL);
		return true;
	case SYS_sendto:
		*ret = st_sendto(I(0), P(1), (size_t)a[2], I(3), P(4), (socklen_t)a[5],
				 ST_VIA_SYSCALL);
		return true;
	case SYS_recvfrom:
		*ret = st_recv_any(ST_FN_recvfrom, I(0), P(1), (size_t)a[2], 0, I(3), P(4), P(5),
				   ST_VIA_SYSCALL);
		return true;
	case SYS_sendmsg:
		*ret = st_sendmsg(I(0), P(1), I(2), ST_VIA_SYSCALL);
		return true;
	case SYS_recvmsg:
		*ret = st_recvmsg(I(0), P(1), I(2), ST_VIA_SYSCALL);
		return true;
	case SYS_sendmmsg:
		*ret = st_sendmmsg(I(0), P(1), (unsigned)a[2], I(3), ST_VIA_SYSCALL);
		return true;
	case SYS_recvmmsg:
		*ret = st_recvmmsg(I(0), P(1), (unsigned)a[2], I(3), P(4), ST_VIA_SYSCALL);
		return true;
	case SYS_read:
		*ret = st_read(ST_FN_read, I(0), P(1), (size_t)a[2], 0, ST_VIA_SYSCALL);
		return true;
	case SYS_write:
		*ret = st_write(I(0), P(1), (size_t)a[2], ST_VIA_SYSCALL);
		return true;
	case SYS_readv:
		*ret = st_rwv(ST_FN_readv, I(0), P(1), I(2), ST_VIA_SYSCALL);
		return true;
	case SYS_writev:
		*ret = st_rwv(ST_FN_writev, I(0), P(1), I(2), ST_VIA_SYSCALL);
		return true;
	/* The kernel's sendfile takes the offset of the system's off_t: the
	 * libc function of the same width. */
	case SYS_sendfile:
		*ret = st_sendfile(ST_FN_sendfile, I(0), I(1), P(2), NULL, (size_t)a[3],
				   ST_VIA_SYSCALL);
		return true;
#ifdef SYS_sendfile64
	case SYS_sendfile64:
		*ret = st_sendfile(ST_FN_sendfile64, I(0), I(1), NULL, P(2), (size_t)a[3],
				   ST_VIA_SYSCALL);
		return true;
#endif
	case SYS_splice:
		*ret = st_splice(I(0), P(1), I(2), P(3), (size_t)a[4], (unsigned)a[5],
				 ST_VIA_SYSCALL);
		return true;
	case SYS_shutdown:
		*ret = st_shutdown(I(0), I(1), ST_VIA_SYSCALL);
		return true;
	case SYS_close:
		*ret = st_close(I(0), ST_VIA_SYSCALL);
		return true;
#ifdef SYS_close_range
	case SYS_close_range:
		*ret = st_close_range((unsigned)a[0], (unsigned)a[1], I(2));
		return true;
#endif
	case SYS_dup:
		*ret = st_dup(I(0), ST_VIA_SYSCALL);
		return true;
#ifdef SYS_dup2
	case SYS_dup2:
		*ret = st_dup23(ST_FN_dup2, I(0), I(1), 0, ST_VIA_SYSCALL);
		return true;
#endif
	case SYS_dup3:
		*ret = st_dup23(ST_FN_dup3, I(0), I(1), I(2), ST_VIA_SYSCALL);
		return true;
	case SYS_fcntl:
		/* Only the duplicating commands: glibc's fcntl rewrites others
		 * (F_GETOWN through F_GETOWN_EX), the raw call must not. */
		if (I(1) != F_DUPFD && I(1) != F_DUPFD_CLOEXEC)
			return false;
		*ret = st_fcntl(real_fcntl, I(0), I(1), P(2), ST_VIA_SYSCALL);
		return true;
	case SYS_getsockopt:
		*ret = st_getsockopt(I(0), I(1), I(2), P(3), P(4), ST_VIA_SYSCALL);
		return true;
	case SYS_setsockopt:
		*ret = st_setsockopt(I(0), I(1), I(2), P(3), (socklen_t)a[4], ST_VIA_SYSCALL);
		return true;
	case SYS_getsockname:
		*ret = st_getname(ST_FN_getsockname, I(0), P(1), P(2), ST_VIA_SYSCALL);
		return true;
	case SYS_getpeername:
		*ret = st_getname(ST_FN_getpeername, I(0), P(1), P(2), ST_VIA_SYSCALL);
		return true;
	default:
		return false;
	}
#undef I
#undef P
}

/* A seccomp filter about to be installed (seccomp(2) directly, or prctl
 * through syscall(): libseccomp does either). A filter mode without a
 * program installs nothing: it is how libseccomp probes which flags the
 * kernel knows (EFAULT), as SECCOMP_GET_ACTION_AVAIL is. */
static bool installs_filter(long nr, const long *a)
{
	if (nr == SYS_seccomp)
		return a[0] == SECCOMP_SET_MODE_STRICT || (a[0] == SECCOMP_SET_MODE_FILTER && a[2]);
	return nr == SYS_prctl && a[0] == PR_SET_SECCOMP &&
	       (a[1] != SECCOMP_MODE_FILTER || a[2]);
}

/* seccomp(2) with a listener returns its descriptor; with TSYNC, a
 * positive value is the thread that made it fail. */
static bool filter_installed(long nr, const long *a, long ret)
{
	if (ret < 0)
		return false;
	if (nr != SYS_seccomp || ret == 0)
		return true;
	return (a[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
}

ST_EXPORT long syscall(long number, ...)
{
	long a[6];
	va_list ap;
	long ret;

	/* Like glibc's own wrapper, always six arguments: the kernel ignores
	 * the ones a call does not take. */
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!st_busy && socket_call(number, a, &ret))
		return ret;
	if (st_unlikely(installs_filter(number, a))) {
		st_sandbox_enter(number == SYS_seccomp ? "seccomp" : "prctl");
		ret = st_real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		st_sandbox_entered(filter_installed(number, a, ret));
		return ret;
	}
	ret = st_real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (st_unlikely(number == SYS_io_uring_setup) && ret >= 0) {
		int saved = errno;
		st_warn_io_uring("io_uring_setup");
		errno = saved;
	}
	return ret;
}
