/* A strict scanner for one JSON object per line, made for the trace's
 * records: it decodes the members a schema names straight into a flat
 * array of values (strings unescaped into an arena the caller provides)
 * and checks and skips everything else, without building a tree and
 * without allocating.
 *
 * It accepts a subset of what jansson's json_loadb(JSON_ALLOW_NUL)
 * accepts, and decodes what it accepts to the same values: the reader
 * gives every line it refuses to jansson, which then decides, with its own
 * error messages. So anything unusual may be refused here (containers
 * nested deeper than JS_MAX_DEPTH, reals too long to check), but nothing
 * jansson refuses may be accepted: UTF-8 is checked as jansson checks it,
 * \u escapes and surrogate pairs likewise, integers beyond int64_t are
 * refused, reals that overflow a double too, and NUL in keys. As with
 * jansson, a key given twice takes its last value. */
#ifndef SOCKTRACE_JSCAN_H
#define SOCKTRACE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Containers (objects, arrays) nested deeper than this are refused. */
#define JS_MAX_DEPTH 64

enum js_type {
	JS_ABSENT, /* not in the object (0, so zeroed slots are absent) */
	JS_NULL,
	JS_FALSE,
	JS_TRUE,
	JS_INT,
	JS_REAL,
	JS_STR,
	JS_ARR,
	JS_OBJ,
};

struct js_val {
	const char *s; /* JS_STR: unescaped, NUL-terminated (may hold NULs) */
	int64_t i;     /* JS_INT */
	uint32_t len;  /* JS_STR: bytes; JS_ARR: elements */
	uint8_t type;  /* enum js_type */
};

struct js_schema;

/* A member to decode: its value goes to slots[slot]. An object value is
 * decoded further with sub (its members' slots must follow, after slot);
 * the first elems elements of an array value go to slot + 1 ... */
struct js_field {
	const char *name;
	unsigned slot;
	const struct js_schema *sub;
	unsigned elems;
};

#define JS_INDEX_SIZE 128

struct js_schema {
	const struct js_field *fields;
	unsigned nfields;
	/* Filled by js_schema_prepare. */
	unsigned nslots;             /* 1 + the highest slot, nested ones included */
	uint8_t index[JS_INDEX_SIZE]; /* key hash -> 1 + field index; 0: none */
	uint8_t klen[JS_INDEX_SIZE];  /* ... and the length of its name */
	bool ready;
};

/* Builds the key index of schema and of its nested schemas. Returns 0, or
 * -1 when the fields do not fit the index (a programming error). */
int js_schema_prepare(struct js_schema *schema);

/* Scans line[0..n), an object with optional whitespace around it. On
 * success returns 0 with slots[0 .. schema->nslots) filled (JS_ABSENT
 * for members not there) and the strings in arena, which must hold n + 1
 * bytes. Returns -1 for anything else: not an object, not JSON, or JSON
 * this scanner leaves to jansson. Never reads outside line[0..n). */
int js_scan(const char *line, size_t n, const struct js_schema *schema, struct js_val *slots,
	    char *arena);

#endif
