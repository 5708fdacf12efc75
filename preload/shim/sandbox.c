#include "sandbox.h"

#include "clock.h"
#include "ctl.h"
#include "fdtable.h"
#include "fields.h"
#include "jsonw.h"
#include "real.h"
#include "shim.h"
#include "writer.h"

#include <socktrace/trace_format.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* Room mapped past the tail before the filter: about 25,000 records of
 * a busy sandboxed process (OpenSSH's pre-auth child writes a few
 * hundred). */
#define SEAL_ROOM ((uint64_t)4 << 20)

_Atomic bool st_sealed_flag;
/* Filters are never removed: once one is in force, the seal stays. */
static _Atomic bool filter_in_force;
/* How the filter being installed is installed, and the room mapped for
 * it, for its warning. */
static const char *installing = "prctl";
static uint64_t room;

static void warn_sealed(const char *how)
{
	char buf[768];
	struct jw w;

	jw_init(&w, buf + ST_JSON_PRE, sizeof(buf) - ST_JSON_PRE - ST_JSON_POST);
	jw_obj_begin(&w);
	jw_kv_name(&w, ST_RKEY(warning, rec), SOCKTRACE_REC_WARNING);
	jw_kv_u64(&w, ST_RKEY(warning, ts), st_now());
	jw_kv_i64(&w, ST_RKEY(warning, pid), st_shim.pid);
	jw_kv_i64(&w, ST_RKEY(warning, tid), st_tid());
	jw_kv_name(&w, ST_RKEY(warning, kind), "seccomp");
	jw_kv_name(&w, ST_RKEY(warning, how), how);
	jw_kv_u64(&w, ST_RKEY(warning, room), room);
	jw_kv_name(&w, ST_RKEY(warning, message),
		   "this process installs a seccomp filter: from here on the shim makes no system call of its own; "
		   "records go into the room already mapped and the rest are counted as dropped, addresses not "
		   "yet known stay unknown, no stacks, socktrace ctl cannot reach it, its fork children are not traced");
	jw_obj_end(&w);
	jw_char(&w, '\n');
	if (!w.overflow)
		st_writer_write_json(buf, jw_len(&w, buf + ST_JSON_PRE));
}

enum { INHERITED_UNKNOWN, INHERITED_NO, INHERITED_YES };

static _Atomic int inherited;

/* "Seccomp:\t2" in /proc/self/status: a filter is in force. */
static int read_inherited(void)
{
	char buf[4096];
	long n = 0;
	int fd = (int)st_syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	const char *line;

	if (fd < 0)
		return INHERITED_YES; /* cannot tell: assume the careful case */
	n = st_syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	st_syscall(SYS_close, fd);
	if (n <= 0)
		return INHERITED_YES;
	buf[n] = '\0';
	line = strstr(buf, "\nSeccomp:");
	if (!line)
		return INHERITED_NO; /* a kernel without seccomp */
	line += strlen("\nSeccomp:");
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '0' ? INHERITED_NO : INHERITED_YES;
}

bool st_sandbox_inherited(void)
{
	int known = atomic_load_explicit(&inherited, memory_order_relaxed);

	if (st_unlikely(known == INHERITED_UNKNOWN)) {
		int saved = errno;
		known = read_inherited();
		atomic_store_explicit(&inherited, known, memory_order_relaxed);
		errno = saved;
	}
	return known == INHERITED_YES;
}

void st_sandbox_enter(const char *how)
{
	int saved = errno;

	st_ensure_init();
	if (st_sealed()) {
		errno = saved; /* a second filter: nothing more to do */
		return;
	}
	st_busy++;
	(void)st_tid();
	st_clock_settle();
	st_ctl_seal();
	if (st_tracing_on()) /* makes the file if there was none */
		room = st_writer_map_ahead(SEAL_ROOM);
	installing = how;
	st_fd_table_seal(true);
	atomic_store(&st_sealed_flag, true);
	st_busy--;
	errno = saved;
}

void st_sandbox_entered(bool installed)
{
	int saved = errno;

	if (installed) {
		atomic_store(&filter_in_force, true);
		/* Into the room mapped before: no system call. */
		if (st_tracing_on())
			warn_sealed(installing);
	} else if (!atomic_load(&filter_in_force)) {
		atomic_store(&st_sealed_flag, false);
		st_fd_table_seal(false);
	}
	errno = saved;
}

ST_EXPORT int prctl(int option, ...)
{
	unsigned long a[4];
	va_list ap;
	int ret;

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	st_ensure_init(); /* libcap calls prctl from its constructor, before ours */
	/* A filter mode without a program fails (EFAULT) installing nothing:
	 * libseccomp probes the kernel that way. */
	if (option != PR_SET_SECCOMP || (a[0] == SECCOMP_MODE_FILTER && !a[1]))
		return real_prctl(option, a[0], a[1], a[2], a[3]);
	st_sandbox_enter("prctl");
	ret = real_prctl(option, a[0], a[1], a[2], a[3]);
	st_sandbox_entered(ret == 0);
	return ret;
}
