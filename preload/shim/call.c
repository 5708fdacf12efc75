#include "call.h"

#include "fdtable.h"
#include "names.h"
#include "real.h"
#include "stack.h"
#include "writer.h"

#include <sys/stat.h>

/* Call names' lengths, measured once each (a race measures twice, alike). */
static uint8_t fn_name_len(enum st_fn fn, const char *name)
{
	static _Atomic uint8_t lens[ST_FN_COUNT];
	uint8_t n = atomic_load_explicit(&lens[fn], memory_order_relaxed);

	if (st_unlikely(!n)) {
		n = (uint8_t)strnlen(name, 255);
		atomic_store_explicit(&lens[fn], n, memory_order_relaxed);
	}
	return n;
}

static void fill_head(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
		      uint64_t t1, int64_t ret)
{
	r->h.ts = t0;
	r->h.dur = t1 - t0;
	r->h.pid = st_shim.pid;
	r->h.tid = st_tid();
	r->h.fn = st_call_info(fn)->name;
	r->h.fn_len = fn_name_len(fn, r->h.fn);
	r->h.fd = fd;
	r->h.ret = ret;
	r->h.err = 0;
	r->h.err_name = NULL;
	r->faulted = false;
}

void st_rec_begin(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
		  uint64_t t1, int64_t ret, int err)
{
	fill_head(r, fn, fd, t0, t1, ret);
	r->h.err = ret < 0 ? err : 0;
	st_ev_begin(&r->w, r->buf, sizeof(r->buf), &r->h);
}

void st_rec_begin_named(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
			uint64_t t1, int64_t ret, const char *err_name)
{
	fill_head(r, fn, fd, t0, t1, ret);
	r->h.err_name = err_name;
	st_ev_begin(&r->w, r->buf, sizeof(r->buf), &r->h);
}

static void finish(struct st_rec *r)
{
	size_t len = st_ev_end(&r->w, r->buf, sizeof(r->buf), &r->h);

	if (len)
		st_writer_write(r->buf, len);
}

/* The program's stack, when asked for: for every event, or only for
 * failed calls and injected faults (nothing is unwound for the others). */
static void add_stack(struct st_rec *r)
{
	struct st_stack stack;

	if (!st_shim.cfg.backtrace || !st_stack_ready())
		return;
	if (st_shim.cfg.backtrace_errors && !r->h.err && !r->h.err_name && !r->faulted)
		return;
	st_stack_capture(&stack, st_shim.cfg.backtrace);
	/* Leave room for the endpoints and the end of the record. */
	st_stack_json(&r->w, &stack, 2 * ST_ADDR_MAX + 64);
}

bool st_fd_snapshot_full(int fd, struct st_fdsnap *snap)
{
	bool is_socket = st_fd_snapshot(fd, snap);

	if (is_socket && snap->local_pending) {
		st_learn_local(fd);
		is_socket = st_fd_snapshot(fd, snap);
	}
	return is_socket;
}

/* The socket's endpoints, copied from the fd table straight into the
 * record; the local address asked for first if the kernel has one we
 * have not seen. */
static void rec_addrs(struct st_rec *r, int fd)
{
	size_t room = (size_t)(r->w.end - r->w.p);
	bool pending;
	size_t n = st_fd_addrs_json(fd, r->w.p, room, &pending);

	if (st_unlikely(pending)) {
		st_learn_local(fd);
		n = st_fd_addrs_json(fd, r->w.p, room, &pending);
	}
	if (n == SIZE_MAX)
		r->w.overflow = true;
	else
		r->w.p += n;
}

void st_rec_emit(struct st_rec *r, int addr_fd)
{
	add_stack(r);
	if (addr_fd >= 0 && !r->w.overflow)
		rec_addrs(r, addr_fd);
	finish(r);
}

void st_rec_emit_snap(struct st_rec *r, const struct st_fdsnap *snap)
{
	add_stack(r);
	st_ev_addrs(&r->w, snap);
	finish(r);
}

/* Names of message flags, cached: a program passes the same few sets on
 * every call, and naming them walks a table. A slot is filled once and
 * never changes after, so readers (signal handlers too) take no lock. */
#define FLAGS_SLOTS 8
#define FLAGS_TEXT_MAX 160

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };

static struct {
	_Atomic int state;
	int flags;
	size_t len;
	char text[FLAGS_TEXT_MAX];
} flags_names[FLAGS_SLOTS];

static const char *msgflags_name(int flags, size_t *len, char *scratch)
{
	for (unsigned i = 0; i < FLAGS_SLOTS; i++) {
		int state = atomic_load_explicit(&flags_names[i].state, memory_order_acquire);

		if (state == SLOT_READY && flags_names[i].flags == flags) {
			*len = flags_names[i].len;
			return flags_names[i].text;
		}
		if (state == SLOT_FREE &&
		    atomic_compare_exchange_strong(&flags_names[i].state, &state, SLOT_FILLING)) {
			flags_names[i].flags = flags;
			flags_names[i].len = st_msgflags_str(flags_names[i].text, FLAGS_TEXT_MAX, flags);
			atomic_store_explicit(&flags_names[i].state, SLOT_READY, memory_order_release);
			*len = flags_names[i].len;
			return flags_names[i].text;
		}
	}
	*len = st_msgflags_str(scratch, FLAGS_TEXT_MAX, flags);
	return scratch;
}

void st_rec_msgflags(struct st_rec *r, const char *key, int flags)
{
	char scratch[FLAGS_TEXT_MAX];
	const char *text;
	size_t len;

	if (flags == 0)
		return;
	text = msgflags_name(flags, &len, scratch);
	jw_key(&r->w, key);
	jw_str_trusted(&r->w, text, len);
}

void st_rec_payload(struct st_rec *r, const void *buf, ssize_t n)
{
	if (st_shim.cfg.payload && n > 0)
		st_ev_payload(&r->w, buf, (size_t)n, (size_t)n, st_shim.cfg.payload);
}

void st_rec_payload_iov(struct st_rec *r, const struct iovec *iov, size_t iovcnt,
			ssize_t n)
{
	char flat[ST_PAYLOAD_MAX];
	size_t want, got = 0;

	if (!st_shim.cfg.payload || n <= 0)
		return;
	want = (size_t)n < st_shim.cfg.payload ? (size_t)n : st_shim.cfg.payload;
	for (size_t i = 0; i < iovcnt && got < want; i++) {
		size_t take = iov[i].iov_len < want - got ? iov[i].iov_len : want - got;
		memcpy(flat + got, iov[i].iov_base, take);
		got += take;
	}
	if (got == 0)
		return;
	st_ev_payload(&r->w, flat, got, (size_t)n, got);
}

size_t st_iov_total(const struct iovec *iov, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; iov && i < n; i++)
		total += iov[i].iov_len;
	return total;
}

void st_learn_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;

	if (real_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		st_fd_set_local(fd, (struct sockaddr *)&ss, len);
	errno = saved;
}

void st_learn_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (real_getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		st_fd_set_peer(fd, (struct sockaddr *)&ss, len);
}

static void discover(int fd)
{
	struct stat st;
	int family = 0, type = 0;
	socklen_t len = sizeof(int);

	if (fstat(fd, &st) != 0)
		return; /* not open: stays unknown, nothing to trace */
	if (!S_ISSOCK(st.st_mode)) {
		st_fd_set_other(fd);
		return;
	}
	real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
	len = sizeof(int);
	real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	st_fd_set_socket(fd, family, type);
	st_learn_local(fd);
	st_learn_peer(fd);
}

bool st_fd_is_socket(int fd)
{
	enum st_fd_kind kind = st_fd_kind(fd);

	if (st_likely(kind != ST_FD_UNKNOWN))
		return kind == ST_FD_SOCKET;
	if (fd < 0 || fd >= ST_FD_LIMIT || st_writer_owns_fd(fd))
		return false;
	int saved = errno;
	discover(fd);
	errno = saved;
	return st_fd_kind(fd) == ST_FD_SOCKET;
}
