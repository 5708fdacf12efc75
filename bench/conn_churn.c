/* conn_churn N: N short TCP connections over loopback. The main thread
 * makes each one (socket, connect, recv the 1-byte greeting, recv the end
 * of stream, close); a listener thread in the same process accepts it,
 * sends 1 byte and closes first. Setup-heavy: socket, connect, accept and
 * close are the calls that update the shim's fd table and format addresses,
 * and every accepted descriptor number is reused at once.
 *
 * The server closes first and the client waits for its FIN, so TIME_WAIT
 * stays on the server side (keyed by the listener's port) and the client's
 * ephemeral ports are not exhausted by large N.
 * Prints nothing on success; exits non-zero on any failure. */
#include "bench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <unistd.h>

struct acceptor {
	const char *prog;
	int ls;
	long n;
};

static void *acceptor_main(void *arg)
{
	const struct acceptor *a = arg;
	const char hello = 'h';
	for (long i = 0; i < a->n; i++) {
		int c;
		do
			c = accept(a->ls, NULL, NULL);
		while (c < 0 && errno == EINTR);
		if (c < 0)
			bench_die(a->prog, "accept");
		if (bench_send_all(c, &hello, 1) < 0)
			bench_die(a->prog, "send");
		if (close(c) < 0)
			bench_die(a->prog, "close (server side)");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = bench_count(argc, argv, 1, 5000, 1000000000L);

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		bench_die(argv[0], "socket (listener)");
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0)
		bench_die(argv[0], "bind");
	if (listen(ls, 128) < 0)
		bench_die(argv[0], "listen");
	socklen_t salen = sizeof sa;
	if (getsockname(ls, (struct sockaddr *)&sa, &salen) < 0)
		bench_die(argv[0], "getsockname");

	struct acceptor a = { argv[0], ls, n };
	pthread_t th;
	int err = pthread_create(&th, NULL, acceptor_main, &a);
	if (err != 0) {
		errno = err;
		bench_die(argv[0], "pthread_create");
	}

	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			bench_die(argv[0], "socket");
		if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
			bench_die(argv[0], "connect");
		char c = 0;
		if (bench_recv_all(s, &c, 1) < 0)
			bench_die(argv[0], "recv");
		if (c != 'h')
			bench_fail(argv[0], "recv: wrong greeting");
		ssize_t eof;
		do
			eof = recv(s, &c, 1, 0);
		while (eof < 0 && errno == EINTR);
		if (eof != 0)
			bench_fail(argv[0], "recv: expected end of stream");
		if (close(s) < 0)
			bench_die(argv[0], "close");
	}

	err = pthread_join(th, NULL);
	if (err != 0) {
		errno = err;
		bench_die(argv[0], "pthread_join");
	}
	if (close(ls) < 0)
		bench_die(argv[0], "close (listener)");
	return 0;
}
