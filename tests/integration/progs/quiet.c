/* quiet: a program that looks at its own descriptors. The shim must not
 * print anything on the program's stdout or stderr, and must not hold a
 * descriptor where the program would see it: its trace descriptor lives
 * high, above the numbers a program uses.
 *
 * Usage: quiet LIMIT
 * Lists the open descriptors below LIMIT from /proc/self/fd at start,
 * after its first socket calls (the trace file exists by then), and after
 * opening and closing more; writes a line to stderr. Prints the lists and
 * what the socket calls returned: the same output with and without the
 * shim.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void list_fds(const char *when, int limit)
{
	char line[4096];
	size_t o = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int mine;

	if (!d) {
		fprintf(stderr, "quiet: opendir: %s\n", strerror(errno));
		exit(1);
	}
	/* The directory's own descriptor is in the listing: leave it out. */
	mine = dirfd(d);
	o += (size_t)snprintf(line + o, sizeof(line) - o, "%s:", when);
	int fds[1024], n = 0;
	while ((de = readdir(d)) != NULL && n < 1024) {
		int fd;
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd != mine && fd < limit)
			fds[n++] = fd;
	}
	closedir(d);
	/* readdir's order is the kernel's: sort for a stable output. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (int i = 0; i < n && o < sizeof(line) - 16; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %d", fds[i]);
	puts(line);
}

int main(int argc, char **argv)
{
	int limit = argc > 1 ? atoi(argv[1]) : 512;
	int sv[2], s, s2;
	char buf[8];

	list_fds("start", limit);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	printf("socketpair: %d %d\n", sv[0], sv[1]);
	printf("send: %zd\n", send(sv[0], "hi", 2, 0));
	printf("recv: %zd\n", recv(sv[1], buf, sizeof(buf), 0));
	list_fds("after socketpair", limit);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	s2 = dup(s);
	printf("socket: %d dup: %d\n", s, s2);
	close(sv[0]);
	list_fds("after close", limit);
	close(sv[1]);
	close(s);
	close(s2);
	list_fds("end", limit);
	fprintf(stderr, "quiet: a line on stderr\n");
	return 0;
}
