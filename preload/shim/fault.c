/* The fault actions: what a rule that acts on a call does to it (errors,
 * delays, hangs, resets, short and corrupt data, pacing) and the record of
 * it. Which rule acts is faultset.c's. */
#include "fault.h"

#include "faultset.h"

#include "call.h"
#include "ctl.h"
#include "fdtable.h"
#include "log.h"
#include "names.h"
#include "real.h"
#include "writer.h"
#include "rulematch.h"
#include "shim.h"
#include "stack.h"
#include "intern.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* Sleeps until the monotonic deadline. Returns 0, or EINTR when a signal
 * arrived and interrupt_on_signal says the real call would have returned. */
static int sleep_until(uint64_t deadline, bool interrupt_on_signal)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };
	int rc;

	while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		if (interrupt_on_signal)
			return EINTR;
	return 0;
}

/* A blocked socket call is restarted after a signal only when every
 * handler that could have run asked for SA_RESTART (signal(7)); we cannot
 * tell which signal came, so any handler without it means EINTR. */
static bool handlers_all_restart(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0)
			continue;
		if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN &&
		    !(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

static bool is_nonblocking(int fd, int msg_flags)
{
	int fl;

	if (msg_flags & MSG_DONTWAIT)
		return true;
	fl = fd >= 0 ? real_fcntl(fd, F_GETFL, NULL) : 0;
	return fl >= 0 && (fl & O_NONBLOCK);
}

/* Whether the call waits for the socket to have something to read. */
static bool call_receives(enum st_fn fn, enum st_data dir)
{
	const struct st_call_info *ci = st_call_info(fn);

	if (ci->data == ST_DATA_BOTH)
		return dir == ST_DATA_IN;
	return (ci->groups & ST_G_RECV) || ci->base == ST_FN_accept;
}

static uint64_t socket_timeout(int fd, bool receiving)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (fd < 0 || real_getsockopt(fd, SOL_SOCKET, receiving ? SO_RCVTIMEO : SO_SNDTIMEO,
				      &tv, &len) != 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

/* A black hole on loopback: a listener with a backlog of 0 whose one
 * queue slot is taken by a connection never accepted. The kernel drops
 * every further SYN to it, so a socket connecting there stays in SYN_SENT
 * exactly as one whose SYNs vanish on the network: poll does not report
 * it writable, SO_ERROR stays 0, and it ends with ETIMEDOUT. Made once, on
 * the first non-blocking connect a hang applies to. */
struct tarpit {
	_Atomic int state; /* 0 none, 1 making, 2 ready, 3 failed */
	struct sockaddr_storage addr;
	socklen_t len;
};
static struct tarpit tarpit4, tarpit6;

static void make_tarpit(struct tarpit *tp, int family)
{
	int expected = 0;
	int lfd, cfd;

	if (!atomic_compare_exchange_strong(&tp->state, &expected, 1)) {
		while (atomic_load(&tp->state) == 1)
			sched_yield();
		return;
	}
	memset(&tp->addr, 0, sizeof(tp->addr));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&tp->addr;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		tp->len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&tp->addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		tp->len = sizeof(*in6);
	}
	lfd = real_socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cfd = real_socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || cfd < 0 || real_bind(lfd, (struct sockaddr *)&tp->addr, tp->len) != 0 ||
	    real_listen(lfd, 0) != 0 ||
	    real_getsockname(lfd, (struct sockaddr *)&tp->addr, &tp->len) != 0 ||
	    real_connect(cfd, (struct sockaddr *)&tp->addr, tp->len) != 0) {
		if (lfd >= 0)
			real_close(lfd);
		if (cfd >= 0)
			real_close(cfd);
		atomic_store(&tp->state, 3);
		return;
	}
	/* Both stay open for the life of the process, out of its way. */
	st_move_fd_high(lfd);
	st_move_fd_high(cfd);
	atomic_store(&tp->state, 2);
}

static bool connect_to(int fd, struct tarpit *tp, int family, const struct sockaddr *addr,
		       socklen_t len)
{
	make_tarpit(tp, family);
	return atomic_load(&tp->state) == 2 && real_connect(fd, addr, len) == -1 &&
	       errno == EINPROGRESS;
}

/* Starts a connect that will never be answered; false if impossible. An
 * IPv6 socket tries the IPv4 black hole as ::ffff:127.0.0.1 first (one
 * listener serves both), then, if it is IPV6_V6ONLY, one on ::1. */
static bool connect_to_tarpit(int fd)
{
	struct st_fdsnap snap;

	st_fd_snapshot(fd, &snap);
	if (snap.family == AF_INET) {
		make_tarpit(&tarpit4, AF_INET);
		return connect_to(fd, &tarpit4, AF_INET, (struct sockaddr *)&tarpit4.addr,
				  tarpit4.len);
	}
	if (snap.family != AF_INET6)
		return false;
	make_tarpit(&tarpit4, AF_INET);
	if (atomic_load(&tarpit4.state) == 2) {
		struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
		const struct sockaddr_in *in = (const struct sockaddr_in *)&tarpit4.addr;
		mapped.sin6_port = in->sin_port;
		mapped.sin6_addr.s6_addr[10] = 0xff;
		mapped.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&mapped.sin6_addr.s6_addr[12], &in->sin_addr, 4);
		if (real_connect(fd, (struct sockaddr *)&mapped, sizeof(mapped)) == -1 &&
		    errno == EINPROGRESS)
			return true;
	}
	make_tarpit(&tarpit6, AF_INET6);
	return connect_to(fd, &tarpit6, AF_INET6, (struct sockaddr *)&tarpit6.addr, tarpit6.len);
}

#define HANG_LIFTED (-1)

/* Sleeps until the monotonic deadline like sleep_until(deadline, true),
 * and also wakes when `socktrace ctl` posts a change (it bumps the futex
 * word in the control page): then applies it and returns HANG_LIFTED if
 * the rule is no longer in force. A process that is never controlled
 * just sleeps, as before. */
static int hang_until(uint64_t deadline, const struct st_rule *r)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };

	for (;;) {
		uint32_t seen = __atomic_load_n(&st_hot.wake, __ATOMIC_ACQUIRE);
		long rc;

		/* The hanging thread applies a request itself: the process may
		 * have no other thread to do it. */
		if (st_unlikely(st_fault_fns & ST_CTL_PENDING_BIT))
			st_ctl_poll();
		if (!st_faults_in_force(r))
			return HANG_LIFTED;
		rc = st_syscall(SYS_futex, &st_hot.wake, FUTEX_WAIT_BITSET, seen, &ts, NULL,
			     FUTEX_BITSET_MATCH_ANY);
		if (rc == 0 || errno == EAGAIN)
			continue; /* a change was applied: is the rule still there? */
		if (errno == EINTR)
			return EINTR;
		if (errno == ETIMEDOUT)
			return 0;
		return sleep_until(deadline, true); /* no futex here: plain sleep */
	}
}

/* What a timed-out call reports: connect gives ETIMEDOUT, getaddrinfo
 * EAI_AGAIN, data and accept calls EAGAIN (SO_RCVTIMEO/SO_SNDTIMEO). */
static void hang(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd, int msg_flags)
{
	bool dns = fn == ST_FN_getaddrinfo;
	bool connecting = st_call_info(fn)->base == ST_FN_connect;
	uint64_t limit = f->rule->hang_ns;
	uint64_t sock = dns ? 0 : socket_timeout(fd, call_receives(fn, dir));
	uint64_t start = st_now();
	int rc = 0;

	f->replaced = true;
	f->ret = dns ? EAI_AGAIN : -1;
	if (!dns && is_nonblocking(fd, msg_flags)) {
		/* The non-blocking form: nothing ready, come back later. A
		 * connect really starts, towards the black hole; a unix
		 * socket gets what a full unix listener gives, EAGAIN. */
		f->err = connecting && connect_to_tarpit(fd) ? EINPROGRESS : EAGAIN;
		return;
	}
	if (sock && (!limit || sock < limit))
		limit = sock;
	/* Interrupted by a signal, the call fails with EINTR when a timeout
	 * is set or some handler lacks SA_RESTART; else it hangs on. */
	for (;;) {
		rc = hang_until(limit ? start + limit : UINT64_MAX / 2, f->rule);
		if (rc != EINTR || sock || !handlers_all_restart())
			break;
	}
	f->waited_ns = st_now() - start;
	if (rc == HANG_LIFTED) {
		/* The network is back: the call is made for real. */
		f->replaced = false;
		f->ret = 0;
		return;
	}
	f->err = rc == EINTR ? EINTR : connecting ? ETIMEDOUT : EAGAIN;
}

/* A real reset. For TCP, connect(AF_UNSPEC) makes the kernel abort the
 * connection with RST whatever other descriptors (dup, fork) share it, and
 * the socket then reports ECONNRESET and EPIPE exactly as after a reset
 * from the network; SO_LINGER 0 first keeps any unsent data from being
 * flushed. Other families have no such disconnect: their connection is
 * released by putting an unconnected socket in the descriptor's place
 * (dup3), so the program's number stays valid and can never be handed to
 * something else behind its back. */
static void reset_connection(struct st_fault *f, int fd)
{
	struct linger lg = { 1, 0 };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct st_fdsnap snap;
	int fdflags, flflags, dead;

	st_fd_snapshot(fd, &snap);
	real_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	f->replaced = true;
	f->ret = -1;
	f->err = ECONNRESET;
	if ((snap.family == AF_INET || snap.family == AF_INET6) &&
	    real_connect(fd, &unspec, sizeof(unspec)) == 0)
		return;
	fdflags = real_fcntl(fd, F_GETFD, NULL);
	flflags = real_fcntl(fd, F_GETFL, NULL);
	dead = real_socket(snap.family ? snap.family : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (dead >= 0) {
		real_dup3(dead, fd, fdflags >= 0 && (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
		real_close(dead);
		if (flflags >= 0)
			real_fcntl(fd, F_SETFL, (void *)(long)flflags);
	}
}

static void apply_delay(struct st_fault *f, uint64_t t0)
{
	const struct st_rule *r = f->rule;
	int64_t d = (int64_t)r->delay_ns;

	if (r->jitter_ns) {
		uint64_t span = 2 * r->jitter_ns + 1;
		d += (int64_t)(st_rule_random(st_faults_seed(), f->index, f->nth, 1) % span) -
		     (int64_t)r->jitter_ns;
	}
	if (d <= 0)
		return;
	sleep_until(t0 + (uint64_t)d, false);
	f->delayed_ns = (uint64_t)d;
}

/* bandwidth=: a socket may move data again once the bytes it moved have
 * had their time on the wire. */
static bool pace(struct st_fault *f, int fd, int msg_flags)
{
	struct st_fdent *e = st_fd_entry(fd);
	uint64_t until, now = st_now();

	if (!e)
		return true;
	until = atomic_load(&e->paced_until);
	if (until <= now)
		return true;
	if (is_nonblocking(fd, msg_flags)) {
		f->replaced = true;
		f->ret = -1;
		f->err = EAGAIN;
		return false;
	}
	sleep_until(until, false);
	f->waited_ns = st_now() - now;
	return true;
}

static bool fault_begin(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd,
			const struct sockaddr *addr, socklen_t addrlen, bool addr_is_local,
			const char *host, int msg_flags, uint64_t t0)
{
	const struct st_rule *r;
	int saved = errno;

	/* Field by field: not the copy of the rule, 2 KiB to clear on every
	 * call. */
	f->rule = NULL;
	f->index = 0;
	f->nth = 0;
	f->action = NULL;
	f->replaced = false;
	f->ret = 0;
	f->err = 0;
	f->delayed_ns = f->waited_ns = 0;
	f->asked = f->allowed = 0;
	f->flipped = 0;
	if (st_unlikely(st_fault_fns & ST_CTL_PENDING_BIT)) {
		st_ctl_poll();
		if (!st_fault_may(fn))
			return false;
	}
	r = st_faults_select(f, fn, dir, fd, addr, addrlen, addr_is_local, host, t0);
	if (!r) {
		errno = saved;
		return false;
	}
	f->action = "delay";
	if (r->delay_ns)
		apply_delay(f, t0);
	if (r->has_error) {
		f->action = "error";
		f->replaced = true;
		f->ret = fn == ST_FN_getaddrinfo ? r->error : -1;
		f->err = fn == ST_FN_getaddrinfo ? 0 : r->error;
	} else if (r->hang) {
		f->action = "hang";
		hang(f, fn, dir, fd, msg_flags);
	} else if (r->eof) {
		f->action = "close";
		f->replaced = true;
		f->ret = 0;
	} else if (r->reset) {
		f->action = "reset";
		reset_connection(f, fd);
	} else if (r->short_bytes > 0) {
		f->action = "short";
	} else if (r->corrupt_count || r->corrupt_rate > 0) {
		f->action = "corrupt";
	} else if (r->bandwidth) {
		f->action = "bandwidth";
		pace(f, fd, msg_flags);
	}
	errno = saved;
	return f->replaced;
}

bool st_fault_begin(struct st_fault *f, enum st_fn fn, int fd,
		    const struct sockaddr *addr, socklen_t addrlen, bool addr_is_local,
		    const char *host, int msg_flags, uint64_t t0)
{
	return fault_begin(f, fn, st_call_info(fn)->data, fd, addr, addrlen, addr_is_local, host,
			   msg_flags, t0);
}

bool st_fault_begin_dir(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd,
			int msg_flags, uint64_t t0)
{
	return fault_begin(f, fn, dir, fd, NULL, 0, false, NULL, msg_flags, t0);
}

size_t st_fault_len(struct st_fault *f, size_t len)
{
	const struct st_rule *r = f->rule;
	size_t cap = len;

	if (!r)
		return len;
	if (r->short_bytes > 0 && (size_t)r->short_bytes < cap)
		cap = (size_t)r->short_bytes;
	if (r->bandwidth) {
		/* At most 50 ms worth per call, so pacing stays smooth. */
		size_t chunk = r->bandwidth / 20 ? (size_t)(r->bandwidth / 20) : 1;
		if (chunk < cap)
			cap = chunk;
	}
	if (cap < len) {
		f->asked = len;
		f->allowed = cap;
	}
	return cap;
}

size_t st_fault_iov(struct st_fault *f, const struct iovec *iov, size_t cnt,
		    struct iovec *out, size_t out_cap)
{
	size_t total = 0, want, n = 0;

	for (size_t i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	want = st_fault_len(f, total);
	for (size_t i = 0; i < cnt && n < out_cap && want; i++) {
		out[n] = iov[i];
		if (out[n].iov_len > want)
			out[n].iov_len = want;
		want -= out[n].iov_len;
		n++;
	}
	return n;
}

/* Which bytes to flip: corrupt=N flips N bytes, corrupt=RATE each byte
 * with that probability; positions and values come from the seed. */
static void flip(struct st_fault *f, unsigned char *p, size_t n, size_t base)
{
	const struct st_rule *r = f->rule;

	if (r->corrupt_count) {
		for (uint32_t k = 0; k < r->corrupt_count && base == 0; k++) {
			uint64_t x = st_rule_random(st_faults_seed(), f->index, f->nth, 2 + k);
			if (!n)
				return;
			p[x % n] ^= (unsigned char)((x >> 32) % 255 + 1);
			f->flipped++;
		}
		return;
	}
	uint64_t threshold = (uint64_t)(r->corrupt_rate * 18446744073709551615.0);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = st_rule_random(st_faults_seed(), f->index, f->nth, (unsigned)(base + i) + 1000);
		if (x < threshold) {
			p[i] ^= (unsigned char)((x >> 17) % 255 + 1);
			f->flipped++;
		}
	}
}

void st_fault_received(struct st_fault *f, void *buf, ssize_t n)
{
	if (f->rule && (f->rule->corrupt_count || f->rule->corrupt_rate > 0) && buf && n > 0)
		flip(f, buf, (size_t)n, 0);
}

void st_fault_received_iov(struct st_fault *f, const struct iovec *iov, size_t cnt, ssize_t n)
{
	size_t left = n > 0 ? (size_t)n : 0, base = 0;

	if (!f->rule || !(f->rule->corrupt_count || f->rule->corrupt_rate > 0))
		return;
	/* corrupt=N picks its bytes in the first buffer that holds data. */
	for (size_t i = 0; i < cnt && left; i++) {
		size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
		flip(f, iov[i].iov_base, take, base);
		base += take;
		left -= take;
	}
}

const void *st_fault_sending(struct st_fault *f, const void *buf, size_t *len, void *scratch)
{
	if (!f->rule || !(f->rule->corrupt_count || f->rule->corrupt_rate > 0) || !buf || !*len)
		return buf;
	if (*len > ST_CORRUPT_SEND_MAX) {
		f->asked = *len;
		f->allowed = ST_CORRUPT_SEND_MAX;
		*len = ST_CORRUPT_SEND_MAX;
	}
	if (scratch != buf)
		memcpy(scratch, buf, *len);
	flip(f, scratch, *len, 0);
	return scratch;
}

void st_fault_end(struct st_fault *f, int fd, ssize_t bytes)
{
	struct st_fdent *e;
	uint64_t now, until;

	if (!f->rule || !f->rule->bandwidth || bytes <= 0 || !(e = st_fd_entry(fd)))
		return;
	now = st_now();
	until = atomic_load(&e->paced_until);
	if (until < now)
		until = now;
	until += (uint64_t)bytes * 1000000000u / f->rule->bandwidth;
	atomic_store(&e->paced_until, until);
}

/* One of the rule's texts: a reference when the file has it. */
static void rule_text(struct rb *b, struct st_interns *in, enum st_field field,
		      const struct st_fault *f, unsigned which, const char *text)
{
	_Atomic uint64_t *tag = st_faults_text_tag(f, which);
	uint32_t id = st_intern_id(in, tag, f->set_gen);

	if (id)
		st_intern_ref(b, field, id);
	else
		st_intern_def(b, in, field, text, strlen(text), tag, f->set_gen);
}

void st_fault_rec(struct rb *b, struct st_interns *in, const struct st_fault *f)
{
	const struct st_rule *r = f->rule;

	if (!r)
		return;
	rb_obj(b, ST_F_fault);
	rule_text(b, in, ST_F_rule, f, 0, r->origin);
	rule_text(b, in, ST_F_text, f, 1, r->text);
	rb_cname(b, ST_F_action, f->action);
	rb_u64(b, ST_F_nth, f->nth);
	/* made: the real call ran, and ret/errno are what it returned. */
	rb_bool(b, ST_F_made, !f->replaced);
	if (f->delayed_ns)
		rb_u64(b, ST_F_delay_ns, f->delayed_ns);
	if (f->waited_ns)
		rb_u64(b, ST_F_waited_ns, f->waited_ns);
	if (f->allowed) {
		rb_u64(b, ST_F_asked, f->asked);
		rb_u64(b, ST_F_allowed, f->allowed);
	}
	if (f->flipped)
		rb_u64(b, ST_F_flipped, f->flipped);
	rb_end(b);
}
