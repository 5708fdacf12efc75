/* syscall(2) is how programs reach what libc does not wrap, io_uring among
 * them. io_uring moves socket I/O out of every libc call we see, so its
 * use is worth a warning in the trace rather than a silently thin one. The
 * shim's own raw system calls come through here too. */
#include "real.h"
#include "shim.h"
#include "warn.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

typedef long (*syscall_fn)(long, ...);

static syscall_fn resolve(void)
{
	/* Our own start-up may need a raw system call before binding. */
	if (!real_syscall) {
		void *p = dlsym(RTLD_NEXT, "syscall");
		memcpy(&real_syscall, &p, sizeof(p));
	}
	return real_syscall;
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
	ret = resolve()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (st_unlikely(number == SYS_io_uring_setup) && ret >= 0) {
		int saved = errno;
		st_warn_io_uring("io_uring_setup");
		errno = saved;
	}
	return ret;
}
