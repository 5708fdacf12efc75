#include "log.h"

#include "fsize.h"
#include "real.h"
#include "sandbox.h"
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Messages produced while reading the configuration, before we know
 * where they go. */
static char pending[2048];
static size_t pending_len;

static void raw_write_all(int fd, const char *s, size_t n)
{
	while (n) {
		long w = st_syscall(SYS_write, fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void deliver(const char *msg, size_t n)
{
	long end;
	int fd;

	if (st_sealed())
		return; /* under a seccomp filter: not a system call of ours */
	switch (st_shim.cfg.log) {
	case ST_LOG_OFF:
		return;
	case ST_LOG_STDERR:
		/* Standard error may be a file too, and the program may have
		 * lowered the file size limit (OpenSSH's sandboxed child sets
		 * it to 0): a message past it would kill the program. */
		if (st_fsize_limit() != UINT64_MAX) {
			struct stat st;
			if (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
			    !st_fsize_allows((uint64_t)st.st_size + n))
				return;
		}
		raw_write_all(STDERR_FILENO, msg, n);
		return;
	case ST_LOG_FILE:
		fd = (int)st_syscall(SYS_openat, AT_FDCWD, st_shim.cfg.log_path,
				  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				  0600);
		if (fd < 0)
			return;
		/* A message past the file size limit would kill the program
		 * (SIGXFSZ): it is lost instead. */
		end = st_syscall(SYS_lseek, fd, 0L, SEEK_END);
		if (end >= 0 && st_fsize_allows((uint64_t)end + n))
			raw_write_all(fd, msg, n);
		st_syscall(SYS_close, fd);
		return;
	}
}

void st_log(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	int n = snprintf(msg, sizeof(msg), "socktrace[%d]: ", st_shim.pid);
	va_list ap;

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(msg))
		n += vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg) - 1)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	if (!st_shim.config_loaded) {
		if (pending_len + (size_t)n <= sizeof(pending)) {
			memcpy(pending + pending_len, msg, (size_t)n);
			pending_len += (size_t)n;
		}
	} else {
		deliver(msg, (size_t)n);
	}
	errno = saved;
}

void st_log_flush_pending(void)
{
	if (pending_len)
		deliver(pending, pending_len);
	pending_len = 0;
}

void st_log_fatal_symbol(const char *name)
{
	static const char a[] = "socktrace: fatal: the real '";
	static const char b[] = "' resolves to libsocktrace itself; is the shim preloaded twice?\n";

	raw_write_all(STDERR_FILENO, a, sizeof(a) - 1);
	raw_write_all(STDERR_FILENO, name, strlen(name));
	raw_write_all(STDERR_FILENO, b, sizeof(b) - 1);
}
