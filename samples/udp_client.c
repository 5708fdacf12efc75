/* udp_client: the client of udp_server, using a connected UDP socket.
 *
 *   getaddrinfo -> socket -> setsockopt(SO_RCVTIMEO) -> connect
 *               -> send -> recv -> close
 *
 * Usage: udp_client HOST PORT [MESSAGE]
 *   Sends MESSAGE (default "hello") and a '\n' as one datagram and prints
 *   the reply.
 *
 * connect on a UDP socket sends nothing: it fixes the peer, so plain send
 * and recv work, and datagrams from anyone else are filtered out. UDP may
 * lose datagrams, so the receive has a timeout instead of waiting forever.
 * Exits 0 on success, 1 on any failure (reason on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DGRAM_MAX_BYTES 1024
#define REPLY_TIMEOUT_S 5

static int fail(const char *what)
{
	fprintf(stderr, "udp_client: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct addrinfo hints, *res;
	struct timeval timeout = { .tv_sec = REPLY_TIMEOUT_S, .tv_usec = 0 };
	char msg[DGRAM_MAX_BYTES];
	char reply[DGRAM_MAX_BYTES + 8];
	ssize_t n;
	int fd, rc, len;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: udp_client HOST PORT [MESSAGE]\n");
		return 2;
	}
	len = snprintf(msg, sizeof(msg), "%s\n", argc == 4 ? argv[3] : "hello");
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		fprintf(stderr, "udp_client: message too long\n");
		return 2;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(argv[1], argv[2], &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "udp_client: getaddrinfo %s %s: %s\n", argv[1], argv[2],
			gai_strerror(rc));
		return 1;
	}
	/* Only the first address: without a handshake there is no way to
	 * tell which one has a server, so trying them in turn means little. */
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0)
		return fail("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0)
		return fail("setsockopt SO_RCVTIMEO");
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0)
		return fail("connect");
	freeaddrinfo(res);

	if (send(fd, msg, (size_t)len, 0) != len)
		return fail("send");
	do
		n = recv(fd, reply, sizeof(reply) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* EAGAIN here means the timeout expired. */
		return fail("recv");
	}
	reply[n] = '\0';
	printf("%s%s", reply, n > 0 && reply[n - 1] == '\n' ? "" : "\n");
	fflush(stdout);

	if (close(fd) != 0)
		return fail("close");
	return 0;
}
