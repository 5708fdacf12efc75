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
	char text[40];            /* "3 B", "c1", "FIN", "RST", "ECONNREFUSED" */
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
/* The arrow ev may have, kind AR_NONE when it has none: to its partner
 * when it has one, else to the remote endpoint, as if the peer were never
 * traced (a first pass cannot know yet). */
void ev_arrow(const struct vev *ev, const struct model *m, struct arrow *a);
/* Settles a with what the whole trace says about its connection (final
 * from conn_final, fail its errno when known). */
void arrow_final(struct arrow *a, unsigned final, const char *fail);
/* Whether diagrams draw ev at all: not the end record of an image that
 * exec'd (its exec record says it). */
bool ev_drawn(const struct vev *ev);

#endif
