/* socktrace: run programs under the shim and read what it recorded. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "suggest.h"

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

static int cmd_help(int argc, char **argv);

/* One line per command: main dispatches on it and `help` lists it. */
static const struct command commands[] = {
	{ "run", cmd_run, "run [-o DIR] [-p N] [-f RULE] [-s FILE] [-q] [--] CMD [ARGS...]",
	  "run CMD with the shim preloaded; trace CMD and every process it starts" },
	{ "check", cmd_check, "check [-q] [--json] FILE...|-|-f RULE",
	  "validate rules and scenario files without running anything" },
	{ "view", cmd_view, "view [-f text|html|mermaid|perfetto|jsonl] [FILTERS] [TRACE...]",
	  "draw the calls of every traced process side by side, with the arrows between them" },
	{ "stats", cmd_stats, "stats [--by-caller] [--json] [FILTERS] [TRACE...]",
	  "count, errors, faults and p50/p99/max time per call (or per call site); bytes and\n"
	  "        ending per connection" },
	{ "assert", cmd_assert, "assert [-q] [--json] SCENARIO [TRACE...]",
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
	{ "version", cmd_version, "version (or -V, --version)", "print the version" },
	{ "help", cmd_help, "help [COMMAND]",
	  "this text, or a command's own help (the same as COMMAND --help)" },
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
	fputs("\n"
	      "TRACE is a directory of trace files (default: $SOCKTRACE_OUT, else\n"
	      "socktrace-out/latest), a trace file, or - for standard input.\n"
	      "Without `socktrace run`: LD_PRELOAD=\"$(socktrace shim)\" CMD (installed:\n"
	      "LD_PRELOAD=libsocktrace.so CMD), configured by SOCKTRACE_* variables.\n"
	      "\n",
	      out);
	cli_print_exit_statuses(out);
	fputs("\nAll of it, with the grammar of rules and expect lines: man socktrace\n", out);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* The closest command's name to a mistyped one, or NULL. */
static const char *closest(const char *name)
{
	const char *names[NCOMMANDS];

	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	return st_suggest(name, names, NCOMMANDS);
}

static int unknown_command(const char *name)
{
	const char *near = closest(name);

	if (near)
		return cli_usage_error("unknown command '%s'; did you mean '%s'?", name, near);
	return cli_usage_error("unknown command '%s' (socktrace help lists them)", name);
}

static int cmd_help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc > 2)
		return cli_usage_error("help takes one command, not %d", argc - 1);
	cmd = find(argv[1]);
	if (!cmd || cmd->run == cmd_version) {
		cli_set_command("");
		if (cmd)
			return cmd_version(0, NULL);
		return unknown_command(argv[1]);
	}
	char *help_argv[] = { argv[1], "--help", NULL };
	cli_set_command(cmd->name);
	return cmd->run(2, help_argv);
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		return cmd_version(0, NULL);
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		name = "help";
	if (name[0] == '-')
		return cli_usage_error("unknown option '%s'; a command comes first, e.g. socktrace run -- CMD",
				       name);
	cmd = find(name);
	if (!cmd)
		return unknown_command(name);
	cli_set_command(cmd->name);
	argv[1] = (char *)cmd->name;
	return cmd->run(argc - 1, argv + 1);
}
