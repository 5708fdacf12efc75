/* socktrace: run programs under the shim and read what it recorded. */
#include "cmd/commands.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
};

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("socktrace %s\n", SOCKTRACE_VERSION);
	return 0;
}

/* One line per command: main dispatches on it and `help` lists it. */
static const struct command commands[] = {
	{ "run", cmd_run, "run [-o DIR] [-p N] [-q] [--] CMD [ARGS...]",
	  "run CMD with the shim preloaded; trace CMD and every process it starts" },
	{ "check", cmd_check, "check [-q] FILE...",
	  "validate scenario (fault rule) files without running anything" },
	{ "view", cmd_view, "view [-f text|html|mermaid|perfetto|jsonl] [FILTERS] [TRACE...]",
	  "draw the calls of every traced process side by side, with the arrows between them" },
	{ "stats", cmd_stats, "stats [--by-caller] [FILTERS] [TRACE...]",
	  "count, errors, faults and p50/p99/max time per call (or per call site); bytes and\n"
	  "        ending per connection" },
	{ "assert", cmd_assert, "assert [-q] SCENARIO [TRACE...]",
	  "check a scenario's expect lines (and that its rules acted) over a recorded trace" },
	{ "report", cmd_report, "report [--scenario FILE] --format=markdown|junit [TRACE...]",
	  "the verdict, stats and a diagram of what failed, for a CI job summary or test list" },
	{ "cat", cmd_cat, "cat [--split OUTDIR] [TRACE...]",
	  "print the records as JSON Lines (what SOCKTRACE_FORMAT=jsonl writes), for jq" },
	{ "ctl", cmd_ctl, "ctl PID|--all|--prog GLOB [--add|--replace] RULE... | --disable N | --clear",
	  "change the fault rules of programs already running under the shim; ctl --list\n"
	  "        shows them" },
	{ "shim", cmd_shim, "shim",
	  "print the path of the shim, for LD_PRELOAD=\"$(socktrace shim)\" CMD" },
	{ "version", cmd_version, "version", "print the version" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: socktrace COMMAND [OPTIONS] [ARGS]\n"
	      "\n"
	      "Trace the socket calls of programs, with no proxy and no ptrace.\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n        %s\n", commands[i].synopsis, commands[i].summary);
	fputs("  help [COMMAND]\n        this text, or a command's own help (COMMAND --help)\n"
	      "\n"
	      "Without `socktrace run`: LD_PRELOAD=\"$(socktrace shim)\" CMD (installed:\n"
	      "LD_PRELOAD=libsocktrace.so CMD), configured by SOCKTRACE_* variables.\n"
	      "All of it, with the grammar of rules and expect lines: man socktrace\n",
	      out);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2 && (cmd = find(argv[2])) != NULL) {
			char *help_argv[] = { argv[2], "--help", NULL };
			return cmd->run(2, help_argv);
		}
		usage(stdout);
		return 0;
	}
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "socktrace: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
