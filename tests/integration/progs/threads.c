/* threads: THREADS threads, each on its own socketpair, each doing ROUNDS
 * send/recv pairs at the same time. The test counts the records per
 * thread: any lost, doubled or interleaved record shows.
 *
 * Usage: threads [THREADS [ROUNDS [FORKS]]]   (default 8 x 5000, 0 forks)
 *   FORKS: while the threads run, the main thread forks this many
 *   children, one after the other; each makes five socket calls of its
 *   own and exits. A fork taken while other threads are in the middle of
 *   recording must leave the child a working shim and its own file.
 * Prints "thread I tid T ok" per thread, "child PID" per fork, "done".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS 64

struct worker {
	pthread_t thread;
	int index;
	long rounds;
	pid_t tid;
	int failed;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char msg[32], buf[32];
	int sv[2];

	w->tid = gettid();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		w->failed = errno;
		return NULL;
	}
	/* Each message names its thread and round: a record mixed up between
	 * threads would still be caught by what the program receives. */
	for (long i = 0; i < w->rounds; i++) {
		int len = snprintf(msg, sizeof(msg), "t%02d r%05ld", w->index, i);
		if (send(sv[0], msg, (size_t)len, 0) != len ||
		    recv(sv[1], buf, (size_t)len, MSG_WAITALL) != len ||
		    memcmp(msg, buf, (size_t)len) != 0) {
			w->failed = errno ? errno : EIO;
			break;
		}
	}
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

/* The fork child: only this thread exists in it. */
static void child_calls(void)
{
	char buf[8];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "fork", 4, 0) != 4 ||
	    recv(sv[1], buf, 4, MSG_WAITALL) != 4)
		exit(1);
	close(sv[0]);
	close(sv[1]);
	exit(0);
}

static int fork_children(long forks)
{
	int status = 0;

	for (long i = 0; i < forks; i++) {
		int st;
		pid_t pid = fork();

		if (pid < 0) {
			perror("threads: fork");
			return 1;
		}
		if (pid == 0)
			child_calls();
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "threads: child %d failed\n", (int)pid);
			status = 1;
		}
		printf("child %d\n", (int)pid);
		/* The next child exits through exit(), which flushes stdio:
		 * it must not inherit this line unwritten. */
		fflush(stdout);
	}
	return status;
}

int main(int argc, char **argv)
{
	struct worker workers[MAX_THREADS];
	int n = argc > 1 ? atoi(argv[1]) : 8;
	long rounds = argc > 2 ? atol(argv[2]) : 5000;
	long forks = argc > 3 ? atol(argv[3]) : 0;
	int status = 0;

	if (n < 1 || n > MAX_THREADS || rounds < 1 || forks < 0) {
		fprintf(stderr, "usage: threads [THREADS(1..%d) [ROUNDS [FORKS]]]\n", MAX_THREADS);
		return 2;
	}
	memset(workers, 0, sizeof(workers));
	for (int i = 0; i < n; i++) {
		workers[i].index = i;
		workers[i].rounds = rounds;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "threads: pthread_create failed\n");
			return 1;
		}
	}
	/* Flushed: a child must not inherit (and print again) our buffer. */
	fflush(stdout);
	status = fork_children(forks);
	for (int i = 0; i < n; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].failed) {
			fprintf(stderr, "threads: thread %d: %s\n", i, strerror(workers[i].failed));
			status = 1;
		} else {
			printf("thread %d tid %d ok\n", i, (int)workers[i].tid);
		}
	}
	printf("done\n");
	return status;
}
