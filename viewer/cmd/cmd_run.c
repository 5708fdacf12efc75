/* socktrace run: the command under the shim, its status passed through. */
#include "cmd/cli.h"
#include "util/msg.h"
#include "cmd/commands.h"
#include "cmd/execcheck.h"
#include "verdict/scenario.h"
#include "cmd/shimpath.h"
#include "util/textutil.h"
#include "cmd/tracedir.h"
#include "verdict/verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace run [OPTIONS] [--] CMD [ARGS...]\n"
	      "\n"
	      "Runs CMD with libsocktrace.so preloaded and exits with CMD's status\n"
	      "(128+N when CMD is killed by signal N, 127 when it cannot be run),\n"
	      "or with 122 when an expect line of a scenario (-s) does not hold.\n"
	      "Every process CMD starts is traced too, each into its own file.\n"
	      "\n"
	      "options:\n"
	      "  -o, --out DIR      write the trace into DIR (created if missing).\n"
	      "                     Default: $SOCKTRACE_OUT, else a new\n"
	      "                     socktrace-out/run-DATE-TIME-PID/, with\n"
	      "                     socktrace-out/latest pointing at it once CMD runs\n"
	      "      --keep N       keep the newest N runs of socktrace-out/, removing\n"
	      "                     older ones that no process still writes (default\n"
	      "                     $SOCKTRACE_KEEP, else 20; 0: keep all)\n"
	      "  -p, --payload N    record the first N bytes (at most 1024) of every\n"
	      "                     send and receive (off by default: data may hold\n"
	      "                     secrets)\n"
	      "  -f, --fault RULE   inject faults by RULE (repeatable), e.g.\n"
	      "                     -f 'connect port=5432 error=ECONNREFUSED when=1..3'\n"
	      "  -s, --scenario FILE  rules from FILE, one per line (repeatable); its\n"
	      "                     expect lines are checked over the trace when CMD\n"
	      "                     ends (see socktrace assert)\n"
	      "      --seed N       seed for prob= and jitter= (default: random, written\n"
	      "                     in the trace header so a run can be replayed)\n"
	      "      --backtrace[=N]  record the program's call stack (N frames, default\n"
	      "                     16) with every call; --backtrace=errors[:N] only\n"
	      "                     with failed calls and injected faults\n"
	      "      --format binary|jsonl  how records are written: binary (the default:\n"
	      "                     compact; socktrace cat prints them as JSON Lines)\n"
	      "                     or jsonl, JSON Lines as they happen (tail -f | jq)\n"
	      "  -q, --quiet        do not print where the trace went\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "SIGTERM, SIGHUP, SIGINT and SIGQUIT sent to socktrace run go to CMD (a\n"
	      "^C at the terminal reaches CMD once). From strace: -f and -ff are what\n"
	      "run always does; -e: socktrace view --fn/--errors; -p PID: a preload\n"
	      "shim cannot attach (socktrace ctl reaches processes under the shim).\n"
	      "\n"
	      "environment: SOCKTRACE_LIB overrides where the shim is found; every\n"
	      "other SOCKTRACE_* variable is passed to the shim (see man socktrace).\n",
	      out);
}

struct rules_args {
	char faults[16384];    /* -f rules, newline-separated */
	char scenarios[4096];  /* -s files, ':'-separated */
};

/* Appends arg to dst after sep (none when sep is 0 or dst is empty). */
static int append_arg(char *dst, size_t cap, const char *arg, char sep)
{
	size_t used = strlen(dst), n = strlen(arg);

	if (used + n + 2 > cap) {
		fprintf(stderr, "socktrace run: too many rules (at most %zu bytes in all)\n", cap - 1);
		return -1;
	}
	if (used && sep)
		dst[used++] = sep;
	memcpy(dst + used, arg, n + 1);
	return 0;
}

/* Merges -f/-s with any SOCKTRACE_FAULTS/SCENARIO already set, and checks
 * every rule with the shim's own parser before anything runs: a bad rule
 * stops here with FILE:LINE:COL instead of inside the program. -f rules
 * are lines of SOCKTRACE_FAULTS, numbered in the order given. The
 * scenario files' rules and expectations stay in files, for the verdict. */
static int setup_rules(const struct rules_args *rules, struct st_scenario *files)
{
	const char *env_faults = getenv("SOCKTRACE_FAULTS");
	const char *env_scenario = getenv("SOCKTRACE_SCENARIO");
	char faults[sizeof(rules->faults)] = "";
	char scenarios[sizeof(rules->scenarios)] = "";
	char walk[sizeof(scenarios)];
	struct st_scenario sc;
	bool bad = false;

	if (env_scenario && *env_scenario &&
	    append_arg(scenarios, sizeof(scenarios), env_scenario, 0) != 0)
		return -1;
	if (rules->scenarios[0] && append_arg(scenarios, sizeof(scenarios), rules->scenarios, ':'))
		return -1;
	if (env_faults && *env_faults && append_arg(faults, sizeof(faults), env_faults, 0) != 0)
		return -1;
	if (rules->faults[0] && append_arg(faults, sizeof(faults), rules->faults, '\n'))
		return -1;

	memcpy(walk, scenarios, sizeof(walk));
	for (char *path = strtok(walk, ":"); path; path = strtok(NULL, ":"))
		bad |= st_scenario_load_file(files, path) != 0;
	if (faults[0]) {
		memset(&sc, 0, sizeof(sc));
		bad |= st_scenario_load_text(&sc, "SOCKTRACE_FAULTS", faults) != 0;
		st_scenario_free(&sc);
	}
	if (bad) {
		fprintf(stderr, "socktrace run: fix the rules above; nothing was run\n");
		return -1;
	}
	if ((scenarios[0] && setenv("SOCKTRACE_SCENARIO", scenarios, 1) != 0) ||
	    (faults[0] && setenv("SOCKTRACE_FAULTS", faults, 1) != 0))
		return -1;
	return 0;
}

/* After the command: with expect lines, the verdict decides the status;
 * with rules alone, a rule that never acted is worth a note. */
static int check_scenario(const struct st_scenario *sc, const char *trace, int files,
			  int status, bool quiet)
{
	struct verdict v;
	const char *const paths[] = { trace };
	bool color = color_wanted("auto", STDERR_FILENO);

	if (sc->rules.count == 0 && sc->expects.count == 0)
		return status;
	/* No file: no process of the run used a socket. */
	if (verdict_eval(&v, sc, paths, files > 0 ? 1 : 0) != 0) {
		if (!verdict_wanted(sc))
			return status;
		fprintf(stderr, "%s: the trace in %s cannot be read: the expectations fail (exit status %d)\n",
			msg_who(), trace, ST_EXIT_EXPECTATIONS);
		return ST_EXIT_EXPECTATIONS;
	}
	if (!verdict_wanted(sc)) {
		for (size_t i = 0; i < v.count; i++)
			if (!v.results[i].pass && !quiet)
				fprintf(stderr, "%s: note: the rule at %s %s\n", msg_who(), v.results[i].origin,
					v.results[i].seen);
		verdict_free(&v);
		return status;
	}
	verdict_print(&v, stderr, color, quiet);
	if (v.failed) {
		fprintf(stderr, "%s: expectations failed: exit status %d (the command's own was %d)\n",
			msg_who(), ST_EXIT_EXPECTATIONS, status);
		status = ST_EXIT_EXPECTATIONS;
	}
	verdict_free(&v);
	return status;
}

static pid_t child_pid;
static const int forwarded[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))
/* Their dispositions as run found them (default or ignored). */
static struct sigaction inherited[NFORWARDED];

/* Requests to end go to the command, which decides how to end. A ^C or ^\
 * typed at the terminal reaches it already (same process group): that
 * one, sent by the kernel, is not sent a second time. */
static void forward_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (info && info->si_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT))
		return;
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
	int rc = setenv("LD_PRELOAD", value, 1); /* setenv copies it */
	free(value);
	return rc;
}

static int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("socktrace run: waitpid");
			return ST_EXIT_CANNOT_RUN;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return ST_EXIT_CANNOT_RUN;
}

/* Starts cmd; returns its pid once it runs, or -1 with *status set to
 * 127 (not found) or 126 (found, cannot be executed) when it cannot be
 * started: a close-on-exec pipe tells the two apart, so nothing is made
 * for a command that never ran. */
static pid_t spawn(char **cmd, int *status)
{
	int fds[2], err = 0;
	pid_t pid;

	*status = ST_EXIT_CANNOT_RUN;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		perror("socktrace run: pipe");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		/* What the command would have had without us: a shell's
		 * background job keeps SIGINT ignored. */
		for (size_t i = 0; i < NFORWARDED; i++)
			sigaction(forwarded[i], &inherited[i], NULL);
		execvp(cmd[0], cmd);
		err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0)
			_exit(ST_EXIT_CANNOT_RUN);
		_exit(ST_EXIT_CANNOT_RUN);
	}
	close(fds[1]);
	if (pid < 0) {
		perror("socktrace run: fork");
		close(fds[0]);
		return -1;
	}
	ssize_t n;
	while ((n = read(fds[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(fds[0]);
	if (n <= 0)
		return pid; /* exec succeeded: the pipe closed with it */
	waitpid(pid, NULL, 0);
	fprintf(stderr, "socktrace run: cannot run %s: %s\n", cmd[0], strerror(err));
	*status = err == ENOENT || err == ENOTDIR ? ST_EXIT_CANNOT_RUN : 126;
	return -1;
}

/* strace's options, met at the start of run's own: one line on the
 * socktrace way instead of a puzzle (-ff would be the rule "f"). */
static bool strace_habit(const char *arg)
{
	if (strcmp(arg, "-ff") == 0 || strcmp(arg, "-fff") == 0) {
		cli_usage_error("-ff is strace's: socktrace run traces CMD and every process it "
				"starts, each into its own file, already; drop it");
		return true;
	}
	if (strncmp(arg, "-e", 2) == 0 && (arg[2] == '\0' || strncmp(arg + 2, "trace=", 6) == 0)) {
		cli_usage_error("-e is strace's: socktrace records every socket call; choose what to "
				"see afterwards: socktrace view --fn connect,send (or --errors)");
		return true;
	}
	return false;
}

#define CANNOT_ATTACH                                                                       \
	"a preload shim cannot attach to a running process: start it as socktrace run -- " \
	"CMD; socktrace ctl changes rules only in processes already under the shim"

static int no_attach(void)
{
	return cli_usage_error("-p is --payload N here, and no command was given. From strace's "
			       "-p PID? %s",
			       CANNOT_ATTACH);
}

/* Where the trace goes: -o, else $SOCKTRACE_OUT (so that the variable
 * sends run and view to the same place), else a new run directory. */
static int choose_out(char *out, size_t cap, bool *fresh_run)
{
	const char *env = getenv("SOCKTRACE_OUT");
	struct stat st;

	*fresh_run = false;
	if (!out[0] && env && *env) {
		if ((size_t)snprintf(out, cap, "%s", env) >= cap)
			return cli_usage_error("SOCKTRACE_OUT is too long");
	}
	if (!out[0]) {
		*fresh_run = true;
		return 0;
	}
	if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
		return cli_usage_error("%s%s exists and is not a directory; give a directory (made if "
				       "missing)",
				       getenv("SOCKTRACE_OUT") == NULL || strcmp(out, env) != 0
					       ? "-o "
					       : "SOCKTRACE_OUT=",
				       out);
	return 0;
}

/* How many runs socktrace-out/ keeps: $SOCKTRACE_KEEP, else the default. */
static long keep_runs(void)
{
	const char *v = getenv("SOCKTRACE_KEEP");
	char *end;
	long n;

	if (!v || !*v)
		return ST_KEEP_RUNS_DEFAULT;
	n = strtol(v, &end, 10);
	if (*end || n < 0 || *v < '0' || *v > '9')
		return -1;
	return n;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "payload", required_argument, NULL, 'p' },
		{ "fault", required_argument, NULL, 'f' },
		{ "scenario", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "backtrace", optional_argument, NULL, 'B' },
		{ "format", required_argument, NULL, 'F' },
		{ "keep", required_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rules_args rules = { { 0 }, { 0 } };
	struct st_scenario scenario = { 0 };
	char out[PATH_MAX] = "";
	char out_abs[PATH_MAX];
	char shim[PATH_MAX];
	bool quiet = false, payload_given = false, fresh_run, made_out = false, made_root = false, off;
	int opt, status, files;
	long keep;
	struct sigaction sa;
	struct stat st;

	optind = 1;
	/* "+": options stop at the command, whose own options are its own. */
	while (optind < argc) {
		if (strace_habit(argv[optind]))
			return ST_EXIT_USAGE;
		if ((opt = cli_getopt(argc, argv, "+o:p:f:s:qh", longopts)) == -1)
			break;
		switch (opt) {
		case 'f':
			if (append_arg(rules.faults, sizeof(rules.faults), optarg, '\n') != 0)
				return ST_EXIT_USAGE;
			break;
		case 's':
			if (strchr(optarg, ':'))
				return cli_usage_error("scenario path '%s' contains ':', which separates paths in SOCKTRACE_SCENARIO",
						       optarg);
			if (append_arg(rules.scenarios, sizeof(rules.scenarios), optarg, ':') != 0)
				return ST_EXIT_USAGE;
			break;
		case 'S':
			setenv("SOCKTRACE_SEED", optarg, 1);
			break;
		case 'B':
			setenv("SOCKTRACE_BACKTRACE", optarg ? optarg : "16", 1);
			break;
		case 'o':
			if (!*optarg)
				return cli_usage_error("-o takes a directory, not ''");
			snprintf(out, sizeof(out), "%s", optarg);
			break;
		case 'p': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end)
				return cli_usage_error("--payload takes a number of bytes from 0 to 1024, not '%s'",
						       optarg);
			if (n > 1024)
				return cli_usage_error("--payload %s: at most 1024 bytes. If that is strace's "
						       "-p PID: %s",
						       optarg, CANNOT_ATTACH);
			payload_given = true;
			setenv("SOCKTRACE_PAYLOAD", optarg, 1);
			break;
		}
		case 'F':
			if (strcmp(optarg, "binary") != 0 && strcmp(optarg, "jsonl") != 0)
				return cli_usage_error("--format is binary or jsonl, not '%s'", optarg);
			setenv("SOCKTRACE_FORMAT", optarg, 1);
			break;
		case 'K':
			if (setenv("SOCKTRACE_KEEP", optarg, 1) != 0)
				return ST_EXIT_USAGE;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (optind >= argc) {
		if (payload_given)
			return no_attach();
		return cli_usage_error("no command given: socktrace run [OPTIONS] [--] CMD [ARGS...]");
	}
	if ((keep = keep_runs()) < 0)
		return cli_usage_error("--keep (SOCKTRACE_KEEP) takes a number of runs, 0 for all, not '%s'",
				       getenv("SOCKTRACE_KEEP"));
	if (choose_out(out, sizeof(out), &fresh_run) != 0)
		return ST_EXIT_USAGE;
	if (setup_rules(&rules, &scenario) != 0) {
		st_scenario_free(&scenario);
		return ST_EXIT_USAGE;
	}
	if (st_find_shim(shim, sizeof(shim)) != 0)
		return ST_EXIT_CANNOT_RUN;
	/* SOCKTRACE_OUT=off: faults without a trace, as the shim reads it. */
	off = !fresh_run && strcmp(out, "off") == 0;
	if (off) {
		snprintf(out_abs, sizeof(out_abs), "off");
	} else {
		if (fresh_run) {
			made_root = stat(ST_TRACE_ROOT, &st) != 0;
			if (st_make_run_dir(out, sizeof(out)) != 0)
				return ST_EXIT_CANNOT_RUN;
			made_out = true;
		} else {
			made_out = stat(out, &st) != 0;
			if (st_mkdirs(out) != 0) {
				cli_error("cannot create %s: %s", out, strerror(errno));
				return ST_EXIT_CANNOT_RUN;
			}
		}
		/* Absolute, so a command that changes directory still writes here. */
		if (!realpath(out, out_abs)) {
			cli_error("cannot resolve %s: %s", out, strerror(errno));
			return ST_EXIT_CANNOT_RUN;
		}
	}
	if (set_preload(shim) != 0 || setenv("SOCKTRACE_OUT", out_abs, 1) != 0) {
		perror("socktrace run: setenv");
		return ST_EXIT_CANNOT_RUN;
	}
	st_warn_untraceable(argv[optind]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, &inherited[i]);

	child_pid = spawn(argv + optind, &status);
	if (child_pid < 0) {
		/* Nothing ran: no empty run left behind, latest unmoved. */
		if (made_out)
			rmdir(out_abs);
		if (made_root)
			rmdir(ST_TRACE_ROOT);
		st_scenario_free(&scenario);
		return status;
	}
	if (fresh_run) {
		st_point_latest(out);
		if (keep > 0)
			st_prune_runs((unsigned)keep, out);
	}
	status = wait_for(child_pid);
	if (off) {
		st_scenario_free(&scenario);
		return status;
	}
	files = st_tidy_traces(out_abs);
	if (!quiet)
		st_report_warnings(out_abs);
	if (!quiet)
		fprintf(stderr, "%s: %d trace file%s in %s\n", msg_who(), files < 0 ? 0 : files,
			files == 1 ? "" : "s", out);
	status = check_scenario(&scenario, out_abs, files, status, quiet);
	st_scenario_free(&scenario);
	return status;
}
