/* seccomp_strict: a program that sandboxes itself the way OpenSSH's
 * pre-auth child, browsers and systemd services do: it sets up a TCP
 * connection over loopback, exchanges a message, then installs a seccomp
 * filter whose default action kills the process and which allows only the
 * system calls the program itself makes from then on. Whatever the shim
 * does after that point must fit in the same list, or the program dies
 * of SIGSYS.
 *
 * Usage: seccomp_strict HOW ROUNDS
 *   HOW     prctl       the filter is installed with prctl(PR_SET_SECCOMP)
 *           libseccomp  with libseccomp's seccomp_load (built only with
 *                       libseccomp, as seccomp_strict_libseccomp)
 *           fork        a fork()ed child installs the filter (prctl)
 *                       before its first socket call, then does the
 *                       rounds; the parent answers it unfiltered
 *           probe       no filter: the process only asks about seccomp
 *                       as libseccomp and systemd do (seccomp(2)'s
 *                       SECCOMP_GET_ACTION_AVAIL, SECCOMP_SET_MODE_FILTER
 *                       with no program, which fails with EFAULT, and
 *                       prctl(PR_GET_SECCOMP)), prints "probed: R1 R2 R3",
 *                       then goes on as fork does, with no filter
 *   ROUNDS  how many exchanges after the filter: each one a send and a
 *           recv each way on the connection (4 traced calls); in the
 *           fork and probe variants the child sends ROUNDS messages in
 *           a burst and then receives the parent's "ok"
 *
 * Prints "before: CALLS" (the socket calls made before the filter: in
 * the fork variant, by the parent before the fork), "filter installed",
 * "after: CALLS" (the socket calls made under the filter, closes of
 * sockets included) and "done"; in the fork variant the child prints
 * "child ready" first, and the parent ends with "child status N"
 * (or "child killed by signal N") and exits 0 only if the child exited 0.
 * Exits 1 on any failure of its own. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_LIBSECCOMP
#include <seccomp.h>
#endif

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#else
#error "seccomp_strict: add this architecture's AUDIT_ARCH_ value"
#endif

/* Every system call the program makes once the filter is in place, and
 * why. Nothing else: not even getpid, openat, unlinkat, ftruncate,
 * fallocate, mmap or prlimit64, which a shim would like to make at exit
 * or when its trace grows.
 *   sendto      send() on the connection (glibc's send is sendto)
 *   recvfrom    recv() on the connection (glibc's recv is recvfrom)
 *   write       printf() + fflush() of the progress lines on stdout (the
 *               stdio buffer was allocated, and stdout's type looked up
 *               with fstat, by a printf before the filter)
 *   close       close() of the three sockets
 *   exit_group  the return from main (exit()) */
static const int allowed[] = {
	SYS_sendto, SYS_recvfrom, SYS_write, SYS_close, SYS_exit_group,
};
#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))

static void die(const char *what)
{
	fprintf(stderr, "seccomp_strict: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int install_prctl(void)
{
	/* Check the architecture, load the number, compare with each allowed
	 * one (jump to ALLOW on a match), else KILL_PROCESS. */
	struct sock_filter prog[4 + N_ALLOWED + 2];
	unsigned n = 0;

	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < N_ALLOWED; i++) {
		/* On a match, skip the remaining compares and the KILL. */
		unsigned skip = (unsigned)(N_ALLOWED - 1 - i) + 1;
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							 (unsigned)allowed[i], (unsigned char)skip, 0);
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}

static int install_libseccomp(void)
{
#ifdef HAVE_LIBSECCOMP
	/* seccomp_load goes through syscall(SYS_seccomp, ...) (prctl on
	 * kernels without it). The context is never released: free() after
	 * the filter could need a system call (munmap) the list lacks. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);

	if (!ctx)
		return -1;
	for (unsigned i = 0; i < N_ALLOWED; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0) != 0)
			return -1;
	int rc = seccomp_load(ctx);
	if (rc != 0) {
		errno = -rc;
		return -1;
	}
	return 0;
#else
	errno = ENOSYS;
	return -1;
#endif
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, 0);
		if (n <= 0)
			die("send");
		buf += n;
		len -= (size_t)n;
	}
}

/* One message of len bytes; counts the calls made into *calls. */
static void recv_exact(int fd, char *buf, size_t len, long *calls)
{
	while (len) {
		ssize_t n = recv(fd, buf, len, 0);
		++*calls;
		if (n <= 0)
			die("recv");
		buf += n;
		len -= (size_t)n;
	}
}

static void connect_pair(int *lfd, int *cfd, int *afd)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);

	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(*lfd, 1) != 0 ||
	    getsockname(*lfd, (struct sockaddr *)&a, &alen) != 0)
		die("listener");
	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect");
	*afd = accept(*lfd, NULL, NULL);
	if (*afd < 0)
		die("accept");
}

/* The rounds under the filter, both ends in this process. */
static long rounds_both_ends(int cfd, int afd, long rounds)
{
	char msg[32], got[32];
	long calls = 0;

	for (long i = 0; i < rounds; i++) {
		int len = snprintf(msg, sizeof(msg), "ping %08ld", i);
		send_all(cfd, msg, (size_t)len);
		calls++;
		recv_exact(afd, got, (size_t)len, &calls);
		got[0] = 'P';
		send_all(afd, got, (size_t)len);
		calls++;
		recv_exact(cfd, msg, (size_t)len, &calls);
		if (msg[0] != 'P')
			die("echo");
	}
	return calls;
}

static int run_fork(int lfd, int cfd, int afd, long rounds, int filter)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* The child: the client end only. Its first socket call comes
		 * after the filter, so whatever the shim needs for the
		 * child's trace must be ready by then. */
		char msg[32];
		long calls = 0;

		printf("child ready\n");
		fflush(stdout);
		if (filter) {
			if (install_prctl() != 0)
				die("seccomp filter");
			printf("filter installed\n");
			fflush(stdout);
		}
		close(afd);
		close(lfd);
		calls += 2;
		/* A burst (no round trip per message: the parent reads as
		 * it comes), then the parent's answer. */
		for (long i = 0; i < rounds; i++) {
			int len = snprintf(msg, sizeof(msg), "ping %08ld", i);
			send_all(cfd, msg, (size_t)len);
			calls++;
		}
		recv_exact(cfd, msg, 2, &calls);
		close(cfd);
		calls++;
		printf("after: %ld\ndone\n", calls);
		fflush(stdout);
		return 0; /* exit(), as from main */
	}
	/* The parent: takes the burst, answers "ok", waits for the end. */
	close(cfd);
	long want = rounds * (long)strlen("ping 00000000"), got = 0;
	for (;;) {
		char buf[65536];
		ssize_t n = recv(afd, buf, sizeof(buf), 0);
		if (n < 0)
			die("parent recv");
		if (n == 0)
			break;
		if (got < want && (got += n) >= want)
			send_all(afd, "ok", 2);
	}
	if (got != want) {
		fprintf(stderr, "seccomp_strict: the parent got %ld bytes of %ld\n", got, want);
		return 1;
	}
	close(afd);
	close(lfd);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (WIFSIGNALED(status)) {
		printf("child killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	printf("child status %d\n", WEXITSTATUS(status));
	return WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int lfd, cfd, afd;
	char buf[16];
	long rounds, calls = 0;
	const char *how = argc == 3 ? argv[1] : "";

	if (strcmp(how, "prctl") && strcmp(how, "libseccomp") && strcmp(how, "fork") &&
	    strcmp(how, "probe")) {
		fprintf(stderr, "usage: seccomp_strict prctl|libseccomp|fork|probe ROUNDS\n");
		return 2;
	}
	rounds = atol(argv[2]);
	if (rounds < 1 || rounds > 99999999) {
		fprintf(stderr, "seccomp_strict: ROUNDS from 1 to 99999999\n");
		return 2;
	}
	/* Before the filter: the connection and one exchange (socket x2,
	 * bind, listen, getsockname, connect, accept, send, recv). */
	connect_pair(&lfd, &cfd, &afd);
	send_all(cfd, "hello", 5);
	calls = 8;
	recv_exact(afd, buf, 5, &calls);
	/* The first printf allocates stdout's buffer (and fstat()s it). */
	printf("before: %ld\n", calls);
	fflush(stdout);
	if (!strcmp(how, "fork"))
		return run_fork(lfd, cfd, afd, rounds, 1);
	if (!strcmp(how, "probe")) {
		unsigned action = SECCOMP_RET_KILL_PROCESS;
		long avail = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
		long no_prog = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL);
		long mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
		printf("probed: %ld %ld %ld\n", avail, no_prog, mode);
		return run_fork(lfd, cfd, afd, rounds, 0);
	}
	if ((!strcmp(how, "prctl") ? install_prctl() : install_libseccomp()) != 0)
		die("seccomp filter");
	printf("filter installed\n");
	fflush(stdout);
	calls = rounds_both_ends(cfd, afd, rounds);
	close(cfd);
	close(afd);
	close(lfd);
	calls += 3;
	printf("after: %ld\ndone\n", calls);
	fflush(stdout);
	return 0;
}
