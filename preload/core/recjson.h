/* Binary record bodies as JSON lines: what `SOCKTRACE_FORMAT=jsonl`
 * writes and what `socktrace cat` prints, by the same code, so the two
 * agree byte for byte. */
#ifndef SOCKTRACE_RECJSON_H
#define SOCKTRACE_RECJSON_H

#include "fields.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A line is at most this long; a call record that would be longer is
 * written as its head with "cut":true. */
#define ST_JSON_LINE_MAX 16384

/* The endpoints an "ep" id stands for (strings valid as JSON content). */
struct st_epdef {
	const char *local, *peer;
	size_t local_len, peer_len;
};

/* The state of one file being read: its time base and the endpoints its
 * records defined. The shim's jsonl mode writes no references and passes
 * no callbacks. */
struct st_conv {
	int64_t base;
	void (*ep_define)(void *ctx, uint64_t id, const struct st_epdef *d);
	bool (*ep_lookup)(void *ctx, uint64_t id, struct st_epdef *d);
	/* The same for strings (module paths, function names). */
	void (*str_define)(void *ctx, uint64_t id, const char *s, size_t n);
	bool (*str_lookup)(void *ctx, uint64_t id, const char **s, size_t *n);
	void *ctx;
	unsigned long unknown_eps; /* references to endpoints or strings never defined */
};

/* Writes a call record's fields (the body after its kind byte) as one
 * JSON line into out, newline included. Returns the length, or 0 when the
 * body is not a well-formed record (*why says how). */
size_t st_call_json(char *out, size_t cap, const uint8_t *body, size_t n, struct st_conv *cv,
		    const char **why);

#endif
