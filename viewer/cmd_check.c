/* socktrace check: validate scenario files without running anything. */
#include "commands.h"
#include "scenario.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace check [-q] FILE...\n"
	      "\n"
	      "Parses each scenario file as the shim would and reports every error as\n"
	      "FILE:LINE:COL: what is wrong, with the fix where there is one. Prints\n"
	      "each valid rule, then each expect line, in its normalised form, prefixed\n"
	      "with its FILE:LINE.\n"
	      "Exits 0 when every file is valid, 1 otherwise.\n"
	      "\n"
	      "  -q, --quiet   print only errors\n",
	      out);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	int opt, status = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (opt) {
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
		fprintf(stderr, "socktrace check: no file given\n");
		usage(stderr);
		return ST_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct st_scenario sc = { 0 };

		if (st_scenario_load_file(&sc, argv[i]) != 0) {
			status = 1;
		} else if (!quiet) {
			for (size_t k = 0; k < sc.rules.count; k++)
				printf("%s: %s\n", sc.rules.rules[k].origin, sc.rules.rules[k].text);
			for (size_t k = 0; k < sc.expects.count; k++)
				printf("%s: %s\n", sc.expects.v[k].sel.origin, sc.expects.v[k].text);
		}
		st_scenario_free(&sc);
	}
	return status;
}
