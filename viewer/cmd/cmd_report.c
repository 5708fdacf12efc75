/* socktrace report: the verdict and the figures of a trace as Markdown or
 * JUnit XML, for CI systems to show. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/tracedir.h"
#include "verdict/report.h"
#include "verdict/scenario.h"
#include "read/trace_reader.h"
#include "verdict/verdict.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace report [--scenario FILE] --format=markdown|junit [-o FILE] [TRACE...]\n"
	      "\n"
	      "Writes a report of the trace (files or directories; by default\n"
	      "$SOCKTRACE_OUT, else socktrace-out/latest, else socktrace-out):\n"
	      "  markdown  for a CI job summary: the verdict of each check of the\n"
	      "            scenario, the socktrace stats tables, the command that\n"
	      "            replays the run with how often each rule acted, and a\n"
	      "            Mermaid diagram of the connections of failed checks and\n"
	      "            injected faults (without --scenario: of failed calls and\n"
	      "            faults; none when there are none)\n"
	      "  junit     JUnit XML, one test case per check (needs --scenario)\n"
	      "TRACE may also be - (standard input, a pipe) or a gzip or zstd file.\n"
	      "\n"
	      "options:\n"
	      "  -s, --scenario FILE  check its expect lines and rules (as socktrace assert)\n"
	      "  -f, --format FMT     markdown or junit\n"
	      "  -o, --output FILE    write to FILE instead of standard output\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 when the report was written, whatever the verdict (the\n"
	      "verdict is in the report; socktrace assert or run -s gives it as a status),\n"
	      "2 on bad usage or an invalid scenario, 3 when the trace cannot be read.\n",
	      out);
}

static int write_report(FILE *out, const char *format, const struct report_input *in)
{
	if (strcmp(format, "junit") == 0)
		return report_junit(out, in);
	return report_markdown(out, in);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct st_scenario sc;
	struct verdict v;
	struct report_input in = { NULL, NULL, NULL, 0 };
	const char *format = NULL, *output = NULL, *dflt;
	FILE *out = stdout;
	int opt, status;

	optind = 1;
	while ((opt = cli_getopt(argc, argv, "s:f:o:h", longopts)) != -1) {
		switch (opt) {
		case 's':
			in.scenario_path = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (!format)
		return cli_usage_error("give --format=markdown or --format=junit");
	if (strcmp(format, "markdown") != 0 && strcmp(format, "junit") != 0)
		return cli_usage_error("--format takes markdown or junit, not '%s'", format);
	if (strcmp(format, "junit") == 0 && !in.scenario_path)
		return cli_usage_error("--format=junit lists the checks of a scenario: give --scenario FILE");
	if (optind >= argc && !(dflt = st_default_trace("report")))
		return ST_EXIT_TRACE_UNREADABLE;
	in.paths = optind < argc ? (const char *const *)argv + optind : &dflt;
	in.npaths = optind < argc ? (size_t)(argc - optind) : 1;

	memset(&sc, 0, sizeof(sc));
	if (in.scenario_path) {
		if (st_scenario_load_file(&sc, in.scenario_path) != 0) {
			st_scenario_free(&sc);
			return ST_EXIT_USAGE;
		}
		if (verdict_eval(&v, &sc, in.paths, in.npaths) != 0) {
			st_scenario_free(&sc);
			return ST_EXIT_TRACE_UNREADABLE;
		}
		in.verdict = &v;
	}
	if (output && !(out = fopen(output, "w"))) {
		cli_error("cannot write %s: %s", output, strerror(errno));
		status = 1;
	} else {
		status = write_report(out, format, &in) != 0 ? ST_EXIT_TRACE_UNREADABLE : 0;
		if ((fflush(out) != 0 || ferror(out)) && status == 0) {
			cli_error("cannot write the output: %s", strerror(errno));
			status = 1;
		}
		if (output)
			fclose(out);
	}
	if (in.verdict)
		verdict_free(&v);
	st_scenario_free(&sc);
	return status;
}
