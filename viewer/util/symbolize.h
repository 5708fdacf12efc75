/* File and line of the frames of recorded call stacks, from addr2line
 * (binutils), run by the viewer (never by the shim).
 *
 * Each stack frame of a trace names its module and the offset of the call
 * instruction in it (docs/trace-format.md). Callers first say which
 * (module, offset) pairs they will need (sym_want), then resolve them all
 * at once (sym_resolve): one `addr2line -a -f -C -i -e MODULE` process per
 * module, fed every offset of that module on its standard input, no
 * shell. Results are cached: each distinct pair is resolved once. A
 * missing addr2line, a module that is not on this machine, or one without
 * debug information leave the frames as they were recorded (module, offset
 * and the function name of the symbol table). */
#ifndef SOCKTRACE_SYMBOLIZE_H
#define SOCKTRACE_SYMBOLIZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One source location of a frame: a frame inside inlined code has several,
 * the innermost (the inlined function) first. */
struct sym_loc {
	char *func;          /* NULL when addr2line does not know ("??") */
	char *file;          /* NULL when unknown */
	unsigned long line;  /* 0 when unknown */
};

struct sym_result {
	struct sym_loc *locs;
	size_t nlocs;        /* 0: nothing known */
};

struct symbolizer;

/* addr2line: the program to run (looked up in PATH), NULL or "none": no
 * file:line at all. prog names the command in messages ("socktrace view"). */
struct symbolizer *sym_new(const char *addr2line, const char *prog);
void sym_free(struct symbolizer *s);
/* This pair will be looked up. */
void sym_want(struct symbolizer *s, const char *module, uint64_t offset);
/* Runs addr2line once per module with pairs wanted and not yet resolved. */
void sym_resolve(struct symbolizer *s);
/* What is known of a pair (resolving it now if it was never wanted); never
 * NULL (nlocs 0 when nothing is known). Valid until sym_free. */
const struct sym_result *sym_get(struct symbolizer *s, const char *module, uint64_t offset);
/* The number of addr2line processes started (for the tests). */
unsigned long sym_runs(const struct symbolizer *s);

/* A frame of a recorded stack: {"ip","module","offset","func"}. */
struct sym_frame {
	const char *ip;      /* NULL when absent */
	const char *module;  /* NULL when absent */
	const char *func;    /* as recorded, "name+0x12"; NULL when absent */
	uint64_t offset;
	bool has_offset;     /* module and a valid offset: can be resolved */
};

/* Decodes one frame; false when it is not an object. */
bool sym_frame_decode(json_t *frame, struct sym_frame *f);
/* sym_want for every frame of a record's "stack" (none: nothing). */
void sym_want_stack(struct symbolizer *s, json_t *record);
/* What to show for a frame, given what addr2line said of it (loc, or NULL):
 * func gets the function (addr2line's name when it knows the line, else
 * the recorded "name+0x12", else addr2line's name, else "?"), where gets
 * "file:line" when the line is known (only the file's base name when
 * short_paths), else "module+0xOFFSET" (the module's base name when
 * short_paths), else the ip, else "". Returns true when where is a
 * file:line. Both are ASCII (other bytes become '?'). */
bool sym_describe(const struct sym_frame *f, const struct sym_loc *loc, bool short_paths,
		  char *func, size_t fcap, char *where, size_t wcap);

/* Parses addr2line -a -f output for the n addresses given, in order, into
 * res[0..n-1] (zeroed by the caller): each block starts with the address
 * line ("0x00000000000011a9") and holds pairs of lines, function then
 * "file:line" (with -i, one pair per inlined level). Output cut short
 * leaves the rest empty. Returns the number of addresses that got a block. */
size_t sym_parse(const char *text, size_t len, const uint64_t *addrs, size_t n,
		 struct sym_result *res);
void sym_result_free(struct sym_result *r);
/* Splits "file:line" or "file:line (discriminator 2)"; "??:0", "??:?" and
 * "file:?" give NULL file or line 0. Returns the file (malloc'd) or NULL. */
char *sym_parse_location(const char *s, size_t len, unsigned long *line);

#endif
