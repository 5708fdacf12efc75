/* vfork_threads: vfork + exec, and posix_spawn, from a program whose other
 * threads are inside the shim the whole time.
 *
 * Usage: vfork_threads THREADS SPAWNS CHILD_SOCK
 * THREADS worker threads each hammer send/recv on a socketpair of their
 * own until told to stop. The main thread makes SPAWNS spawns in turn:
 *   i % 3 == 0  vfork, then in the child execv(CHILD_SOCK, FD)
 *   i % 3 == 1  posix_spawn(CHILD_SOCK, FD)
 *   i % 3 == 2  vfork, then in the child execv of a path that does not
 *               exist (the exec fails inside the child, which has the
 *               parent's memory), then _exit(127)
 * For each, the main thread first makes a socketpair, hands one end to
 * the child (as descriptor FD, without FD_CLOEXEC), closes it after the
 * spawn, reads what the child wrote (nothing, for the failed exec) and
 * closes its end. A child that has not ended 20 s after the spawn is
 * killed and reported as stuck.
 *
 * Prints "spawned PID KIND" per spawn (KIND vfork, spawn or vfork-fail),
 * "got TEXT" per message read, "thread I tid T calls N" per worker, then
 * "done". Exits 1 when something went wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS 64

extern char **environ;

struct worker {
	pthread_t thread;
	int tid;
	long calls;
	int failed;
};

static atomic_bool stop;

static void *work(void *arg)
{
	struct worker *w = arg;
	char buf[12];
	int sv[2];

	w->tid = gettid();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		w->failed = errno;
		return NULL;
	}
	while (!atomic_load(&stop)) {
		if (send(sv[0], "hammer-12345", 12, 0) != 12 ||
		    recv(sv[1], buf, 12, MSG_WAITALL) != 12) {
			w->failed = errno ? errno : EIO;
			break;
		}
		w->calls += 2;
	}
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

/* 0: exited 0; 127: exited 127; -1: anything else (killed when stuck). */
static int wait_child(pid_t pid)
{
	int st = 0;

	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited == 20000) {
			fprintf(stderr, "vfork_threads: child %d stuck, killed\n", (int)pid);
			kill(pid, SIGKILL);
		}
		usleep(1000);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

/* In a function of its own, so nothing of the caller's lives across the
 * vfork. */
static __attribute__((noinline)) pid_t vfork_exec(const char *path, char **argv)
{
	pid_t pid = vfork();

	if (pid == 0) {
		/* Only exec or _exit here: this is the parent's memory. */
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

static int spawn_one(int i, const char *child)
{
	static const char *const kinds[] = { "vfork", "spawn", "vfork-fail" };
	int kind = i % 3;
	char fdtext[16], buf[64];
	char *argv[3];
	int sv[2], status, want;
	ssize_t n;
	pid_t pid;

	/* The child's end is inherited: no SOCK_CLOEXEC on it. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    fcntl(sv[0], F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	snprintf(fdtext, sizeof(fdtext), "%d", sv[1]);
	argv[0] = (char *)child;
	argv[1] = fdtext;
	argv[2] = NULL;
	if (kind == 1) {
		if (posix_spawn(&pid, child, NULL, NULL, argv, environ) != 0)
			return -1;
	} else {
		pid = vfork_exec(kind == 0 ? child : "/nonexistent/socktrace-test-prog", argv);
		if (pid < 0)
			return -1;
	}
	printf("spawned %d %s\n", (int)pid, kinds[kind]);
	close(sv[1]);
	n = recv(sv[0], buf, sizeof(buf) - 1, MSG_WAITALL);
	close(sv[0]);
	status = wait_child(pid);
	want = kind == 2 ? 127 : 0;
	if (status != want) {
		fprintf(stderr, "vfork_threads: %s child %d ended with %d\n", kinds[kind], (int)pid,
			status);
		return -1;
	}
	if (kind == 2) {
		if (n != 0) {
			fprintf(stderr, "vfork_threads: the failed child wrote something\n");
			return -1;
		}
		return 0;
	}
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	printf("got %s\n", buf);
	return 0;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	int n = argc == 4 ? atoi(argv[1]) : 0;
	int spawns = argc == 4 ? atoi(argv[2]) : 0;
	int status = 0;

	if (n < 1 || n > MAX_THREADS || spawns < 1) {
		fprintf(stderr, "usage: vfork_threads THREADS(1..%d) SPAWNS CHILD_SOCK\n",
			MAX_THREADS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n; i++)
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "vfork_threads: pthread_create failed\n");
			return 1;
		}
	for (int i = 0; i < spawns; i++) {
		if (spawn_one(i, argv[3]) != 0) {
			fprintf(stderr, "vfork_threads: spawn %d failed: %s\n", i, strerror(errno));
			status = 1;
			break;
		}
	}
	atomic_store(&stop, true);
	for (int i = 0; i < n; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].failed) {
			fprintf(stderr, "vfork_threads: thread %d: %s\n", i,
				strerror(workers[i].failed));
			status = 1;
		}
		printf("thread %d tid %d calls %ld\n", i, workers[i].tid, workers[i].calls);
	}
	printf("done\n");
	return status;
}
