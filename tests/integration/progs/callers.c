/* Socket calls made from named functions, for call stack tests.
 *
 * usage: callers MODE
 *   plain   health_check() and retry_path() both call db_connect(), which
 *           connects to a closed port; send_request()/read_reply() talk
 *           over a socketpair. Prints what each connect returned.
 *   thread  the same from a thread started by main (worker_main).
 *   fork    the same in a fork child (child_main).
 *   signal  main loops on failing connects (each one unwound under
 *           SOCKTRACE_BACKTRACE=errors) while a 1 ms timer's handler,
 *           on_tick(), sends on a socketpair. Prints the counts.
 *
 * The functions are noinline, use their callee's result and differ in
 * what they do with it, so that neither inlining, a tail call nor identical
 * code folding (-O2 merges twin functions) can remove or rename a frame. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sink;
static int closed_port;
static int pair[2];

static int pick_closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("pick_closed_port");
		exit(2);
	}
	close(fd); /* bound, never listened: connecting is refused */
	return ntohs(a.sin_port);
}

__attribute__((noinline)) static int db_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)closed_port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int r, err;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	err = r < 0 ? errno : 0;
	close(fd);
	sink = r;
	return err;
}

__attribute__((noinline)) static int health_check(void)
{
	int err = db_connect();
	sink = err;
	return err;
}

__attribute__((noinline)) static int retry_path(void)
{
	int err = db_connect();
	sink = err + 1;
	return err;
}

__attribute__((noinline)) static void send_request(void)
{
	if (send(pair[0], "ping", 4, 0) != 4)
		exit(3);
	sink = 1;
}

__attribute__((noinline)) static void read_reply(void)
{
	char buf[8];
	if (recv(pair[1], buf, sizeof(buf), 0) != 4)
		exit(4);
	sink = 2;
}

static void workload(const char *who)
{
	int a = health_check();
	int b = retry_path();

	send_request();
	read_reply();
	printf("%s health_check %s retry_path %s\n", who, strerror(a), strerror(b));
	fflush(stdout);
}

__attribute__((noinline)) static void *worker_main(void *arg)
{
	workload((const char *)arg);
	sink = 3;
	return NULL;
}

__attribute__((noinline)) static void child_main(void)
{
	workload("child");
	sink = 4;
}

static volatile sig_atomic_t ticks;
static int tick_pair[2];

__attribute__((noinline)) static void on_tick(int sig)
{
	int saved = errno;
	(void)sig;
	if (send(tick_pair[0], "t", 1, MSG_DONTWAIT) == 1)
		ticks++;
	errno = saved;
}

static int run_signal(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	long connects = 0, drained = 0;
	char buf[256];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, tick_pair) != 0)
		return 5;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (connects < 3000 || ticks < 50) {
		if (health_check() != ECONNREFUSED)
			return 6;
		connects++;
		if (connects > 200000)
			break;
	}
	it.it_value.tv_usec = 0;
	it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	while ((n = recv(tick_pair[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		drained += n;
	printf("signal connects %ld ticks %d drained %ld\n", connects, (int)ticks, drained);
	return drained == ticks ? 0 : 7;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "plain";

	closed_port = pick_closed_port();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
		return 2;
	if (strcmp(mode, "plain") == 0) {
		workload("main");
	} else if (strcmp(mode, "thread") == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker_main, "thread") != 0)
			return 2;
		pthread_join(t, NULL);
	} else if (strcmp(mode, "fork") == 0) {
		int status;
		pid_t pid = fork();
		if (pid == 0) {
			child_main();
			exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 2;
	} else if (strcmp(mode, "signal") == 0) {
		return run_signal();
	} else {
		fprintf(stderr, "usage: callers plain|thread|fork|signal\n");
		return 2;
	}
	return 0;
}
