/* connect_loop: a long-running client for the `socktrace ctl` tests.
 *
 * Usage: connect_loop PORT INTERVAL_MS [COUNT [fork]]
 *
 * Connects to 127.0.0.1:PORT every INTERVAL_MS milliseconds, COUNT times
 * (0 or absent: until killed), closing each connection at once, and
 * prints one line per attempt: "PID N ok" or "PID N ERRNO_NAME". With
 * "fork" it forks first and parent and child both loop (each line names
 * its process). Prints "ready PID" first. Line-buffered, so a test reads
 * each outcome as it happens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *outcome(int rc, int err)
{
	const char *name;

	if (rc == 0)
		return "ok";
	name = strerrorname_np(err);
	return name ? name : "error";
}

static void attempt(const struct sockaddr_in *to, long n)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc, err;

	if (fd < 0) {
		printf("%d %ld socket-%s\n", (int)getpid(), n, outcome(-1, errno));
		return;
	}
	rc = connect(fd, (const struct sockaddr *)to, sizeof(*to));
	err = errno;
	printf("%d %ld %s\n", (int)getpid(), n, outcome(rc, err));
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct timespec pause;
	long interval, count = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: connect_loop PORT INTERVAL_MS [COUNT [fork]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	to.sin_port = htons((unsigned short)atoi(argv[1]));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	interval = atol(argv[2]);
	if (argc > 3)
		count = atol(argv[3]);
	pause.tv_sec = interval / 1000;
	pause.tv_nsec = (interval % 1000) * 1000000L;
	if (argc > 4 && strcmp(argv[4], "fork") == 0) {
		pid_t child = fork();
		if (child < 0) {
			perror("fork");
			return 1;
		}
		/* The child ends with its parent, whom the test stops. */
		if (child == 0)
			prctl(PR_SET_PDEATHSIG, SIGTERM);
	}
	printf("ready %d\n", (int)getpid());
	for (long n = 1; count == 0 || n <= count; n++) {
		attempt(&to, n);
		nanosleep(&pause, NULL);
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
