#include "cmd/pager.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGER_DEFAULT "less -RS"
#define PAGER_ARGS_MAX 32

static volatile pid_t pager_pid;

static void wait_pager(void)
{
	pid_t pid = pager_pid;

	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* The user quit the pager before the end: nothing more to show, nothing
 * went wrong. A SIGPIPE from elsewhere keeps its usual effect. Everything
 * here is async-signal-safe. */
static void on_sigpipe(int sig)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) {
		wait_pager();
		_exit(0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ^C reaches the pager too, which stays: it gets the end of its input and
 * the terminal back before the signal ends us. */
static void on_terminate(int sig)
{
	close(STDOUT_FILENO);
	wait_pager();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Run through the shell only when it needs one (git does the same), so
 * that a pager that does not exist is known here and the output written
 * directly instead. */
static void exec_pager(const char *cmd)
{
	char *argv[PAGER_ARGS_MAX + 1], *copy;
	int n = 0;

	if (strpbrk(cmd, "|&;<>()$`\\\"'*?[#~=%\n")) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		return;
	}
	copy = strdup(cmd);
	if (!copy)
		return;
	for (char *t = strtok(copy, " \t"); t && n < PAGER_ARGS_MAX; t = strtok(NULL, " \t"))
		argv[n++] = t;
	argv[n] = NULL;
	if (n > 0)
		execvp(argv[0], argv);
}

bool pager_start(void)
{
	const char *cmd = getenv("PAGER");
	int data[2], status[2], err = 0;
	ssize_t r;
	pid_t pid;

	if (!cmd)
		cmd = PAGER_DEFAULT;
	cmd += strspn(cmd, " \t");
	if (!*cmd || strcmp(cmd, "cat") == 0)
		return false;
	if (pipe(data) != 0)
		return false;
	/* Closed by a successful exec: the parent reads nothing. */
	if (pipe2(status, O_CLOEXEC) != 0) {
		close(data[0]);
		close(data[1]);
		return false;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(status[0]);
		close(data[1]);
		dup2(data[0], STDIN_FILENO);
		close(data[0]);
		setenv("LESS", "FRX", 0);
		setenv("LV", "-c", 0);
		exec_pager(cmd);
		err = errno ? errno : ENOEXEC;
		if (write(status[1], &err, sizeof(err)) < 0) {
			/* the parent then sees no byte: it writes to a dead pipe */
		}
		_exit(127);
	}
	close(status[1]);
	close(data[0]);
	if (pid < 0) {
		close(status[0]);
		close(data[1]);
		return false;
	}
	while ((r = read(status[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(status[0]);
	if (r > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(data[1]);
		return false;
	}
	pager_pid = pid;
	dup2(data[1], STDOUT_FILENO);
	close(data[1]);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_terminate;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	return true;
}

void pager_finish(void)
{
	int null;

	if (pager_pid <= 0)
		return;
	fflush(stdout);
	/* The pager sees the end of its input; standard output stays a
	 * descriptor that can be written to. */
	null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	} else {
		close(STDOUT_FILENO);
	}
	wait_pager();
	pager_pid = 0;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
}
