/* read/write and their vector forms: traced only when the fd is a socket,
 * so a program's file I/O costs one table lookup and nothing else. */
#include "call.h"
#include "fortify.h"
#include "real.h"

static ssize_t st_read(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

#define CALL_REAL() (fn == ST_FN_read ? real_read(fd, buf, len) \
				      : real___read_chk(fd, buf, len, buflen))
	if (!st_enter() || !st_fd_is_socket(fd))
		return CALL_REAL();
	t0 = st_now();
	ret = CALL_REAL();
	err = errno;
	t1 = st_now();
#undef CALL_REAL
	st_rec_begin(&r, fn, fd, t0, t1, ret, err);
	jw_kv_i64(&r.w, "len", (int64_t)(len));
	if (ret >= 0)
		jw_kv_i64(&r.w, "bytes", ret);
	st_rec_payload(&r, buf, ret);
	st_rec_emit(&r, fd);
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
	struct st_rec r;

	if (!st_enter() || !st_fd_is_socket(fd))
		return real_write(fd, buf, len);
	t0 = st_now();
	ret = real_write(fd, buf, len);
	err = errno;
	t1 = st_now();
	st_rec_begin(&r, ST_FN_write, fd, t0, t1, ret, err);
	jw_kv_i64(&r.w, "len", (int64_t)(len));
	if (ret >= 0)
		jw_kv_i64(&r.w, "bytes", ret);
	st_rec_payload(&r, buf, ret);
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	return st_write(fd, buf, len);
}

static ssize_t st_rwv(enum st_fn fn, int fd, const struct iovec *iov, int n)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

#define CALL_REAL() (fn == ST_FN_readv ? real_readv(fd, iov, n) : real_writev(fd, iov, n))
	if (!st_enter() || !st_fd_is_socket(fd))
		return CALL_REAL();
	t0 = st_now();
	ret = CALL_REAL();
	err = errno;
	t1 = st_now();
#undef CALL_REAL
	st_rec_begin(&r, fn, fd, t0, t1, ret, err);
	jw_kv_i64(&r.w, "len", (int64_t)(n > 0 ? st_iov_total(iov, (size_t)n) : 0));
	jw_kv_i64(&r.w, "iovcnt", n);
	if (ret >= 0)
		jw_kv_i64(&r.w, "bytes", ret);
	if (n > 0)
		st_rec_payload_iov(&r, iov, (size_t)n, ret);
	st_rec_emit(&r, fd);
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
