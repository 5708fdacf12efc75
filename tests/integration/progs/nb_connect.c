/* nb_connect: non-blocking connects, the way event-driven clients make
 * them: connect returns EINPROGRESS, poll waits for the socket to become
 * writable, getsockopt(SO_ERROR) says how the connect ended.
 *
 * Usage: nb_connect
 * Connects once to a listening port and once to a refusing one (a bound
 * socket that does not listen), both on 127.0.0.1 and made here. Prints
 * per target "NAME: connect ret=R errno=E so_error=S"; no port numbers,
 * so the output is the same on every run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "nb_connect: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *err_name(int e)
{
	return e ? strerrorname_np(e) : "0";
}

/* A socket bound to 127.0.0.1 with a kernel-chosen port, listening or
 * not; *addr receives its address. */
static int make_target(int do_listen, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 ||
	    (do_listen && listen(fd, 4) != 0) ||
	    getsockname(fd, (struct sockaddr *)addr, &len) != 0)
		die("target");
	return fd;
}

static void try_connect(const char *name, const struct sockaddr_in *addr)
{
	struct pollfd pfd;
	int fd, ret, err, so_error = -1;
	socklen_t len = sizeof(so_error);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	err = ret == 0 ? 0 : errno;
	if (ret != 0 && err == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 5000) != 1)
			die("poll");
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
			die("getsockopt");
		printf("%s: connect ret=%d errno=%s so_error=%s\n", name, ret, err_name(err),
		       err_name(so_error));
	} else {
		printf("%s: connect ret=%d errno=%s so_error=none\n", name, ret, err_name(err));
	}
	close(fd);
}

int main(void)
{
	struct sockaddr_in open_addr, closed_addr;
	int listener = make_target(1, &open_addr);
	int holder = make_target(0, &closed_addr);

	try_connect("open", &open_addr);
	try_connect("closed", &closed_addr);
	close(listener);
	close(holder);
	return 0;
}
