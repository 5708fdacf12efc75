/* envprobe: a small, well-behaved socket program for the tests of hostile
 * settings and trace directories.
 *
 * Usage: envprobe [wait]
 * Prints "pid PID" (flushed). With "wait", then reads one line from
 * standard input before its first socket call (the trace file is created
 * on the first record, so a test can prepare the directory in between).
 * Then: socketpair, send "probe", recv, close, close; prints "ok" and
 * exits 0.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[16];
	int sv[2];

	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "wait") == 0 && !fgets(buf, sizeof(buf), stdin))
		return 3;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "probe", 5, 0) != 5 ||
	    recv(sv[1], buf, sizeof(buf), 0) != 5 || memcmp(buf, "probe", 5) != 0) {
		perror("envprobe");
		return 1;
	}
	close(sv[0]);
	close(sv[1]);
	printf("ok\n");
	return 0;
}
