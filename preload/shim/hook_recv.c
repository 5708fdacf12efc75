/* Receiving: recv, recvfrom, recvmsg, recvmmsg and their fortify twins. */
#include "call.h"
#include "fdtable.h"
#include "fortify.h"
#include "real.h"

static void rec_recv(struct st_rec *r, size_t len, int flags, ssize_t ret,
		     const void *buf)
{
	jw_kv_i64(&r->w, "len", (int64_t)(len));
	st_rec_msgflags(r, "flags", flags);
	if (ret >= 0)
		jw_kv_i64(&r->w, "bytes", ret);
	st_rec_payload(r, buf, ret);
}

/* The sender's address, when the kernel wrote one (datagrams). */
static void rec_from(struct st_rec *r, ssize_t ret, const struct sockaddr *from,
		     const socklen_t *fromlen)
{
	if (ret >= 0 && from && fromlen && *fromlen > 0)
		st_ev_sockaddr(&r->w, "addr", from, *fromlen);
}

static ssize_t st_recv(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen,
		       int flags)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

#define CALL_REAL() (fn == ST_FN_recv ? real_recv(fd, buf, len, flags) \
				      : real___recv_chk(fd, buf, len, buflen, flags))
	if (!st_enter())
		return CALL_REAL();
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = CALL_REAL();
	err = errno;
	t1 = st_now();
#undef CALL_REAL
	st_rec_begin(&r, fn, fd, t0, t1, ret, err);
	rec_recv(&r, len, flags, ret, buf);
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return st_recv(ST_FN_recv, fd, buf, len, 0, flags);
}

ST_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	return st_recv(ST_FN___recv_chk, fd, buf, len, buflen, flags);
}

static ssize_t st_recvfrom(enum st_fn fn, int fd, void *buf, size_t len,
			   size_t buflen, int flags, struct sockaddr *from,
			   socklen_t *fromlen)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

#define CALL_REAL() (fn == ST_FN_recvfrom \
	? real_recvfrom(fd, buf, len, flags, from, fromlen) \
	: real___recvfrom_chk(fd, buf, len, buflen, flags, from, fromlen))
	if (!st_enter())
		return CALL_REAL();
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = CALL_REAL();
	err = errno;
	t1 = st_now();
#undef CALL_REAL
	st_rec_begin(&r, fn, fd, t0, t1, ret, err);
	rec_recv(&r, len, flags, ret, buf);
	rec_from(&r, ret, from, fromlen);
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   __SOCKADDR_ARG from, socklen_t *fromlen)
{
	return st_recvfrom(ST_FN_recvfrom, fd, buf, len, 0, flags, ST_SA(from), fromlen);
}

ST_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				 int flags, struct sockaddr *from, socklen_t *fromlen)
{
	return st_recvfrom(ST_FN___recvfrom_chk, fd, buf, len, buflen, flags, from,
			   fromlen);
}

static ssize_t st_recvmsg(int fd, struct msghdr *msg, int flags)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

	if (!st_enter())
		return real_recvmsg(fd, msg, flags);
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = real_recvmsg(fd, msg, flags);
	err = errno;
	t1 = st_now();
	st_rec_begin(&r, ST_FN_recvmsg, fd, t0, t1, ret, err);
	if (msg) {
		jw_kv_i64(&r.w, "len", (int64_t)(st_iov_total(msg->msg_iov, msg->msg_iovlen)));
		st_rec_msgflags(&r, "flags", flags);
		if (ret >= 0) {
			jw_kv_i64(&r.w, "bytes", ret);
			rec_from(&r, ret, msg->msg_name, &msg->msg_namelen);
			st_rec_msgflags(&r, "msg_flags", msg->msg_flags);
		}
		st_rec_payload_iov(&r, msg->msg_iov, msg->msg_iovlen, ret);
	}
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return st_recvmsg(fd, msg, flags);
}

static int st_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_rec r;

	if (!st_enter())
		return real_recvmmsg(fd, vec, vlen, flags, timeout);
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = real_recvmmsg(fd, vec, vlen, flags, timeout);
	err = errno;
	t1 = st_now();
	st_rec_begin(&r, ST_FN_recvmmsg, fd, t0, t1, ret, err);
	jw_kv_u64(&r.w, "vlen", vlen);
	st_rec_msgflags(&r, "flags", flags);
	if (ret > 0) {
		uint64_t bytes = 0;
		for (int i = 0; i < ret; i++)
			bytes += vec[i].msg_len;
		jw_kv_u64(&r.w, "bytes", bytes);
		rec_from(&r, 0, vec[0].msg_hdr.msg_name, &vec[0].msg_hdr.msg_namelen);
		st_rec_payload_iov(&r, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen,
				   vec[0].msg_len);
	}
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	return st_recvmmsg(fd, vec, vlen, flags, timeout);
}
