/* child_sock: what the spawned children of vfork_threads run. Writes
 * "hello from PID" to the socket it inherited as descriptor FD, closes it
 * and exits 0.
 *
 * Usage: child_sock FD
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char msg[64];
	int fd = argc == 2 ? atoi(argv[1]) : -1;
	int len;

	if (fd < 0) {
		fprintf(stderr, "usage: child_sock FD\n");
		return 2;
	}
	len = snprintf(msg, sizeof(msg), "hello from %d", (int)getpid());
	if (write(fd, msg, (size_t)len) != len) {
		perror("child_sock: write");
		return 1;
	}
	close(fd);
	return 0;
}
