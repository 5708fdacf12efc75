/* socktrace cat: the records of trace files as JSON Lines, each file's
 * header first, exactly the lines SOCKTRACE_FORMAT=jsonl would have
 * written; with --split, one .jsonl file per process. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/tracedir.h"
#include "util/msg.h"
#include "read/trace_reader.h"

#include <socktrace/trace_format.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace cat [--split OUTDIR] [TRACE...]\n"
	      "\n"
	      "Prints the records of trace files (binary or JSON Lines) as JSON Lines, one\n"
	      "file after the other in the order of their names, each file's header first:\n"
	      "exactly the lines SOCKTRACE_FORMAT=jsonl would have written, for jq and grep.\n"
	      "TRACE is a file or a directory (default: $SOCKTRACE_OUT, else\n"
	      "./socktrace-out/latest), - for standard input, or a pipe; gzip and zstd\n"
	      "files are decompressed.\n"
	      "\n"
	      "  --split OUTDIR  write one PROG.PID.jsonl per trace file into OUTDIR instead\n"
	      "  -h, --help      this help\n"
	      "\n"
	      "What cannot be read (records cut by a killed process, damage) is skipped and\n"
	      "reported on stderr. Exit status: 0, 1 when a file cannot be read or written,\n"
	      "2 on bad usage.\n",
	      out);
}

struct cat_out {
	FILE *f;
	const char *name;
	long lines;
	bool not_trace; /* its first line is no header: nothing printed */
};

/* Lines go out as they are, once the first says the file is a trace. */
static int put_line(void *ctx, const char *line, size_t n)
{
	static const char header[] = "{\"rec\":\"" SOCKTRACE_REC_HEADER "\"";
	struct cat_out *o = ctx;

	if (o->lines++ == 0 && (n < sizeof(header) - 1 || memcmp(line, header, sizeof(header) - 1))) {
		o->not_trace = true;
		fprintf(stderr, "%s: %s:1: not a socktrace trace (no header record first)\n", msg_who(),
			o->name);
		return -1;
	}
	return fwrite(line, 1, n, o->f) == n ? 0 : -1;
}

/* OUTDIR/NAME.jsonl for the trace file path. */
static int split_name(char *out, size_t cap, const char *dir, const char *path)
{
	char copy[PATH_MAX];
	const char *base;
	size_t len;

	snprintf(copy, sizeof(copy), "%s", tr_shown_path(path));
	base = basename(copy);
	len = strlen(base);
	/* A compressed file's suffix, then the trace's. */
	static const char *const suffixes[] = { ".gz", ".zst", SOCKTRACE_FILE_SUFFIX_BINARY,
						 SOCKTRACE_FILE_SUFFIX_JSONL };
	for (size_t i = 0; i < 4; i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && memcmp(base + len - sl, suffixes[i], sl) == 0) {
			len -= sl;
			if (i >= 2)
				break;
			i = 1;
		}
	}
	return (size_t)snprintf(out, cap, "%s/%.*s%s", dir, (int)len, base,
				SOCKTRACE_FILE_SUFFIX_JSONL) < cap ? 0 : -1;
}

static void report(const char *path, const struct tr_line_counts *c)
{
	if (c->nul_holes)
		fprintf(stderr, "socktrace cat: %s: %llu NUL bytes between records: room a thread "
			"reserved and never filled (a process killed while writing)\n",
			path, (unsigned long long)c->nul_holes);
	if (c->nul_padding)
		fprintf(stderr, "socktrace cat: %s: %llu NUL bytes of padding after the last record "
			"(a process killed, or under a seccomp filter)\n",
			path, (unsigned long long)c->nul_padding);
	if (c->unknown_refs)
		fprintf(stderr, "socktrace cat: %s: %lu references to endpoints or strings the file "
			"does not define: printed without them (damage)\n",
			path, c->unknown_refs);
	if (c->cut)
		fprintf(stderr, "socktrace cat: %s: %lu incomplete record%s skipped (the first at record %ld): "
			"a process killed while writing, or damage\n",
			path, c->cut, c->cut == 1 ? "" : "s", c->first_cut);
	if (c->invalid)
		fprintf(stderr, "socktrace cat: %s: %lu record%s skipped (the first at record %ld: %s)\n",
			path, c->invalid, c->invalid == 1 ? "" : "s", c->first_invalid, c->why);
}

int cmd_cat(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "split", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *split = NULL, *dflt;
	char **files = NULL;
	size_t nfiles = 0;
	int opt, status = 0;

	optind = 1;
	while ((opt = cli_getopt(argc, argv, "h", longopts)) != -1) {
		switch (opt) {
		case 's':
			split = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (optind >= argc && !(dflt = st_default_trace("cat")))
		return 1;
	if (tr_expand_paths(optind < argc ? (const char *const *)argv + optind : &dflt,
			    optind < argc ? (size_t)(argc - optind) : 1, stderr, &files, &nfiles) != 0)
		return 1;
	if (split && mkdir(split, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "socktrace cat: cannot create %s: %s\n", split, strerror(errno));
		status = 1;
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		struct tr_line_counts c;
		FILE *out = stdout;
		char name[PATH_MAX];

		if (split) {
			int fd;
			if (split_name(name, sizeof(name), split, files[i]) != 0 ||
			    (fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
			    !(out = fdopen(fd, "w"))) {
				fprintf(stderr, "socktrace cat: cannot write %s: %s\n", name, strerror(errno));
				status = 1;
				continue;
			}
		}
		struct cat_out o = { out, tr_shown_path(files[i]), 0, false };
		if (tr_file_lines(files[i], stderr, put_line, &o, &c) != 0)
			status = 1;
		report(tr_shown_path(files[i]), &c);
		if (split ? fclose(out) != 0 : fflush(out) != 0) {
			fprintf(stderr, "socktrace cat: cannot write %s: %s\n",
				split ? name : "the output", strerror(errno));
			status = 1;
			if (!split)
				break;
		}
	}
out:
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	return status;
}
