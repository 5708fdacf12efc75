/* transparency: prints what a program sees from calls that fail or get
 * interrupted, and errno after calls that succeed. The test runs it with
 * and without the shim: the outputs must be identical, byte for byte.
 *
 * Usage: transparency TMPDIR
 * Prints one "case: ret=R errno=NAME" line per observation. Port numbers
 * are never printed (they differ between runs); fd numbers are, since the
 * shim must not change them either.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* errno is set to this before calls that succeed: they must leave it. */
#define SENTINEL 12345

static void report(const char *what, long ret, int err)
{
	const char *name = err ? strerrorname_np(err) : "0";

	if (err == SENTINEL)
		name = "SENTINEL";
	printf("%s: ret=%ld errno=%s\n", what, ret, name ? name : "?");
}

static void die(const char *what)
{
	fprintf(stderr, "transparency: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A port that refuses: bound but not listening, so a SYN gets a reset,
 * and held for the whole run so nobody else can take it. */
static void connect_refused(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int holder = socket(AF_INET, SOCK_STREAM, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int ret;

	if (holder < 0 || fd < 0 || bind(holder, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(holder, (struct sockaddr *)&a, &len) != 0)
		die("closed port setup");
	errno = 0;
	ret = connect(fd, (struct sockaddr *)&a, sizeof(a));
	report("connect_closed_port", ret, errno);
	close(fd);
	close(holder);
}

static void recv_nonblocking_empty(void)
{
	int sv[2];
	char buf[16];
	ssize_t ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		die("socketpair");
	errno = 0;
	ret = recv(sv[0], buf, sizeof(buf), 0);
	report("recv_nonblocking_empty", ret, errno);
	close(sv[0]);
	close(sv[1]);
}

static void send_closed_peer(void)
{
	int sv[2];
	ssize_t ret;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	close(sv[1]);
	errno = 0;
	/* MSG_NOSIGNAL: EPIPE instead of a deadly SIGPIPE. */
	ret = send(sv[0], "x", 1, MSG_NOSIGNAL);
	report("send_closed_peer", ret, errno);
	close(sv[0]);
}

static void close_bad_fd(void)
{
	int ret;

	errno = 0;
	ret = close(-1);
	report("close_minus_one", ret, errno);
	errno = 0;
	ret = close(987); /* never opened */
	report("close_unopened", ret, errno);
}

/* getaddrinfo reports failure in its return value (EAI_*), not errno. A
 * numeric-only lookup of a non-address fails without asking any DNS. */
static void getaddrinfo_fails(void)
{
	struct addrinfo hints, *res = NULL;
	int ret;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	errno = SENTINEL;
	ret = getaddrinfo("300.1.2.3", "80", &hints, &res);
	printf("getaddrinfo_bad_numeric: ret=%s errno=%s\n",
	       ret == EAI_NONAME ? "EAI_NONAME" : gai_strerror(ret),
	       errno == SENTINEL ? "SENTINEL" : "changed");
	if (res)
		freeaddrinfo(res);
}

/* File I/O goes through the hooks' "not a socket" path untouched. */
static void regular_file(const char *dir)
{
	char path[4096], buf[64];
	ssize_t ret;
	int fd;

	snprintf(path, sizeof(path), "%s/transparency.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	unlink(path);
	printf("file_fd: %d\n", fd);
	errno = SENTINEL;
	ret = write(fd, "file contents\n", 14);
	report("file_write", ret, errno);
	lseek(fd, 0, SEEK_SET);
	errno = SENTINEL;
	ret = read(fd, buf, sizeof(buf));
	report("file_read", ret, errno);
	printf("file_read_data: %.*s", (int)(ret > 0 ? ret : 0), buf);
	errno = 0;
	ret = read(fd, buf, sizeof(buf));
	report("file_read_eof", ret, errno);
	close(fd);
}

/* Every call succeeds; errno must still be the sentinel afterwards. */
static void errno_untouched(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	char buf[16];
	int one = 1, val = 0;
	socklen_t vlen = sizeof(val);
	int lfd, cfd, afd, dfd;
	long ret;

#define KEEP(name, call) do { errno = SENTINEL; ret = (long)(call); report(name, ret, errno); } while (0)
	KEEP("ok_socket", lfd = socket(AF_INET, SOCK_STREAM, 0));
	KEEP("ok_setsockopt", setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	KEEP("ok_bind", bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	KEEP("ok_listen", listen(lfd, 4));
	KEEP("ok_getsockname", getsockname(lfd, (struct sockaddr *)&a, &len));
	KEEP("ok_socket2", cfd = socket(AF_INET, SOCK_STREAM, 0));
	KEEP("ok_connect", connect(cfd, (struct sockaddr *)&a, sizeof(a)));
	KEEP("ok_accept", afd = accept(lfd, NULL, NULL));
	KEEP("ok_send", send(cfd, "ping", 4, 0));
	KEEP("ok_recv", recv(afd, buf, sizeof(buf), 0));
	KEEP("ok_write", write(afd, "pong", 4));
	KEEP("ok_read", read(cfd, buf, sizeof(buf)));
	KEEP("ok_getsockopt", getsockopt(cfd, SOL_SOCKET, SO_ERROR, &val, &vlen));
	KEEP("ok_getpeername", getpeername(cfd, (struct sockaddr *)&a, &len));
	KEEP("ok_shutdown", shutdown(cfd, SHUT_WR));
	KEEP("ok_recv_eof", recv(afd, buf, sizeof(buf), 0));
	KEEP("ok_dup", dfd = dup(afd));
	KEEP("ok_close_dup", close(dfd));
	KEEP("ok_close_a", close(afd));
	KEEP("ok_close_c", close(cfd));
	KEEP("ok_close_l", close(lfd));
#undef KEEP
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A blocking recv interrupted by a signal whose handler was installed
 * without SA_RESTART returns -1 with EINTR. */
static void recv_interrupted(void)
{
	struct sigaction sa;
	struct itimerval it;
	char buf[16];
	ssize_t ret;
	int sv[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART */
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		die("sigaction");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 100 * 1000;
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		die("setitimer");
	errno = 0;
	ret = recv(sv[0], buf, sizeof(buf), 0);
	report("recv_interrupted", ret, errno);
	close(sv[0]);
	close(sv[1]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: transparency TMPDIR\n");
		return 2;
	}
	connect_refused();
	recv_nonblocking_empty();
	send_closed_peer();
	close_bad_fd();
	getaddrinfo_fails();
	regular_file(argv[1]);
	errno_untouched();
	recv_interrupted();
	return 0;
}
