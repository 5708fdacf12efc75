/* calls_then_wait: makes exactly N socket calls, says so, then ends in the
 * way asked. The test checks that every call that returned is in the
 * trace however the process ends.
 *
 * Usage: calls_then_wait N sleep|_exit|abort [SIZE]
 *   N counts every socket call: 1 socketpair, then send and recv in
 *   turn (N - 1 of them), of SIZE bytes each (4 by default, at most 512).
 *   sleep  prints "done N" and waits to be killed (SIGKILL by the test)
 *   _exit  prints "done N" and calls _exit(0): no atexit, no destructors
 *   abort  prints "done N" and calls abort(): killed by SIGABRT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc == 3 || argc == 4 ? atol(argv[1]) : 0;
	long size = argc == 4 ? atol(argv[3]) : 4;
	char msg[512], buf[512];
	int sv[2];

	memset(msg, 'a', sizeof(msg));
	if (n < 1 || size < 1 || size > (long)sizeof(msg) || (strcmp(argv[2], "sleep") != 0 && strcmp(argv[2], "_exit") != 0 &&
		      strcmp(argv[2], "abort") != 0)) {
		fprintf(stderr, "usage: calls_then_wait N sleep|_exit|abort [SIZE]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) {
		fprintf(stderr, "calls_then_wait: socketpair: %s\n", strerror(errno));
		return 1;
	}
	for (long i = 1; i < n; i++) {
		ssize_t r = i % 2 ? send(sv[0], msg, (size_t)size, 0) : recv(sv[1], buf, sizeof(buf), 0);
		if (r != size) {
			fprintf(stderr, "calls_then_wait: call %ld: %s\n", i, strerror(errno));
			return 1;
		}
	}
	/* Every call above has returned: its record must be in the trace. */
	printf("done %ld\n", n);
	fflush(stdout);
	if (strcmp(argv[2], "_exit") == 0)
		_exit(0);
	if (strcmp(argv[2], "abort") == 0)
		abort();
	for (;;)
		pause();
}
