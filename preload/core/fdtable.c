#include "fdtable.h"

#include "recbuf.h"

#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SHIFT 10
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define CHUNK_COUNT (ST_FD_LIMIT / CHUNK_SIZE)

static _Atomic(struct st_fdent *) chunks[CHUNK_COUNT];
static _Atomic bool sealed;

static struct st_fdent *lookup(int fd)
{
	struct st_fdent *chunk;

	if (fd < 0 || fd >= ST_FD_LIMIT)
		return NULL;
	chunk = atomic_load_explicit(&chunks[(unsigned)fd >> CHUNK_SHIFT],
				     memory_order_acquire);
	return chunk ? &chunk[(unsigned)fd & (CHUNK_SIZE - 1)] : NULL;
}

static struct st_fdent *lookup_or_map(int fd)
{
	struct st_fdent *e = lookup(fd);
	struct st_fdent *fresh;
	struct st_fdent *expected = NULL;
	const size_t bytes = CHUNK_SIZE * sizeof(struct st_fdent);

	if (e || fd < 0 || fd >= ST_FD_LIMIT ||
	    atomic_load_explicit(&sealed, memory_order_relaxed))
		return e;
	/* Anonymous pages are zero: every entry starts ST_FD_UNKNOWN. */
	fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		return NULL;
	if (!atomic_compare_exchange_strong_explicit(
		    &chunks[(unsigned)fd >> CHUNK_SHIFT], &expected, fresh,
		    memory_order_acq_rel, memory_order_acquire))
		munmap(fresh, bytes); /* another thread won the race */
	return lookup(fd);
}

int st_fd_socktype(int fd)
{
	struct st_fdent *e = lookup(fd);

	/* One byte: a torn read is not possible, a stale one is a race in
	 * the program itself (the number changing owner meanwhile). */
	return e && atomic_load_explicit(&e->kind, memory_order_acquire) == ST_FD_SOCKET
		       ? e->socktype : 0;
}

void st_fd_table_seal(bool on)
{
	atomic_store(&sealed, on);
}

/* Writers exclude each other by taking seq from even to odd. Two threads
 * updating the same fd at once is a race in the program itself, so the
 * wait is short; it is bounded because a signal handler may interrupt the
 * writer of the very entry it wants to update, and then waiting would
 * never end: such an update is skipped (false) rather than deadlock. */
static bool write_begin(struct st_fdent *e)
{
	for (unsigned spins = 0; spins < 100000; spins++) {
		uint32_t seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (!(seq & 1) &&
		    atomic_compare_exchange_weak_explicit(&e->seq, &seq, seq + 1,
							  memory_order_acquire,
							  memory_order_relaxed)) {
			atomic_thread_fence(memory_order_release);
			return true;
		}
		if (spins > 64)
			sched_yield();
	}
	return false;
}

static void write_end(struct st_fdent *e)
{
	atomic_fetch_add_explicit(&e->seq, 1, memory_order_release);
}

void st_ep_from_sockaddr(struct st_ep *ep, const struct sockaddr *sa, socklen_t len)
{
	memset(ep, 0, sizeof(*ep));
	if (!sa)
		return;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		ep->family = AF_INET;
		ep->port = ntohs(in->sin_port);
		memcpy(ep->addr, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		ep->family = AF_INET6;
		ep->port = ntohs(in6->sin6_port);
		memcpy(ep->addr, &in6->sin6_addr, 16);
	} else if (len >= (socklen_t)sizeof(sa_family_t)) {
		ep->family = sa->sa_family;
	}
}

struct st_fdent *st_fd_entry(int fd)
{
	return lookup(fd);
}

enum st_fd_kind st_fd_kind(int fd)
{
	struct st_fdent *e = lookup(fd);

	return e ? (enum st_fd_kind)atomic_load_explicit(&e->kind, memory_order_relaxed)
		 : ST_FD_UNKNOWN;
}

/* A fresh entry of that kind, nothing known about it yet. The caller
 * holds the entry (write_begin). */
static void fill_kind(struct st_fdent *e, enum st_fd_kind kind, int family, int socktype)
{
	atomic_store_explicit(&e->kind, (uint8_t)kind, memory_order_relaxed);
	e->family = (uint8_t)family;
	e->socktype = (uint8_t)socktype;
	e->local_len = 0;
	e->peer_len = 0;
	e->local_pending = 0;
	e->peer_pending = 0;
	memset(&e->local_ep, 0, sizeof(e->local_ep));
	memset(&e->peer_ep, 0, sizeof(e->peer_ep));
	atomic_store_explicit(&e->paced_until, 0, memory_order_relaxed);
}

static void set_kind(int fd, enum st_fd_kind kind, int family, int socktype)
{
	struct st_fdent *e = lookup_or_map(fd);

	if (!e || !write_begin(e))
		return;
	fill_kind(e, kind, family, socktype);
	write_end(e);
}

void st_fd_set_socket(int fd, int family, int socktype)
{
	/* The type argument also carries SOCK_NONBLOCK|SOCK_CLOEXEC. */
	set_kind(fd, ST_FD_SOCKET, family, socktype & 0xf);
}

void st_fd_set_other(int fd)
{
	set_kind(fd, ST_FD_OTHER, 0, 0);
}

void st_fd_forget(int fd)
{
	struct st_fdent *e = lookup(fd);

	/* Nothing mapped means nothing known: no need to map a chunk. */
	if (e && atomic_load_explicit(&e->kind, memory_order_relaxed) != ST_FD_UNKNOWN)
		set_kind(fd, ST_FD_UNKNOWN, 0, 0);
}

uint32_t st_fd_version(int fd)
{
	struct st_fdent *e = lookup(fd);

	return e ? atomic_load_explicit(&e->seq, memory_order_acquire) : 0;
}

void st_fd_forget_if_unchanged(int fd, uint32_t version)
{
	struct st_fdent *e = lookup(fd);

	/* Take the entry only from that very version (odd: a writer was at
	 * it then, so it may have changed since: forget as usual). */
	if (!e || (version & 1)) {
		st_fd_forget(fd);
		return;
	}
	if (!atomic_compare_exchange_strong_explicit(&e->seq, &version, version + 1,
						     memory_order_acquire, memory_order_relaxed))
		return; /* changed since: someone else's now */
	atomic_thread_fence(memory_order_release);
	fill_kind(e, ST_FD_UNKNOWN, 0, 0);
	write_end(e);
}

static void set_addr(int fd, bool peer, const struct sockaddr *sa, socklen_t len)
{
	struct st_fdent *e = lookup(fd);
	char text[ST_ADDR_MAX];
	struct st_ep ep;
	size_t n = 0;

	if (!e)
		return;
	if (sa && len > 0)
		n = st_sockaddr_json(text, sizeof(text), sa, len);
	st_ep_from_sockaddr(&ep, n ? sa : NULL, len);
	if (!write_begin(e))
		return;
	if (peer) {
		memcpy(e->peer, text, n);
		e->peer_len = (uint16_t)n;
		e->peer_ep = ep;
		e->peer_pending = 0;
	} else {
		memcpy(e->local, text, n);
		e->local_len = (uint16_t)n;
		e->local_ep = ep;
		e->local_pending = 0;
	}
	write_end(e);
}

void st_fd_set_local(int fd, const struct sockaddr *sa, socklen_t len)
{
	set_addr(fd, false, sa, len);
}

void st_fd_set_peer(int fd, const struct sockaddr *sa, socklen_t len)
{
	set_addr(fd, true, sa, len);
}

void st_fd_copy(int dst, int src)
{
	struct st_fdsnap s;
	struct st_fdent *e;

	if (dst == src)
		return;
	st_fd_snapshot(src, &s);
	if (s.kind == ST_FD_UNKNOWN) {
		st_fd_forget(dst);
		return;
	}
	e = lookup_or_map(dst);
	if (!e || !write_begin(e))
		return;
	atomic_store_explicit(&e->kind, s.kind, memory_order_relaxed);
	e->family = s.family;
	e->socktype = s.socktype;
	e->local_pending = s.local_pending;
	e->peer_pending = s.peer_pending;
	memcpy(e->local, s.local, s.local_len);
	e->local_len = s.local_len;
	memcpy(e->peer, s.peer, s.peer_len);
	e->peer_len = s.peer_len;
	e->local_ep = s.local_ep;
	e->peer_ep = s.peer_ep;
	write_end(e);
}

bool st_fd_snapshot(int fd, struct st_fdsnap *snap)
{
	struct st_fdent *e = lookup(fd);

	snap->kind = ST_FD_UNKNOWN;
	snap->family = 0;
	snap->socktype = 0;
	snap->local_pending = 0;
	snap->peer_pending = 0;
	snap->local_len = 0;
	snap->peer_len = 0;
	memset(&snap->local_ep, 0, sizeof(snap->local_ep));
	memset(&snap->peer_ep, 0, sizeof(snap->peer_ep));
	if (!e)
		return false;
	/* Bounded retries: a signal handler that interrupted the writer of
	 * this very entry would otherwise spin for ever. */
	for (int attempt = 0; attempt < 4; attempt++) {
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		uint32_t s2;

		if (s1 & 1)
			continue;
		snap->kind = atomic_load_explicit(&e->kind, memory_order_relaxed);
		snap->family = e->family;
		snap->socktype = e->socktype;
		snap->local_pending = e->local_pending;
		snap->peer_pending = e->peer_pending;
		snap->local_len = e->local_len < ST_ADDR_MAX ? e->local_len : 0;
		snap->peer_len = e->peer_len < ST_ADDR_MAX ? e->peer_len : 0;
		memcpy(snap->local, e->local, snap->local_len);
		memcpy(snap->peer, e->peer, snap->peer_len);
		snap->local_ep = e->local_ep;
		snap->peer_ep = e->peer_ep;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (s1 == s2)
			return snap->kind == ST_FD_SOCKET;
	}
	snap->kind = atomic_load_explicit(&e->kind, memory_order_relaxed);
	snap->local_len = 0;
	snap->peer_len = 0;
	return snap->kind == ST_FD_SOCKET;
}

/* Copies a string literal; the compiler turns it into a few moves. */

/* The endpoints as record fields: a reference to those this file has
 * already (ids), or their definition (*def_id: its new id), or, without
 * ids, the addresses alone. */
static size_t addrs_rec(struct st_fdent *e, uint32_t seq, uint8_t *dst, size_t room,
			bool *pending, const struct st_intern_ids *ids, uint32_t *def_id)
{
	size_t local_len = e->local_len < ST_ADDR_MAX ? e->local_len : 0;
	size_t peer_len = e->peer_len < ST_ADDR_MAX ? e->peer_len : 0;
	uint8_t tmp[3 * RB_SCALAR_MAX + 2 * ST_ADDR_MAX];
	struct rb b;
	size_t n;

	*pending = e->local_pending || e->peer_pending;
	*def_id = 0;
	if (!local_len && !peer_len)
		return 0;
	/* Built aside, so that a record without the room for it is left as
	 * it was. */
	rb_init(&b, tmp, sizeof(tmp));
	if (ids) {
		uint32_t id = st_intern_valid(ids, atomic_load_explicit(&e->ep_tag, memory_order_relaxed),
					      seq);
		if (id) {
			rb_u64(&b, ST_F_ep, (uint64_t)id << 1);
			goto done;
		}
		*def_id = st_intern_new_id(ids);
		rb_u64(&b, ST_F_ep, (uint64_t)*def_id << 1 | 1);
	}
	if (local_len)
		rb_name(&b, ST_F_local, e->local, local_len);
	if (peer_len)
		rb_name(&b, ST_F_peer, e->peer, peer_len);
done:
	n = (size_t)(b.p - tmp);
	if (n > room) {
		*def_id = 0;
		return SIZE_MAX;
	}
	memcpy(dst, tmp, n);
	return n;
}

size_t st_fd_addrs_rec(int fd, uint8_t *dst, size_t room, bool *pending, struct st_interns *in)
{
	struct st_fdent *e = lookup(fd);
	const struct st_intern_ids *ids = in ? in->ids : NULL;

	*pending = false;
	if (!e || atomic_load_explicit(&e->kind, memory_order_relaxed) != ST_FD_SOCKET)
		return 0;
	/* Bounded retries, as in st_fd_snapshot: what a torn read wrote
	 * into dst is written over, or left out. */
	for (int attempt = 0; attempt < 4; attempt++) {
		uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		uint32_t def_id;
		size_t n;

		if (s1 & 1)
			continue;
		n = addrs_rec(e, s1, dst, room, pending, ids, &def_id);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
			continue;
		if (atomic_load_explicit(&e->kind, memory_order_relaxed) != ST_FD_SOCKET)
			return 0;
		/* A record that cannot remember the definition refers to it
		 * nowhere else: it is still whole. */
		if (def_id)
			st_intern_pending(in, &e->ep_tag, s1, def_id);
		return n;
	}
	*pending = false;
	return 0;
}

bool st_fd_has_local(int fd)
{
	struct st_fdent *e = lookup(fd);

	return e && (e->local_len != 0 || e->local_pending);
}

/* Forgets one end's address and marks it as the kernel's to ask. */
static void set_pending(int fd, bool peer)
{
	struct st_fdent *e = lookup(fd);

	if (!e || !write_begin(e))
		return;
	if (peer) {
		e->peer_len = 0;
		memset(&e->peer_ep, 0, sizeof(e->peer_ep));
		e->peer_pending = 1;
	} else {
		e->local_len = 0;
		memset(&e->local_ep, 0, sizeof(e->local_ep));
		e->local_pending = 1;
	}
	write_end(e);
}

void st_fd_set_local_pending(int fd)
{
	set_pending(fd, false);
}

void st_fd_set_peer_pending(int fd)
{
	set_pending(fd, true);
}

void st_fd_forget_range(unsigned first, unsigned last)
{
	if (last >= ST_FD_LIMIT)
		last = ST_FD_LIMIT - 1;
	for (unsigned fd = first; fd <= last && fd >= first;) {
		/* Skip chunks never mapped: nothing is known there. */
		if (!atomic_load_explicit(&chunks[fd >> CHUNK_SHIFT], memory_order_acquire)) {
			fd = ((fd >> CHUNK_SHIFT) + 1) << CHUNK_SHIFT;
			continue;
		}
		st_fd_forget((int)fd);
		fd++;
	}
}

void st_fd_reset_all(void)
{
	for (unsigned i = 0; i < CHUNK_COUNT; i++) {
		struct st_fdent *c = atomic_exchange(&chunks[i], NULL);
		if (c)
			munmap(c, CHUNK_SIZE * sizeof(struct st_fdent));
	}
}
