/* exec and _exit end this image without running our destructor: finish
 * the trace file first (end record, trimmed), so it is complete and plain
 * JSON Lines. If exec fails, the program goes on and so does the trace, by
 * appending. */
#include "call.h"
#include "names.h"
#include "real.h"
#include "writer.h"

#include <unistd.h>

static void rec_exec(const char *path, int fd, int ret, int err)
{
	char buf[1024];
	struct jw w;

	jw_init(&w, buf, sizeof(buf) - 1);
	jw_obj_begin(&w);
	jw_kv_name(&w, "rec", "exec");
	jw_kv_u64(&w, "ts", st_now());
	jw_kv_i64(&w, "pid", st_shim.pid);
	jw_kv_i64(&w, "tid", st_tid());
	if (path)
		jw_kv_str(&w, "path", path);
	else
		jw_kv_i64(&w, "fd", fd);
	if (ret < 0) {
		jw_kv_i64(&w, "ret", ret);
		if (st_errno_name(err))
			jw_kv_name(&w, "errno", st_errno_name(err));
	}
	jw_obj_end(&w);
	jw_char(&w, '\n');
	if (!w.overflow)
		st_writer_write(buf, jw_len(&w, buf));
}

static void before_exec(const char *path, int fd)
{
	/* A vfork child about to exec shares the parent's memory, trace
	 * writer included: finishing it would end the parent's trace. */
	if (!st_enter() || st_in_borrowed_memory())
		return;
	rec_exec(path, fd, 0, 0);
	st_writer_finish("exec");
}

static int after_failed_exec(const char *path, int fd, int ret)
{
	int err = errno;

	if (st_enter() && !st_in_borrowed_memory())
		rec_exec(path, fd, ret, err);
	errno = err;
	return ret;
}

ST_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	before_exec(path, -1);
	return after_failed_exec(path, -1, real_execve(path, argv, envp));
}

ST_EXPORT int execv(const char *path, char *const argv[])
{
	before_exec(path, -1);
	return after_failed_exec(path, -1, real_execv(path, argv));
}

ST_EXPORT int execvp(const char *file, char *const argv[])
{
	before_exec(file, -1);
	return after_failed_exec(file, -1, real_execvp(file, argv));
}

ST_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	before_exec(file, -1);
	return after_failed_exec(file, -1, real_execvpe(file, argv, envp));
}

ST_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	before_exec(NULL, fd);
	return after_failed_exec(NULL, fd, real_fexecve(fd, argv, envp));
}

ST_EXPORT void _exit(int status)
{
	st_ensure_init();
	if (!st_in_borrowed_memory())
		st_writer_finish("_exit");
	real__exit(status);
	__builtin_unreachable();
}

ST_EXPORT void _Exit(int status)
{
	st_ensure_init();
	if (!st_in_borrowed_memory())
		st_writer_finish("_exit");
	real__Exit(status);
	__builtin_unreachable();
}
