/* splice_send: a file copied over a TCP connection on loopback by splice
 * alone, both ways through a pipe, as a zero-copy proxy or server does;
 * or sent by sendfile.
 *
 * Usage: splice_send [--sendfile] IN OUT
 *
 * The parent splices IN into a pipe and the pipe into the connected
 * socket; a forked child splices the accepted socket into a pipe and the
 * pipe into OUT, until the end of the stream. Of the four kinds of
 * splice, two touch a socket (pipe -> socket, socket -> pipe) and two do
 * not (file -> pipe, pipe -> file). Every splice may move fewer bytes than
 * asked: both sides loop until all are moved.
 *
 * With --sendfile the parent sends IN with sendfile(2) instead (the plain
 * symbol, not sendfile64: built without _FILE_OFFSET_BITS): its first
 * call from the file's own offset (no offset pointer), the rest from an
 * offset it keeps itself, which leaves the file's offset where the first
 * call put it.
 *
 * Prints "received N" (the child) and "sent N" (the parent, after the
 * child ended); exits 1 on any failure (a failing parent first closes the
 * connection and waits for the child, so that both traces are whole).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 65536

/* In the parent: the receiving child and the socket it reads. */
static pid_t child = -1;
static int conn_fd = -1;

/* A parent that fails ends the connection and waits for the child first:
 * a test then reads both traces whole. */
static void die(const char *what)
{
	fprintf(stderr, "splice_send: %s: %s\n", what, strerror(errno));
	if (child > 0) {
		close(conn_fd);
		waitpid(child, NULL, 0);
	}
	exit(1);
}

/* Moves exactly n bytes from a pipe to out, however few each call takes. */
static void drain(int pipe_r, int out, size_t n, unsigned flags)
{
	while (n > 0) {
		ssize_t k = splice(pipe_r, NULL, out, NULL, n, flags);
		if (k <= 0)
			die("splice from the pipe");
		n -= (size_t)k;
	}
}

static long long receive(int sock, int out)
{
	int p[2];
	long long total = 0;

	if (pipe(p) != 0)
		die("pipe");
	for (;;) {
		ssize_t n = splice(sock, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
		if (n < 0)
			die("splice from the socket");
		if (n == 0)
			break;
		drain(p[0], out, (size_t)n, SPLICE_F_MOVE);
		total += n;
	}
	return total;
}

static long long send_file(int in, int sock)
{
	int p[2];
	long long total = 0;

	if (pipe(p) != 0)
		die("pipe");
	for (;;) {
		ssize_t n = splice(in, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
		if (n < 0)
			die("splice from the file");
		if (n == 0)
			break;
		drain(p[0], sock, (size_t)n, SPLICE_F_MOVE | SPLICE_F_MORE);
		total += n;
	}
	return total;
}

static long long sendfile_file(int in, int sock)
{
	ssize_t first = sendfile(sock, in, NULL, CHUNK), n = first;
	off_t off = first;

	if (first < 0)
		die("sendfile");
	if (lseek(in, 0, SEEK_CUR) != first)
		die("the file's offset after the first sendfile");
	while (n > 0) {
		n = sendfile(sock, in, &off, CHUNK);
		if (n < 0)
			die("sendfile");
	}
	/* The rest moved the offset we passed, not the file's. */
	if (lseek(in, 0, SEEK_CUR) != first)
		die("the file's offset after sendfile with an offset");
	return off;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int lfd, cfd, sfd, in, out, status;
	long long sent;
	pid_t pid;

	bool use_sendfile = argc == 4 && strcmp(argv[1], "--sendfile") == 0;

	if (argc != 3 && !use_sendfile) {
		fprintf(stderr, "usage: splice_send [--sendfile] IN OUT\n");
		return 2;
	}
	in = open(argv[argc - 2], O_RDONLY);
	out = open(argv[argc - 1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0)
		die("open");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0)
		die("listen");
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect");
	sfd = accept(lfd, NULL, NULL);
	if (sfd < 0)
		die("accept");
	close(lfd);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		child = pid;
		conn_fd = cfd;
	}
	if (pid == 0) {
		close(cfd);
		printf("received %lld\n", receive(sfd, out));
		return close(sfd) == 0 && close(out) == 0 ? 0 : 1;
	}
	close(sfd);
	sent = use_sendfile ? sendfile_file(in, cfd) : send_file(in, cfd);
	conn_fd = -1;
	if (close(cfd) != 0)
		die("close");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "splice_send: the receiving child failed\n");
		return 1;
	}
	printf("sent %lld\n", sent);
	return 0;
}
