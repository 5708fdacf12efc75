/* tcp_client: the client half of the classic TCP socket diagram.
 *
 *   getaddrinfo -> socket -> connect -> send -> recv (the reply)
 *               -> shutdown(SHUT_WR) -> recv until 0 -> close
 *
 * Usage: tcp_client HOST PORT [MESSAGE]
 *   Sends MESSAGE (default "hello") and a '\n', prints the server's reply.
 *
 * The orderly end: shutdown(SHUT_WR) tells the server "no more requests"
 * (it sees end of file), and reading until recv returns 0 waits for the
 * server to finish too, so nothing it sent is lost to an early close.
 * Exits 0 on success, 1 on any failure (reason on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG_MAX_BYTES 1024

static int fail(const char *what)
{
	fprintf(stderr, "tcp_client: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Tries every address the name resolves to, in the order getaddrinfo
 * ranks them, and keeps the first that accepts the connection. */
static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "tcp_client: getaddrinfo %s %s: %s\n", host, port,
			gai_strerror(rc));
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
	if (fd < 0) {
		errno = err;
		fail("connect");
	}
	return fd;
}

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

int main(int argc, char **argv)
{
	char msg[MSG_MAX_BYTES];
	char reply[MSG_MAX_BYTES + 64];
	size_t got = 0;
	ssize_t n;
	int fd, len;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: tcp_client HOST PORT [MESSAGE]\n");
		return 2;
	}
	len = snprintf(msg, sizeof(msg), "%s\n", argc == 4 ? argv[3] : "hello");
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		fprintf(stderr, "tcp_client: message too long\n");
		return 2;
	}

	fd = connect_to(argv[1], argv[2]);
	if (fd < 0)
		return 1;
	if (send_all(fd, msg, (size_t)len) != 0)
		return fail("send");

	/* The reply is one line; it may arrive in pieces. */
	while (got < sizeof(reply) - 1 && !memchr(reply, '\n', got)) {
		n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("recv");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == 0) {
		fprintf(stderr, "tcp_client: the server closed without replying\n");
		return 1;
	}
	fwrite(reply, 1, got, stdout);
	if (reply[got - 1] != '\n')
		putchar('\n');
	fflush(stdout);

	if (shutdown(fd, SHUT_WR) != 0)
		return fail("shutdown");
	/* Drain until the server's end of file: anything more is unexpected
	 * but still read, so the close below never resets the connection. */
	for (;;) {
		n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("recv");
		if (n == 0)
			break;
	}
	if (close(fd) != 0)
		return fail("close");
	return 0;
}
