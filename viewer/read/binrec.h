/* The records of a binary trace file as the JSON lines the jsonl format
 * writes (docs/trace-format.md, "Binary files"): one decoder for the
 * reader, `socktrace cat` and the fuzzer. Keeps what a file's records
 * define for those after them (the endpoints of each socket). */
#ifndef SOCKTRACE_BINREC_H
#define SOCKTRACE_BINREC_H

#include "read/trace_fields.h"
#include "recjson.h"
#include "util/hmap.h"

#include <stddef.h>
#include <stdint.h>

/* What a file's records defined, by id (binrec.c). */
struct bin_defs {
	uint64_t base;
	void **slot;
	size_t cap;
	struct hmap far;
};

struct bin_file {
	struct st_conv conv;
	struct bin_defs eps;  /* struct bin_ep */
	struct bin_defs strs; /* struct bin_str */
};

void bin_file_init(struct bin_file *b, int64_t base);
/* Forgets the definitions (the file is read again from its start). */
void bin_file_reset(struct bin_file *b);
void bin_file_free(struct bin_file *b);

/* A frame's body as one JSON line, newline included, into out (at least
 * ST_JSON_LINE_MAX bytes, or the JSON record's length plus one). Returns
 * its length, or 0 when the body is no record this reader can use (*why
 * says why). */
size_t bin_body_json(struct bin_file *b, const uint8_t *body, size_t n, char *out, size_t cap,
		     const char **why);

/* A call record's body straight into the fields the reader's fast path
 * decodes (trace_fields.h), the very values tr_fields_parse would take
 * from its JSON line, without the line; NULL when this takes a
 * record it does not (an endpoint definition, escapes in a name, a
 * shape it does not know): the caller then prints the line. */
struct tr_fields *bin_call_fields(struct bin_file *b, const uint8_t *body, size_t n);

#endif
