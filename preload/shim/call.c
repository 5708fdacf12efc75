#include "call.h"

#include "fdtable.h"
#include "names.h"
#include "recjson.h"
#include "sandbox.h"
#include "stack.h"
#include "writer.h"


static void fill_head(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
		      uint64_t t1, int64_t ret, enum st_via via)
{
	r->h.ts = t0;
	/* Two readings of the TSC clock on either side of an anchor change
	 * may be a few ns out of order. */
	r->h.dur = t1 > t0 ? t1 - t0 : 0;
	r->h.base = (int64_t)st_shim.start_mono;
	r->h.pid = st_shim.pid;
	r->h.tid = st_tid();
	r->h.fn = (uint16_t)fn;
	r->h.fd = fd;
	r->h.ret = ret;
	r->h.err = 0;
	r->h.err_name = NULL;
	r->h.via = (uint8_t)via;
	r->faulted = false;
	r->replaced = false;
	/* Once per record: the file's ids, NULL for a jsonl trace. */
	r->interns.ids = st_writer_intern_ids();
	r->interns.n = 0;
}

void st_rec_begin(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
		  uint64_t t1, int64_t ret, int err, enum st_via via)
{
	fill_head(r, fn, fd, t0, t1, ret, via);
	r->h.err = ret < 0 ? err : 0;
	st_ev_begin(&r->b, r->buf + ST_FRAME_HEAD_MAX, ST_EV_MAX, &r->h);
}

void st_rec_begin_named(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
			uint64_t t1, int64_t ret, const char *err_name)
{
	fill_head(r, fn, fd, t0, t1, ret, ST_VIA_NONE);
	r->h.err_name = err_name;
	st_ev_begin(&r->b, r->buf + ST_FRAME_HEAD_MAX, ST_EV_MAX, &r->h);
}

/* SOCKTRACE_FORMAT=jsonl: the line `socktrace cat` would print for the
 * record, by the same code. Its own frame: binary tracing does not pay
 * for the line's stack. */
static __attribute__((noinline)) void write_json(const uint8_t *body, size_t len,
						 int64_t base)
{
	char line[ST_JSON_LINE_MAX];
	struct st_conv cv = { .base = base };
	size_t n = st_call_json(line, sizeof(line), body + 1, len - 1, &cv, NULL);

	if (n)
		st_writer_write(line, n);
}

static void finish(struct st_rec *r)
{
	uint8_t *body = r->buf + ST_FRAME_HEAD_MAX;
	/* A record cut to its head defines nothing. */
	bool whole = !r->b.overflow;
	size_t len = st_ev_end(&r->b, body, ST_EV_MAX, &r->h);
	size_t frame_len;
	uint8_t *frame;

	if (!len)
		return;
	if (st_unlikely(st_shim.cfg.format == ST_FORMAT_JSONL)) {
		write_json(body, len, r->h.base);
		return;
	}
	frame = st_frame_close(r->buf, len, &frame_len);
	/* Defined in the file now, if it is there (a file size limit drops
	 * a long record and may still take a short one): later records
	 * refer to it. */
	if (!st_writer_write((const char *)frame, frame_len))
		return;
	if (r->interns.n && whole)
		st_interns_commit(&r->interns);
}

/* The program's stack, when asked for: for every event, or only for
 * failed calls and injected faults (nothing is unwound for the others). */
static void add_stack(struct st_rec *r)
{
	struct st_stack stack;

	/* Unwinding checks memory with system calls (libunwind's mincore or
	 * its pipe): none under a seccomp filter. */
	if (!st_shim.cfg.backtrace || !st_stack_ready() || st_sealed())
		return;
	if (st_shim.cfg.backtrace_errors && !r->h.err && !r->h.err_name && !r->faulted)
		return;
	st_stack_capture(&stack, st_shim.cfg.backtrace);
	/* Leave room for the endpoints and the end of the record. */
	st_stack_rec(&r->b, &r->interns, &stack, 2 * ST_ADDR_MAX + 64);
}

/* The socket's endpoints, copied from the fd table straight into the
 * record (in a binary trace, once per socket and state: later records
 * refer to them); the addresses asked for first if the kernel has some
 * we have not seen. */
static void rec_addrs(struct st_rec *r, int fd)
{
	size_t room = (size_t)(r->b.end - r->b.p);
	bool pending;
	size_t n = st_fd_addrs_rec(fd, r->b.p, room, &pending, &r->interns);

	if (st_unlikely(pending)) {
		struct st_fdsnap snap;
		st_fd_snapshot(fd, &snap);
		st_learn_pending(fd, &snap);
		n = st_fd_addrs_rec(fd, r->b.p, room, &pending, &r->interns);
	}
	if (n == SIZE_MAX) {
		r->b.overflow = true;
		return;
	}
	r->b.p += n;
}

void st_rec_emit(struct st_rec *r, int addr_fd)
{
	add_stack(r);
	/* The kernel says the number is no socket (any more): the table was
	 * stale (a close we did not see), and its endpoints are not this
	 * call's. An injected EBADF says nothing of the kind. */
	if (st_unlikely(r->h.ret < 0 && (r->h.err == ENOTSOCK || r->h.err == EBADF)) &&
	    !r->replaced && addr_fd == r->h.fd) {
		st_fd_forget(addr_fd);
		addr_fd = -1;
	}
	if (addr_fd >= 0 && !r->b.overflow)
		rec_addrs(r, addr_fd);
	finish(r);
}

void st_rec_emit_snap(struct st_rec *r, const struct st_fdsnap *snap)
{
	add_stack(r);
	st_ev_addrs(&r->b, snap);
	finish(r);
}

void st_rec_msgflags(struct st_rec *r, enum st_field f, int flags)
{
	/* As a number: named when printed. */
	if (flags != 0)
		rb_u64(&r->b, f, (unsigned)flags);
}

void st_rec_payload(struct st_rec *r, const void *buf, ssize_t n)
{
	if (st_shim.cfg.payload && n > 0)
		st_ev_payload(&r->b, buf, (size_t)n, (size_t)n, st_shim.cfg.payload);
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
	/* None of the bytes at hand (stdio's formatted text): say so. */
	if (got == 0) {
		rb_i64(&r->b, ST_F_data_cut, n);
		return;
	}
	st_ev_payload(&r->b, flat, got, (size_t)n, got);
}

size_t st_iov_total(const struct iovec *iov, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; iov && i < n; i++)
		total += iov[i].iov_len;
	return total;
}
