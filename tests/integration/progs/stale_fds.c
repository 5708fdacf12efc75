/* stale_fds: descriptors closed behind the shim's back. Each case closes
 * a socket with an inline system call (no libc function, not even
 * syscall(3): as io_uring or a library with its own system calls would),
 * then gives its number to something else and uses it.
 *
 * Usage: stale_fds inotify|passed|files PATH1 PATH2
 *   inotify  the number goes to inotify_init1 (not a call the shim
 *            hooks); it is read (EAGAIN), dup'ed and closed
 *   passed   the number goes to a unix socket received with SCM_RIGHTS,
 *            which is written to
 *   files    two numbers go to the files PATH1 and PATH2, opened with
 *            inline system calls too; sendfile copies PATH1's first 5
 *            bytes to its end, splice writes "abc" into PATH2 (calls that
 *            succeed on files as on sockets)
 * Prints "CASE old=N new=M" and the results. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static long inline_close(int fd)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(SYS_close), "D"(fd) : "rcx", "r11", "memory");
	return r;
}

static long inline_openat(const char *path, int flags)
{
	long r;
	register long mode __asm__("r10") = 0600;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(SYS_openat), "D"(AT_FDCWD), "S"(path), "d"(flags), "r"(mode)
			 : "rcx", "r11", "memory");
	return r;
}

/* A UDP socket connected to 127.0.0.1:9: endpoints no unix socket has. */
static int udp_socket(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&to, sizeof(to));
	return fd;
}

static int pass_fd(int via, int fd)
{
	char c = 'f', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return (int)sendmsg(via, &m, 0);
}

static int receive_fd(int via)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	int fd = -1;

	if (recvmsg(via, &m, 0) == 1 && CMSG_FIRSTHDR(&m))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	char buf[64];

	if (argc == 2 && strcmp(argv[1], "inotify") == 0) {
		int old = udp_socket(), in, copy;
		ssize_t n;

		send(old, "x", 1, 0);
		inline_close(old);
		in = inotify_init1(IN_NONBLOCK);
		n = read(in, buf, sizeof(buf));
		printf("inotify old=%d new=%d read=%zd %s\n", old, in, n, n < 0 ? strerror(errno) : "");
		copy = dup(in);
		printf("dup=%d close=%d close=%d\n", copy >= 0, close(copy), close(in));
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "passed") == 0) {
		int carrier[2], pair[2], old, got;

		socketpair(AF_UNIX, SOCK_STREAM, 0, carrier);
		socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
		old = udp_socket();
		send(old, "x", 1, 0);
		inline_close(old);
		pass_fd(carrier[0], pair[0]);
		got = receive_fd(carrier[1]);
		printf("passed old=%d new=%d write=%zd\n", old, got, write(got, "hello", 5));
		printf("read=%zd\n", read(pair[1], buf, sizeof(buf)));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "files") == 0) {
		int old1 = udp_socket(), old2 = udp_socket(), src, f1, f2, p[2];
		ssize_t sent, spliced;

		send(old1, "x", 1, 0);
		send(old2, "x", 1, 0);
		inline_close(old1);
		inline_close(old2);
		/* Not O_APPEND, which sendfile and splice refuse: at the end. */
		f1 = (int)inline_openat(argv[2], O_WRONLY);
		f2 = (int)inline_openat(argv[3], O_WRONLY);
		src = open(argv[2], O_RDONLY);
		if (src < 0 || pipe(p) != 0 || write(p[1], "abc", 3) != 3 ||
		    lseek(f1, 0, SEEK_END) < 0 || lseek(f2, 0, SEEK_END) < 0)
			return 1;
		/* Nothing else touches f1 and f2 first: a write would show the
		 * shim they are no sockets (hook_rw.c). */
		sent = sendfile(f1, src, NULL, 5);
		spliced = splice(p[0], NULL, f2, NULL, 3, 0);
		printf("files old=%d,%d new=%d,%d sendfile=%zd splice=%zd\n", old1, old2, f1, f2,
		       sent, spliced);
		return 0;
	}
	fprintf(stderr, "usage: stale_fds inotify|passed|files PATH1 PATH2\n");
	return 2;
}
