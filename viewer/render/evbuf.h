/* The events html and mermaid output keep (up to a limit), with their
 * labels and arrows, and the columns they are drawn in. The arrows are
 * settled at the end, when the whole trace has said which peers were
 * traced. */
#ifndef SOCKTRACE_EVBUF_H
#define SOCKTRACE_EVBUF_H

#include "render/diagram.h"
#include "model/pairing.h"
#include "read/vev.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bev {
	uint64_t seq;
	int pid, tid;
	int64_t t, dur, tend;
	enum tr_kind kind;
	bool err, fault, warn;
	bool pending;        /* a "not yet" (EINPROGRESS, EAGAIN): not a failure */
	bool stack;          /* the record has a call stack */
	char *label;
	struct label_parts parts; /* where label may be shortened */
	char *json;          /* the record with pairing fields (html) */
	const struct conn *conn;
	struct arrow a;
	int col;             /* its column */
	int pcol;            /* the arrow's other column, -1 without arrow */
	long prow;           /* the row of its partner when drawn, else -1 */
};

struct bcol {
	bool remote;
	int pid;
	char key[ADDR_MAX + 16];
	char name[ADDR_MAX + 16];
	char sub[32];
	size_t first, last;  /* rows */
};

struct evbuf {
	struct bev *v;
	size_t n, cap;
	size_t limit;        /* 0: none */
	unsigned long over;  /* shown events not kept */
	size_t preview;
	bool with_json;
	struct bcol *cols;
	size_t ncols;
};

void evbuf_init(struct evbuf *b, size_t limit, size_t preview, bool with_json);
void evbuf_add(struct evbuf *b, struct vev *ev, const struct model *m);
/* Settles arrows and columns once the trace is read. */
void evbuf_finish(struct evbuf *b, const struct model *m);
void evbuf_free(struct evbuf *b);

#endif
