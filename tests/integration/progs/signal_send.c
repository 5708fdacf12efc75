/* signal_send: socket calls made from a signal handler, while the
 * interrupted thread is itself inside a hooked call.
 *
 * Part 1: the main thread blocks in recv on a socketpair; a SIGALRM
 * handler (SA_RESTART) sends the awaited message with send() and write():
 * the recv restarts and returns it.
 * Part 2: a fast interval timer fires while the main thread runs ROUNDS
 * send/recv pairs; each handler run sends one byte on a second pair, so
 * signals land at every point of the shim's hooks, record copies
 * included. The main thread drains the second pair as it goes.
 *
 * Usage: signal_send [ROUNDS]   (default 20000)
 * Prints "part1 got MESSAGE", "part2 handler_sends H drained D", "done".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int part1_fd = -1;
static int part2_fd = -1;
static volatile sig_atomic_t handler_sends;
static volatile sig_atomic_t handler_errors;

static void die(const char *what)
{
	fprintf(stderr, "signal_send: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_alarm(int sig)
{
	int saved = errno; /* a handler must leave errno as it found it */

	(void)sig;
	if (part1_fd >= 0) {
		if (send(part1_fd, "ping-", 5, 0) != 5 || write(part1_fd, "pong", 4) != 4)
			handler_errors++;
	} else if (part2_fd >= 0) {
		if (send(part2_fd, "x", 1, MSG_DONTWAIT) == 1)
			handler_sends++;
		else
			handler_errors++;
	}
	errno = saved;
}

static void set_timer(long first_us, long interval_us)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = first_us;
	it.it_interval.tv_usec = interval_us;
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		die("setitimer");
}

static void part1(void)
{
	char buf[16];
	size_t got = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
	part1_fd = sv[1];
	set_timer(100 * 1000, 0);
	/* SA_RESTART: the handler runs inside this recv, which then resumes
	 * and gets what the handler sent. */
	while (got < 9) {
		ssize_t n = recv(sv[0], buf + got, 9 - got, 0);
		if (n <= 0)
			die("recv");
		got += (size_t)n;
	}
	buf[got] = '\0';
	printf("part1 got %s\n", buf);
	part1_fd = -1;
	close(sv[0]);
	close(sv[1]);
}

/* Reads what is waiting, without blocking; returns the byte count. */
static long drain(int fd)
{
	char buf[4096];
	long total = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return total;
		if (n <= 0)
			die("drain");
		total += n;
	}
}

static void part2(long rounds)
{
	char buf[64];
	long drained = 0;
	int sv[2], pv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, pv) != 0)
		die("socketpair");
	part2_fd = pv[0];
	set_timer(200, 200);
	for (long i = 0; i < rounds; i++) {
		ssize_t n;

		/* Drain now and then, so the handler's sends never fill the
		 * socket's buffer (each 1-byte send costs a whole buffer). */
		if (i % 64 == 63)
			drained += drain(pv[1]);
		do
			n = send(sv[0], "abcdefgh", 8, 0);
		while (n < 0 && errno == EINTR);
		if (n != 8)
			die("send");
		do
			n = recv(sv[1], buf, 8, MSG_WAITALL);
		while (n < 0 && errno == EINTR);
		if (n != 8)
			die("recv");
	}
	set_timer(0, 0);
	part2_fd = -1;
	drained += drain(pv[1]);
	printf("part2 handler_sends %ld drained %ld errors %ld\n", (long)handler_sends, drained,
	       (long)handler_errors);
	close(sv[0]);
	close(sv[1]);
	close(pv[0]);
	close(pv[1]);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	long rounds = argc > 1 ? atol(argv[1]) : 20000;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		die("sigaction");
	part1();
	part2(rounds);
	printf("done\n");
	return handler_errors ? 1 : 0;
}
