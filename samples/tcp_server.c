/* tcp_server: the server half of the classic TCP socket diagram.
 *
 *   socket -> setsockopt(SO_REUSEADDR) -> bind -> listen -> accept
 *          -> recv (one request line) -> send ("echo: " + line) -> close
 *
 * Usage: tcp_server PORT [COUNT]
 *   PORT   port to listen on, on 127.0.0.1; 0 lets the kernel choose one.
 *   COUNT  connections to serve before exiting (default 1).
 *
 * Prints "listening on PORT" (flushed) once it accepts connections, so a
 * script that passed 0 learns the port; then "request: LINE" per
 * connection. Exits 0 when COUNT connections were served, 1 on any
 * failure (with the reason on stderr), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

static int fail(const char *what)
{
	fprintf(stderr, "tcp_server: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Parses a decimal number in [min, max]; false if it is anything else. */
static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= min && *out <= max;
}

/* Reads up to and including the first '\n' (TCP has no message
 * boundaries: the line may come in several pieces). Returns the length
 * read, or -1 on error. A peer that closes early gives what came. */
static ssize_t recv_line(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap - 1) {
		ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf + got - (size_t)n, '\n', (size_t)n))
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/* send() may write less than asked: loop until all of it is gone. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int serve_one(int listener)
{
	char line[LINE_MAX_BYTES];
	char reply[LINE_MAX_BYTES + 8];
	struct sockaddr_in peer;
	socklen_t peer_len = sizeof(peer);
	ssize_t n;
	int conn, len;

	conn = accept(listener, (struct sockaddr *)&peer, &peer_len);
	if (conn < 0)
		return fail("accept");
	n = recv_line(conn, line, sizeof(line));
	if (n < 0) {
		fail("recv");
		close(conn);
		return 1;
	}
	printf("request: %s%s", line, n > 0 && line[n - 1] == '\n' ? "" : "\n");
	fflush(stdout);
	len = snprintf(reply, sizeof(reply), "echo: %s", line);
	if (send_all(conn, reply, (size_t)len) != 0) {
		fail("send");
		close(conn);
		return 1;
	}
	if (close(conn) != 0)
		return fail("close");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	long port, count = 1;
	int fd, one = 1;

	if (argc < 2 || argc > 3 || !parse_num(argv[1], 0, 65535, &port) ||
	    (argc == 3 && !parse_num(argv[2], 1, 1000000, &count))) {
		fprintf(stderr, "usage: tcp_server PORT [COUNT]\n");
		return 2;
	}

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return fail("socket");
	/* Lets a restarted server bind the port at once, even while the
	 * previous run's connections linger in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		return fail("setsockopt SO_REUSEADDR");

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	/* Loopback only: a sample has no business being reachable from the
	 * network. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return fail("bind");
	if (listen(fd, 16) != 0)
		return fail("listen");

	/* With port 0 only the kernel knows which port we got. */
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0)
		return fail("getsockname");
	printf("listening on %u\n", ntohs(addr.sin_port));
	fflush(stdout);

	for (long i = 0; i < count; i++)
		if (serve_one(fd) != 0)
			return 1;

	if (close(fd) != 0)
		return fail("close");
	return 0;
}
