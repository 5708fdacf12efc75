/* socktrace check: validate scenario files without running anything. */
#include "cmd/commands.h"
#include "verdict/scenario.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace check [-q] FILE...\n"
	      "\n"
	      "Parses each scenario file as the shim would and reports every error as\n"
	      "FILE:LINE:COL: what is wrong, with the fix where there is one. Prints\n"
	      "each valid rule and expect line in its normalised form, prefixed with\n"
	      "its FILE:LINE.\n"
	      "Exits 0 when every file is valid, 1 otherwise.\n"
	      "\n"
	      "  -q, --quiet   print only errors\n",
	      out);
}

/* Rules and expect lines as they come in the file. */
static void print_in_file_order(const struct st_scenario *sc)
{
	size_t r = 0, e = 0;

	while (r < sc->rules.count || e < sc->expects.count) {
		const struct st_rule *rule = r < sc->rules.count ? &sc->rules.rules[r] : NULL;
		const struct st_expect *x = e < sc->expects.count ? &sc->expects.v[e] : NULL;
		if (rule && (!x || st_origin_line(rule->origin, NULL) < st_origin_line(x->sel.origin, NULL))) {
			printf("%s: %s\n", rule->origin, rule->text);
			r++;
		} else {
			printf("%s: %s\n", x->sel.origin, x->text);
			e++;
		}
	}
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
			print_in_file_order(&sc);
		}
		st_scenario_free(&sc);
	}
	return status;
}
