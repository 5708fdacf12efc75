/* What every diagram draws for an event: its one-line label and the arrow
 * that links it to the other side (a process, or a remote endpoint when
 * the peer was not traced). Shared by the text, HTML and Mermaid output. */
#ifndef SOCKTRACE_DIAGRAM_H
#define SOCKTRACE_DIAGRAM_H

#include "util/addr.h"
#include "model/pairing.h"
#include "read/vev.h"

#include <stdbool.h>
#include <stddef.h>

enum arrow_kind {
	AR_NONE,
	AR_CONNECT,
	AR_DATA,
	AR_CLOSE,
	AR_FAIL,   /* a connect that failed */
};

struct arrow {
	enum arrow_kind kind;
	bool out;                 /* drawn from this event to the other end */
	int pid;                  /* the other end's process; 0: a remote endpoint */
	char remote[ADDR_MAX + 16]; /* the remote endpoint, when pid is 0 */
	uint64_t partner;         /* seq of the paired event, 0 if none */
	char text[48];            /* "c1" (connect), "c1 3 B", "c1 FIN", "c1 RST",
				   * "c1 ECONNREFUSED": the connection first */
	/* How the connection's end may change it (arrow_final). */
	int other;                /* the side of the other end */
	bool unpaired;            /* drawn only if the other side is never traced */
	bool is_connect, is_fin;
};

/* What the whole trace says about a connection, which an event's arrow
 * depends on: whether each side was ever traced, and whether it failed. */
#define CF_SEEN0 1u
#define CF_SEEN1 2u
#define CF_FAILED 4u
unsigned conn_final(const struct conn *c);

/* "connect(3, 127.0.0.1:80)", "recv(4) 12 B \"hi\\n\"", "accept(3) = 4
 * 127.0.0.1:5555", ... ASCII only; preview_max 0 leaves payloads out. */
size_t ev_label(const struct vev *ev, char *buf, size_t cap, size_t preview_max);

/* Where a label may be shortened, for a diagram that must fit: the call
 * [0, call_end) ("connect(5, 127.0.0.1:8765)") in the middle of its
 * arguments; the result [call_end, result_end) (" = -1 ECONNREFUSED",
 * " 12 B", " = 0 EOF") never; what follows (a peer address, a payload
 * preview, " [tid N]") from its end. A note (exec, warning, end) is all
 * call. */
struct label_parts {
	size_t call_end, result_end;
};
size_t ev_label_parts(const struct vev *ev, char *buf, size_t cap, size_t preview_max,
		      struct label_parts *parts);
/* The arrow ev may have, kind AR_NONE when it has none: to its partner
 * when it has one, else to the remote endpoint, as if the peer were never
 * traced (a first pass cannot know yet). */
void ev_arrow(const struct vev *ev, const struct model *m, struct arrow *a);
/* Settles a with what the whole trace says about its connection (final
 * from conn_final, fail its errno when known). */
void arrow_final(struct arrow *a, unsigned final, const char *fail);
/* Pauses, marked in the diagrams with their length ("--- 213ms ---"):
 * a time of at least view_opts.gap between the moment a shown call last
 * returned and the moment the next one returns, in which no shown call
 * returned (a call that blocked through it says so by its duration). */
struct idle {
	int64_t last;        /* the latest return so far */
	bool any;
};
/* The pause before ev, drawn in order after the events given before (0:
 * none, or gap is 0); remembers ev. */
int64_t idle_before(struct idle *g, int64_t gap, int64_t tend);

/* Whether diagrams draw ev at all: not the end record of an image that
 * exec'd (its exec record says it). */
bool ev_drawn(const struct vev *ev);

#endif
