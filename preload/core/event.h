/* Encoding of one call record (fields.def, recbuf.h).
 *
 * The shim calls these after the real call returned. Fields go in the
 * order their JSON form lists them (docs/trace-format.md), so the JSON
 * printed from a record reads as it always has. */
#ifndef SOCKTRACE_EVENT_H
#define SOCKTRACE_EVENT_H

#include "fdtable.h"
#include "recbuf.h"

#include <stdint.h>

/* A record's body is at most this long: the longest addresses, a
 * payload preview of ST_PAYLOAD_MAX and a stack of a few dozen frames
 * fit; previews and stacks are cut to fit. */
#define ST_EV_MAX 6144

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
	int64_t base;     /* the file's time base: ts is written relative to it */
	int pid;
	int tid;
	uint16_t fn;      /* enum st_fn */
	int fd;           /* -1: the call has no fd (omitted) */
	int64_t ret;
	int err;          /* errno when the call failed, else 0 */
	const char *err_name; /* overrides the errno (EAI_* codes) */
	uint8_t via;      /* enum st_via */
};

/* Starts the body at buf (cap bytes): its kind and the common fields. */
void st_ev_begin(struct rb *b, uint8_t *buf, size_t cap, const struct st_ev_head *h);
/* "local"/"peer" from the fd table snapshot, when known. */
void st_ev_addrs(struct rb *b, const struct st_fdsnap *snap);
/* A socket address argument (connect, bind, sendto, ...). */
void st_ev_sockaddr(struct rb *b, enum st_field f, const void *sa, unsigned len);
/* Up to max of the n bytes at data as "data"; "data_cut" counts the bytes
 * of the total transferred that the preview does not show. */
void st_ev_payload(struct rb *b, const void *data, size_t n, size_t total, size_t max);
/* Ends the body and returns its length. A record that did not fit is
 * rewritten as its head alone with "cut":true, so the trace keeps a
 * record of every call. */
size_t st_ev_end(struct rb *b, uint8_t *buf, size_t cap, const struct st_ev_head *h);

#endif
