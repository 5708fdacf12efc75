/* socktrace assert: a scenario's expectations checked over a trace
 * recorded earlier. */
#include "cmd/commands.h"
#include "verdict/scenario.h"
#include "util/textutil.h"
#include "read/trace_reader.h"
#include "verdict/verdict.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace assert [OPTIONS] SCENARIO [TRACE...]\n"
	      "\n"
	      "Checks the expect lines of SCENARIO over the trace (files or directories;\n"
	      "by default $SOCKTRACE_OUT, else socktrace-out/latest, else socktrace-out),\n"
	      "and that each of its fault rules acted at least once (unless marked\n"
	      "optional). Prints one line per check: PASS or FAIL, what was expected and\n"
	      "what was seen.\n"
	      "\n"
	      "options:\n"
	      "  -q, --quiet          print only the failed checks\n"
	      "      --color WHEN     auto (default), always or never\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 when every check passed, 1 when one failed, 2 on bad usage\n"
	      "or an invalid scenario, 3 when the trace cannot be read.\n",
	      out);
}

int cmd_assert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct st_scenario sc;
	struct verdict v;
	const char *color = "auto", *dflt;
	bool quiet = false;
	int opt, status;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'C':
			if (!color_when_valid(optarg)) {
				fprintf(stderr, "socktrace assert: --color takes auto, always or never, not '%s'\n",
					optarg);
				return ST_EXIT_USAGE;
			}
			color = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try 'socktrace assert --help'.\n", stderr);
			return ST_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "socktrace assert: no scenario given\n");
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	memset(&sc, 0, sizeof(sc));
	if (st_scenario_load_file(&sc, argv[optind]) != 0) {
		st_scenario_free(&sc);
		return ST_EXIT_USAGE;
	}
	if (sc.expects.count == 0 && sc.rules.count == 0) {
		fprintf(stderr, "socktrace assert: %s has no expect line and no rule: nothing to check\n",
			argv[optind]);
		st_scenario_free(&sc);
		return ST_EXIT_USAGE;
	}
	optind++;
	dflt = tr_default_path();
	if (verdict_eval(&v, &sc, optind < argc ? (const char *const *)argv + optind : &dflt,
			 optind < argc ? (size_t)(argc - optind) : 1) != 0) {
		st_scenario_free(&sc);
		return ST_EXIT_TRACE_UNREADABLE;
	}
	verdict_print(&v, stdout, color_wanted(color, STDOUT_FILENO), quiet);
	status = v.failed ? 1 : 0;
	verdict_free(&v);
	st_scenario_free(&sc);
	return status;
}
