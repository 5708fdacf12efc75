#include "warn.h"

#include "fields.h"
#include "jsonw.h"
#include "real.h"
#include "sandbox.h"
#include "shim.h"
#include "writer.h"

#include <socktrace/trace_format.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic bool io_uring_noted;

void st_warn_io_uring(const char *how)
{
	char buf[512];
	struct jw w;

	if (atomic_exchange(&io_uring_noted, true) || !st_tracing_on())
		return;
	jw_init(&w, buf + ST_JSON_PRE, sizeof(buf) - ST_JSON_PRE - ST_JSON_POST);
	jw_obj_begin(&w);
	jw_kv_name(&w, ST_RKEY(warning, rec), SOCKTRACE_REC_WARNING);
	jw_kv_u64(&w, ST_RKEY(warning, ts), st_now());
	jw_kv_i64(&w, ST_RKEY(warning, pid), st_shim.pid);
	jw_kv_i64(&w, ST_RKEY(warning, tid), st_tid());
	jw_kv_name(&w, ST_RKEY(warning, kind), "io_uring");
	jw_kv_name(&w, ST_RKEY(warning, how), how);
	jw_kv_name(&w, ST_RKEY(warning, message),
		   "this process uses io_uring: socket operations submitted through it bypass the C library and are not traced");
	jw_obj_end(&w);
	jw_char(&w, '\n');
	if (!w.overflow)
		st_writer_write_json(buf, jw_len(&w, buf + ST_JSON_PRE));
}

void st_warn_scan_fds(void)
{
	/* opendir allocates: use the raw getdents64 on a private buffer. */
	char buf[4096];
	int dir;

	if (atomic_load(&io_uring_noted) || !st_tracing_on() || !st_writer_has_file() ||
	    st_sealed())
		return;
	dir = (int)st_syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return;
	for (;;) {
		long n = st_syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			char target[64];
			ssize_t len;

			off += de->d_reclen;
			if (de->d_name[0] == '.')
				continue;
			len = readlinkat(dir, de->d_name, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = '\0';
			if (strcmp(target, "anon_inode:[io_uring]") == 0) {
				st_warn_io_uring("fd");
				st_syscall(SYS_close, dir);
				return;
			}
		}
	}
	st_syscall(SYS_close, dir);
}
