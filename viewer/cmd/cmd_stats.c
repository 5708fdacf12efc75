/* socktrace stats: what the calls cost and how the connections went. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/tracedir.h"
#include "model/filter.h"
#include "model/pipeline.h"
#include "stats/stats.h"
#include "read/trace_reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace stats [OPTIONS] [TRACE...]\n"
	      "\n"
	      "Per call name: how many, how many failed and how many gave a \"not yet\"\n"
	      "(EINPROGRESS, EAGAIN: no failure), with which errno, faults injected,\n"
	      "total time in the call and its p50, p99 and maximum (like strace -c, with\n"
	      "percentiles, within 1.6%). Per connection: its client and server, how\n"
	      "long the connect took and the first byte of the answer, how long it\n"
	      "lasted, the bytes each way and how it ended (who sent the first FIN or\n"
	      "reset); then per server address and per program. Socketpairs within a\n"
	      "process are counted apart.\n"
	      "TRACE is a trace file or a directory of them; by default $SOCKTRACE_OUT,\n"
	      "else socktrace-out/latest, else socktrace-out. Memory stays small however\n"
	      "long the trace: it grows with the connections, not with the calls.\n"
	      "TRACE may also be - (standard input, a pipe) or a gzip or zstd file.\n"
	      "\n"
	      "options (the filters of socktrace view: only matching calls count):\n"
	      "  -p, --pid PID[,PID...]     calls of these processes\n"
	      "  -c, --conn CONN[,CONN...]  calls on these connections (c3, an address, :PORT)\n"
	      "      --fn NAME[,NAME...]    these calls, or groups (setup, data, ...)\n"
	      "      --since TIME           calls that returned at or after TIME\n"
	      "      --until TIME           calls that returned at or before TIME\n"
	      "  -e, --errors               only failed calls and injected faults\n"
	      "  -a, --all                  list every connection (default: the first 50,\n"
	      "                             then how they all ended)\n"
	      "      --by-caller            per call site instead of per call: calls grouped\n"
	      "                             by the innermost frame of their stack that is in\n"
	      "                             the traced program (socktrace run --backtrace),\n"
	      "                             with file:line when it has debug information\n"
	      "      --addr2line PROG       --by-caller: get file:line from PROG (default\n"
	      "                             addr2line, from binutils; none: names only)\n"
	      "      --json                 all of it as one JSON document, keys sorted:\n"
	      "                             {\"calls\", \"processes\", \"note\" (links left out),\n"
	      "                              \"by_call\": [{\"call\", \"count\", \"errors\",\n"
	      "                                \"pending\", \"faults\", \"total_ns\", \"p50_ns\",\n"
	      "                                \"p99_ns\", \"max_ns\", \"errno\": {NAME: N}}],\n"
	      "                              \"totals\", \"by_caller\" (the --by-caller\n"
	      "                              table, else null), \"warnings\", \"connections\"\n"
	      "                              (every one), \"by_server\", \"by_program\",\n"
	      "                              \"endings\", \"socketpairs\"}; times in ns, null\n"
	      "                             when not known (docs/viewer.md, docs/ci.md)\n"
	      "  -o, --output FILE          write to FILE instead of standard output\n"
	      "  -h, --help                 this text\n"
	      "\n"
	      "Exit status: 0 (also when unreadable lines were skipped, as reported on\n"
	      "standard error), 1 when an input is not a socktrace trace or is corrupt,\n"
	      "2 on bad usage.\n",
	      out);
}

/* Long options without a letter. */
enum { OPT_BY_CALLER = 1000, OPT_ADDR2LINE, OPT_JSON };

static void count(void *st, struct vev *ev)
{
	stats_add(st, ev);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		FILTER_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "by-caller", no_argument, NULL, OPT_BY_CALLER },
		{ "addr2line", required_argument, NULL, OPT_ADDR2LINE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filter f;
	struct pass pass;
	struct stats *st;
	const char *output = NULL, *dflt;
	FILE *out = stdout;
	int opt, status;
	size_t max_conns = 50;
	bool by_caller = false, json = false;
	const char *addr2line = "addr2line";

	filter_init(&f);
	f.who = "socktrace stats";
	optind = 1;
	while ((opt = cli_getopt(argc, argv, "p:c:eo:ah", longopts)) != -1) {
		int rc = filter_option(&f, opt, optarg);
		if (rc < 0) {
			/* The filter said what is wrong with the value. */
			fputs("Try 'socktrace stats --help'.\n", stderr);
			filter_free(&f);
			return ST_EXIT_USAGE;
		}
		if (rc == 0)
			continue;
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'a':
			max_conns = (size_t)-1;
			break;
		case OPT_BY_CALLER:
			by_caller = true;
			break;
		case OPT_ADDR2LINE:
			addr2line = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			usage(stdout);
			filter_free(&f);
			return 0;
		default:
			filter_free(&f);
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (optind >= argc && !(dflt = st_default_trace("stats"))) {
		filter_free(&f);
		return 1;
	}
	/* Counting needs a few fields of each record, not its tree; callers
	 * are read from the stacks, which only the tree has. */
	if (pass_open(&pass, optind < argc ? (const char *const *)argv + optind : &dflt,
		      optind < argc ? (size_t)(argc - optind) : 1, by_caller ? 0 : TR_FAST) != 0) {
		filter_free(&f);
		return 1;
	}
	st = stats_new();
	if (by_caller)
		stats_by_caller(st, addr2line);
	status = pass_run(&pass, &f, count, st);
	tr_report(&pass.reader, "socktrace stats");
	if (status == 0) {
		if (output && !(out = fopen(output, "w"))) {
			cli_error("cannot write %s: %s", output, strerror(errno));
			status = 1;
		} else {
			char note[512];
			pass_ordering_note(&pass, note, sizeof(note));
			if (json) {
				status = stats_print_json(st, pass.model, note, out);
			} else {
				stats_print(st, pass.model, max_conns, out);
				if (note[0])
					fprintf(out, "\nnote: %s\n", note);
			}
			if (note[0])
				cli_error("%s", note);
			if ((fflush(out) != 0 || ferror(out)) && status == 0) {
				cli_error("cannot write the output: %s", strerror(errno));
				status = 1;
			}
			if (output)
				fclose(out);
		}
	}
	stats_free(st);
	pass_close(&pass);
	filter_free(&f);
	return status;
}
