/* sockuser: a small program at the end of an exec chain. It writes to a
 * socket it inherited (a number the shim of this image has never seen)
 * and makes a socket of its own.
 *
 * Usage: sockuser FD
 * Prints "sockuser PID ppid PPID".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, own;

	if (argc != 2) {
		fprintf(stderr, "usage: sockuser FD\n");
		return 2;
	}
	fd = atoi(argv[1]);
	printf("sockuser %d ppid %d\n", (int)getpid(), (int)getppid());
	fflush(stdout);
	if (write(fd, "sockuser", 8) != 8) {
		fprintf(stderr, "sockuser: write: %s\n", strerror(errno));
		return 1;
	}
	own = socket(AF_INET, SOCK_DGRAM, 0);
	if (own < 0) {
		fprintf(stderr, "sockuser: socket: %s\n", strerror(errno));
		return 1;
	}
	close(own);
	close(fd);
	return 0;
}
