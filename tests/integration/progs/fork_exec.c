/* fork_exec: one process tree, four process images, each with its own
 * trace file:
 *
 *   parent (fork_exec)           socketpair, fork, recv what the others send
 *   `- child (fork_exec)         send "child", exec itself with --stage2
 *      = child (fork_exec --stage2)  send "stage2", exec /bin/sh -c ...
 *        = sh                   runs sockuser in a child of its own
 *          `- sockuser FD       writes "sockuser" to the inherited socket
 *
 * Usage: fork_exec SOCKUSER_PATH [execv|execl]
 *   The child's two execs use execv (the default) or execl: glibc's
 *   execl calls execve inside libc, where a preloaded library cannot
 *   interpose, so the shim must hook execl itself to see it.
 * Prints "parent PID", "child PID", then what the parent received, one
 * "got MESSAGE" line per message, and "done".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "fork_exec: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_msg(int fd, const char *msg)
{
	/* One datagram per message: the parent reads them back one by one. */
	if (send(fd, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		die("send");
}

static int use_execl;

/* Replaces this image with path, run with the NULL-terminated argv. */
static void exec_argv(const char *path, char *const argv[])
{
	if (!use_execl)
		execv(path, argv);
	else if (!argv[3])
		execl(path, argv[0], argv[1], argv[2], (char *)NULL);
	else if (!argv[4])
		execl(path, argv[0], argv[1], argv[2], argv[3], (char *)NULL);
	else
		execl(path, argv[0], argv[1], argv[2], argv[3], argv[4], (char *)NULL);
	die(path);
}

/* The second image of the child: same program, same pid, new image. */
static int stage2(const char *sockuser, char *fdtext)
{
	/* The shell is not the last step: "; exit" keeps it from exec'ing
	 * sockuser in place, so sockuser gets a pid (and a file) of its own,
	 * with the shell (our pid) as its parent. */
	char script[] = "\"$0\" \"$1\"; exit $?";
	char *argv[] = { "sh", "-c", script, (char *)sockuser, fdtext, NULL };

	send_msg(atoi(fdtext), "stage2");
	exec_argv("/bin/sh", argv);
	return 1;
}

int main(int argc, char **argv)
{
	char fdtext[16], buf[64];
	int sv[2], status;
	pid_t child;

	if (argc == 5 && strcmp(argv[1], "--stage2") == 0) {
		use_execl = strcmp(argv[2], "execl") == 0;
		return stage2(argv[3], argv[4]);
	}
	if (argc < 2 || argc > 3 ||
	    (argc == 3 && strcmp(argv[2], "execv") != 0 && strcmp(argv[2], "execl") != 0)) {
		fprintf(stderr, "usage: fork_exec SOCKUSER_PATH [execv|execl]\n");
		return 2;
	}
	use_execl = argc == 3 && strcmp(argv[2], "execl") == 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		die("socketpair");
	printf("parent %d\n", (int)getpid());
	fflush(stdout); /* or the child would print our buffered line again */

	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(sv[0]);
		send_msg(sv[1], "child");
		snprintf(fdtext, sizeof(fdtext), "%d", sv[1]);
		char *args[] = { "fork_exec", "--stage2", use_execl ? "execl" : "execv", argv[1],
				 fdtext, NULL };
		exec_argv("/proc/self/exe", args);
	}
	close(sv[1]);
	printf("child %d\n", (int)child);
	fflush(stdout);

	/* Three messages, then end of file once every copy of sv[1] is gone. */
	for (;;) {
		ssize_t n = recv(sv[0], buf, sizeof(buf) - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv");
		if (n == 0)
			break;
		buf[n] = '\0';
		printf("got %s\n", buf);
	}
	if (waitpid(child, &status, 0) != child)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fork_exec: the child failed (status 0x%x)\n", status);
		return 1;
	}
	close(sv[0]);
	printf("done\n");
	return 0;
}
