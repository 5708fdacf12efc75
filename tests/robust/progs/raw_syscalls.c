/* raw_syscalls: a TCP connection over loopback made and used only through
 * syscall(2), as libuv (Node.js), Go's runtime with cgo and hand-written
 * event loops do for calls libc wraps in a way they do not want. Every
 * call goes around the libc functions a shim interposes; only syscall()
 * itself is a symbol the shim can see.
 *
 * Usage: raw_syscalls CLOSED_PORT
 *   CLOSED_PORT  a loopback port that refuses connections: the one raw
 *                call made to fail (connect, ECONNREFUSED)
 *
 * Prints one line per raw call, in order:
 *   call NAME FD RET ERRNO
 * (FD the descriptor the call is about, -1 for none; ERRNO the name of
 * errno after a failed call, "-" after one that succeeded) and these facts:
 *   sent client N / sent server N / received client N / received server N
 *                   bytes moved by each end (ret of the data calls)
 *   inotify FD was-socket FD2
 *                   an inotify descriptor made with inotify_init1() after
 *                   the raw close of socket FD2 (FD == FD2: the number
 *                   was reused), polled, then closed with close(); twice:
 *                   after a socket made raw, then after one made and
 *                   connected with libc's socket() and connect(), printed
 *                   before as "libc socket FD2"
 *   done
 * Exits 1 when a call does not do what it should. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static long sent_client, sent_server, received_client, received_server;

static const char *errname(int e)
{
	switch (e) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	default: return "other";
	}
}

/* What a raw call must return: any result >= 0, more than 0 (a read
 * that must get data), exactly 0 (end of stream), or -1 with errno E
 * (a positive value: the errno). */
enum { OK = -1, DATA = -2, END = -3 };

/* Prints the call's line; fails unless the result is what was wanted.
 * errno is read here, after syscall() and the shim's wrapper of it
 * returned: the program's own view of it. */
static long said(const char *name, long fd, long ret, int want)
{
	int err = errno;
	int ok = want == OK ? ret >= 0 : want == DATA ? ret > 0 : want == END ? ret == 0
		 : ret == -1 && err == want;

	printf("call %s %ld %ld %s\n", name, fd, ret, ret < 0 ? errname(err) : "-");
	fflush(stdout);
	if (!ok) {
		fprintf(stderr, "raw_syscalls: %s on %ld returned %ld (%s)\n", name, fd, ret,
			strerror(err));
		exit(1);
	}
	return ret;
}

/* One raw call and its line: RAW_WANT(WANT, name, fd, args...) where fd
 * is the descriptor the call is about (for the line only). */
#define RAW_WANT(want, name, fd, ...) \
	said(#name, (long)(fd), syscall(SYS_##name, __VA_ARGS__), want)
#define RAW(name, fd, ...) RAW_WANT(OK, name, fd, __VA_ARGS__)
#define RAW_DATA(name, fd, ...) RAW_WANT(DATA, name, fd, __VA_ARGS__)

static void check_ret(const char *what, long got, long want)
{
	if (got != want) {
		fprintf(stderr, "raw_syscalls: %s: %ld, expected %ld\n", what, got, want);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	char buf[8192];
	long lfd, cfd, afd, bad, n;

	if (argc != 2) {
		fprintf(stderr, "usage: raw_syscalls CLOSED_PORT\n");
		return 2;
	}

	/* The listener and the connection. */
	lfd = RAW(socket, -1, AF_INET, SOCK_STREAM, 0);
	RAW(bind, lfd, lfd, (struct sockaddr *)&a, sizeof(a));
	RAW(listen, lfd, lfd, 4);
	RAW(getsockname, lfd, lfd, (struct sockaddr *)&a, &alen);
	cfd = RAW(socket, -1, AF_INET, SOCK_STREAM, 0);
	RAW(connect, cfd, cfd, (struct sockaddr *)&a, sizeof(a));
	afd = RAW(accept4, lfd, lfd, NULL, NULL, SOCK_CLOEXEC);

	/* The one call that fails: errno must be the kernel's. */
	struct sockaddr_in closed = a;
	closed.sin_port = htons((unsigned short)atoi(argv[1]));
	bad = RAW(socket, -1, AF_INET, SOCK_STREAM, 0);
	RAW_WANT(ECONNREFUSED, connect, bad, bad, (struct sockaddr *)&closed, sizeof(closed));
	RAW(close, bad, bad);

	/* Client to server: sendto, sendmsg (two pieces), sendmmsg (two
	 * messages), write, writev. */
	static const char m1[] = "sendto:0123456789", m2a[] = "sendmsg:", m2b[] = "abcdef",
			  m3a[] = "sendmmsg-1:xyz", m3b[] = "sendmmsg-2:uvw", m4[] = "write:w",
			  m5a[] = "writev:", m5b[] = "12345";
	sent_client += RAW(sendto, cfd, cfd, m1, strlen(m1), 0, NULL, 0);
	struct iovec iov2[2] = {{(void *)m2a, strlen(m2a)}, {(void *)m2b, strlen(m2b)}};
	struct msghdr msg2 = {.msg_iov = iov2, .msg_iovlen = 2};
	sent_client += RAW(sendmsg, cfd, cfd, &msg2, 0);
	struct iovec iov3[2] = {{(void *)m3a, strlen(m3a)}, {(void *)m3b, strlen(m3b)}};
	struct mmsghdr mm3[2] = {{.msg_hdr = {.msg_iov = &iov3[0], .msg_iovlen = 1}},
				 {.msg_hdr = {.msg_iov = &iov3[1], .msg_iovlen = 1}}};
	n = RAW(sendmmsg, cfd, cfd, mm3, 2, 0);
	check_ret("sendmmsg messages", n, 2);
	sent_client += mm3[0].msg_len + mm3[1].msg_len;
	sent_client += RAW(write, cfd, cfd, m4, strlen(m4));
	struct iovec iov5[2] = {{(void *)m5a, strlen(m5a)}, {(void *)m5b, strlen(m5b)}};
	sent_client += RAW(writev, cfd, cfd, iov5, 2);

	/* The server reads all of it: recvfrom, recvmmsg, recvmsg, read,
	 * readv, as many calls as the stream needs. */
	long want = sent_client, step = 0;
	while (received_server < want) {
		long left = want - received_server;
		switch (step++ % 5) {
		case 0:
			received_server += RAW_DATA(recvfrom, afd, afd, buf, left < 10 ? left : 10, 0,
						  NULL, NULL);
			break;
		case 1: {
			struct iovec v[2] = {{buf, 4}, {buf + 4, 4}};
			struct mmsghdr mm[2] = {{.msg_hdr = {.msg_iov = &v[0], .msg_iovlen = 1}},
						{.msg_hdr = {.msg_iov = &v[1], .msg_iovlen = 1}}};
			/* The first message blocks, the second takes what is there. */
			n = RAW_DATA(recvmmsg, afd, afd, mm, left >= 8 ? 2 : 1, MSG_WAITFORONE, NULL);
			for (long i = 0; i < n; i++)
				received_server += mm[i].msg_len;
			break;
		}
		case 2: {
			struct iovec v = {buf, left < 6 ? (size_t)left : 6};
			struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
			received_server += RAW_DATA(recvmsg, afd, afd, &m, 0);
			break;
		}
		case 3:
			received_server += RAW_DATA(read, afd, afd, buf, left < 7 ? left : 7);
			break;
		case 4: {
			struct iovec v[2] = {{buf, 1}, {buf + 1, 2}};
			received_server += RAW_DATA(readv, afd, afd, v, left >= 3 ? 2 : 1);
			break;
		}
		}
	}

	/* Server to client, then the client's end of it. */
	static const char r1[] = "reply by write", r2[] = "reply by sendto";
	sent_server += RAW(write, afd, afd, r1, strlen(r1));
	sent_server += RAW(sendto, afd, afd, r2, strlen(r2), 0, NULL, 0);
	while (received_client < sent_server) {
		long left = sent_server - received_client;
		if (received_client == 0)
			received_client += RAW_DATA(read, cfd, cfd, buf, left < 9 ? left : 9);
		else
			received_client += RAW_DATA(recvfrom, cfd, cfd, buf, left, 0, NULL, NULL);
	}

	/* The client is done sending: the server sees the end of the stream. */
	RAW(shutdown, cfd, cfd, SHUT_WR);
	RAW_WANT(END, read, afd, afd, buf, sizeof(buf));

	/* Copies of the accepted socket: dup, dup3 onto 40, F_DUPFD from
	 * 50; closed with close and close_range (the range covers only the
	 * copies). */
	long d1 = RAW(dup, afd, afd);
	long d3 = RAW(dup3, afd, afd, 40, O_CLOEXEC);
	check_ret("dup3's result", d3, 40);
	long d4 = RAW(fcntl, afd, afd, F_DUPFD, 50);
	if (d4 < 50 || d4 > 60) {
		fprintf(stderr, "raw_syscalls: F_DUPFD gave %ld, outside [50, 60]\n", d4);
		return 1;
	}
	RAW(close, d1, d1);
	RAW(close_range, 40, 40, 60, 0);
	RAW_WANT(EBADF, close, d4, d4);

	/* The client's socket closed the raw way; its number is taken by the
	 * next descriptor made, an inotify instance, which is polled (nothing
	 * is read or written on it) and closed with the libc close. */
	RAW(close, cfd, cfd);
	int ifd = inotify_init1(0);
	if (ifd < 0) {
		perror("raw_syscalls: inotify_init1");
		return 1;
	}
	struct pollfd p = {.fd = ifd, .events = POLLIN};
	if (poll(&p, 1, 0) != 0) {
		fprintf(stderr, "raw_syscalls: poll on an idle inotify descriptor\n");
		return 1;
	}
	if (close(ifd) != 0) {
		perror("raw_syscalls: close of the inotify descriptor");
		return 1;
	}

	printf("inotify %d was-socket %ld\n", ifd, cfd);

	/* Again with a socket the shim saw being made and connected (libc
	 * socket and connect, as Node makes its sockets) and closed the raw
	 * way, as libuv closes them. */
	int kfd = socket(AF_INET, SOCK_STREAM, 0);
	if (kfd < 0 || connect(kfd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("raw_syscalls: libc socket and connect");
		return 1;
	}
	printf("libc socket %d\n", kfd);
	long kafd = RAW(accept4, lfd, lfd, NULL, NULL, 0);
	RAW(close, kfd, kfd);
	ifd = inotify_init1(IN_NONBLOCK);
	if (ifd < 0) {
		perror("raw_syscalls: inotify_init1");
		return 1;
	}
	p.fd = ifd;
	if (poll(&p, 1, 0) != 0) {
		fprintf(stderr, "raw_syscalls: poll on an idle inotify descriptor\n");
		return 1;
	}
	if (close(ifd) != 0) {
		perror("raw_syscalls: close of the inotify descriptor");
		return 1;
	}
	printf("inotify %d was-socket %d\n", ifd, kfd);
	RAW(close, kafd, kafd);

	RAW(close, afd, afd);
	RAW(close, lfd, lfd);
	printf("sent client %ld\nsent server %ld\nreceived client %ld\nreceived server %ld\n",
	       sent_client, sent_server, received_client, received_server);
	printf("done\n");
	return 0;
}
