/* What the shim knows about each file descriptor.
 *
 * Events on data calls carry the connection's endpoints without a system
 * call, so the endpoints learnt at socket/bind/connect/accept time are kept
 * here, indexed by fd. Entries are written by the calls that create, bind,
 * connect, duplicate or close an fd and read by every traced call.
 *
 * The table is lock-free: chunks are mapped on first use and published with
 * a compare-and-swap, and each entry is a seqlock, so a reader (possibly a
 * signal handler that interrupted a writer) never blocks and never sees a
 * torn address. Memory comes from mmap, never malloc: the shim must not
 * touch the program's heap. */
#ifndef SOCKTRACE_FDTABLE_H
#define SOCKTRACE_FDTABLE_H

#include "intern.h"
#include "sockaddr_fmt.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Descriptors at or above this are not tracked (and so never traced). */
#define ST_FD_LIMIT (1 << 20)

enum st_fd_kind {
	ST_FD_UNKNOWN = 0, /* never seen, or closed: ask the kernel once */
	ST_FD_SOCKET,
	ST_FD_OTHER,       /* a file, pipe, ...: read/write are not traced */
};

/* An endpoint in a form rules can match without parsing text: inet
 * families only (unix sockets match on their text). */
struct st_ep {
	uint16_t family; /* 0: unknown */
	uint16_t port;   /* host order */
	uint8_t addr[16];
};

void st_ep_from_sockaddr(struct st_ep *ep, const struct sockaddr *sa, socklen_t len);

struct st_fdent {
	_Atomic uint32_t seq;
	_Atomic uint8_t kind;
	uint8_t family;
	uint8_t socktype;
	uint8_t local_pending;  /* the kernel knows the local address; ask it
				 * when someone needs it */
	uint8_t peer_pending;   /* the same for the peer (accept without an
				 * address buffer) */
	uint16_t local_len;
	uint16_t peer_len;
	struct st_ep local_ep;
	struct st_ep peer_ep;
	/* Binary traces: the endpoints' id in the trace file, and the seq
	 * they had when it was written (seq << 32 | id; 0: none). */
	_Atomic uint64_t ep_tag;
	/* bandwidth= pacing: when the socket may move data again (ns). */
	_Atomic uint64_t paced_until;
	char local[ST_ADDR_MAX];
	char peer[ST_ADDR_MAX];
};

/* A consistent copy of an entry, taken at event time. */
struct st_fdsnap {
	uint8_t kind;
	uint8_t family;
	uint8_t socktype;
	uint8_t local_pending;
	uint8_t peer_pending;
	uint16_t local_len;
	uint16_t peer_len;
	struct st_ep local_ep;
	struct st_ep peer_ep;
	char local[ST_ADDR_MAX];
	char peer[ST_ADDR_MAX];
};

/* The kind of fd, ST_FD_UNKNOWN when untracked. The hot-path check. */
enum st_fd_kind st_fd_kind(int fd);

/* Records a new socket (or a socket discovered by fstat); clears addresses. */
void st_fd_set_socket(int fd, int family, int socktype);
void st_fd_set_other(int fd);
/* Forget the fd: closed, or replaced by something we did not see. */
void st_fd_forget(int fd);
/* For close: the entry's version before the real close, and forgetting it
 * after only if nothing changed it meanwhile. Between the kernel freeing
 * the number and our forgetting it, another thread's accept (or socket,
 * open, ...) may get the same number and record its new socket: a blind
 * forget would wipe that, and the new connection's events would carry no
 * endpoints. */
uint32_t st_fd_version(int fd);
void st_fd_forget_if_unchanged(int fd, uint32_t version);
/* Addresses, from a sockaddr. A NULL or empty address clears the field. */
void st_fd_set_local(int fd, const struct sockaddr *sa, socklen_t len);
void st_fd_set_peer(int fd, const struct sockaddr *sa, socklen_t len);
/* dup and friends: dst becomes a copy of src (or is forgotten). */
void st_fd_copy(int dst, int src);

/* Fills snap and returns true when the fd is a tracked socket. Never
 * blocks: gives up (returning the kind but no addresses) if a writer keeps
 * the entry busy. */
bool st_fd_snapshot(int fd, struct st_fdsnap *snap);

/* Writes the endpoints of a tracked socket as record fields into dst,
 * straight from the table, without a snapshot. With in (its ids), a
 * reference to the endpoints when the file has them in their present
 * state, else their definition under a new id, remembered in in's
 * pending tags (intern.h) for when the record is written; without ids,
 * "local" and "peer". Returns the length (0: not a socket, or nothing
 * known), or SIZE_MAX when room is too small. *pending tells that the
 * kernel knows an address nobody asked for yet. Never blocks, like
 * st_fd_snapshot. */
size_t st_fd_addrs_rec(int fd, uint8_t *dst, size_t room, bool *pending, struct st_interns *in);

/* SOCK_STREAM, SOCK_DGRAM, ... of a tracked socket; 0 when unknown. */
int st_fd_socktype(int fd);

/* True when the socket's local address is known, or pending (an unbound
 * UDP socket gets one on its first send). */
bool st_fd_has_local(int fd);
/* The kernel has given the socket its local address (connect, accept,
 * first send): getsockname is deferred until an event or a rule needs it,
 * so that calls nobody records cost no extra system call. */
void st_fd_set_local_pending(int fd);
/* An accepted socket whose peer the program did not ask for: getpeername
 * is deferred in the same way. */
void st_fd_set_peer_pending(int fd);
/* close_range: forget every tracked fd in [first, last]. */
void st_fd_forget_range(unsigned first, unsigned last);

/* The entry itself, for the pacing clock of bandwidth= (NULL if none). */
struct st_fdent *st_fd_entry(int fd);

/* With on, the table maps no new memory: a descriptor in a range never
 * used before is then not tracked (the shim under a seccomp filter). */
void st_fd_table_seal(bool on);

/* Drops the whole table (unit tests). */
void st_fd_reset_all(void);

#endif
