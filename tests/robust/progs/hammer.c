/* hammer: THREADS threads, each making CALLS data calls (send and recv in
 * turn) on a connection of its own, all at once. For the stress tests
 * (32 x 100,000) and for the SIGKILL test, which kills it at a random
 * point and then checks that every call that had returned is in the trace.
 *
 * Usage: hammer THREADS CALLS [--tcp] [--counters FILE]
 *   CALLS       data calls per thread; 0: until killed
 *   --tcp       each thread uses a TCP connection over 127.0.0.1 (connect
 *               and accept) instead of a unix socketpair
 *   --counters FILE  a file of THREADS slots {tid, setup, calls} (int64
 *               each), mapped shared: each thread stores its tid, sets
 *               setup to 1 once its connection is made, and adds 1 to calls
 *               right after each data call returns. What is in the file
 *               when the process is killed is what had returned (a call may
 *               have returned and not be counted yet: at most one per
 *               thread).
 * Each thread: one socketpair (or socket, connect, accept), then CALLS
 * calls alternating send(fd0, 8 bytes) and recv(fd1, 8 bytes,
 * MSG_WAITALL), then close(fd0), close(fd1) (and close of nothing else).
 * Prints "thread I tid T calls N" per thread, then "done".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 256

struct slot {
	volatile int64_t tid;
	volatile int64_t setup;
	volatile int64_t calls;
};

struct worker {
	pthread_t thread;
	int index;
	long calls;
	long done;
	int tid;
	int failed;
	struct slot *slot;
};

static int use_tcp;
static int listener = -1;
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

static int tcp_pair(int sv[2])
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int rc = -1;

	/* One thread at a time: each must accept its own connection. */
	pthread_mutex_lock(&accept_lock);
	if (getsockname(listener, (struct sockaddr *)&a, &len) != 0)
		goto out;
	sv[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (sv[0] < 0)
		goto out;
	if (connect(sv[0], (struct sockaddr *)&a, len) != 0)
		goto out;
	sv[1] = accept(listener, NULL, NULL);
	if (sv[1] < 0)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&accept_lock);
	return rc;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char msg[8], buf[8];
	int sv[2];

	w->tid = gettid();
	if (w->slot)
		w->slot->tid = w->tid;
	if (use_tcp ? tcp_pair(sv) != 0 : socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		w->failed = errno ? errno : EIO;
		return NULL;
	}
	if (w->slot)
		w->slot->setup = 1;
	for (long i = 0; w->calls == 0 || i < w->calls; i++) {
		if (i % 2 == 0) {
			char text[16];
			/* Names the thread and round: a mix-up shows in the data. */
			snprintf(text, sizeof(text), "%c%07ld", 'A' + w->index % 26,
				 (i / 2) % 10000000);
			memcpy(msg, text, sizeof(msg));
			if (send(sv[0], msg, sizeof(msg), 0) != (ssize_t)sizeof(msg)) {
				w->failed = errno ? errno : EIO;
				break;
			}
		} else {
			if (recv(sv[1], buf, sizeof(buf), MSG_WAITALL) != (ssize_t)sizeof(buf) ||
			    memcmp(msg, buf, sizeof(buf)) != 0) {
				w->failed = errno ? errno : EIO;
				break;
			}
		}
		w->done++;
		if (w->slot)
			w->slot->calls++;
	}
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

static struct slot *map_counters(const char *path, int n)
{
	size_t size = sizeof(struct slot) * (size_t)n;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		perror("hammer: counters");
		exit(1);
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("hammer: mmap");
		exit(1);
	}
	close(fd);
	return p;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	struct slot *slots = NULL;
	int n = argc > 2 ? atoi(argv[1]) : 0;
	long calls = argc > 2 ? atol(argv[2]) : -1;
	int status = 0;

	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--tcp") == 0) {
			use_tcp = 1;
		} else if (strcmp(argv[i], "--counters") == 0 && i + 1 < argc) {
			slots = map_counters(argv[++i], n > 0 ? n : 1);
		} else {
			n = 0;
		}
	}
	if (n < 1 || n > MAX_THREADS || calls < 0) {
		fprintf(stderr, "usage: hammer THREADS(1..%d) CALLS [--tcp] [--counters FILE]\n",
			MAX_THREADS);
		return 2;
	}
	if (use_tcp) {
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		listener = socket(AF_INET, SOCK_STREAM, 0);
		if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    listen(listener, MAX_THREADS) != 0) {
			perror("hammer: listener");
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		workers[i].index = i;
		workers[i].calls = calls;
		workers[i].slot = slots ? &slots[i] : NULL;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "hammer: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].failed) {
			fprintf(stderr, "hammer: thread %d: %s\n", i, strerror(workers[i].failed));
			status = 1;
		}
		printf("thread %d tid %d calls %ld\n", i, workers[i].tid, workers[i].done);
	}
	if (listener >= 0)
		close(listener);
	printf("done\n");
	return status;
}
