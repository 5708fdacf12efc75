/* The pairing model: which calls of which processes belong to the same
 * connection, and which call on one side answers which on the other.
 *
 * Fed the merged stream one event at a time, it keeps per process the
 * sockets it knows (descriptor -> connection), and per connection its two
 * sides and, per direction, a bounded queue of byte ranges not yet matched
 * on the other side. Memory grows with the number of sockets and
 * connections, never with the number of events.
 *
 * - A connection is matched across processes (and hosts) by the pair of
 *   its endpoint addresses, IPv4-mapped IPv6 written as IPv4. Where the
 *   pair does not tell connections apart (unnamed unix sockets), the n-th
 *   connect to an address is matched with the n-th accept on it, and a
 *   forked child finds the sockets it inherited through its parent.
 * - Side 0 is the one that called connect (the client), side 1 the one
 *   that accepted (the server). Without either call, the side listening
 *   on its address is the server.
 * - A stream's bytes are numbered per direction: each send covers a range,
 *   each recv a range, and calls whose ranges overlap pair up, whichever
 *   came first in the merged stream (on loopback a recv often returns
 *   before the send that fed it).
 * - Datagrams pair one to one, first in first out, by size.
 * - An end of a connection is closed when the last descriptor on it is,
 *   in whichever process: a forked child holds what its parent held when
 *   it forked (the trace files' pid and ppid tell who is whose child), so
 *   a forking server's parent closing its copy ends nothing. A close by
 *   the last holder, or a shutdown(SHUT_WR), pairs with the peer's recv
 *   that returned 0 or failed with ECONNRESET. A close followed by more
 *   data from the same side is not the one that ended the connection.
 * - A connection's queues go when both ends are closed. */
#ifndef SOCKTRACE_PAIRING_H
#define SOCKTRACE_PAIRING_H

#include "vev.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conn_kind {
	CONN_STREAM,
	CONN_DGRAM,
};

/* Unmatched byte ranges (or datagrams, as [0, size)) of one direction. */
struct seg {
	struct evref ref;
	int64_t start, end;
};

struct segq {
	struct seg *v;
	size_t head, len, cap;
};

/* Pending ranges kept per queue; older ones are dropped unmatched. A
 * sender may be this many calls ahead of its receiver (socat: 2 MiB of
 * 8 KiB writes before the reader's first read). */
#define SEGQ_MAX 256

struct cside {
	int pid;             /* the first process seen on this side; 0: none */
	char *addr;          /* its address, normalised; "" when unknown */
	bool seen;           /* a traced process made calls on this side */
	bool connected;      /* called connect */
	bool accepted;       /* came out of accept */
	struct evref fin;    /* its latest shutdown(SHUT_WR), or the close by its
			      * last holder */
	bool fin_tentative;  /* that close may have left the socket to a forked
			      * child that has not used it yet */
	int holders;         /* descriptors known open on it, in any process */
	bool closed;         /* none left, none possibly in a forked child */
	int last_pid, last_fd; /* the last known holder that let it go: its */
	int64_t last_since;  /* descendants since then may hold it (ptree.h) */
	uint64_t last_send;  /* seq of its latest send */
	struct evref eof;    /* a recv of EOF waiting for the peer's close */
	bool eof_paired;
	bool reset;          /* a recv here failed with ECONNRESET */
	bool reset_injected; /* ... because socktrace injected it */
	int64_t bytes;       /* sent by this side */
	int64_t msgs;        /* data calls (datagrams) that sent something */
	int64_t bytes_in;    /* received by this side */
	int64_t msgs_in;
};

struct conn {
	uint32_t id;         /* 1, 2, ... in order of appearance */
	enum conn_kind kind;
	struct cside side[2];
	struct evref connect_ev, accept_ev;
	bool linked;         /* connect and accept paired */
	char fail[24];       /* errno of a failed connect, or "" */
	bool fail_injected;  /* the failure was an injected fault */
	int64_t first_t, last_t;
	/* Per direction d (bytes sent by side d). */
	int64_t sent_off[2], recv_off[2];
	struct segq sendq[2], recvq[2];
};

struct model;

struct model *model_new(void);
void model_free(struct model *m);
/* Pairs ev with what came before it: fills conn, side, link, out, off
 * and partners. */
void model_feed(struct model *m, struct vev *ev);

size_t model_nconns(const struct model *m);
/* i from 0; connection ids are i + 1. */
const struct conn *model_conn(const struct model *m, size_t i);
/* The pid listening on addr (or on its port at a wildcard), else 0. */
int model_listener(const struct model *m, const char *addr);
/* The program name of pid: that of its latest image that made a call. */
const char *model_prog(const struct model *m, int pid);

/* "client closed first", "refused (ECONNREFUSED)", "open at end", ... */
const char *conn_end_text(const struct conn *c, char *buf, size_t cap);
/* Bytes (or, with msgs, datagrams) that went from side d to the other:
 * what either end saw, when only one was traced. */
int64_t conn_bytes(const struct conn *c, int d, int64_t *msgs);
/* "client"/"server" for a stream, "sender"/"receiver" for datagrams. */
const char *conn_side_name(const struct conn *c, int side);
/* Protocol shown to people: "tcp", "tcp6", "udp", "unix", "unix-dgram". */
const char *conn_proto(const struct conn *c);

#endif
