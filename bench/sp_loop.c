/* sp_loop N [rw]: one process, one AF_UNIX stream socketpair, N iterations
 * of send 64 bytes on one end + recv 64 bytes on the other (with rw: write
 * and read, which the shim makes as send and recv to catch a descriptor
 * that is no longer the socket it remembers). The cheapest possible socket
 * calls: what it measures is the shim's per-call cost. Events when traced:
 * socketpair + 2*N + 2 closes. Prints nothing on success; exits non-zero
 * on any failure. Built a second time as sp_loop_lttng (-DBENCH_LTTNG),
 * which records every call as an LTTng-UST event (bench/lttng_calls.h). */
#include "bench_util.h"

#include <stdbool.h>
#include <unistd.h>

/* write/read every byte, as bench_send_all/bench_recv_all do. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = BENCH_WRITE(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = BENCH_READ(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#define MSG 64

int main(int argc, char **argv)
{
	long n = bench_count(argc, argv, 1, 100000, 1000000000L);
	bool rw = argc > 2 && strcmp(argv[2], "rw") == 0;
	int sv[2];
	if (BENCH_SOCKETPAIR(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		bench_die(argv[0], "socketpair");

	char out[MSG], in[MSG];
	memset(out, 'x', sizeof out);
	for (long i = 0; i < n; i++) {
		out[0] = (char)i;
		if ((rw ? write_all(sv[0], out, sizeof out) : bench_send_all(sv[0], out, sizeof out)) < 0)
			bench_die(argv[0], "send");
		if ((rw ? read_all(sv[1], in, sizeof in) : bench_recv_all(sv[1], in, sizeof in)) < 0)
			bench_die(argv[0], "recv");
		if (in[0] != out[0])
			bench_fail(argv[0], "recv: wrong data");
	}
	if (BENCH_CLOSE(sv[0]) < 0 || BENCH_CLOSE(sv[1]) < 0)
		bench_die(argv[0], "close");
	return 0;
}
