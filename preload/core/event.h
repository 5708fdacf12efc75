/* Formatting of one trace event (a JSON object on one line).
 *
 * The shim calls these after the real call returned; the order of fields
 * is fixed (see docs/trace-format.md) so that traces diff well. */
#ifndef SOCKTRACE_EVENT_H
#define SOCKTRACE_EVENT_H

#include "fdtable.h"
#include "jsonw.h"

#include <stdint.h>

/* Big enough for any event with the longest addresses and a stack of a
 * few dozen frames; payload previews and stacks are cut to fit. */
#define ST_EV_MAX 8192

/* How the program reached the call, when not through its libc function:
 * "via" in the record. */
enum st_via {
	ST_VIA_NONE,
	ST_VIA_SYSCALL, /* syscall(SYS_x, ...) */
	ST_VIA_STDIO,   /* a stdio function's own read or write */
};

/* "syscall", "stdio"; NULL for ST_VIA_NONE. */
const char *st_via_name(enum st_via via);

struct st_ev_head {
	uint64_t ts;      /* CLOCK_MONOTONIC ns at entry */
	uint64_t dur;     /* ns */
	int pid;
	int tid;
	const char *fn;
	int fd;           /* -1: the call has no fd (omitted) */
	int64_t ret;
	int err;          /* errno when the call failed, else 0 */
	const char *err_name; /* overrides the errno name (EAI_* codes) */
	uint8_t fn_len;   /* strlen(fn) when the caller knows it, else 0 */
	uint8_t via;      /* enum st_via */
};

/* Opens the object and writes the common fields. */
void st_ev_begin(struct jw *w, char *buf, size_t cap, const struct st_ev_head *h);
/* "local"/"peer" from the fd table snapshot, when known. */
void st_ev_addrs(struct jw *w, const struct st_fdsnap *snap);
/* A socket address argument (connect, bind, sendto, ...), as "addr". */
void st_ev_sockaddr(struct jw *w, const char *key, const void *sa, unsigned len);
/* Up to max of the n bytes at data, escaped, as "data"; "data_cut" counts
 * the bytes of the total transferred that the preview does not show. */
void st_ev_payload(struct jw *w, const void *data, size_t n, size_t total,
		   size_t max);
/* Closes the record and returns its length including the newline. A record
 * that did not fit is rewritten as its head alone with "cut":true, so the
 * trace keeps a valid line for every call. */
size_t st_ev_end(struct jw *w, char *buf, size_t cap, const struct st_ev_head *h);

#endif
