/* udp_server: the echo exchange of tcp_server, over datagrams.
 *
 *   socket -> bind -> recvfrom (a request, and who sent it)
 *          -> sendto (the reply, to that sender) -> ... -> close
 *
 * Usage: udp_server PORT [COUNT]
 *   PORT   port to bind on 127.0.0.1; 0 lets the kernel choose one.
 *   COUNT  datagrams to answer before exiting (default 1).
 *
 * There is no listen or accept: one socket serves every client, and each
 * datagram carries its sender's address, which is where the reply goes.
 * Prints "listening on PORT" (flushed), then "request: MESSAGE" for each
 * datagram. Exits 0 when COUNT datagrams were answered, 1 on any failure
 * (reason on stderr), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DGRAM_MAX_BYTES 1024

static int fail(const char *what)
{
	fprintf(stderr, "udp_server: %s: %s\n", what, strerror(errno));
	return 1;
}

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= min && *out <= max;
}

static int answer_one(int fd)
{
	char msg[DGRAM_MAX_BYTES];
	char reply[DGRAM_MAX_BYTES + 8];
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	ssize_t n;
	int len;

	/* One recvfrom is one whole datagram (cut if larger than msg). */
	do
		n = recvfrom(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&from, &from_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail("recvfrom");
	msg[n] = '\0';
	printf("request: %s%s", msg, n > 0 && msg[n - 1] == '\n' ? "" : "\n");
	fflush(stdout);

	len = snprintf(reply, sizeof(reply), "echo: %s", msg);
	/* A datagram goes whole or not at all: no partial-send loop here. */
	if (sendto(fd, reply, (size_t)len, 0, (struct sockaddr *)&from, from_len) != len)
		return fail("sendto");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	long port, count = 1;
	int fd;

	if (argc < 2 || argc > 3 || !parse_num(argv[1], 0, 65535, &port) ||
	    (argc == 3 && !parse_num(argv[2], 1, 1000000, &count))) {
		fprintf(stderr, "usage: udp_server PORT [COUNT]\n");
		return 2;
	}

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail("socket");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return fail("bind");
	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0)
		return fail("getsockname");
	printf("listening on %u\n", ntohs(addr.sin_port));
	fflush(stdout);

	for (long i = 0; i < count; i++)
		if (answer_one(fd) != 0)
			return 1;

	if (close(fd) != 0)
		return fail("close");
	return 0;
}
