/* fork_storm: forks taken while other threads are inside the shim.
 *
 * Usage: fork_storm THREADS FORKS [CHILD_TIMEOUT_S]
 * THREADS worker threads each hammer send/recv on a TCP connection of
 * their own over 127.0.0.1 (so the shim keeps endpoints for them) until
 * told to stop. Meanwhile the main thread forks FORKS children back to
 * back, keeping up to 8 alive, and workers 0 and 1 each fork FORKS/10
 * children from the middle of their loops: the fork lands while every
 * other thread is somewhere in a hooked call, the trace writer included.
 *
 * Each child starts a thread, and both threads make five calls each
 * (socketpair, send, recv, close, close) on pairs of their own; then it
 * exits 0. A child still there CHILD_TIMEOUT_S (default 20) seconds after
 * its parent started waiting for it (waiting for a lock held by a thread
 * that does not exist in the child) is killed with SIGKILL by its parent
 * and counted as deadlocked: not by an alarm of its own, since a thread
 * waiting for such a lock may have every signal blocked. After the first
 * child that failed, no more are forked, and the others are given 1 s.
 *
 * Prints "thread I tid T calls N" per worker, "child PID" per child that
 * succeeded, "deadlocked PID" / "failed PID STATUS" for the others, then
 * "done". Exits 1 if any child did not succeed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_ALIVE 8

struct worker {
	pthread_t thread;
	int index;
	int tid;
	long calls;
	long forks;
	int failed;
};

static int listener;
static atomic_bool stop;
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int bad_children;

static void *child_thread(void *arg)
{
	int sv[2];
	char buf[8];

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "kid2", 4, 0) != 4 ||
	    recv(sv[1], buf, 4, MSG_WAITALL) != 4)
		_exit(4);
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

static void child_main(void)
{
	pthread_t t;
	int sv[2];
	char buf[8];

	/* Only the forking thread exists here: if a lock was left held by
	 * another thread, we wait for ever (the parent ends that). */
	if (pthread_create(&t, NULL, child_thread, NULL) != 0)
		_exit(5);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "kid1", 4, 0) != 4 ||
	    recv(sv[1], buf, 4, MSG_WAITALL) != 4)
		_exit(4);
	close(sv[0]);
	close(sv[1]);
	pthread_join(t, NULL);
	exit(0);
}

static int child_timeout_ms = 20000;

/* Waits for a child; one that is still there after child_timeout_ms is
 * killed and reported as deadlocked. */
static void wait_child(pid_t pid)
{
	int st = 0;
	bool deadlocked = false;

	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return;
		if (!deadlocked &&
		    waited >= (atomic_load(&bad_children) ? 1000 : child_timeout_ms)) {
			kill(pid, SIGKILL);
			deadlocked = true;
		}
		usleep(1000);
	}
	pthread_mutex_lock(&out_lock);
	if (deadlocked) {
		printf("deadlocked %d\n", (int)pid);
		bad_children++;
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("child %d\n", (int)pid);
	} else {
		printf("failed %d %d\n", (int)pid, st);
		bad_children++;
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static pid_t fork_child(void)
{
	pid_t pid;

	/* Nothing buffered may be inherited and printed twice. */
	pthread_mutex_lock(&out_lock);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		child_main();
	pthread_mutex_unlock(&out_lock);
	return pid;
}

static int tcp_pair(int sv[2])
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int rc = -1;

	pthread_mutex_lock(&accept_lock);
	if (getsockname(listener, (struct sockaddr *)&a, &len) == 0 &&
	    (sv[0] = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
	    connect(sv[0], (struct sockaddr *)&a, len) == 0 &&
	    (sv[1] = accept(listener, NULL, NULL)) >= 0)
		rc = 0;
	pthread_mutex_unlock(&accept_lock);
	return rc;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char buf[16];
	int sv[2];
	long forked = 0;

	w->tid = gettid();
	if (tcp_pair(sv) != 0) {
		w->failed = errno ? errno : EIO;
		return NULL;
	}
	for (long i = 0; !atomic_load(&stop) ||
			    (forked < w->forks && !atomic_load(&bad_children)); i++) {
		if (send(sv[0], "0123456789abcdef", 16, 0) != 16) {
			w->failed = errno ? errno : EIO;
			break;
		}
		if (recv(sv[1], buf, 16, MSG_WAITALL) != 16) {
			w->failed = errno ? errno : EIO;
			break;
		}
		w->calls += 2;
		if (forked < w->forks && i % 50 == 25 && !atomic_load(&bad_children)) {
			pid_t pid = fork_child();
			if (pid > 0)
				wait_child(pid);
			forked++;
		}
	}
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	int n = argc > 2 ? atoi(argv[1]) : 0;
	long forks = argc > 2 ? atol(argv[2]) : -1;
	int timeout_s = argc > 3 ? atoi(argv[3]) : 20;
	struct sockaddr_in a;
	pid_t alive[MAX_ALIVE];
	int nalive = 0, status = 0;

	if (n < 2 || n > MAX_THREADS || forks < 0 || timeout_s < 1) {
		fprintf(stderr, "usage: fork_storm THREADS(2..%d) FORKS [CHILD_TIMEOUT_S]\n",
			MAX_THREADS);
		return 2;
	}
	child_timeout_ms = timeout_s * 1000;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(listener, MAX_THREADS) != 0) {
		perror("fork_storm: listener");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		workers[i].index = i;
		workers[i].forks = i < 2 ? forks / 10 : 0;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "fork_storm: pthread_create failed\n");
			return 1;
		}
	}
	for (long i = 0; i < forks && !atomic_load(&bad_children); i++) {
		pid_t pid;

		if (nalive == MAX_ALIVE) {
			wait_child(alive[0]);
			memmove(alive, alive + 1, sizeof(alive[0]) * (MAX_ALIVE - 1));
			nalive--;
		}
		pid = fork_child();
		if (pid < 0) {
			perror("fork_storm: fork");
			status = 1;
			break;
		}
		alive[nalive++] = pid;
	}
	for (int i = 0; i < nalive; i++)
		wait_child(alive[i]);
	atomic_store(&stop, true);
	for (int i = 0; i < n; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].failed) {
			fprintf(stderr, "fork_storm: thread %d: %s\n", i, strerror(workers[i].failed));
			status = 1;
		}
		printf("thread %d tid %d calls %ld\n", i, workers[i].tid, workers[i].calls);
	}
	close(listener);
	if (bad_children)
		status = 1;
	printf("done\n");
	return status;
}
