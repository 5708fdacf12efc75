/* static_sock: linked statically, so it never calls the shared C library
 * and LD_PRELOAD cannot reach it. `socktrace run` must say so before
 * running it; the program must still run, with its own exit status.
 *
 * Usage: static_sock
 * Makes a socketpair exchange, writes "static program ran" to standard
 * error, exits 7.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	char buf[8];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "stat", 4, 0) != 4 ||
	    recv(sv[1], buf, sizeof(buf), 0) != 4)
		return 1;
	close(sv[0]);
	close(sv[1]);
	fprintf(stderr, "static program ran\n");
	return 7;
}
