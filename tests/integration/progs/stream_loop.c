/* stream_loop: a stream client and server in one process, over the
 * address family asked for, to see how the trace writes each kind of
 * address.
 *
 * Usage: stream_loop unix PATH | abstract NAME | ipv6
 *   unix PATH      a unix socket bound to a file system path
 *   abstract NAME  a unix socket in the abstract namespace ("@NAME")
 *   ipv6           TCP on [::1], port chosen by the kernel
 *
 * listen, connect (completes at once: the kernel queues it), accept,
 * send "ping", recv, send "pong" back, recv, close all. Prints the
 * listener's port for ipv6 ("port N"), "ping pong" when the exchange
 * worked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "stream_loop: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void recv_exact(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_WAITALL);

	if (n != (ssize_t)len)
		die("recv");
	buf[len] = '\0';
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char ping[8], pong[8];
	int family, l, c, s;

	memset(&ss, 0, sizeof(ss));
	if (argc == 3 && (strcmp(argv[1], "unix") == 0 || strcmp(argv[1], "abstract") == 0)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		int abstract = argv[1][0] == 'a';
		size_t n = strlen(argv[2]);

		/* A path needs its NUL, an abstract name its leading NUL. */
		if (n + 1 > sizeof(un->sun_path)) {
			fprintf(stderr, "stream_loop: name too long\n");
			return 2;
		}
		un->sun_family = AF_UNIX;
		/* An abstract name starts with a NUL byte and is exactly as long
		 * as the length passed says: no terminating NUL counted. */
		memcpy(un->sun_path + abstract, argv[2], n);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + n +
				  (abstract ? 0 : 1));
		family = AF_UNIX;
	} else if (argc == 2 && strcmp(argv[1], "ipv6") == 0) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
		family = AF_INET6;
	} else {
		fprintf(stderr, "usage: stream_loop unix PATH | abstract NAME | ipv6\n");
		return 2;
	}

	l = socket(family, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) != 0 || listen(l, 1) != 0)
		die("listener");
	if (family == AF_INET6) {
		/* Port 0 was asked: connect to the one the kernel chose. */
		len = sizeof(ss);
		if (getsockname(l, (struct sockaddr *)&ss, &len) != 0)
			die("getsockname");
		printf("port %u\n", ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	}
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0)
		die("connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	if (send(c, "ping", 4, 0) != 4)
		die("send");
	recv_exact(s, ping, 4);
	if (send(s, "pong", 4, 0) != 4)
		die("send");
	recv_exact(c, pong, 4);
	printf("%s %s\n", ping, pong);
	close(c);
	close(s);
	close(l);
	if (family == AF_UNIX && argv[1][0] == 'u')
		unlink(argv[2]);
	return 0;
}
