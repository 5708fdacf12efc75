/* read/write and their vector forms: traced only when the fd is a socket,
 * so a program's file I/O costs one table lookup and nothing else. */
#include "call.h"
#include "fortify.h"
#include "real.h"

#define IOV_FAULT_MAX 64

static ssize_t st_read(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen)
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
		ret = CALL_REAL(st_fault_len(&f, len));
		err = errno;
		st_fault_received(&f, buf, ret);
		st_fault_end(&f, fd, ret);
	}
#undef CALL_REAL
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, fd, t0, t1, ret, err);
		jw_kv_i64(&r.w, "len", (int64_t)len);
		if (ret >= 0)
			jw_kv_i64(&r.w, "bytes", ret);
		st_rec_payload(&r, buf, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	return st_read(ST_FN_read, fd, buf, len, 0);
}

ST_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	return st_read(ST_FN___read_chk, fd, buf, len, buflen);
}

static ssize_t st_write(int fd, const void *buf, size_t len)
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
		ret = real_write(fd, data, n);
		err = errno;
		st_fault_end(&f, fd, ret);
	}
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_write, fd, t0, t1, ret, err);
		jw_kv_i64(&r.w, "len", (int64_t)len);
		if (ret >= 0)
			jw_kv_i64(&r.w, "bytes", ret);
		st_rec_payload(&r, buf, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	return st_write(fd, buf, len);
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

static ssize_t st_rwv(enum st_fn fn, int fd, const struct iovec *iov, int n)
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
		ret = st_fault_shapes_data(&f) && n > 0 ? rwv_faulted(&f, fn, fd, iov, n) : CALL_REAL();
		err = errno;
		if (fn == ST_FN_readv && n > 0)
			st_fault_received_iov(&f, iov, (size_t)n, ret);
		st_fault_end(&f, fd, ret);
	}
#undef CALL_REAL
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, fd, t0, t1, ret, err);
		jw_kv_i64(&r.w, "len", (int64_t)(n > 0 ? st_iov_total(iov, (size_t)n) : 0));
		jw_kv_i64(&r.w, "iovcnt", n);
		if (ret >= 0)
			jw_kv_i64(&r.w, "bytes", ret);
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
	return st_rwv(ST_FN_readv, fd, iov, n);
}

ST_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	return st_rwv(ST_FN_writev, fd, iov, n);
}
