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
 *   each recv a range, and calls whose ranges overlap pair up: the recv is
 *   the effect, the sends its causes, whichever the reader gave first (on
 *   loopback a recv often returns before the send that fed it: the causal
 *   order, causal.h, holds it until they are out). A recv with MSG_PEEK
 *   pairs with the bytes it saw and consumes none.
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

#include "read/vev.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conn_kind {
	CONN_STREAM,
	CONN_DGRAM,
};

/* Unmatched byte ranges (or datagrams, as [0, size)) of one direction. */
struct seg {
	struct evnode *node;
	int64_t start, end;
	int64_t tend;        /* when its call returned */
};

struct segq {
	struct seg *v;
	size_t head, len, cap;
};

/* Bytes a sender can be ahead of its receiver: what the kernel buffers
 * between them, far above any socket buffer (net.core.wmem_max and
 * rmem_max are a few MiB). Sends further behind than this cannot be read
 * any more: their peer was not traced or never read them. */
#define INFLIGHT_MAX ((int64_t)1 << 30)

/* How long an effect waits for a cause not read yet (causal.h): a recv
 * for the bytes of a traced peer, an EOF for its FIN, a connect in
 * progress for its outcome; as long as the longest call can block (a
 * send of a large buffer to a slow reader returns after the recv calls it
 * fed). */
#define WINDOW_DEFAULT ((int64_t)10 * 1000 * 1000 * 1000)
/* ... and for a cause that may come only if the other end is traced but
 * has not been seen yet (an accept's connect, a datagram's send): such
 * calls return at once, so this need only cover scheduling delays. */
#define WINDOW_SHORT ((int64_t)50 * 1000 * 1000)

/* How a connection's set-up ended, as far as the trace tells. */
enum conn_outcome {
	OUT_UNKNOWN,         /* in progress at the end, or no connect seen */
	OUT_ESTABLISHED,
	OUT_FAILED,          /* conn.fail says how */
	OUT_ABANDONED,       /* closed while in progress */
};

struct cside {
	int pid;             /* the first process seen on this side; 0: none */
	char *addr;          /* its address, normalised; "" when unknown */
	bool seen;           /* a traced process made calls on this side */
	bool connected;      /* called connect */
	bool accepted;       /* came out of accept */
	struct evnode *fin;  /* its FIN: its first shutdown(SHUT_WR), or the close
			      * by its last holder, or the end of that holder */
	enum { FIN_CLOSE, FIN_SHUTDOWN, FIN_EXIT } fin_kind; /* what fin was */
	bool fin_tentative;  /* that close may have left the socket to a forked
			      * child that has not used it yet */
	int holders;         /* descriptors known open on it, in any process */
	bool closed;         /* none left, none possibly in a forked child */
	int last_pid, last_fd; /* the last known holder that let it go: its */
	int64_t last_since;  /* descendants since then may hold it (ptree.h) */
	uint64_t last_send;  /* reader's order (vev.in) of its latest send */
	struct evnode *eof;  /* a recv of EOF waiting for the peer's close */
	bool eof_paired;
	bool reset;          /* a recv here failed with ECONNRESET */
	bool reset_injected; /* ... because socktrace injected it */
	bool eof_injected;   /* a recv here returned 0 by a fault rule (close) */
	int64_t bytes;       /* sent by this side */
	int64_t msgs;        /* data calls (datagrams) that sent something */
	int64_t bytes_in;    /* received by this side */
	int64_t msgs_in;
};

/* What a first pass over the same trace learnt of a connection (the ids
 * of a second pass are the same): how its set-up ended, and whether each
 * side was ever traced. A second pass then knows what only the end of the
 * trace tells, so it need not hold effects for causes that never come. */
struct conn_prior {
	enum conn_outcome outcome;
	char fail[24];
	bool fail_injected;
	bool seen[2];
};

struct conn {
	uint32_t id;         /* 1, 2, ... in order of appearance */
	const struct conn_prior *prior; /* NULL without a first pass */
	enum conn_kind kind;
	struct cside side[2];
	struct evnode *connect_ev, *accept_ev;
	bool linked;         /* connect and accept paired */
	enum conn_outcome outcome;
	struct evnode *in_progress; /* a connect waiting for its outcome */
	char fail[24];       /* errno of a failed connect, or "" */
	bool fail_injected;  /* the failure was an injected fault */
	int64_t connect_t;   /* when the first connect began; -1: none */
	int64_t established_t; /* when it was known to be set up; -1 */
	int64_t first_data_t[2]; /* first byte sent by side d arrived; -1 */
	bool socketpair;     /* made by socketpair(): both ends in one process
			      * (and its children) */
	int64_t accepted_at; /* when its accept returned; INT64_MAX: none yet */
	int64_t client_ino;  /* a unix client's socket: from its connect, or
			      * from the accept (peer_ino); 0: not known */
	int client_pid;      /* who connected, as the accept of a unix socket
			      * says (SO_PEERCRED); 0: not known */
	int64_t first_t, last_t;
	/* Per direction d (bytes sent by side d). */
	int64_t sent_off[2], recv_off[2];
	struct segq sendq[2], recvq[2];
};

struct model;

/* window: how long an effect waits for a cause (WINDOW_DEFAULT). */
struct model *model_new(int64_t window);
void model_free(struct model *m);
/* Pairs ev with what the reader gave before it: fills conn, side, link,
 * out, off, its causes (and those of held effects it caused), and
 * whether it waits for one (ev.awaiting, hold_until). */
void model_feed(struct model *m, struct vev *ev);
/* ev waited for a cause and goes out without it: a last look (a FIN
 * that was tentative then may be final now). */
void model_settle(struct model *m, struct vev *ev);
/* Causes read after their effect had gone out (past the window). */
unsigned long model_late_links(const struct model *m);
/* Sends dropped unmatched past INFLIGHT_MAX. */
unsigned long model_bound_drops(const struct model *m);

size_t model_nconns(const struct model *m);
/* i from 0; connection ids are i + 1. */
const struct conn *model_conn(const struct model *m, size_t i);
/* The pid listening on addr (or on its port at a wildcard), else 0. */
int model_listener(const struct model *m, const char *addr);
/* The parent of pid when it is a traced process too (a fork child of a
 * server, a program a traced shell started), else 0. */
int model_parent(const struct model *m, int pid);
/* The column caption of a process: "pid 1234", or "pid 1234 ppid 1200"
 * under a traced parent (a forked child is tied to its parent's column). */
void proc_caption(const struct model *m, int pid, char *buf, size_t cap);
/* The program name of pid: that of its latest image that made a call. */
const char *model_prog(const struct model *m, int pid);

/* The name it is shown by: the program, or an interpreter's script
 * ("srv.py" for `python3 srv.py`; tr_file.name). */
const char *model_name(const struct model *m, int pid);
/* What pid was on the connections of the trace so far: "client",
 * "server", "client and server" (a proxy), or "" (none). */
const char *model_role(const struct model *m, int pid);

/* For a second pass: what the first learnt of each connection. */
void model_take_prior(struct model *m, const struct model *first);
/* How c's set-up ended: as known so far, or as a first pass found. */
enum conn_outcome conn_outcome(const struct conn *c);
/* The errno it failed with ("" when it did not), likewise. */
const char *conn_fail(const struct conn *c);
/* "established", "refused", "timed out", ... of a connection's set-up. */
const char *conn_outcome_text(const struct conn *c);
/* How it ended: who sent the first FIN and how ("client closed first",
 * "server shut down first", "server exited first": the kernel closed it),
 * with "(client read EOF)" when the other end read it; "reset by server",
 * "refused (ECONNREFUSED)", "open at end of trace", ... */
const char *conn_end_text(const struct conn *c, char *buf, size_t cap);
/* Bytes (or, with msgs, datagrams) that went from side d to the other:
 * what either end saw, when only one was traced. */
int64_t conn_bytes(const struct conn *c, int d, int64_t *msgs);
/* The errno a call really ended with: a connect in progress takes its
 * connection's outcome (NULL when it was established, its errno when it
 * failed), known once the connect is out of the causal order; else err. */
const char *vev_result_err(const struct vev *ev);
/* Failed (errno set, not a "not yet"), injected, or a warning of the
 * shim; a connect in progress whose connection then failed (its outcome
 * is known when it is written out). */
bool vev_is_error(const struct vev *ev);
/* "tcp_server 1234", "srv.py 1234" (model_name; sanitised). */
void proc_label(const struct model *m, int pid, char *buf, size_t cap);
/* "client"/"server" for a stream, "sender"/"receiver" for datagrams. */
const char *conn_side_name(const struct conn *c, int side);
/* Protocol shown to people: "tcp", "tcp6", "udp", "unix", "unix-dgram". */
const char *conn_proto(const struct conn *c);

#endif
