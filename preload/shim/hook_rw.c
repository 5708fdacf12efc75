/* read/write and their vector forms: traced only when the fd is a socket,
 * so a program's file I/O costs one table lookup and nothing else.
 *
 * On a descriptor the fd table calls a socket, the real call is made as
 * its socket form: recv for read, send for write, recvmsg and sendmsg
 * for the vectors. The kernel runs the same code for both (sock_read_iter
 * and recvfrom both end in sock_recvmsg with MSG_DONTWAIT from O_NONBLOCK;
 * a write on a SOCK_SEQPACKET socket adds MSG_EOR, and so do we), but the
 * socket form fails with ENOTSOCK or EBADF where the number is no longer
 * a socket: its close went past us (io_uring, a library's own system
 * call) and something else took the number. The table is then corrected
 * and the call made again as the program made it, untraced: an inotify
 * descriptor is never reported as the old connection, and the check
 * costs nothing where the table is right. Zero lengths keep the plain
 * call (read and write return 0 at once on a socket, recv would wait for
 * a datagram), and so does a process under a seccomp filter, which may
 * allow read but not recvfrom. */
#include "call.h"
#include "hooks.h"
#include "fdtable.h"
#include "fortify.h"
#include "real.h"
#include "sandbox.h"

#include <limits.h>

#define IOV_FAULT_MAX 64

/* Whether read and write on fd may be made as their socket forms. */
static bool socket_form(size_t len)
{
	return len > 0 && !st_sealed() && !st_sandbox_inherited();
}

/* The socket form of the call failed: the descriptor was not the socket
 * the table remembered. */
static bool stale(bool form, ssize_t ret, int err)
{
	return form && ret < 0 && (err == ENOTSOCK || err == EBADF);
}

/* readv and writev refuse counts that recvmsg would take. */
static bool vector_form(const struct iovec *iov, int n)
{
	return n > 0 && n <= IOV_MAX && socket_form(st_iov_total(iov, (size_t)n));
}

static int eor(int fd)
{
	return st_fd_socktype(fd) == SOCK_SEQPACKET ? MSG_EOR : 0;
}

static ssize_t sock_read(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen)
{
	if (!socket_form(len))
		return fn == ST_FN_read ? real_read(fd, buf, len)
					: real___read_chk(fd, buf, len, buflen);
	/* __recv_chk makes __read_chk's check of the buffer's size. */
	return fn == ST_FN_read ? real_recv(fd, buf, len, 0)
				: real___recv_chk(fd, buf, len, buflen, 0);
}

static ssize_t sock_write(int fd, const void *buf, size_t len)
{
	return socket_form(len) ? real_send(fd, buf, len, eor(fd)) : real_write(fd, buf, len);
}

static ssize_t sock_rwv(enum st_fn fn, int fd, const struct iovec *iov, int n)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };

	if (!vector_form(iov, n))
		return fn == ST_FN_readv ? real_readv(fd, iov, n) : real_writev(fd, iov, n);
	return fn == ST_FN_readv ? real_recvmsg(fd, &msg, 0) : real_sendmsg(fd, &msg, eor(fd));
}

ssize_t st_read(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;

#define CALL_REAL(n) (fn == ST_FN_read ? real_read(fd, buf, n) \
				       : real___read_chk(fd, buf, n, buflen))
	if (!st_enter_call(st_fault_may(fn)) || !st_fd_is_socket(fd))
		return CALL_REAL(len);
	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(fn) && st_fault_begin(&f, fn, fd, NULL, 0, false, NULL, 0, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		size_t n = st_fault_len(&f, len);
		ret = sock_read(fn, fd, buf, n, buflen);
		err = errno;
		if (st_unlikely(stale(socket_form(n), ret, err))) {
			st_fd_forget(fd);
			return CALL_REAL(len);
		}
		st_fault_received(&f, buf, ret);
		st_fault_end(&f, fd, ret);
	}
#undef CALL_REAL
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, fd, t0, t1, ret, err, via);
		rb_i64(&r.b, ST_F_len, (int64_t)len);
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		st_rec_payload(&r, buf, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	return st_read(ST_FN_read, fd, buf, len, 0, ST_VIA_NONE);
}

ST_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	return st_read(ST_FN___read_chk, fd, buf, len, buflen, ST_VIA_NONE);
}

ssize_t st_write(int fd, const void *buf, size_t len, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;
	char scratch[ST_CORRUPT_SEND_MAX];

	if (!st_enter_call(st_fault_may(ST_FN_write)) || !st_fd_is_socket(fd))
		return real_write(fd, buf, len);
	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(ST_FN_write) &&
	    st_fault_begin(&f, ST_FN_write, fd, NULL, 0, false, NULL, 0, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		size_t n = st_fault_len(&f, len);
		const void *data = st_fault_sending(&f, buf, &n, scratch);
		ret = sock_write(fd, data, n);
		err = errno;
		if (st_unlikely(stale(socket_form(n), ret, err))) {
			st_fd_forget(fd);
			return real_write(fd, buf, len);
		}
		st_fault_end(&f, fd, ret);
	}
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_write, fd, t0, t1, ret, err, via);
		rb_i64(&r.b, ST_F_len, (int64_t)len);
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		st_rec_payload(&r, buf, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	return st_write(fd, buf, len, ST_VIA_NONE);
}

/* Vector I/O under a data fault: writev sends a flipped copy of its first
 * bytes (corrupt=) or a prefix of the vector (short=, bandwidth=); readv
 * reads into a prefix. */
static ssize_t rwv_faulted(struct st_fault *f, enum st_fn fn, int fd,
			   const struct iovec *iov, int n)
{
	struct iovec part[IOV_FAULT_MAX];
	char scratch[ST_CORRUPT_SEND_MAX];

	if (fn == ST_FN_writev && (f->rule->corrupt_count || f->rule->corrupt_rate > 0)) {
		size_t len = 0, total = st_iov_total(iov, (size_t)n);
		for (int i = 0; i < n && len < sizeof(scratch); i++) {
			size_t take = iov[i].iov_len < sizeof(scratch) - len ? iov[i].iov_len
									   : sizeof(scratch) - len;
			memcpy(scratch + len, iov[i].iov_base, take);
			len += take;
		}
		st_fault_sending(f, scratch, &len, scratch);
		if (total > len) {
			f->asked = total;
			f->allowed = len;
		}
		return real_write(fd, scratch, len);
	}
	size_t cnt = st_fault_iov(f, iov, (size_t)n, part, IOV_FAULT_MAX);
	return fn == ST_FN_readv ? real_readv(fd, part, (int)cnt) : real_writev(fd, part, (int)cnt);
}

ssize_t st_rwv(enum st_fn fn, int fd, const struct iovec *iov, int n, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;

#define CALL_REAL() (fn == ST_FN_readv ? real_readv(fd, iov, n) : real_writev(fd, iov, n))
	if (!st_enter_call(st_fault_may(fn)) || !st_fd_is_socket(fd))
		return CALL_REAL();
	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(fn) && st_fault_begin(&f, fn, fd, NULL, 0, false, NULL, 0, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		bool shaped = st_fault_shapes_data(&f) && n > 0;
		ret = shaped ? rwv_faulted(&f, fn, fd, iov, n) : sock_rwv(fn, fd, iov, n);
		err = errno;
		if (st_unlikely(stale(!shaped && vector_form(iov, n), ret, err))) {
			st_fd_forget(fd);
			return CALL_REAL();
		}
		if (fn == ST_FN_readv && n > 0)
			st_fault_received_iov(&f, iov, (size_t)n, ret);
		st_fault_end(&f, fd, ret);
	}
#undef CALL_REAL
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, fd, t0, t1, ret, err, via);
		rb_i64(&r.b, ST_F_len, (int64_t)(n > 0 ? st_iov_total(iov, (size_t)n) : 0));
		rb_i64(&r.b, ST_F_iovcnt, n);
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		if (n > 0)
			st_rec_payload_iov(&r, iov, (size_t)n, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	return st_rwv(ST_FN_readv, fd, iov, n, ST_VIA_NONE);
}

ST_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	return st_rwv(ST_FN_writev, fd, iov, n, ST_VIA_NONE);
}
