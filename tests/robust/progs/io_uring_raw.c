/* io_uring_raw: sets up an io_uring instance with the raw system call, as
 * programs without liburing do, then uses a socket the ordinary way. The
 * shim cannot see what goes through io_uring; it must say so in the trace
 * ({"rec":"warning","kind":"io_uring",...}) instead of leaving a trace
 * that is quietly missing calls.
 *
 * Usage: io_uring_raw
 * Prints "io_uring fd N", "echo OK" and "done"; exits 77 with
 * "io_uring unavailable: REASON" when the kernel refuses io_uring_setup
 * (disabled by sysctl or seccomp), 1 on any other failure.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

int main(void)
{
	struct io_uring_params p;
	char buf[16];
	int sv[2];
	long ring;

	memset(&p, 0, sizeof(p));
	ring = syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0) {
		printf("io_uring unavailable: %s\n", strerror(errno));
		return 77;
	}
	printf("io_uring fd %ld\n", ring);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "ping", 4, 0) != 4 ||
	    recv(sv[1], buf, sizeof(buf), 0) != 4 || memcmp(buf, "ping", 4) != 0) {
		perror("io_uring_raw: socket calls");
		return 1;
	}
	printf("echo OK\n");
	close(sv[0]);
	close(sv[1]);
	close((int)ring);
	printf("done\n");
	return 0;
}
