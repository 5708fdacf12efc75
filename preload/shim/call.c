#include "call.h"

#include "fdtable.h"
#include "names.h"
#include "recjson.h"
#include "real.h"
#include "sandbox.h"
#include "stack.h"
#include "writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the clock (clock.h) ---- */

struct st_clock st_clock;

#define MS ((uint64_t)1000000)
/* The rate is measured over this much time at least before it is used:
 * the error of one CLOCK_MONOTONIC/TSC pair (tens of ns) over 50 ms is
 * below 1e-6, a few hundred picoseconds per anchor period. */
#define RATE_BASELINE (50 * MS)
#define ANCHOR_PERIOD (MS / 4)
/* A pair whose two TSC readings are further apart was interrupted (or
 * preempted): its midpoint could be off by more than 100 ns. */
#define PAIR_WINDOW_MAX 600
/* Further off than this from the kernel's clock, the TSC is not followed
 * (a clock source changed, a VM migrated): clock_gettime from then on. */
#define DRIFT_MAX 10000

enum { CLOCK_UNKNOWN, CLOCK_TSC, CLOCK_SYSCALL };

static struct {
	_Atomic int mode;
	_Atomic bool busy;       /* one thread keeps the anchor at a time */
	_Atomic uint64_t tried;  /* when it last tried */
	uint64_t base_tsc;       /* the first pair: the rate is measured from it */
	uint64_t base_ns;
} clk;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef ST_CLOCK_TSC
/* Whether the kernel itself keeps time with the TSC: it has then found it
 * invariant and synchronised across CPUs. Raw system calls: this runs
 * inside a hook, and our own open hook must not see it. */
static int clock_mode(void)
{
	static const char path[] = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
	char buf[16] = "";
	int fd = (int)st_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	long n = -1;

	if (fd >= 0) {
		n = st_syscall(SYS_read, fd, buf, sizeof(buf) - 1);
		st_syscall(SYS_close, fd);
	}
	return n == 4 && memcmp(buf, "tsc\n", 4) == 0 ? CLOCK_TSC : CLOCK_SYSCALL;
}

/* CLOCK_MONOTONIC and the TSC at one moment, the best of three tries;
 * false when every try was interrupted. */
static bool clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = PAIR_WINDOW_MAX;

	*tsc = *ns = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t before = __rdtsc();
		uint64_t t = mono_ns();
		uint64_t after = __rdtsc();

		if (after - before < best) {
			best = after - before;
			*tsc = before + best / 2;
			*ns = t;
		}
	}
	return best < PAIR_WINDOW_MAX;
}

static void clock_publish(uint64_t tsc, uint64_t ns, uint64_t mult, uint64_t max_ticks)
{
	atomic_fetch_add_explicit(&st_clock.seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&st_clock.anchor_tsc, tsc, memory_order_relaxed);
	atomic_store_explicit(&st_clock.anchor_ns, ns, memory_order_relaxed);
	atomic_store_explicit(&st_clock.mult, mult, memory_order_relaxed);
	atomic_store_explicit(&st_clock.max_ticks, max_ticks, memory_order_relaxed);
	atomic_fetch_add_explicit(&st_clock.seq, 1, memory_order_release);
}

/* True when the current anchor and rate still agree with the kernel. */
static bool clock_agrees(uint64_t tsc, uint64_t ns)
{
	uint64_t mult = atomic_load_explicit(&st_clock.mult, memory_order_relaxed);
	uint64_t ticks = tsc - atomic_load_explicit(&st_clock.anchor_tsc, memory_order_relaxed);
	uint64_t guess;

	if (!mult || ticks > 64 * atomic_load_explicit(&st_clock.max_ticks, memory_order_relaxed))
		return true; /* nothing to compare, or too long ago to tell */
	guess = atomic_load_explicit(&st_clock.anchor_ns, memory_order_relaxed) +
		(uint64_t)(((st_u128)ticks * mult) >> 32);
	return guess < ns + DRIFT_MAX && ns < guess + DRIFT_MAX;
}

/* A new anchor, and the rate measured from the first pair to this one. */
static void clock_renew(void)
{
	uint64_t tsc, ns, mult;

	if (atomic_load(&clk.mode) == CLOCK_UNKNOWN)
		atomic_store(&clk.mode, clock_mode());
	if (atomic_load(&clk.mode) != CLOCK_TSC || !clock_pair(&tsc, &ns))
		return;
	if (!clk.base_ns) {
		clk.base_tsc = tsc;
		clk.base_ns = ns;
		return;
	}
	if (ns - clk.base_ns < RATE_BASELINE || tsc <= clk.base_tsc)
		return;
	if (!clock_agrees(tsc, ns)) {
		atomic_store(&clk.mode, CLOCK_SYSCALL);
		clock_publish(0, 0, 0, 0);
		return;
	}
	mult = (uint64_t)(((st_u128)(ns - clk.base_ns) << 32) / (tsc - clk.base_tsc));
	if (mult)
		clock_publish(tsc, ns, mult, ((st_u128)ANCHOR_PERIOD << 32) / mult);
}
#endif

uint64_t st_clock_slow(void)
{
	uint64_t now = mono_ns();

#ifdef ST_CLOCK_TSC
	/* One thread renews; the others (and a signal handler that
	 * interrupted it) have the kernel's time meanwhile. */
	if (atomic_load_explicit(&clk.mode, memory_order_relaxed) != CLOCK_SYSCALL &&
	    now - atomic_load_explicit(&clk.tried, memory_order_relaxed) >= ANCHOR_PERIOD &&
	    !atomic_exchange_explicit(&clk.busy, true, memory_order_acquire)) {
		atomic_store_explicit(&clk.tried, now, memory_order_relaxed);
		clock_renew();
		atomic_store_explicit(&clk.busy, false, memory_order_release);
	}
#endif
	return now;
}

void st_clock_settle(void)
{
#ifdef ST_CLOCK_TSC
	if (atomic_load(&clk.mode) == CLOCK_UNKNOWN)
		atomic_store(&clk.mode, clock_mode());
#endif
}

/* A fork child has only the forking thread: a flag another thread held
 * is nobody's now. */
static void clock_after_fork(void)
{
	atomic_store(&clk.busy, false);
}

__attribute__((constructor)) static void clock_init(void)
{
	pthread_atfork(NULL, NULL, clock_after_fork);
}

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
	r->ep_fd = -1;
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
	st_writer_write((const char *)frame, frame_len);
	/* Defined in the file now: later records refer to it. */
	if (r->ep_fd >= 0)
		st_fd_set_ep_tag(r->ep_fd, r->ep_tag);
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
	st_stack_rec(&r->b, &stack, 2 * ST_ADDR_MAX + 64);
}

/* Asks the kernel for the addresses the table marks as pending. */
static void learn_pending(int fd, const struct st_fdsnap *snap)
{
	if (snap->local_pending)
		st_learn_local(fd);
	if (snap->peer_pending)
		st_learn_peer(fd);
}

bool st_fd_snapshot_full(int fd, struct st_fdsnap *snap)
{
	bool is_socket = st_fd_snapshot(fd, snap);

	if (is_socket && (snap->local_pending || snap->peer_pending)) {
		learn_pending(fd, snap);
		is_socket = st_fd_snapshot(fd, snap);
	}
	return is_socket;
}

/* The socket's endpoints, copied from the fd table straight into the
 * record (in a binary trace, once per socket and state: later records
 * refer to them); the addresses asked for first if the kernel has some
 * we have not seen. */
static void rec_addrs(struct st_rec *r, int fd)
{
	size_t room = (size_t)(r->b.end - r->b.p);
	struct st_ep_ids *ids = st_writer_ep_ids();
	bool pending;
	uint64_t tag;
	size_t n = st_fd_addrs_rec(fd, r->b.p, room, &pending, ids, &tag);

	if (st_unlikely(pending)) {
		struct st_fdsnap snap;
		st_fd_snapshot(fd, &snap);
		learn_pending(fd, &snap);
		n = st_fd_addrs_rec(fd, r->b.p, room, &pending, ids, &tag);
	}
	if (n == SIZE_MAX) {
		r->b.overflow = true;
		return;
	}
	r->b.p += n;
	if (tag) {
		r->ep_fd = fd;
		r->ep_tag = tag;
	}
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

void st_learn_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;

	if (st_sealed())
		return; /* stays pending: no system call of ours */
	if (real_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		st_fd_set_local(fd, (struct sockaddr *)&ss, len);
	errno = saved;
}

void st_learn_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;

	if (st_sealed())
		return;
	if (real_getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		st_fd_set_peer(fd, (struct sockaddr *)&ss, len);
	errno = saved;
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

bool st_fd_still_socket(int fd)
{
	struct stat st;
	int saved = errno;
	bool socket;

	if (st_sealed())
		return true; /* no fstat under a seccomp filter: trust the table */
	socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	if (!socket)
		st_fd_forget(fd);
	errno = saved;
	return socket;
}

bool st_fd_is_socket(int fd)
{
	enum st_fd_kind kind = st_fd_kind(fd);

	if (st_likely(kind != ST_FD_UNKNOWN))
		return kind == ST_FD_SOCKET;
	/* Under a seccomp filter a descriptor never seen stays unknown. */
	if (fd < 0 || fd >= ST_FD_LIMIT || st_sealed() || st_writer_owns_fd(fd))
		return false;
	int saved = errno;
	discover(fd);
	errno = saved;
	return st_fd_kind(fd) == ST_FD_SOCKET;
}
