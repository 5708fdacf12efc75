/* exec and _exit end this image without running our destructor: finish
 * the trace file first (end record, trimmed), so it is complete and plain
 * JSON Lines. If exec fails, the program goes on and so does the trace, by
 * appending. */
#include "jsonw.h"
#include "call.h"
#include "ctl.h"
#include "fields.h"
#include "names.h"
#include "real.h"
#include "writer.h"

#include <socktrace/trace_format.h>

#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

static void rec_exec(const char *path, int fd, int ret, int err)
{
	char buf[1024];
	struct jw w;

	jw_init(&w, buf + ST_JSON_PRE, sizeof(buf) - ST_JSON_PRE - ST_JSON_POST);
	jw_obj_begin(&w);
	jw_kv_name(&w, ST_RKEY(exec, rec), SOCKTRACE_REC_EXEC);
	jw_kv_u64(&w, ST_RKEY(exec, ts), st_now());
	jw_kv_i64(&w, ST_RKEY(exec, pid), st_shim.pid);
	jw_kv_i64(&w, ST_RKEY(exec, tid), st_tid());
	if (path)
		jw_kv_str(&w, ST_RKEY(exec, path), path);
	else
		jw_kv_i64(&w, ST_RKEY(exec, fd), fd);
	if (ret < 0) {
		jw_kv_i64(&w, ST_RKEY(exec, ret), ret);
		if (st_errno_name(err))
			jw_kv_name(&w, ST_RKEY(exec, errno), st_errno_name(err));
	}
	jw_obj_end(&w);
	jw_char(&w, '\n');
	if (!w.overflow)
		st_writer_write_json(buf, jw_len(&w, buf + ST_JSON_PRE));
}

static void before_exec(const char *path, int fd)
{
	/* A vfork child about to exec shares the parent's memory, trace
	 * writer included: finishing it would end the parent's trace. A
	 * process that never used a socket has no file and gets none. */
	if (!st_enter() || !st_writer_has_file() || st_in_borrowed_memory())
		return;
	rec_exec(path, fd, 0, 0);
	st_writer_finish("exec");
}

static int after_failed_exec(const char *path, int fd, int ret)
{
	int err = errno;

	if (st_enter() && st_writer_has_file() && !st_in_borrowed_memory())
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

/* glibc's execl family calls execve inside libc, out of our reach: take
 * them here, gather the arguments, and go through our execv hooks. */
#define ARGV_ON_STACK 512

static char **gather_args(const char *arg0, va_list ap, char **stack_argv, char ***envp_out)
{
	va_list count;
	size_t n = 1;
	char **argv;

	va_copy(count, ap);
	while (va_arg(count, char *))
		n++;
	va_end(count);
	if (n + 1 <= ARGV_ON_STACK) {
		argv = stack_argv;
	} else {
		argv = mmap(NULL, (n + 1) * sizeof(char *), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (argv == MAP_FAILED)
			return NULL;
	}
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(ap, char *);
	if (envp_out)
		*envp_out = va_arg(ap, char **);
	return argv;
}

static void drop_args(char **argv, char **stack_argv)
{
	size_t n = 0;

	if (!argv || argv == stack_argv)
		return;
	while (argv[n])
		n++;
	munmap(argv, (n + 1) * sizeof(char *));
}

enum exec_list_kind {
	EXEC_L,  /* execl: path, argv */
	EXEC_LP, /* execlp: file searched in PATH, argv */
	EXEC_LE, /* execle: path, argv, then envp after the NULL */
};

static int exec_list(enum exec_list_kind kind, const char *file, const char *arg, va_list ap)
{
	char *stack_argv[ARGV_ON_STACK];
	char **envp = NULL;
	char **argv = gather_args(arg, ap, stack_argv, kind == EXEC_LE ? &envp : NULL);
	int ret, err;

	if (!argv) {
		errno = ENOMEM;
		return -1;
	}
	if (kind == EXEC_LP)
		ret = execvp(file, argv);
	else if (kind == EXEC_LE)
		ret = execve(file, argv, envp);
	else
		ret = execv(file, argv);
	err = errno;
	drop_args(argv, stack_argv);
	errno = err;
	return ret;
}

ST_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = exec_list(EXEC_L, path, arg, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = exec_list(EXEC_LP, file, arg, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = exec_list(EXEC_LE, path, arg, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT void _exit(int status)
{
	st_ensure_init();
	if (!st_in_borrowed_memory()) {
		st_writer_finish("_exit");
		st_ctl_finish();
	}
	real__exit(status);
	__builtin_unreachable();
}

ST_EXPORT void _Exit(int status)
{
	st_ensure_init();
	if (!st_in_borrowed_memory()) {
		st_writer_finish("_exit");
		st_ctl_finish();
	}
	real__Exit(status);
	__builtin_unreachable();
}
