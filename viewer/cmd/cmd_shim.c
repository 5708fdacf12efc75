/* socktrace shim: the path of the shim socktrace run preloads, for those
 * who preload it themselves: LD_PRELOAD="$(socktrace shim)" CMD. */
#include "cmd/commands.h"
#include "cmd/shimpath.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace shim\n"
	      "\n"
	      "Prints the full path of the shim that socktrace run preloads, to preload\n"
	      "it without socktrace run:\n"
	      "\n"
	      "  LD_PRELOAD=\"$(socktrace shim)\" SOCKTRACE_OUT=/tmp/tr CMD [ARGS...]\n"
	      "\n"
	      "It is $SOCKTRACE_LIB when that is set, else the one in the build tree\n"
	      "beside this tool (../preload/), else the one installed with it.\n"
	      "\n"
	      "  -h, --help    this text\n"
	      "\n"
	      "Exit status: 0, 1 when no shim is found, 2 on bad usage.\n",
	      out);
}

int cmd_shim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char path[PATH_MAX];
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try 'socktrace shim --help'.\n", stderr);
			return ST_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "socktrace shim: takes no arguments, not '%s'\n"
			"Try 'socktrace shim --help'.\n", argv[optind]);
		return ST_EXIT_USAGE;
	}
	if (st_find_shim(path, sizeof(path)) != 0)
		return 1;
	/* One line, the path alone: it goes into $(...) as it is. */
	return printf("%s\n", path) < 0 || fflush(stdout) != 0 ? 1 : 0;
}
