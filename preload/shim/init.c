/* Start-up: bind the real symbols, read the configuration, and keep the
 * shim right across fork and exit. */
#include "shim.h"

#include "ctl.h"
#include "fault.h"
#include "log.h"
#include "stack.h"
#include "stdio_acct.h"
#include "real.h"
#include "sandbox.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

struct st_shim st_shim;
_Atomic int st_init_state;
_Atomic bool st_tracing;
bool st_faults_any;
ST_TLS int st_busy;
static ST_TLS int tls_tid;

int st_tid(void)
{
	/* A thread started under a seccomp filter is not asked: 0, unknown. */
	if (st_unlikely(!tls_tid) && !st_sealed())
		tls_tid = (int)st_syscall(SYS_gettid);
	return tls_tid;
}

bool st_in_borrowed_memory(void)
{
	/* Under a filter we cannot ask; a vfork child of a sealed process
	 * may only exec or _exit, and neither then writes anything. */
	if (st_sealed())
		return false;
	return (int)st_syscall(SYS_getpid) != st_shim.pid;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void keep_argv(int argc, char **argv)
{
	size_t o = 0;

	st_shim.argc = 0;
	for (int i = 0; i < argc && argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;
		if (o + n > sizeof(st_shim.argv))
			break;
		memcpy(st_shim.argv + o, argv[i], n);
		o += n;
		st_shim.argc++;
	}
	st_shim.argv_len = o;
}

/* For a hook that runs before our constructor (from another library's
 * constructor) we have no argv yet: the kernel's copy is still intact at
 * that point, since the program has not started to run. */
static void argv_from_proc(void)
{
	int fd = (int)st_syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline",
			      O_RDONLY | O_CLOEXEC);
	ssize_t n;

	st_shim.argc = 0;
	st_shim.argv_len = 0;
	if (fd < 0)
		return;
	n = (ssize_t)st_syscall(SYS_read, fd, st_shim.argv, sizeof(st_shim.argv));
	st_syscall(SYS_close, fd);
	if (n <= 0)
		return;
	/* Drop a cut last argument: keep only whole, NUL-terminated ones. */
	while (n > 0 && st_shim.argv[n - 1] != '\0')
		n--;
	st_shim.argv_len = (size_t)n;
	for (ssize_t i = 0; i < n; i++)
		if (st_shim.argv[i] == '\0')
			st_shim.argc++;
}

static void keep_identity(int argc, char **argv)
{
	ssize_t n;

	st_shim.pid = getpid();
	st_shim.ppid = getppid();
	st_shim.start_mono = st_now();
	copy_str(st_shim.prog, sizeof(st_shim.prog), program_invocation_short_name);
	n = readlink("/proc/self/exe", st_shim.exe, sizeof(st_shim.exe) - 1);
	st_shim.exe[n > 0 ? n : 0] = '\0';
	if (argv)
		keep_argv(argc, argv);
	else
		argv_from_proc();
}

static const char *get_setting(const char *name)
{
	/* secure_getenv: a setuid program ignores our variables, so nobody
	 * can make it write traces where they choose. */
	return secure_getenv(name);
}

static void report_setting(void *ctx, const char *message)
{
	(void)ctx;
	st_log("%s", message);
}

/* The time of a fork, taken in the parent just before it: the child's
 * copy of memory carries it over. Taken in the child it would come after
 * what the parent did meanwhile (a forking server closes its copy of the
 * connection at once). */
static uint64_t fork_at;

static void atfork_prepare(void)
{
	fork_at = st_now();
}

static void atfork_child(void)
{
	/* Only the forking thread exists in the child: its cached tid is
	 * the parent's and must go; the trace is the parent's and must not
	 * be written by the child. */
	tls_tid = 0;
	if (st_sealed()) {
		/* Under a seccomp filter the child cannot make a trace file of
		 * its own nor ask who it is: it runs untraced (its rules still
		 * act), and leaves its parent's trace alone. */
		st_shim.ppid = st_shim.pid;
		st_shim.pid = 0;
		st_writer_after_fork();
		st_faults_after_fork();
		return;
	}
	st_shim.pid = getpid();
	st_shim.ppid = getppid();
	/* Which of its parent's descriptors it holds: those open now (the
	 * viewer tells a forking server's connections apart by it). */
	st_shim.fork_mono = fork_at;
	/* First: until then the child shares its parent's control page,
	 * counts included. */
	st_ctl_after_fork();
	st_writer_after_fork();
	st_faults_after_fork();
}

static void do_init(int argc, char **argv)
{
	char cwd[PATH_MAX];

	st_real_bind_all();
	keep_identity(argc, argv);
	st_config_load(&st_shim.cfg, get_setting, environ,
		       getcwd(cwd, sizeof(cwd)) ? cwd : NULL, report_setting, NULL);
	st_shim.config_loaded = true;
	st_log_flush_pending();
	st_faults_init();
	if (st_shim.cfg.backtrace && !st_stack_init())
		st_shim.cfg.backtrace = 0;
	pthread_atfork(atfork_prepare, NULL, atfork_child);
	atomic_store(&st_tracing, st_shim.cfg.trace);
	st_faults_any = st_faults_count() > 0;
	st_active = st_shim.cfg.trace || st_faults_any;
	st_ctl_init();
}

static void init_once(int argc, char **argv)
{
	int expected = ST_UNINIT;

	if (atomic_compare_exchange_strong(&st_init_state, &expected, ST_INITIALIZING)) {
		int saved = errno;
		st_busy++;
		do_init(argc, argv);
		st_busy--;
		atomic_store_explicit(&st_init_state, ST_READY, memory_order_release);
		errno = saved;
		return;
	}
	/* Our own thread re-entering (a signal handler, or libc calling back
	 * during binding): it must not wait for itself. st_busy makes the
	 * hook pass the call straight through. */
	if (expected == ST_READY || st_busy)
		return;
	while (atomic_load_explicit(&st_init_state, memory_order_acquire) != ST_READY)
		sched_yield();
}

void st_init_slow(void)
{
	init_once(0, NULL);
}

/* glibc passes argc/argv to constructors of preloaded libraries: the only
 * moment the arguments are certainly unmodified. */
__attribute__((constructor)) static void st_constructor(int argc, char **argv, char **envp)
{
	(void)envp;
	init_once(argc, argv);
}

__attribute__((destructor)) static void st_destructor(void)
{
	int err;

	/* glibc flushes the streams after the destructors, with its own
	 * system calls: the sockets' are flushed now, and recorded. */
	st_stdio_flush_sockets(true, &err);
	st_writer_finish("exit");
	st_ctl_finish();
}
