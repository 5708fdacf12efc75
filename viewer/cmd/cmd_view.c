/* socktrace view: the flow diagram of a trace, in five formats. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/tracedir.h"
#include "cmd/pager.h"
#include "model/filter.h"
#include "render/render.h"
#include "util/textutil.h"
#include "rules.h"

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DEFAULT_WIDTH 100
#define MIN_WIDTH 40
#define MAX_WIDTH 1000
/* A page draws only what is on screen, so it can hold a long run. */
#define DEFAULT_LIMIT_HTML 200000
#define DEFAULT_LIMIT_MERMAID 300

/* Long options without a letter. */
enum { OPT_STACKS = 1000, OPT_ADDR2LINE, OPT_GAP, OPT_PIDS, OPT_NO_PAGER, OPT_ALL, OPT_GROUP,
       OPT_NO_GROUP };

static void usage(FILE *out)
{
	fputs("usage: socktrace view [OPTIONS] [TRACE...]\n"
	      "\n"
	      "Draws what the traced programs did with their sockets, side by side: one\n"
	      "column per process (or remote endpoint that was not traced), time going\n"
	      "down, arrows for connection set-up, data and teardown between them.\n"
	      "TRACE is a trace file or a directory of them; by default where the shim\n"
	      "writes: $SOCKTRACE_OUT, else socktrace-out/latest (what `socktrace run`\n"
	      "wrote last), else socktrace-out.\n"
	      "TRACE may also be - (standard input, a pipe) or a gzip or zstd file.\n"
	      "Events are in causal order: each thread's own order, and every cause\n"
	      "before its effect (a connect before the accept that answered it, a send\n"
	      "before the receives of its bytes, a close before the peer's EOF), the\n"
	      "order the calls returned breaking ties. Times are when each call began,\n"
	      "in seconds since the first traced process started.\n"
	      "\n"
	      "options:\n"
	      "  -f, --format FMT   text     the diagram in the terminal, never wider than\n"
	      "                              it (the default, on a terminal or not)\n"
	      "                     html     one self-contained page: the diagram to explore\n"
	      "                              (filter, connection list, links to events;\n"
	      "                              docs/viewer.md, \"HTML\")\n"
	      "                     mermaid  a sequenceDiagram for Markdown (GitHub):\n"
	      "                              connection set-up, data, teardown and\n"
	      "                              failures, each message numbered and led by\n"
	      "                              its connection (c3); under GitHub's size\n"
	      "                              limit, saying what it left out\n"
	      "                     perfetto Chrome trace JSON for ui.perfetto.dev: a\n"
	      "                              track per thread, calls named by connection\n"
	      "                              (send c3), flows between paired calls, and\n"
	      "                              a track per connection (\"connections\")\n"
	      "                     jsonl    the merged events with pairing fields added\n"
	      "                              (what scripts read)\n"
	      "  -o, --output FILE  write to FILE instead of standard output\n"
	      "  -w, --width N      text: width in columns (default: the terminal's, else\n"
	      "                     $COLUMNS, else 100)\n"
	      "      --color WHEN   text: auto (default: on a terminal, unless NO_COLOR\n"
	      "                     is set), always or never\n"
	      "      --ascii        text: plain ASCII instead of box-drawing characters\n"
	      "                     (the default on a terminal whose locale is not UTF-8)\n"
	      "      --pids         text: each row's pid after its time (grep a process,\n"
	      "                     as in strace -f output)\n"
	      "      --no-pager     text: no pager; otherwise output to a terminal goes\n"
	      "                     through $PAGER (else less -RS), unless -o is given\n"
	      "  -n, --limit N      html, mermaid: draw at most N events (default 200000 for\n"
	      "                     html, 300 for mermaid, which also stops short of\n"
	      "                     mermaid's 50,000 characters; 0: no limit)\n"
	      "      --gap DURATION text, html, mermaid: mark a pause of at least DURATION\n"
	      "                     between two events with its length (default 100ms;\n"
	      "                     0: never)\n"
	      "      --all          mermaid: every call, not only those of connection\n"
	      "                     set-up, data, teardown, failures and faults\n"
	      "      --group, --no-group  mermaid: the processes of one program in one\n"
	      "                     participant (default: when more than 8 participants)\n"
	      "      --stacks       text: under each event that has a call stack (socktrace\n"
	      "                     run --backtrace), its frames, innermost first: function\n"
	      "                     and file:line, or module+offset\n"
	      "      --addr2line PROG  text with --stacks, html: get file:line of stack\n"
	      "                     frames from PROG (default addr2line, from binutils);\n"
	      "                     none: show modules and offsets only\n",
	      out);
	/* Two strings: C11 compilers need take only 4095 characters in one. */
	fputs("\n"
	      "filters (all formats; an event is shown when it matches every one given):\n"
	      "  -p, --pid PID[,PID...]     calls of these processes\n"
	      "  -c, --conn CONN[,CONN...]  calls on these connections: an id as shown\n"
	      "                             (c3 or 3), an address (127.0.0.1:8080, [::1]:53,\n"
	      "                             unix:/run/x.sock) or a port (:8080)\n"
	      "      --fn NAME[,NAME...]    these calls (accept also matches accept4, recv\n"
	      "                             __recv_chk, ...) or groups as rules name them\n"
	      "                             (setup, data, teardown, ...); exec and end for\n"
	      "                             those records\n"
	      "      --since TIME           calls that returned at or after TIME\n"
	      "      --until TIME           calls that returned at or before TIME\n"
	      "                             (seconds since the start, or 200ms, 30us, 10ns)\n"
	      "  -e, --errors               only failed calls and injected faults\n"
	      "  -h, --help                 this text\n"
	      "\n"
	      "Lines the trace cannot be read from (a process killed while writing) are\n"
	      "skipped and reported on standard error; the exit status stays 0. It is 1\n"
	      "when an input is not a socktrace trace or is corrupt, 2 on bad usage.\n",
	      out);
}

static const struct {
	const char *name;
	enum view_format format;
	const struct renderer *r;
} formats[] = {
	{ "text", FMT_TEXT, &render_text },
	{ "html", FMT_HTML, &render_html },
	{ "mermaid", FMT_MERMAID, &render_mermaid },
	{ "perfetto", FMT_PERFETTO, &render_perfetto },
	{ "jsonl", FMT_JSONL, &render_jsonl },
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static int terminal_width(int fd)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");

	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (cols && atoi(cols) > 0)
		return atoi(cols);
	return DEFAULT_WIDTH;
}

static bool parse_uint(const char *s, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && *v <= max;
}

int cmd_view(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "width", required_argument, NULL, 'w' },
		{ "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' },
		{ "ascii", no_argument, NULL, 'A' },
		{ "limit", required_argument, NULL, 'n' },
		{ "stacks", no_argument, NULL, OPT_STACKS },
		{ "addr2line", required_argument, NULL, OPT_ADDR2LINE },
		{ "gap", required_argument, NULL, OPT_GAP },
		{ "pids", no_argument, NULL, OPT_PIDS },
		{ "no-pager", no_argument, NULL, OPT_NO_PAGER },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "group", no_argument, NULL, OPT_GROUP },
		{ "no-group", no_argument, NULL, OPT_NO_GROUP },
		FILTER_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct view_opts o;
	const char *format = NULL, *output = NULL, *color = "auto", *addr2line = "addr2line";
	long width = 0, limit = -1;
	const struct renderer *r = NULL;
	const char *dflt;
	int opt, status;
	bool out_tty, no_pager = false, paged = false;

	memset(&o, 0, sizeof(o));
	o.gap = VIEW_DEFAULT_GAP_NS;
	o.group = -1;
	filter_init(&o.filter);
	o.filter.who = "socktrace view";
	optind = 1;
	while ((opt = cli_getopt(argc, argv, "f:o:w:n:p:c:eh", longopts)) != -1) {
		int rc = filter_option(&o.filter, opt, optarg);
		if (rc < 0)
			goto usage_error;
		if (rc == 0)
			continue;
		switch (opt) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'w':
			if (!parse_uint(optarg, MAX_WIDTH, &width) || width < MIN_WIDTH) {
				fprintf(stderr, "socktrace view: --width takes a number of columns from %d to %d, not '%s'\n",
					MIN_WIDTH, MAX_WIDTH, optarg);
				goto usage_error;
			}
			break;
		case 'C':
			if (!color_when_valid(optarg)) {
				fprintf(stderr, "socktrace view: --color takes auto, always or never, not '%s'\n",
					optarg);
				goto usage_error;
			}
			color = optarg;
			break;
		case 'A':
			o.ascii = true;
			break;
		case OPT_STACKS:
			o.stacks = true;
			break;
		case OPT_ADDR2LINE:
			addr2line = optarg;
			break;
		case OPT_GAP:
			if (!parse_time(optarg, &o.gap) || o.gap < 0) {
				fprintf(stderr, "socktrace view: --gap takes a duration (" ST_DURATION_EXAMPLES "; 0: none), not '%s'\n",
					optarg);
				goto usage_error;
			}
			break;
		case OPT_PIDS:
			o.pids = true;
			break;
		case OPT_NO_PAGER:
			no_pager = true;
			break;
		case OPT_ALL:
			o.all = true;
			break;
		case OPT_GROUP:
			o.group = 1;
			break;
		case OPT_NO_GROUP:
			o.group = 0;
			break;
		case 'n':
			if (!parse_uint(optarg, 100000000, &limit)) {
				fprintf(stderr, "socktrace view: --limit takes a number of events, not '%s'\n",
					optarg);
				goto usage_error;
			}
			break;
		case 'h':
			usage(stdout);
			filter_free(&o.filter);
			return 0;
		default:
			filter_free(&o.filter);
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (output) {
		o.out = fopen(output, "w");
		if (!o.out) {
			fprintf(stderr, "socktrace view: cannot write %s: %s\n", output, strerror(errno));
			filter_free(&o.filter);
			return 1;
		}
	} else {
		o.out = stdout;
	}
	out_tty = isatty(fileno(o.out));
	if (!format)
		format = "text";
	for (size_t i = 0; i < NFORMATS; i++) {
		if (strcmp(format, formats[i].name) == 0) {
			o.format = formats[i].format;
			r = formats[i].r;
		}
	}
	if (!r) {
		fprintf(stderr, "socktrace view: unknown format '%s' (text, html, mermaid, perfetto, jsonl)\n",
			format);
		goto usage_error;
	}
	o.width = width ? (int)width : terminal_width(fileno(o.out));
	if (o.width < MIN_WIDTH)
		o.width = MIN_WIDTH;
	if (o.width > MAX_WIDTH)
		o.width = MAX_WIDTH;
	/* A terminal that cannot show box-drawing characters gets ASCII. */
	if (out_tty && setlocale(LC_CTYPE, "") && strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		o.ascii = true;
	o.color = color_wanted(color, fileno(o.out));
	o.addr2line = addr2line;
	if (limit >= 0)
		o.limit = (size_t)limit;
	else
		o.limit = o.format == FMT_MERMAID ? DEFAULT_LIMIT_MERMAID : DEFAULT_LIMIT_HTML;

	if (optind >= argc && !(dflt = st_default_trace("view"))) {
		filter_free(&o.filter);
		return 1;
	}
	const char *const *paths = optind < argc ? (const char *const *)argv + optind : &dflt;
	size_t npaths = optind < argc ? (size_t)(argc - optind) : 1;
	o.title = paths[0];
	/* After all that asked the terminal (width, colours, locale). */
	if (out_tty && !output && !no_pager && o.format == FMT_TEXT)
		paged = pager_start();
	if (out_tty && o.out == stdout && !paged)
		setvbuf(stdout, NULL, _IOLBF, 0);
	status = view_render(&o, r, paths, npaths);
	if (fflush(o.out) != 0 && status == 0) {
		fprintf(stderr, "socktrace view: cannot write the output: %s\n", strerror(errno));
		status = 1;
	}
	if (paged)
		pager_finish();
	if (output && fclose(o.out) != 0 && status == 0) {
		fprintf(stderr, "socktrace view: cannot write %s: %s\n", output, strerror(errno));
		status = 1;
	}
	filter_free(&o.filter);
	return status;

usage_error:
	fputs("Try 'socktrace view --help'.\n", stderr);
	filter_free(&o.filter);
	return ST_EXIT_USAGE;
}
