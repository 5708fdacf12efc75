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
#include <unistd.h>

#include <jansson.h>

static void usage(FILE *out)
{
	fputs("usage: socktrace cat [--split OUTDIR] [TRACE...]\n"
	      "\n"
	      "Prints the records of trace files (binary or JSON Lines) as JSON Lines, one\n"
	      "file after the other in the order of their names, each file's header first:\n"
	      "exactly the lines SOCKTRACE_FORMAT=jsonl would have written, for jq and grep.\n"
	      "TRACE is a file or a directory (default: $SOCKTRACE_OUT, else\n"
	      "./socktrace-out/latest), - for standard input, or a pipe; gzip and zstd\n"
	      "files are decompressed. Traces joined in one input (socktrace cat DIR | ...)\n"
	      "are read as the traces they are, each reported on its own.\n"
	      "\n"
	      "  --split OUTDIR  write one PROG.PID.jsonl per trace file into OUTDIR instead\n"
	      "                  (of traces joined in one input, each named by its header's\n"
	      "                  program and pid)\n"
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
	/* --split: a file per trace. */
	const char *split;   /* OUTDIR, or NULL */
	long trace_lines;    /* lines of the trace being read */
	bool joined;         /* the input holds several traces */
	char file[PATH_MAX]; /* the trace's file (f; NULL when none is open) */
	char named[PATH_MAX]; /* ... its name from its header: OUTDIR/PROG.PID.jsonl */
	char **used;         /* the names given so far */
	size_t nused;
	bool failed;         /* a file could not be written (said) */
};

/* OUTDIR/PROG.PID.jsonl for a trace joined with others, from its header
 * line, as the shim names its files (PROG.PID-2 for the next of that
 * name); "" when the line says neither. */
static void header_name(struct cat_out *o, const char *line, size_t n)
{
	json_t *j = json_loadb(line, n, 0, NULL);
	const char *prog = json_string_value(json_object_get(j, "prog"));
	json_t *pid = json_object_get(j, "pid");
	char safe[256];
	size_t k = 0;

	o->named[0] = '\0';
	if (prog && json_is_integer(pid)) {
		for (; prog[k] && k < sizeof(safe) - 1; k++) {
			char c = prog[k];
			safe[k] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
						  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
					  ? c
					  : '_';
		}
		safe[k] = '\0';
		for (unsigned seq = 1; seq < 1000; seq++) {
			bool taken = false;
			if (seq == 1)
				snprintf(o->named, sizeof(o->named), "%s/%s.%lld%s", o->split,
					 k ? safe : "unknown", (long long)json_integer_value(pid),
					 SOCKTRACE_FILE_SUFFIX_JSONL);
			else
				snprintf(o->named, sizeof(o->named), "%s/%s.%lld-%u%s", o->split,
					 k ? safe : "unknown", (long long)json_integer_value(pid), seq,
					 SOCKTRACE_FILE_SUFFIX_JSONL);
			for (size_t i = 0; i < o->nused && !taken; i++)
				taken = strcmp(o->used[i], o->named) == 0;
			if (!taken)
				break;
		}
		char **more = realloc(o->used, (o->nused + 1) * sizeof(*more));
		if (more) {
			o->used = more;
			if ((o->used[o->nused] = strdup(o->named)))
				o->nused++;
		}
	}
	json_decref(j);
}

static int split_open(struct cat_out *o)
{
	int fd = open(o->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "socktrace cat: cannot write %s: %s\n", o->file, strerror(errno));
		if (fd >= 0)
			close(fd);
		o->failed = true;
		return -1;
	}
	return 0;
}

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
	if (o->split && o->trace_lines++ == 0) {
		header_name(o, line, n);
		/* The second trace of an input and after: a file of its own. */
		if (o->joined) {
			if (!o->named[0])
				snprintf(o->named, sizeof(o->named), "%s/unknown.%zu%s", o->split,
					 o->nused + 1, SOCKTRACE_FILE_SUFFIX_JSONL);
			snprintf(o->file, sizeof(o->file), "%s", o->named);
			if (split_open(o) != 0)
				return -1;
		}
	}
	return fwrite(line, 1, n, o->f) == n ? 0 : -1;
}

static void report(const char *path, const struct tr_line_counts *c);

/* The end of a trace of the input: what it met; with --split, of traces
 * joined, its file closed (the first renamed as the trace it holds). */
static int trace_done(void *ctx, const struct tr_line_counts *c)
{
	struct cat_out *o = ctx;

	report(c->shown, c);
	if (!o->split || !c->part || !o->f)
		return 0;
	if (fclose(o->f) != 0) {
		fprintf(stderr, "socktrace cat: cannot write %s: %s\n", o->file, strerror(errno));
		o->failed = true;
	}
	o->f = NULL;
	if (!o->joined && o->named[0] && rename(o->file, o->named) != 0) {
		fprintf(stderr, "socktrace cat: cannot rename %s to %s: %s\n", o->file, o->named,
			strerror(errno));
		o->failed = true;
	}
	o->joined = true;
	o->trace_lines = 0;
	return o->failed ? -1 : 0;
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
	char **files = NULL, **used = NULL; /* used: the names --split gave */
	size_t nfiles = 0, nused = 0;
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
		struct cat_out o = { .f = stdout, .name = tr_shown_path(files[i]), .split = split,
				     .used = used, .nused = nused };

		if (split) {
			if (split_name(o.file, sizeof(o.file), split, files[i]) != 0) {
				fprintf(stderr, "socktrace cat: cannot write %s: %s\n", o.file,
					strerror(ENAMETOOLONG));
				status = 1;
				continue;
			}
			if (split_open(&o) != 0) {
				status = 1;
				continue;
			}
		}
		if (tr_file_traces(files[i], stderr, put_line, trace_done, &o) != 0 || o.failed)
			status = 1;
		used = o.used;
		nused = o.nused;
		if (split ? o.f && fclose(o.f) != 0 : fflush(stdout) != 0) {
			fprintf(stderr, "socktrace cat: cannot write %s: %s\n",
				split ? o.file : "the output", strerror(errno));
			status = 1;
			if (!split)
				break;
		}
	}
out:
	for (size_t k = 0; k < nused; k++)
		free(used[k]);
	free(used);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	return status;
}
