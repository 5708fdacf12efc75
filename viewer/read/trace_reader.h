/* Streaming reader of socktrace traces (docs/trace-format.md).
 *
 * Takes trace files and directories, checks each file's header, and merges
 * the records of all files into one stream ordered by the time each call
 * returned (ts + dur, aligned across hosts with the headers' clock pairs).
 * Memory does not grow with the number of records: a file is opened when
 * the merge reaches it and closed when it is used up, and each open file
 * holds a small look-ahead window that puts back in order the records of
 * threads that finished in a different order than they wrote.
 *
 * What cannot be read is accounted for, never fatal when the format allows
 * it: NUL padding of killed writers is skipped silently; an incomplete
 * record (a writer killed while copying it) and records this reader does
 * not understand are skipped and reported by tr_report(). A file that is
 * not a trace, or a line in the middle that is not JSON, is an error that
 * names the file and line.
 *
 * Records come as jansson trees (rec->j), for the renderers that print
 * them, or, with TR_FAST, as the few fields the pairing model and the
 * statistics need (rec->fields, decoded by jscan.c without building a
 * tree: several times faster). A line the fast scanner does not take is
 * given to jansson, so both ways accept, skip and report the same lines
 * with the same messages; such a record comes with rec->j even then. */
#ifndef SOCKTRACE_TRACE_READER_H
#define SOCKTRACE_TRACE_READER_H

#include "read/binrec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Records held per open file to undo small disorders between threads. */
#define TR_LOOKAHEAD 16
/* Longest line accepted (records are at most 4 KiB, headers a little more). */
#define TR_LINE_MAX (1 << 20)

enum tr_kind {
	TR_CALL,
	TR_EXEC,
	TR_END,
	TR_WARNING,  /* something the shim could not see (io_uring, ...) */
	TR_CTL,      /* fault rules changed by `socktrace ctl` */
};

struct tr_file;
struct tr_fields;
struct instream;

struct tr_record {
	json_t *j;           /* owned by the record: tr_record_free() */
	struct tr_fields *fields; /* instead of j with TR_FAST (trace_fields.h) */
	struct tr_file *file;
	long line;           /* 1-based line in the file */
	enum tr_kind kind;
	int64_t ts;          /* as written (CLOCK_MONOTONIC of its host) */
	int64_t dur;         /* 0 when absent */
	int64_t key;         /* merge key: ts + dur + the file's host offset */
};

struct tr_reader;

struct tr_file {
	char *path;          /* as given; "-" is standard input */
	size_t index;        /* position in the sorted file list */
	const struct tr_reader *reader; /* the reader it belongs to */
	/* Where it is in its input. A stream or a file named may hold
	 * several traces one after the other (`socktrace cat DIR | ...`,
	 * `cat a.jsonl b.jsonl > ab.jsonl`): each is a tr_file of its own,
	 * as if it were a file. */
	int part;            /* its rank among them, from 1; 0: the input is one */
	uint64_t part_start; /* where it begins in the input's content */
	uint64_t part_len;   /* its length; 0: to the input's end */
	bool named;          /* its input was named, and read through for the
			      * traces joined in it (not a directory's file) */
	char *shown;         /* its name in messages when a part ("stdin (trace
			      * 2, pid 1234)"); NULL: the path's */
	/* From the header. */
	int pid, ppid;
	char *prog;
	char *name;          /* shown for it: prog, or an interpreter's script
			      * (progname.h) */
	char *host;
	char *exe;           /* the program (/proc/self/exe), "" when absent */
	int64_t clock_mono, clock_real;
	bool has_clock;
	int64_t start;       /* when the shim started in this image; -1 unknown */
	int64_t forked;      /* a fork child: when it was forked, relative to the
			      * reader's base like the events' times; INT64_MIN
			      * when not known */
	int payload;
	int minor;
	int64_t offset;      /* added to ts: 0 on a single host */
	int64_t first_ts;    /* when its first record's call began (offset
			      * applied); INT64_MAX: no record */

	/* Reading state. */
	bool binary;         /* a binary trace (docs/trace-format.md) */
	uint64_t nul_holes;  /* ... NUL bytes seen before a record */
	uint64_t nul_pending; /* ... and since the last record */
	struct bin_file bin; /* ... its decoder's state */
	struct instream *in; /* NULL when closed (read/instream.h) */
	uint64_t left;       /* bytes of the part not read yet, while open;
			      * UINT64_MAX: to the end */
	bool detect;         /* reading stops where another trace begins */
	bool scan_only;      /* ... finding records, not decoding them */
	bool part_fresh;     /* nothing but NUL bytes read of this trace yet */
	bool line_start;     /* scan_only: what was read last ended a line */
	bool stream_cut;     /* compressed data ended early (ins_damage) */
	bool cut_told;       /* ... and that gave its cut record */
	bool damage_noted;   /* ... and was accounted for */
	bool started;        /* opened by the merge (past the header scan) */
	bool eof;
	off_t resume;        /* where records start (after the header) */
	char *buf;           /* read buffer while open */
	size_t pos, len, cap;
	off_t consumed;      /* bytes of the file consumed by lines */
	long line;
	struct tr_record la[TR_LOOKAHEAD];
	size_t nla;
	int64_t next_key;
};

struct tr_reader {
	struct tr_file **files;
	size_t nfiles;
	struct tr_file **heap;
	size_t nheap;
	FILE *diag;          /* warnings and errors */
	bool multihost;
	int64_t base;        /* time zero: the earliest start of a traced image
			      * (aligned), so no call begins before it */
	char *line;          /* shared line buffer */
	const char *bad_why; /* why the last binary record was not usable */
	struct tr_fields *bin_fields; /* the last binary record's, decoded directly */
	size_t line_cap;

	/* Accounting, reported by tr_report(). */
	unsigned long records;
	unsigned long skipped_cut;      /* incomplete records */
	unsigned long skipped_invalid;  /* JSON, but not a record we can use */
	unsigned long skipped_unknown;  /* rec kinds this reader does not know */
	unsigned long inner_headers;    /* headers in the middle of a trace */
	char first_inner_header[512];
	bool inner_named;               /* ... of an input read through for them */
	unsigned long skipped_files;    /* empty files, files cut in the header */
	unsigned long dropped;          /* records the shim could not write */
	char first_dropped[256];
	char first_cut[512];
	char first_invalid[512];
	unsigned long damaged_streams;  /* compressed files cut short or corrupt */
	char first_damaged[512];
	int newest_minor;
	char newest_file[256];
	bool quiet;          /* warnings off (an earlier pass gave them) */
	bool fast;           /* TR_FAST */
	bool keep_lines;     /* TR_LAZY */
	bool failed;         /* a fatal error was reported */
};

/* tr_open flags */
#define TR_QUIET 1u
/* Records as fields, not trees, where the scanner can (rec->fields). */
#define TR_FAST 2u
/* TR_FAST, keeping each line, so that tr_record_json() can build the tree
 * of the records a renderer looks into. */
#define TR_LAZY 4u

/* Resolves paths (files, or directories of trace files; a directory
 * without trace files but with a `latest` entry stands for that; "-" is
 * standard input, and a pipe or a FIFO is read like a file), reads every
 * header and prepares the merge. An input named (a file, "-", a pipe;
 * not a directory's files, one trace each as the shim writes them) is
 * read through first for the traces joined in it: where a header line
 * or a binary prologue starts another, it is a tr_file of its own from
 * there (kept for the process: a second tr_open does not read it again).
 * Returns 0, or -1 after printing why (unreadable input, not a socktrace
 * trace, another major version). */
int tr_open(struct tr_reader *r, const char *const *paths, size_t npaths, FILE *diag,
	    unsigned flags);
/* The next record in time order: 1 and *rec filled, 0 at the end, -1 on a
 * fatal error (printed). */
int tr_next(struct tr_reader *r, struct tr_record *rec);
void tr_record_free(struct tr_record *rec);
/* The record's tree: rec->j, built from the kept line on first use with
 * TR_LAZY (the same tree tr_open without flags gives). NULL only when
 * memory runs out. */
json_t *tr_record_json(struct tr_record *rec);
/* Prints what was skipped (nothing when all was read). */
void tr_report(const struct tr_reader *r, const char *prog);
void tr_close(struct tr_reader *r);

/* What tr_file_lines met besides whole records. */
struct tr_line_counts {
	int part;                /* tr_file_traces: the trace's rank in the
				  * file, from 1; 0: the file holds one */
	const char *shown;       /* ... its name in messages */
	bool binary;
	unsigned long lines;
	unsigned long cut;       /* incomplete records (killed writers, damage) */
	unsigned long invalid;   /* whole records this reader cannot use */
	uint64_t nul_holes;      /* binary files: NUL bytes between records */
	uint64_t nul_padding;    /* ... and after the last one */
	unsigned long unknown_refs; /* references to endpoints or strings never defined */
	long first_cut, first_invalid; /* their record numbers */
	char why[128];           /* why the first invalid one is */
};

/* Receives one record as its JSON line, newline included: 0 to go on. */
typedef int (*tr_line_fn)(void *ctx, const char *line, size_t n);

/* Every record of one file, in the file's order, as the JSON lines the
 * jsonl format writes (a binary file decoded, a jsonl file as it is),
 * the header first. The file is read once, as a stream: "-" (standard
 * input) or a pipe too, gzip or zstd decompressed; compressed data that
 * end early are read up to there, their end counted as a cut record and
 * said on diag. Returns 0, or -1 after printing why (unreadable, a
 * binary version this reader does not take, fn failed). */
int tr_file_lines(const char *path, FILE *diag, tr_line_fn fn, void *ctx,
		  struct tr_line_counts *counts);

/* Told the end of each trace of a file, with what it met: 0 to go on. */
typedef int (*tr_trace_fn)(void *ctx, const struct tr_line_counts *counts);

/* tr_file_lines, trace by trace: a file (or a stream) that holds several
 * traces one after the other gives each one's lines, then its counts to
 * done (counts->part from 1, counts->shown "stdin (trace 2, pid 1234)");
 * a file of one trace, its lines and counts (part 0, shown its name).
 * Read as it comes: nothing is read ahead. */
int tr_file_traces(const char *path, FILE *diag, tr_line_fn fn, tr_trace_fn done, void *ctx);

/* The trace files the paths name, as tr_open finds them (a directory's
 * files sorted by name; `latest`). 0, or -1 after printing why. The
 * caller frees each and the list. */
int tr_expand_paths(const char *const *paths, size_t npaths, FILE *diag, char ***list,
		    size_t *n);

/* Whether a directory entry's name is a trace file's as the shim writes
 * them (*.trace, *.jsonl). */
bool tr_is_trace_name(const char *name);
/* ... or compressed (*.trace.gz, *.jsonl.zst, ...): the files a
 * directory given to the reader is read for. Whether a file is gzip or
 * zstd is told by its first bytes, whatever its name. */
bool tr_is_any_trace_name(const char *name);

/* The header of f as a tree (read again from the file, as the reader
 * reads it: binary or JSON Lines, compressed or not, standard input),
 * NULL when it cannot be read. The caller owns it. */
json_t *tr_file_header(const struct tr_file *f);

/* The name of a path in messages: "stdin" for "-", else the path. */
const char *tr_shown_path(const char *path);
/* ... of a file of the reader: its path's, or, for one of the traces
 * joined in an input, "stdin (trace 2, pid 1234)". */
const char *tr_file_shown(const struct tr_file *f);

/* The default input, where the shim writes: $SOCKTRACE_OUT when set,
 * else ./socktrace-out/latest when it exists, else ./socktrace-out. */
const char *tr_default_path(void);

#endif
