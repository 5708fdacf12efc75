/* spawn: starts a program the two ways in which the child runs on the
 * parent's memory until it execs, so that nothing the child does may
 * touch the parent's trace:
 *
 *   posix_spawn      glibc clones with CLONE_VM|CLONE_VFORK and execs from
 *                    inside libc
 *   vfork + execv    our hooks run in the child: dup2 of a socket onto
 *                    stdout, then execv
 *
 * Usage: spawn SOCKUSER_PATH
 * Each child runs "sockuser FD", which writes to the socket it inherited;
 * the parent reads that back. Prints "spawned PID" per child, "got TEXT"
 * per child with what came back, then "done". After the vfork child's
 * dup2 onto fd 1, the parent's own fd 1 is still its stdout, not a socket.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "spawn: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void wait_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "spawn: child %d failed (status 0x%x)\n", (int)pid, status);
		exit(1);
	}
}

/* Everything the child wrote: it has exited, so it is all there. */
static void print_received(int fd)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0)
		die("recv");
	buf[n] = '\0';
	/* When its stdout is the socket, sockuser's pid line comes too:
	 * report only whether its word arrived. */
	printf("got %s\n", strstr(buf, "sockuser") ? "sockuser" : buf);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char fdtext[16];
	int sv[2];
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: spawn SOCKUSER_PATH\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");

	/* 1. posix_spawn: the child inherits sv[1] under its own number. */
	snprintf(fdtext, sizeof(fdtext), "%d", sv[1]);
	char *spawn_argv[] = { argv[1], fdtext, NULL };
	int err = posix_spawn(&pid, argv[1], NULL, NULL, spawn_argv, environ);
	if (err != 0) {
		errno = err;
		die("posix_spawn");
	}
	printf("spawned %d\n", (int)pid);
	fflush(stdout);
	wait_ok(pid);
	print_received(sv[0]);

	/* 2. vfork: only dup2 and exec are allowed in the child, and both are
	 * hooked. The socket becomes the child's stdout. */
	char *vfork_argv[] = { argv[1], "1", NULL };
	pid = vfork();
	if (pid < 0)
		die("vfork");
	if (pid == 0) {
		if (dup2(sv[1], 1) != 1)
			_exit(126);
		execv(argv[1], vfork_argv);
		_exit(127);
	}
	printf("spawned %d\n", (int)pid);
	fflush(stdout);
	wait_ok(pid);
	print_received(sv[0]);

	/* Our fd 1 is still the pipe to the test, not a socket: this write
	 * must not be recorded. */
	printf("done\n");
	fflush(stdout);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
