/* The causal order: the reader gives records in the order their calls
 * returned, and a blocking recv often returns before the send that fed it
 * (close() returns after the peer saw EOF), so that order draws effects
 * before their causes. This stage holds each event from when it is read
 * (and fed to the model) until every cause the model linked to it has
 * been written out, and its thread's earlier events have: the output is
 * in happens-before order (each thread's own order, connect before the
 * accept that answered it, a send before the receives that consumed its
 * bytes, a FIN or reset before the peer's EOF or ECONNRESET), the
 * reader's order breaking ties. Events are numbered (seq) as they come
 * out, and their links (partners) point only backwards.
 *
 * An effect whose cause has not been read waits while it may still come:
 * the model says until when (vev.hold_until, a time of the reader's
 * clock: the end of the effect plus a window, long when the other end is
 * traced, short when it may be). Past that, it comes out without the
 * link, and a cause read later is not linked (counted as late). Memory
 * holds the events waiting and the events of their threads behind them,
 * never the whole trace; past CAUSAL_HELD_MAX held events, the oldest is
 * let out (counted). */
#ifndef SOCKTRACE_CAUSAL_H
#define SOCKTRACE_CAUSAL_H

#include "model/pairing.h"
#include "read/trace_reader.h"
#include "read/vev.h"

#include <stdbool.h>
#include <stdint.h>

/* Events held at most; past it the oldest goes out without waiting. */
#define CAUSAL_HELD_MAX 1000000

struct causal;

typedef void (*causal_emit_fn)(void *st, struct vev *ev);

struct causal *causal_new(struct model *m, causal_emit_fn emit, void *st);
/* Takes rec (which it frees in time), decodes it as the in-th record,
 * feeds it to the model and writes out what may go. */
void causal_feed(struct causal *c, struct tr_record *rec, uint64_t in, int64_t base);
/* The end of the input: writes out everything held. */
void causal_flush(struct causal *c);
/* Links dropped because their effect was let out before the cause was
 * (a cycle of links, or the held limit). */
unsigned long causal_forced(const struct causal *c);
void causal_free(struct causal *c);

#endif
