/* socktrace run: the command under the shim, its status passed through. */
#include "commands.h"
#include "execcheck.h"
#include "shimpath.h"
#include "tracedir.h"

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace run [OPTIONS] [--] CMD [ARGS...]\n"
	      "\n"
	      "Runs CMD with libsocktrace.so preloaded and exits with CMD's status\n"
	      "(128+N when CMD is killed by signal N, 127 when it cannot be run).\n"
	      "Every process CMD starts is traced too, each into its own file.\n"
	      "\n"
	      "options:\n"
	      "  -o, --out DIR      write the trace into DIR (created if missing).\n"
	      "                     Default: a new socktrace-out/run-DATE-TIME-PID/,\n"
	      "                     with socktrace-out/latest pointing at it\n"
	      "  -p, --payload N    record the first N bytes (at most 1024) of every\n"
	      "                     send and receive (off by default: data may hold\n"
	      "                     secrets)\n"
	      "  -q, --quiet        do not print where the trace went\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "environment: SOCKTRACE_LIB overrides where the shim is found; every\n"
	      "other SOCKTRACE_* variable is passed to the shim (see README.md).\n",
	      out);
}

static pid_t child_pid;

/* Termination requests go to the command, which decides how to end; the
 * terminal's own ^C and ^\ reach it directly (same process group). */
static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;

	if (old && strstr(old, shim))
		return 0;
	if (old && *old) {
		/* Ours first: the program's own preloads then wrap our hooks'
		 * callers, never the other way round. */
		size_t len = strlen(shim) + 1 + strlen(old) + 1;
		value = malloc(len);
		if (!value)
			return -1;
		snprintf(value, len, "%s:%s", shim, old);
	} else {
		value = strdup(shim);
		if (!value)
			return -1;
	}
	return setenv("LD_PRELOAD", value, 1);
}

static int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("socktrace: waitpid");
			return ST_EXIT_CANNOT_RUN;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return ST_EXIT_CANNOT_RUN;
}

static pid_t spawn(char **cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(cmd[0], cmd);
		int err = errno;
		fprintf(stderr, "socktrace: cannot run %s: %s\n", cmd[0], strerror(err));
		_exit(err == ENOENT ? ST_EXIT_CANNOT_RUN : 126);
	}
	if (pid < 0)
		perror("socktrace: fork");
	return pid;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "payload", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char out[PATH_MAX] = "";
	char out_abs[PATH_MAX];
	char shim[PATH_MAX];
	bool quiet = false;
	int opt, status, files;
	struct sigaction sa;

	optind = 1;
	/* "+": options stop at the command, whose own options are its own. */
	while ((opt = getopt_long(argc, argv, "+o:p:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			snprintf(out, sizeof(out), "%s", optarg);
			break;
		case 'p': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || n > 1024) {
				fprintf(stderr, "socktrace run: --payload takes a number of bytes from 0 to 1024, not '%s'\n",
					optarg);
				return ST_EXIT_USAGE;
			}
			setenv("SOCKTRACE_PAYLOAD", optarg, 1);
			break;
		}
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return ST_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "socktrace run: no command given\n");
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	if (st_find_shim(shim, sizeof(shim)) != 0)
		return ST_EXIT_CANNOT_RUN;
	if (out[0]) {
		if (st_mkdirs(out) != 0) {
			fprintf(stderr, "socktrace run: cannot create %s: %s\n", out, strerror(errno));
			return ST_EXIT_CANNOT_RUN;
		}
	} else if (st_make_run_dir(out, sizeof(out)) != 0) {
		return ST_EXIT_CANNOT_RUN;
	}
	/* Absolute, so a command that changes directory still writes here. */
	if (!realpath(out, out_abs)) {
		fprintf(stderr, "socktrace run: cannot resolve %s: %s\n", out, strerror(errno));
		return ST_EXIT_CANNOT_RUN;
	}
	if (set_preload(shim) != 0 || setenv("SOCKTRACE_OUT", out_abs, 1) != 0) {
		perror("socktrace run: setenv");
		return ST_EXIT_CANNOT_RUN;
	}
	st_warn_untraceable(argv[optind]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);

	child_pid = spawn(argv + optind);
	if (child_pid < 0)
		return ST_EXIT_CANNOT_RUN;
	status = wait_for(child_pid);
	files = st_tidy_traces(out_abs);
	if (!quiet)
		fprintf(stderr, "socktrace: %d trace file%s in %s\n", files < 0 ? 0 : files,
			files == 1 ? "" : "s", out);
	return status;
}
