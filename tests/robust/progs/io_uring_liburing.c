/* io_uring_liburing: a program that moves socket data through io_uring
 * with liburing, which (2.2 and later) makes its system calls itself,
 * without the C library's syscall(). Its IORING_OP_SEND and IORING_OP_RECV
 * are invisible to the shim; the ordinary send and recv after them are
 * not. The shim must still notice io_uring and leave a warning record in
 * the trace: as documented, by the ring still open at exit (the ring is
 * left to the exit here, as many programs do; one torn down earlier is a
 * documented blind spot).
 *
 * Usage: io_uring_liburing
 * Prints "ring send N recv N", "plain OK", "done"; exits 77 with
 * "io_uring unavailable: REASON" when the kernel refuses io_uring.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int complete(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_submit(ring) < 0 || io_uring_wait_cqe(ring, &cqe) != 0)
		return -1;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

int main(void)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	char buf[32];
	int sv[2], sent, got, rc;

	rc = io_uring_queue_init(4, &ring, 0);
	if (rc < 0) {
		printf("io_uring unavailable: %s\n", strerror(-rc));
		return 77;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("io_uring_liburing: socketpair");
		return 1;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_send(sqe, sv[0], "through the ring", 16, 0);
	sent = complete(&ring);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recv(sqe, sv[1], buf, sizeof(buf), 0);
	got = complete(&ring);
	printf("ring send %d recv %d\n", sent, got);
	if (sent != 16 || got != 16 || memcmp(buf, "through the ring", 16) != 0)
		return 1;
	if (send(sv[0], "plain", 5, 0) != 5 || recv(sv[1], buf, sizeof(buf), 0) != 5) {
		perror("io_uring_liburing: plain calls");
		return 1;
	}
	printf("plain OK\n");
	close(sv[0]);
	close(sv[1]);
	printf("done\n");
	return 0;
}
