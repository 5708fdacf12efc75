/* socktrace: run programs under the shim and read what it recorded. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace COMMAND [OPTIONS] [ARGS]\n"
	      "\n"
	      "Trace the socket calls of programs, with no proxy and no ptrace.\n"
	      "\n"
	      "commands:\n"
	      "  run [-o DIR] [-q] -- CMD [ARGS...]\n"
	      "        run CMD with libsocktrace.so preloaded; the trace of CMD and of\n"
	      "        every process it starts goes to DIR (one file per process)\n"
	      "  help [COMMAND]   this text, or a command's own help\n"
	      "  version          print the version\n"
	      "\n"
	      "Without `socktrace run`: LD_PRELOAD=/path/to/libsocktrace.so CMD,\n"
	      "configured by SOCKTRACE_* variables (see README.md).\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	const char *cmd = argv[1];

	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("socktrace %s\n", SOCKTRACE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		if (argc > 2 && strcmp(argv[2], "run") == 0) {
			char *help_argv[] = { "run", "--help", NULL };
			return cmd_run(2, help_argv);
		}
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "socktrace: unknown command '%s'\n", cmd);
	usage(stderr);
	return ST_EXIT_USAGE;
}
