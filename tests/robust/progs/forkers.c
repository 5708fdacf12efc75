/* forkers: many forked children, each opening connections to a server in
 * the parent.
 *
 * Usage: forkers CHILDREN CONNS [PARALLEL]
 * The parent listens on 127.0.0.1 (a kernel-chosen port) and serves every
 * connection from a thread of its own: it reads one line, answers
 * "echo LINE", closes. The main thread forks CHILDREN children, at most
 * PARALLEL (default 16) alive at once: forks are taken while the server
 * thread is inside accept, recv or send. Each child makes CONNS
 * connections one after the other (socket, connect, send
 * "child I conn J\n", recv the whole answer, close) and exits 0.
 *
 * Prints "listening on PORT", "child I pid P" per child, then
 * "served N bytes_in B bytes_out B" and "done". Exits 1 if a child failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int listener;
static struct sockaddr_in server_addr;
static long expected_conns;
static long served, bytes_in, bytes_out;
static int server_failed;

static void *serve(void *arg)
{
	(void)arg;
	while (served < expected_conns) {
		char buf[256], answer[300];
		ssize_t n, got = 0;
		int fd = accept(listener, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			server_failed = errno;
			return NULL;
		}
		/* A line: read until '\n' (it may come in pieces). */
		while (got < (ssize_t)sizeof(buf) - 1) {
			n = recv(fd, buf + got, sizeof(buf) - 1 - (size_t)got, 0);
			if (n <= 0)
				break;
			got += n;
			if (buf[got - 1] == '\n')
				break;
		}
		buf[got] = '\0';
		bytes_in += got;
		n = snprintf(answer, sizeof(answer), "echo %s", buf);
		if (send(fd, answer, (size_t)n, MSG_NOSIGNAL) != n)
			server_failed = errno ? errno : EIO;
		else
			bytes_out += n;
		close(fd);
		served++;
	}
	return NULL;
}

static int child(int index, int conns)
{
	for (int j = 0; j < conns; j++) {
		char line[64], want[80], buf[128];
		int len = snprintf(line, sizeof(line), "child %d conn %d\n", index, j);
		int wlen = snprintf(want, sizeof(want), "echo %s", line);
		ssize_t got = 0, n;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0)
			return 1;
		if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len)
			return 1;
		while ((n = recv(fd, buf + got, sizeof(buf) - (size_t)got, 0)) > 0)
			got += n;
		if (n < 0 || got != wlen || memcmp(buf, want, (size_t)wlen) != 0)
			return 1;
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int children = argc > 2 ? atoi(argv[1]) : 0;
	int conns = argc > 2 ? atoi(argv[2]) : 0;
	int parallel = argc > 3 ? atoi(argv[3]) : 16;
	socklen_t len = sizeof(server_addr);
	int alive = 0, failed = 0;
	pthread_t server;

	if (children < 1 || conns < 1 || parallel < 1) {
		fprintf(stderr, "usage: forkers CHILDREN CONNS [PARALLEL]\n");
		return 2;
	}
	expected_conns = (long)children * conns;
	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&server_addr, sizeof(server_addr)) ||
	    listen(listener, 256) || getsockname(listener, (struct sockaddr *)&server_addr, &len)) {
		perror("forkers: listener");
		return 1;
	}
	printf("listening on %d\n", ntohs(server_addr.sin_port));
	fflush(stdout);
	if (pthread_create(&server, NULL, serve, NULL) != 0) {
		fprintf(stderr, "forkers: pthread_create failed\n");
		return 1;
	}
	for (int i = 0; i < children; i++) {
		int st;
		pid_t pid;

		if (alive == parallel) {
			if (wait(&st) > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
				failed++;
			alive--;
		}
		pid = fork();
		if (pid < 0) {
			perror("forkers: fork");
			return 1;
		}
		if (pid == 0) {
			close(listener);
			_exit(child(i, conns) == 0 ? 0 : 3);
		}
		alive++;
		printf("child %d pid %d\n", i, (int)pid);
		fflush(stdout);
	}
	while (alive > 0) {
		int st;
		if (wait(&st) > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			failed++;
		alive--;
	}
	pthread_join(server, NULL);
	close(listener);
	if (failed || server_failed) {
		fprintf(stderr, "forkers: %d children failed, server: %s\n", failed,
			server_failed ? strerror(server_failed) : "ok");
		return 1;
	}
	printf("served %ld bytes_in %ld bytes_out %ld\n", served, bytes_in, bytes_out);
	printf("done\n");
	return 0;
}
