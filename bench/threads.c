/* threads N [T]: T threads (default 4), each with its own AF_UNIX stream
 * socketpair and N iterations of send 64 + recv 64, all writing to the same
 * per-process trace. Measures contention in the shim: the trace writer's
 * shared tail offset (one atomic add per record), segment growth, and the
 * fd table, with more threads than cores on a small machine.
 * Prints nothing on success; exits non-zero on any failure. Built a second
 * time as threads_lttng (-DBENCH_LTTNG): every call an LTTng-UST event. */
#include "bench_util.h"

#include <pthread.h>
#include <unistd.h>

#define MSG 64
#define MAX_THREADS 256

struct worker {
	const char *prog;
	long n;
};

static pthread_barrier_t start;

static void *worker_main(void *arg)
{
	const struct worker *w = arg;
	int sv[2];
	if (BENCH_SOCKETPAIR(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bench_die(w->prog, "socketpair");
	pthread_barrier_wait(&start);

	char out[MSG], in[MSG];
	memset(out, 't', sizeof out);
	for (long i = 0; i < w->n; i++) {
		out[0] = (char)i;
		if (bench_send_all(sv[0], out, sizeof out) < 0)
			bench_die(w->prog, "send");
		if (bench_recv_all(sv[1], in, sizeof in) < 0)
			bench_die(w->prog, "recv");
		if (in[0] != out[0])
			bench_fail(w->prog, "recv: wrong data");
	}
	if (BENCH_CLOSE(sv[0]) < 0 || BENCH_CLOSE(sv[1]) < 0)
		bench_die(w->prog, "close");
	return NULL;
}

int main(int argc, char **argv)
{
	long n = bench_count(argc, argv, 1, 50000, 1000000000L);
	long t = bench_count(argc, argv, 2, 4, MAX_THREADS);

	struct worker w = { argv[0], n };
	pthread_t th[MAX_THREADS];
	int err = pthread_barrier_init(&start, NULL, (unsigned)t);
	if (err != 0) {
		errno = err;
		bench_die(argv[0], "pthread_barrier_init");
	}
	for (long i = 0; i < t; i++) {
		err = pthread_create(&th[i], NULL, worker_main, &w);
		if (err != 0) {
			errno = err;
			bench_die(argv[0], "pthread_create");
		}
	}
	for (long i = 0; i < t; i++) {
		err = pthread_join(th[i], NULL);
		if (err != 0) {
			errno = err;
			bench_die(argv[0], "pthread_join");
		}
	}
	pthread_barrier_destroy(&start);
	return 0;
}
