/* fortify: built with -O2 -D_FORTIFY_SOURCE=2 (see meson.build), so that
 * glibc's headers route recv, recvfrom and read on buffers of known size
 * to __recv_chk, __recvfrom_chk and __read_chk. They do so only when the
 * length is not a compile-time constant (a constant that fits needs no
 * check), hence the length taken from the command line.
 *
 * Usage: fortify LEN   (the test passes 5)
 * Prints "recv N", "recvfrom N", "read N". A LEN above 64 makes the
 * fortified calls abort the program: that is what they are for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if !defined(__OPTIMIZE__) || !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 1
#error "fortify.c must be built with optimisation and -D_FORTIFY_SOURCE=2"
#endif

static void die(const char *what)
{
	fprintf(stderr, "fortify: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	char buf[64]; /* size known to the compiler: the _chk twins get it */
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	size_t len;
	ssize_t n;
	int sv[2];

	/* No upper bound check here: if the compiler could prove len <= 64
	 * it would call the plain functions, as for a constant. */
	len = argc == 2 ? strtoul(argv[1], NULL, 10) : 0;
	if (len < 1) {
		fprintf(stderr, "usage: fortify LEN\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0)
		die("socketpair");
	for (int i = 0; i < 3; i++)
		if (send(sv[0], "hello", 5, 0) != 5)
			die("send");

	n = recv(sv[1], buf, len, 0);
	if (n < 0)
		die("recv");
	printf("recv %zd\n", n);
	n = recvfrom(sv[1], buf, len, 0, (struct sockaddr *)&from, &from_len);
	if (n < 0)
		die("recvfrom");
	printf("recvfrom %zd\n", n);
	n = read(sv[1], buf, len);
	if (n < 0)
		die("read");
	printf("read %zd\n", n);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
