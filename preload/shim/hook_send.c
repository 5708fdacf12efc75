/* Sending: send, sendto, sendmsg, sendmmsg. */
#include "call.h"
#include "hooks.h"
#include "fdtable.h"
#include "real.h"

#define IOV_FAULT_MAX 64

/* An unbound datagram socket gets its local port on its first send; a
 * TCP sendto with MSG_FASTOPEN connects as it sends. */
static void learn_after_send(int fd, ssize_t ret, int err, int flags,
			     const struct sockaddr *to, socklen_t tolen)
{
	if ((flags & MSG_FASTOPEN) && to && (ret >= 0 || err == EINPROGRESS))
		st_fd_set_peer(fd, to, tolen);
	if ((ret >= 0 || err == EINPROGRESS) && !st_fd_has_local(fd) &&
	    st_fd_kind(fd) == ST_FD_SOCKET)
		st_fd_set_local_pending(fd);
}

/* send and sendto share everything but the destination. */
static ssize_t send_contiguous(enum st_fn fn, int fd, const void *buf, size_t len,
			       int flags, const struct sockaddr *to, socklen_t tolen, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;
	char scratch[ST_CORRUPT_SEND_MAX];

	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(fn) && st_fault_begin(&f, fn, fd, to, tolen, false, NULL, flags, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		size_t n = st_fault_len(&f, len);
		const void *data = st_fault_sending(&f, buf, &n, scratch);
		ret = fn == ST_FN_send ? real_send(fd, data, n, flags)
				       : real_sendto(fd, data, n, flags, to, tolen);
		err = errno;
		st_fault_end(&f, fd, ret);
	}
	t1 = st_time_end();
	if (fn == ST_FN_sendto)
		learn_after_send(fd, ret, err, flags, to, tolen);
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, fd, t0, t1, ret, err, via);
		rb_i64(&r.b, ST_F_len, (int64_t)len);
		st_rec_msgflags(&r, ST_F_msgflags, flags);
		if (to)
			st_ev_sockaddr(&r.b, ST_F_addr, to, tolen);
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		st_rec_payload(&r, buf, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ssize_t st_send(int fd, const void *buf, size_t len, int flags, enum st_via via)
{
	if (!st_enter_call(st_fault_may(ST_FN_send)))
		return real_send(fd, buf, len, flags);
	st_fd_is_socket(fd);
	return send_contiguous(ST_FN_send, fd, buf, len, flags, NULL, 0, via);
}

ST_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return st_send(fd, buf, len, flags, ST_VIA_NONE);
}

ssize_t st_sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *to, socklen_t tolen, enum st_via via)
{
	if (!st_enter_call(st_fault_may(ST_FN_sendto)))
		return real_sendto(fd, buf, len, flags, to, tolen);
	st_fd_is_socket(fd);
	return send_contiguous(ST_FN_sendto, fd, buf, len, flags, to, tolen, via);
}

ST_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 __CONST_SOCKADDR_ARG to, socklen_t tolen)
{
	return st_sendto(fd, buf, len, flags, ST_SA(to), tolen, ST_VIA_NONE);
}

/* short= and bandwidth= send a prefix of the vector; corrupt= sends a
 * flipped copy of its first bytes. Either way through a private msghdr,
 * never by writing into the program's. */
static ssize_t sendmsg_faulted(struct st_fault *f, int fd, const struct msghdr *msg,
			       int flags)
{
	struct msghdr copy = *msg;
	struct iovec iov[IOV_FAULT_MAX];
	char scratch[ST_CORRUPT_SEND_MAX];

	if (f->rule->corrupt_count || f->rule->corrupt_rate > 0) {
		size_t n = 0;
		for (size_t i = 0; i < msg->msg_iovlen && n < sizeof(scratch); i++) {
			size_t take = msg->msg_iov[i].iov_len < sizeof(scratch) - n
					      ? msg->msg_iov[i].iov_len
					      : sizeof(scratch) - n;
			memcpy(scratch + n, msg->msg_iov[i].iov_base, take);
			n += take;
		}
		size_t total = st_iov_total(msg->msg_iov, msg->msg_iovlen);
		const void *data = st_fault_sending(f, scratch, &n, scratch);
		if (total > n) {
			f->asked = total;
			f->allowed = n;
		}
		iov[0].iov_base = (void *)data;
		iov[0].iov_len = n;
		copy.msg_iov = iov;
		copy.msg_iovlen = 1;
	} else {
		copy.msg_iov = iov;
		copy.msg_iovlen = st_fault_iov(f, msg->msg_iov, msg->msg_iovlen, iov, IOV_FAULT_MAX);
	}
	return real_sendmsg(fd, &copy, flags);
}

ssize_t st_sendmsg(int fd, const struct msghdr *msg, int flags, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_sendmsg)))
		return real_sendmsg(fd, msg, flags);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	f.rule = NULL;
	if (msg && st_fault_may(ST_FN_sendmsg) &&
	    st_fault_begin(&f, ST_FN_sendmsg, fd, msg->msg_name, msg->msg_namelen, false, NULL,
			   flags, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		ret = st_fault_shapes_data(&f) ? sendmsg_faulted(&f, fd, msg, flags)
						: real_sendmsg(fd, msg, flags);
		err = errno;
		st_fault_end(&f, fd, ret);
	}
	t1 = st_time_end();
	if (msg)
		learn_after_send(fd, ret, err, flags, msg->msg_name, msg->msg_namelen);
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_sendmsg, fd, t0, t1, ret, err, via);
	if (msg) {
		rb_i64(&r.b, ST_F_len, (int64_t)st_iov_total(msg->msg_iov, msg->msg_iovlen));
		st_rec_msgflags(&r, ST_F_msgflags, flags);
		if (msg->msg_name)
			st_ev_sockaddr(&r.b, ST_F_addr, msg->msg_name, msg->msg_namelen);
		if (msg->msg_controllen)
			rb_u64(&r.b, ST_F_control, msg->msg_controllen);
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		st_rec_payload_iov(&r, msg->msg_iov, msg->msg_iovlen, ret);
	}
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return st_sendmsg(fd, msg, flags, ST_VIA_NONE);
}

int st_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;
	bool have = vec && vlen;

	if (!st_enter_call(st_fault_may(ST_FN_sendmmsg)))
		return real_sendmmsg(fd, vec, vlen, flags);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	f.rule = NULL;
	if (have && st_fault_may(ST_FN_sendmmsg) &&
	    st_fault_begin(&f, ST_FN_sendmmsg, fd, vec[0].msg_hdr.msg_name,
			   vec[0].msg_hdr.msg_namelen, false, NULL, flags, t0)) {
		ret = (int)f.ret;
		err = f.err;
	} else if (have && st_fault_shapes_data(&f)) {
		/* Data faults act on the first message alone, sent by itself:
		 * a batch cut short, as a congested socket would. */
		ssize_t one = sendmsg_faulted(&f, fd, &vec[0].msg_hdr, flags);
		err = errno;
		if (one >= 0)
			vec[0].msg_len = (unsigned)one;
		ret = one >= 0 ? 1 : -1;
		st_fault_end(&f, fd, one);
	} else {
		ret = real_sendmmsg(fd, vec, vlen, flags);
		err = errno;
	}
	t1 = st_time_end();
	if (have)
		learn_after_send(fd, ret, err, flags, vec[0].msg_hdr.msg_name,
				 vec[0].msg_hdr.msg_namelen);
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_sendmmsg, fd, t0, t1, ret, err, via);
	rb_u64(&r.b, ST_F_vlen, vlen);
	st_rec_msgflags(&r, ST_F_msgflags, flags);
	if (have && vec[0].msg_hdr.msg_name)
		st_ev_sockaddr(&r.b, ST_F_addr, vec[0].msg_hdr.msg_name, vec[0].msg_hdr.msg_namelen);
	if (ret > 0) {
		uint64_t bytes = 0;
		for (int i = 0; i < ret; i++)
			bytes += vec[i].msg_len;
		rb_u64(&r.b, ST_F_bytes, bytes);
		st_rec_payload_iov(&r, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen,
				   vec[0].msg_len);
	}
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	return st_sendmmsg(fd, vec, vlen, flags, ST_VIA_NONE);
}
