/* tcp_pingpong N [pin|nopin]: fork; the child is a server on 127.0.0.1
 * (ephemeral port, sent to the parent through a pipe); the parent connects
 * and makes N round trips of a 64-byte request and a 64-byte response
 * (TCP_NODELAY on both ends). Both processes are traced when the shim is
 * preloaded (two trace files). Latency-bound: every round trip wakes the
 * other process twice, so the shim's cost is added on the critical path of
 * both sides.
 *
 * By default ("pin") both processes are pinned to one CPU (the first the
 * program may use): the round trip is then two context switches, and the
 * time measures CPU work. Unpinned ("nopin"), each message is a wake-up on
 * the other CPU, whose cost on a VM (an inter-processor interrupt through
 * the hypervisor, a CPU coming out of idle) dwarfs the shim's and jumps
 * between runs by 3x or more depending on where the scheduler put the two.
 * Prints nothing on success; exits non-zero on any failure (of either
 * process). */
#include "bench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG 64

static void nodelay(const char *prog, int fd)
{
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		bench_die(prog, "setsockopt(TCP_NODELAY)");
}

/* The child: listen, report the port, serve one connection for n rounds. */
static int server(const char *prog, int portfd, long n)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		bench_die(prog, "server: socket");
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0)
		bench_die(prog, "server: bind");
	if (listen(ls, 1) < 0)
		bench_die(prog, "server: listen");
	socklen_t salen = sizeof sa;
	if (getsockname(ls, (struct sockaddr *)&sa, &salen) < 0)
		bench_die(prog, "server: getsockname");
	if (write(portfd, &sa.sin_port, sizeof sa.sin_port) != (ssize_t)sizeof sa.sin_port)
		bench_die(prog, "server: write port");
	close(portfd);

	int c = accept(ls, NULL, NULL);
	if (c < 0)
		bench_die(prog, "server: accept");
	nodelay(prog, c);
	char buf[MSG];
	for (long i = 0; i < n; i++) {
		if (bench_recv_all(c, buf, sizeof buf) < 0)
			bench_die(prog, "server: recv");
		buf[1] = (char)(buf[0] + 1);
		if (bench_send_all(c, buf, sizeof buf) < 0)
			bench_die(prog, "server: send");
	}
	if (close(c) < 0 || close(ls) < 0)
		bench_die(prog, "server: close");
	return 0;
}

/* Pin this process (and so the child it forks) to its first allowed CPU. */
static void pin_to_one_cpu(const char *prog)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) < 0)
		bench_die(prog, "sched_getaffinity");
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof set, &set) < 0)
				bench_die(prog, "sched_setaffinity");
			return;
		}
	}
	bench_fail(prog, "no CPU in the affinity mask");
}

int main(int argc, char **argv)
{
	long n = bench_count(argc, argv, 1, 20000, 1000000000L);
	if (argc > 2 && strcmp(argv[2], "nopin") != 0 && strcmp(argv[2], "pin") != 0) {
		fprintf(stderr, "usage: %s N [pin|nopin]\n", argv[0]);
		return 2;
	}
	if (argc <= 2 || strcmp(argv[2], "pin") == 0)
		pin_to_one_cpu(argv[0]);
	int pfd[2];
	if (pipe(pfd) < 0)
		bench_die(argv[0], "pipe");
	pid_t pid = fork();
	if (pid < 0)
		bench_die(argv[0], "fork");
	if (pid == 0) {
		close(pfd[0]);
		exit(server(argv[0], pfd[1], n));
	}
	close(pfd[1]);

	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ssize_t got = read(pfd[0], &sa.sin_port, sizeof sa.sin_port);
	if (got != (ssize_t)sizeof sa.sin_port)
		bench_fail(argv[0], "no port from the server");
	close(pfd[0]);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		bench_die(argv[0], "socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		bench_die(argv[0], "connect");
	nodelay(argv[0], s);

	char out[MSG], in[MSG];
	memset(out, 'p', sizeof out);
	for (long i = 0; i < n; i++) {
		out[0] = (char)i;
		if (bench_send_all(s, out, sizeof out) < 0)
			bench_die(argv[0], "send");
		if (bench_recv_all(s, in, sizeof in) < 0)
			bench_die(argv[0], "recv");
		if (in[0] != out[0] || in[1] != (char)(out[0] + 1))
			bench_fail(argv[0], "recv: wrong response");
	}
	if (close(s) < 0)
		bench_die(argv[0], "close");

	int status;
	if (waitpid(pid, &status, 0) < 0)
		bench_die(argv[0], "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail(argv[0], "server failed");
	return 0;
}
