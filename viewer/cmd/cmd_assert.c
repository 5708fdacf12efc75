/* socktrace assert: a scenario's expectations checked over a trace
 * recorded earlier. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/tracedir.h"
#include "verdict/scenario.h"
#include "util/textutil.h"
#include "read/trace_reader.h"
#include "verdict/verdict.h"

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
	      "TRACE may also be - (standard input, a pipe) or a gzip or zstd file.\n"
	      "\n"
	      "options:\n"
	      "  -q, --quiet          print only the failed checks\n"
	      "      --json           the verdict as one JSON document on standard output\n"
	      "                       (every check, whatever -q):\n"
	      "                         {\"pass\", \"checks\", \"passed\", \"failed\", \"summary\",\n"
	      "                          \"scenario\", \"traces\", \"events\", \"span_ns\",\n"
	      "                          \"results\": [{\"kind\": \"expect\"|\"rule\", \"origin\",\n"
	      "                            \"file\", \"line\", \"text\", \"condition\", \"pass\",\n"
	      "                            \"expected\", \"seen\", \"value\", \"unit\", \"connections\"\n"
	      "                            (rules also \"optional\", \"selected\", \"calls\")}]}\n"
	      "                       value: what was counted, in unit (calls, bytes, ns,\n"
	      "                       acts), or null; keys sorted\n"
	      "      --color WHEN     auto (default), always or never\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 when every check passed, 1 when one failed, 2 on bad usage\n"
	      "or an invalid scenario, 3 when the trace cannot be read.\n",
	      out);
}

/* Long options without a letter. */
enum { OPT_COLOR = 1000, OPT_JSON };

int cmd_assert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "colour", required_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct st_scenario sc;
	struct verdict v;
	const char *color = "auto", *dflt, *scenario;
	const char *const *paths;
	size_t npaths;
	bool quiet = false, json = false;
	int opt, status;

	optind = 1;
	while ((opt = cli_getopt(argc, argv, "qh", longopts)) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_COLOR:
			if (!color_when_valid(optarg))
				return cli_usage_error("--color takes auto, always or never, not '%s'",
						       optarg);
			color = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (optind >= argc)
		return cli_usage_error("no scenario given: socktrace assert SCENARIO [TRACE...]");
	scenario = argv[optind++];
	memset(&sc, 0, sizeof(sc));
	if (st_scenario_load_file(&sc, scenario) != 0) {
		st_scenario_free(&sc);
		return ST_EXIT_USAGE;
	}
	if (sc.expects.count == 0 && sc.rules.count == 0) {
		cli_error("%s has no expect line and no rule: nothing to check", scenario);
		st_scenario_free(&sc);
		return ST_EXIT_USAGE;
	}
	if (optind >= argc && !(dflt = st_default_trace("assert"))) {
		st_scenario_free(&sc);
		return ST_EXIT_TRACE_UNREADABLE;
	}
	paths = optind < argc ? (const char *const *)argv + optind : &dflt;
	npaths = optind < argc ? (size_t)(argc - optind) : 1;
	if (verdict_eval(&v, &sc, paths, npaths) != 0) {
		st_scenario_free(&sc);
		return ST_EXIT_TRACE_UNREADABLE;
	}
	status = v.failed ? 1 : 0;
	if (json) {
		if (verdict_print_json(&v, scenario, paths, npaths, stdout) != 0 ||
		    fflush(stdout) != 0 || ferror(stdout)) {
			cli_error("cannot write the output");
			status = 1;
		}
	} else {
		verdict_print(&v, stdout, color_wanted(color, STDOUT_FILENO), quiet);
	}
	verdict_free(&v);
	st_scenario_free(&sc);
	return status;
}
