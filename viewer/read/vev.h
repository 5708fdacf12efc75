/* One record of the merged stream, decoded for the model and the
 * renderers: the fields every part of the viewer looks at, plus what the
 * pairing model adds. Strings point into the record (its JSON, or its
 * fields on the reader's fast path) and live as long as the record. */
#ifndef SOCKTRACE_VEV_H
#define SOCKTRACE_VEV_H

#include "calls.h"
#include "read/trace_reader.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Earlier events one event pairs with that are kept for drawing. */
#define VEV_MAXP 4

/* Another event, as renderers need it to draw an arrow or a flow. */
struct evref {
	uint64_t seq; /* its place in the output order; 0: none */
	int pid, tid;
	int64_t t;    /* entry, ns since the trace start */
	int64_t dur;
};

/* What a call does, as far as connections go. */
enum vev_op {
	OP_OTHER,
	OP_SOCKET,
	OP_SOCKETPAIR,
	OP_BIND,
	OP_LISTEN,
	OP_ACCEPT,
	OP_CONNECT,
	OP_SEND,
	OP_RECV,
	OP_SHUTDOWN,
	OP_CLOSE,
	OP_DUP,
	OP_OPT,
	OP_DNS,
};

enum vev_link {
	LINK_NONE,
	LINK_CONNECT, /* connect <-> accept of the same connection */
	LINK_DATA,    /* send <-> the recv calls that consumed its bytes */
	LINK_CLOSE,   /* close/shutdown <-> the peer's recv of EOF or ECONNRESET */
};

struct conn;
struct vev;

/* An event as the model and the causal order refer to it, from when it is
 * read until nothing can pair with it any more. The event itself is held
 * (ev) until the causal order lets it out; then ref says where it went. */
struct evnode {
	struct evref ref;          /* ref.seq is 0 until it is written out */
	uint64_t in;               /* 1, 2, ... in the reader's order */
	struct vev *ev;            /* while held; NULL once written out */
	uint32_t refs;
};

static inline struct evnode *evnode_ref(struct evnode *n)
{
	if (n)
		n->refs++;
	return n;
}

void evnode_unref(struct evnode *n);

/* Sets *slot to n, letting go of what it held. */
static inline void evnode_set(struct evnode **slot, struct evnode *n)
{
	evnode_ref(n);
	evnode_unref(*slot);
	*slot = n;
}

struct vev {
	/* The record's tree; NULL on the reader's fast path, where vev_json()
	 * builds it from the kept line if a renderer asks. Valid while the
	 * record is, like the strings below. */
	json_t *j;
	struct tr_record *rec;
	const struct tr_file *file;
	long line;
	uint64_t seq;              /* 1, 2, ... in the output (causal) order; 0
				    * while held */
	uint64_t in;               /* 1, 2, ... in the reader's order */
	struct evnode *node;       /* set by the causal order (causal.h) */
	enum tr_kind kind;
	int64_t t;                 /* entry, ns since the trace start */
	int64_t dur;
	int64_t tend;              /* t + dur: when the call returned */
	int pid, tid;
	const char *fn;            /* "exec" and "end" for those records */
	enum st_fn call;           /* ST_FN_COUNT when not in the call table */
	enum vev_op op;
	int fd;                    /* -1 when the record has none */
	int64_t ret;
	const char *err;           /* errno name of a failed call, else NULL */
	bool pending;              /* err is a "not yet" (EINPROGRESS, EAGAIN, ...) */
	bool peek;                 /* a recv with MSG_PEEK: reads, consumes nothing */
	int peer_pid;              /* accept of a unix socket: who connected; 0 */
	int64_t ino;               /* connect of a unix socket: its inode; 0 */
	int64_t peer_ino;          /* accept of one: the client socket's; 0 */
	bool fault;                /* a fault rule acted on the call */
	bool fault_made;           /* ... and the real call ran: its result is real */
	const char *fault_rule, *fault_action;
	const char *local, *peer, *addr;
	int64_t bytes;             /* -1 when absent */
	const char *data;          /* payload preview (code points = bytes) */
	size_t data_len;           /* in UTF-8 bytes of data */
	int64_t data_cut;
	const char *how;           /* shutdown; a warning's how; a ctl record's op */
	const char *warning;       /* a warning's kind ("io_uring"), else NULL */
	const char *message;       /* a warning's or ctl record's message */
	const char *reason;        /* an end record's: "exit", "_exit", "exec" */
	const char *type;          /* socket, socketpair: "SOCK_STREAM|..." */
	const char *family;        /* socket, socketpair: "AF_INET", ... */
	const char *opt;           /* getsockopt, setsockopt: "SO_ERROR", ... */
	int64_t opt_num;           /* ... or its number (opt NULL); -1 */
	const char *value;         /* ... and the value when it is a string */
	int64_t value_num;         /* ... or a number (has_value_num) */
	bool has_value_num;
	bool value_other;          /* ... or something else ({"onoff", ...}) */
	int64_t value_us;          /* SO_RCVTIMEO, SO_SNDTIMEO; -1 */
	const char *path;          /* exec */
	int64_t backlog;           /* listen; -1 */
	int64_t vlen;              /* sendmmsg, recvmmsg; -1 */
	int64_t newfd;             /* dup2, dup3, fcntl; -1 */
	const char *cmd;           /* fcntl: "F_DUPFD", ... */
	const char *host, *service; /* getaddrinfo */
	const char *addr0;         /* ... its first address, of naddrs */
	size_t naddrs;
	bool has_fds;              /* socketpair: fds is [fd0, fd1], each in 0..2^30 */
	int fds[2];

	/* Filled by the model (pairing.c). */
	struct conn *conn;
	int side;                  /* 0: the connecting side, 1: the accepting side; -1 */
	enum vev_link link;
	bool out;                  /* the sending end of its link */
	int64_t off;               /* data: stream offset of its first byte, or -1 */
	size_t npartners;          /* the events that caused it (may exceed VEV_MAXP) */
	struct evref partners[VEV_MAXP]; /* filled when it is written out */
	/* While held (causal.h): its causes so far, and whether the model
	 * still expects one (the bytes of a recv not all sent yet, the
	 * connect an accept answered, the FIN of an EOF, the outcome of a
	 * connect in progress) until the reader is past hold_until. */
	struct evnode *causes[VEV_MAXP];
	bool awaiting;
	int64_t hold_until;
};

/* How many of ev's links are kept (partners, causes): npartners counts
 * them all, VEV_MAXP are kept. */
static inline size_t vev_nlinks(const struct vev *ev)
{
	return ev->npartners < VEV_MAXP ? ev->npartners : VEV_MAXP;
}

/* Saturating arithmetic on times and byte counts from the trace: any
 * number may arrive in a damaged or hostile file. */
static inline int64_t sat_add64(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static inline int64_t sat_sub64(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Decodes rec into ev (in: its place in the reader's order; times
 * relative to base). */
void vev_decode(struct vev *ev, struct tr_record *rec, uint64_t in, int64_t base);
/* The record's tree (see j). */
json_t *vev_json(const struct vev *ev);
/* The payload preview as bytes; returns how many were written. */
size_t vev_data_bytes(const struct vev *ev, unsigned char *out, size_t cap);
struct evref vev_ref(const struct vev *ev);
/* For the tests and the fuzzer: whether a and b, decoded from the same
 * record by the two decoders of the reader, hold the same fields (before
 * pairing). If not, names the first that differs in why. */
bool vev_same_fields(const struct vev *a, const struct vev *b, char *why, size_t cap);
/* A result socktrace made up: the real call did not run. */
static inline bool vev_is_fake(const struct vev *ev)
{
	return ev->fault && !ev->fault_made;
}
/* Whether an errno name is a "not yet" of a non-blocking call rather
 * than a failure: EINPROGRESS, EALREADY, EAGAIN, EWOULDBLOCK. */
bool vev_errno_pending(const char *err);
#endif
