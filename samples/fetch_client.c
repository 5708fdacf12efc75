/* fetch_retry / fetch_once: one request to a line server (tcp_server),
 * built twice from this file to show what a failure scenario catches.
 *
 *   fetch_retry HOST PORT [MESSAGE]   retries a failed connection or
 *                                     exchange, with exponential backoff
 *   fetch_once  HOST PORT [MESSAGE]   gives up at the first failure
 *
 * Under samples/scenarios/retry.scn (the server refuses the first three
 * connections, as a service still starting does) fetch_retry gets its
 * answer and fetch_once fails: `socktrace run -s` says which expectation
 * it broke. Prints the reply; exits 0 on success, 1 on failure, 2 on bad
 * usage. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef FETCH_ATTEMPTS
#define FETCH_ATTEMPTS 6   /* fetch_once is built with 1 */
#endif
#define FIRST_BACKOFF_MS 50
#define MAX_BACKOFF_MS 1000
#define REPLY_MAX 1024

static const char *prog = FETCH_ATTEMPTS > 1 ? "fetch_retry" : "fetch_once";

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "%s: %s:%s: %s\n", prog, host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "%s: connect %s:%s: %s\n", prog, host, port, strerror(err));
	return fd;
}

/* One request and its one-line reply; 0 when the reply is in *reply. */
static int exchange(int fd, const char *msg, char *reply, size_t cap)
{
	size_t len = strlen(msg), got = 0;

	while (len > 0) {
		ssize_t n = send(fd, msg, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: send: %s\n", prog, strerror(errno));
			return -1;
		}
		msg += n;
		len -= (size_t)n;
	}
	while (got < cap - 1 && !memchr(reply, '\n', got)) {
		ssize_t n = recv(fd, reply + got, cap - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "%s: recv: %s\n", prog,
				n == 0 ? "the server closed without replying" : strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	reply[got] = '\0';
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	char msg[REPLY_MAX], reply[REPLY_MAX];
	long backoff = FIRST_BACKOFF_MS;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s HOST PORT [MESSAGE]\n", prog);
		return 2;
	}
	if ((size_t)snprintf(msg, sizeof(msg), "%s\n", argc == 4 ? argv[3] : "hello") >=
	    sizeof(msg)) {
		fprintf(stderr, "%s: message too long\n", prog);
		return 2;
	}
	for (int attempt = 1; attempt <= FETCH_ATTEMPTS; attempt++) {
		int fd = connect_to(argv[1], argv[2]);
		if (fd >= 0) {
			int rc = exchange(fd, msg, reply, sizeof(reply));
			close(fd);
			if (rc == 0) {
				fputs(reply, stdout);
				return 0;
			}
		}
		if (attempt == FETCH_ATTEMPTS)
			break;
		fprintf(stderr, "%s: attempt %d failed, retrying in %ld ms\n", prog, attempt, backoff);
		sleep_ms(backoff);
		backoff = backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2;
	}
	fprintf(stderr, "%s: giving up\n", prog);
	return 1;
}
