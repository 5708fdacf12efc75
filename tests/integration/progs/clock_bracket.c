/* clock_bracket N T: T threads, each with its own socketpair, N times
 * send 8 bytes and recv them, every call bracketed by two readings of
 * CLOCK_MONOTONIC. Then prints, per call in order, "TID BEFORE AFTER"
 * (ns), for tests/integration/test_clock.py to check the trace's ts and
 * dur against. A pause of 60 ms after the first call, and of 300 us every
 * 1000 calls, so that the shim's clock runs past its start-up and its
 * anchor periods. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct worker {
	pthread_t thread;
	long n;
	int tid;
	unsigned long long *t; /* 4 per round: send before/after, recv before/after */
};

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void *run(void *arg)
{
	struct worker *wk = arg;
	char buf[8] = "bracket";
	int sv[2];

	wk->tid = (int)syscall(SYS_gettid);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		exit(1);
	for (long i = 0; i < wk->n; i++) {
		unsigned long long *t = wk->t + 4 * i;
		t[0] = now();
		if (send(sv[0], buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			exit(1);
		t[1] = now();
		t[2] = now();
		if (recv(sv[1], buf, sizeof(buf), MSG_WAITALL) != (ssize_t)sizeof(buf))
			exit(1);
		t[3] = now();
		if (i == 0)
			usleep(60000);
		else if (i % 1000 == 999)
			usleep(300);
	}
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	struct worker *wk = calloc((size_t)threads, sizeof(*wk));

	if (!wk || n < 1 || threads < 1)
		return 2;
	for (int i = 0; i < threads; i++) {
		wk[i].n = n;
		wk[i].t = malloc(sizeof(*wk[i].t) * 4 * (size_t)n);
		if (!wk[i].t || pthread_create(&wk[i].thread, NULL, run, &wk[i]) != 0)
			return 1;
	}
	for (int i = 0; i < threads; i++)
		pthread_join(wk[i].thread, NULL);
	for (int i = 0; i < threads; i++)
		for (long j = 0; j < 2 * n; j++)
			printf("%d %llu %llu\n", wk[i].tid, wk[i].t[2 * j], wk[i].t[2 * j + 1]);
	return 0;
}
