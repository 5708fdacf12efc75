/* socktrace run: the command under the shim, its status passed through. */
#include "cmd/commands.h"
#include "cmd/execcheck.h"
#include "verdict/scenario.h"
#include "cmd/shimpath.h"
#include "util/textutil.h"
#include "cmd/tracedir.h"
#include "verdict/verdict.h"

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
	      "(128+N when CMD is killed by signal N, 127 when it cannot be run),\n"
	      "or with 122 when an expect line of a scenario (-s) does not hold.\n"
	      "Every process CMD starts is traced too, each into its own file.\n"
	      "\n"
	      "options:\n"
	      "  -o, --out DIR      write the trace into DIR (created if missing).\n"
	      "                     Default: a new socktrace-out/run-DATE-TIME-PID/,\n"
	      "                     with socktrace-out/latest pointing at it\n"
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
		fprintf(stderr, "socktrace: the trace in %s cannot be read: the expectations fail (exit status %d)\n",
			trace, ST_EXIT_EXPECTATIONS);
		return ST_EXIT_EXPECTATIONS;
	}
	if (!verdict_wanted(sc)) {
		for (size_t i = 0; i < v.count; i++)
			if (!v.results[i].pass && !quiet)
				fprintf(stderr, "socktrace: note: the rule at %s %s\n", v.results[i].origin,
					v.results[i].seen);
		verdict_free(&v);
		return status;
	}
	verdict_print(&v, stderr, color, quiet);
	if (v.failed) {
		fprintf(stderr, "socktrace: expectations failed: exit status %d (the command's own was %d)\n",
			ST_EXIT_EXPECTATIONS, status);
		status = ST_EXIT_EXPECTATIONS;
	}
	verdict_free(&v);
	return status;
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
	int rc = setenv("LD_PRELOAD", value, 1); /* setenv copies it */
	free(value);
	return rc;
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
		{ "fault", required_argument, NULL, 'f' },
		{ "scenario", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "backtrace", optional_argument, NULL, 'B' },
		{ "format", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rules_args rules = { { 0 }, { 0 } };
	struct st_scenario scenario = { 0 };
	char out[PATH_MAX] = "";
	char out_abs[PATH_MAX];
	char shim[PATH_MAX];
	bool quiet = false;
	int opt, status, files;
	struct sigaction sa;

	optind = 1;
	/* "+": options stop at the command, whose own options are its own. */
	while ((opt = getopt_long(argc, argv, "+o:p:f:s:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (append_arg(rules.faults, sizeof(rules.faults), optarg, '\n') != 0)
				return ST_EXIT_USAGE;
			break;
		case 's':
			if (strchr(optarg, ':')) {
				fprintf(stderr, "socktrace run: scenario path '%s' contains ':', which separates paths in SOCKTRACE_SCENARIO\n",
					optarg);
				return ST_EXIT_USAGE;
			}
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
		case 'F':
			if (strcmp(optarg, "binary") != 0 && strcmp(optarg, "jsonl") != 0) {
				fprintf(stderr, "socktrace run: --format is binary or jsonl, not '%s'\n",
					optarg);
				return ST_EXIT_USAGE;
			}
			setenv("SOCKTRACE_FORMAT", optarg, 1);
			break;
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
	if (setup_rules(&rules, &scenario) != 0) {
		st_scenario_free(&scenario);
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
		st_report_warnings(out_abs);
	if (!quiet)
		fprintf(stderr, "socktrace: %d trace file%s in %s\n", files < 0 ? 0 : files,
			files == 1 ? "" : "s", out);
	status = check_scenario(&scenario, out_abs, files, status, quiet);
	st_scenario_free(&scenario);
	return status;
}
