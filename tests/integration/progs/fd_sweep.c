/* fd_sweep: programs that treat every descriptor as theirs, as daemons
 * do. The shim's own trace descriptor lives among them (the test sets
 * RLIMIT_NOFILE to 1024, so the shim keeps it just below 1024); tracing
 * must survive and the program must notice nothing.
 *
 * Usage: fd_sweep MODE
 *   closeall    close(fd) for fd 3..1023, then use sockets
 *   dup2all     dup2 a socket onto every number 3..1023 but its own,
 *               close them all again from the top down (the classic
 *               "for (fd = getdtablesize(); fd > 2; fd--) close(fd)"),
 *               then use sockets
 *   dup2all_up  the same, closing from the bottom up
 *   close_range close_range(3, ~0U, 0) between two socket exchanges
 *   raw_close_range  the same with the raw system call, which the shim
 *               cannot see
 * Each mode first makes one exchange (so the trace file exists), and
 * prints what it observed, including the descriptor numbers of the
 * exchanges before and after the sweep; "done" at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SWEEP_LAST 1023

static void die(const char *what)
{
	fprintf(stderr, "fd_sweep: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A TCP round trip on loopback, all in this process: listen, connect,
 * accept, send, recv, close. Returns the bytes that came back; prints
 * the descriptors it got if label is set. */
static int exchange(const char *msg, const char *label)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char buf[64];
	int l, c, s;
	ssize_t n;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0)
		die("listener");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	if (send(c, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		die("send");
	n = recv(s, buf, strlen(msg) < sizeof(buf) ? strlen(msg) : sizeof(buf), MSG_WAITALL);
	if (n != (ssize_t)strlen(msg))
		die("recv");
	if (label)
		printf("%s fds: %d %d %d\n", label, l, c, s);
	close(c);
	close(s);
	close(l);
	return (int)n;
}

static void closeall(void)
{
	int closed = 0, ebadf = 0;

	for (int fd = 3; fd <= SWEEP_LAST; fd++) {
		if (close(fd) == 0)
			closed++;
		else if (errno == EBADF)
			ebadf++;
	}
	printf("closeall: closed %d, EBADF %d\n", closed, ebadf);
}

static void dup2all(int top_down)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), ok = 0, closed = 0;

	if (s < 0)
		die("socket");
	for (int fd = 3; fd <= SWEEP_LAST; fd++) {
		if (fd == s)
			continue;
		if (dup2(s, fd) == fd)
			ok++;
	}
	/* Each copy is the same socket: sending through the last one works. */
	printf("dup2all: %d copies\n", ok);
	for (int i = 0; i <= SWEEP_LAST - 3; i++)
		if (close(top_down ? SWEEP_LAST - i : 3 + i) == 0)
			closed++;
	printf("dup2all: closed %d\n", closed);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fd_sweep closeall|dup2all|dup2all_up|close_range|"
			"raw_close_range\n");
		return 2;
	}
	printf("before: %d\n", exchange("first exchange", "before"));
	if (strcmp(argv[1], "closeall") == 0) {
		closeall();
	} else if (strcmp(argv[1], "dup2all") == 0) {
		dup2all(1);
	} else if (strcmp(argv[1], "dup2all_up") == 0) {
		dup2all(0);
	} else if (strcmp(argv[1], "close_range") == 0) {
		printf("close_range: %d\n", close_range(3, ~0U, 0));
	} else if (strcmp(argv[1], "raw_close_range") == 0) {
		printf("raw close_range: %ld\n", syscall(SYS_close_range, 3, ~0U, 0));
	} else {
		fprintf(stderr, "fd_sweep: unknown mode %s\n", argv[1]);
		return 2;
	}
	/* Enough exchanges to need more trace space than the first segment. */
	int total = 0;
	for (int i = 0; i < 200; i++)
		total += exchange("after the sweep", i == 0 ? "after" : NULL);
	printf("after: %d\n", total);
	printf("done\n");
	return 0;
}
