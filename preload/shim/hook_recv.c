/* Receiving: recv, recvfrom, recvmsg, recvmmsg and their fortify twins. */
#include "call.h"
#include "hooks.h"
#include "fdtable.h"
#include "fortify.h"
#include "real.h"

#define IOV_FAULT_MAX 64

static void rec_recv(struct st_rec *r, size_t len, int flags, ssize_t ret,
		     const void *buf)
{
	rb_i64(&r->b, ST_F_len, (int64_t)len);
	st_rec_msgflags(r, ST_F_msgflags, flags);
	if (ret >= 0)
		rb_i64(&r->b, ST_F_bytes, ret);
	st_rec_payload(r, buf, ret);
}

/* The sender's address, when the kernel wrote one (datagrams). */
static void rec_from(struct st_rec *r, ssize_t ret, const struct sockaddr *from,
		     const socklen_t *fromlen)
{
	if (ret >= 0 && from && fromlen && *fromlen > 0)
		st_ev_sockaddr(&r->b, ST_F_addr, from, *fromlen);
}

/* The four contiguous-buffer receives differ only in the real call. */
static ssize_t call_recv(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen,
			 int flags, struct sockaddr *from, socklen_t *fromlen)
{
	switch (fn) {
	case ST_FN_recv:
		return real_recv(fd, buf, len, flags);
	case ST_FN___recv_chk:
		return real___recv_chk(fd, buf, len, buflen, flags);
	case ST_FN_recvfrom:
		return real_recvfrom(fd, buf, len, flags, from, fromlen);
	default:
		return real___recvfrom_chk(fd, buf, len, buflen, flags, from, fromlen);
	}
}

ssize_t st_recv_any(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen,
			   int flags, struct sockaddr *from, socklen_t *fromlen, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(fn)))
		return call_recv(fn, fd, buf, len, buflen, flags, from, fromlen);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(fn) && st_fault_begin(&f, fn, fd, NULL, 0, false, NULL, flags, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		/* A shorter length keeps the fortify check's buflen valid. */
		ret = call_recv(fn, fd, buf, st_fault_len(&f, len), buflen, flags, from, fromlen);
		err = errno;
		st_fault_received(&f, buf, ret);
		st_fault_end(&f, fd, ret);
	}
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, fd, t0, t1, ret, err, via);
		rec_recv(&r, len, flags, ret, buf);
		if (fn == ST_FN_recvfrom || fn == ST_FN___recvfrom_chk)
			rec_from(&r, f.rule && f.replaced ? -1 : ret, from, fromlen);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return st_recv_any(ST_FN_recv, fd, buf, len, 0, flags, NULL, NULL, ST_VIA_NONE);
}

ST_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	return st_recv_any(ST_FN___recv_chk, fd, buf, len, buflen, flags, NULL, NULL, ST_VIA_NONE);
}

ST_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   __SOCKADDR_ARG from, socklen_t *fromlen)
{
	return st_recv_any(ST_FN_recvfrom, fd, buf, len, 0, flags, ST_SA(from), fromlen, ST_VIA_NONE);
}

ST_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
				 int flags, struct sockaddr *from, socklen_t *fromlen)
{
	return st_recv_any(ST_FN___recvfrom_chk, fd, buf, len, buflen, flags, from, fromlen, ST_VIA_NONE);
}

/* Descriptors passed with SCM_RIGHTS arrive at numbers the table may
 * still remember as something else (a close it did not see): whatever
 * they are, they are new, and are learnt afresh when first used. */
static void forget_passed_fds(const struct msghdr *msg, ssize_t ret)
{
	if (ret < 0 || !msg || !msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *p = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, p + i * sizeof(int), sizeof(fd));
			st_fd_forget(fd);
		}
	}
}

/* short= and bandwidth= receive into a prefix of the program's vector,
 * through a private msghdr whose results are copied back. */
static ssize_t recvmsg_faulted(struct st_fault *f, int fd, struct msghdr *msg, int flags)
{
	struct msghdr copy = *msg;
	struct iovec iov[IOV_FAULT_MAX];
	ssize_t ret;

	copy.msg_iov = iov;
	copy.msg_iovlen = st_fault_iov(f, msg->msg_iov, msg->msg_iovlen, iov, IOV_FAULT_MAX);
	ret = real_recvmsg(fd, &copy, flags);
	msg->msg_namelen = copy.msg_namelen;
	msg->msg_controllen = copy.msg_controllen;
	msg->msg_flags = copy.msg_flags;
	return ret;
}

ssize_t st_recvmsg(int fd, struct msghdr *msg, int flags, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_recvmsg))) {
		ret = real_recvmsg(fd, msg, flags);
		forget_passed_fds(msg, ret);
		return ret;
	}
	st_fd_is_socket(fd);
	t0 = st_time_start();
	f.rule = NULL;
	if (msg && st_fault_may(ST_FN_recvmsg) &&
	    st_fault_begin(&f, ST_FN_recvmsg, fd, NULL, 0, false, NULL, flags, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		ret = st_fault_shapes_data(&f) ? recvmsg_faulted(&f, fd, msg, flags)
					       : real_recvmsg(fd, msg, flags);
		err = errno;
		forget_passed_fds(msg, ret);
		if (msg)
			st_fault_received_iov(&f, msg->msg_iov, msg->msg_iovlen, ret);
		st_fault_end(&f, fd, ret);
	}
	t1 = st_time_end();
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_recvmsg, fd, t0, t1, ret, err, via);
	if (msg) {
		rb_i64(&r.b, ST_F_len, (int64_t)st_iov_total(msg->msg_iov, msg->msg_iovlen));
		st_rec_msgflags(&r, ST_F_msgflags, flags);
		if (ret >= 0 && !(f.rule && f.replaced)) {
			rb_i64(&r.b, ST_F_bytes, ret);
			rec_from(&r, ret, msg->msg_name, &msg->msg_namelen);
			st_rec_msgflags(&r, ST_F_msg_flags, msg->msg_flags);
		} else if (ret >= 0) {
			rb_i64(&r.b, ST_F_bytes, ret);
		}
		st_rec_payload_iov(&r, msg->msg_iov, msg->msg_iovlen, ret);
	}
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return st_recvmsg(fd, msg, flags, ST_VIA_NONE);
}

int st_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;
	bool have = vec && vlen;

	if (!st_enter_call(st_fault_may(ST_FN_recvmmsg)))
		return real_recvmmsg(fd, vec, vlen, flags, timeout);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	f.rule = NULL;
	if (have && st_fault_may(ST_FN_recvmmsg) &&
	    st_fault_begin(&f, ST_FN_recvmmsg, fd, NULL, 0, false, NULL, flags, t0)) {
		/* An end of stream (close) is zero messages here. */
		ret = (int)f.ret;
		err = f.err;
	} else if (have && st_fault_shapes_data(&f)) {
		/* Data faults receive one message, into a shortened buffer. */
		ssize_t one = recvmsg_faulted(&f, fd, &vec[0].msg_hdr, flags);
		err = errno;
		if (one >= 0) {
			vec[0].msg_len = (unsigned)one;
			st_fault_received_iov(&f, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen, one);
		}
		ret = one >= 0 ? 1 : -1;
		st_fault_end(&f, fd, one);
	} else {
		ret = real_recvmmsg(fd, vec, vlen, flags, timeout);
		err = errno;
		for (int i = 0; i < ret; i++)
			forget_passed_fds(&vec[i].msg_hdr, 0);
	}
	t1 = st_time_end();
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_recvmmsg, fd, t0, t1, ret, err, via);
	rb_u64(&r.b, ST_F_vlen, vlen);
	st_rec_msgflags(&r, ST_F_msgflags, flags);
	if (ret > 0) {
		uint64_t bytes = 0;
		for (int i = 0; i < ret; i++)
			bytes += vec[i].msg_len;
		rb_u64(&r.b, ST_F_bytes, bytes);
		rec_from(&r, 0, vec[0].msg_hdr.msg_name, &vec[0].msg_hdr.msg_namelen);
		st_rec_payload_iov(&r, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen,
				   vec[0].msg_len);
	}
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	return st_recvmmsg(fd, vec, vlen, flags, timeout, ST_VIA_NONE);
}
