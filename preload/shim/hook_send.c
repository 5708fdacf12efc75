/* Sending: send, sendto, sendmsg, sendmmsg. */
#include "call.h"
#include "fdtable.h"
#include "real.h"

/* An unbound datagram socket gets its local port on its first send; a
 * TCP sendto with MSG_FASTOPEN connects as it sends. */
static void learn_after_send(int fd, ssize_t ret, int err, int flags,
			     const struct sockaddr *to, socklen_t tolen)
{
	if ((flags & MSG_FASTOPEN) && to && (ret >= 0 || err == EINPROGRESS))
		st_fd_set_peer(fd, to, tolen);
	if ((ret >= 0 || err == EINPROGRESS) && !st_fd_has_local(fd) &&
	    st_fd_kind(fd) == ST_FD_SOCKET)
		st_learn_local(fd);
}

static ssize_t st_send(int fd, const void *buf, size_t len, int flags)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

	if (!st_enter())
		return real_send(fd, buf, len, flags);
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = real_send(fd, buf, len, flags);
	err = errno;
	t1 = st_now();
	st_rec_begin(&r, ST_FN_send, fd, t0, t1, ret, err);
	jw_kv_i64(&r.w, "len", (int64_t)(len));
	st_rec_msgflags(&r, "flags", flags);
	if (ret >= 0)
		jw_kv_i64(&r.w, "bytes", ret);
	st_rec_payload(&r, buf, ret);
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return st_send(fd, buf, len, flags);
}

static ssize_t st_sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *to, socklen_t tolen)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

	if (!st_enter())
		return real_sendto(fd, buf, len, flags, to, tolen);
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = real_sendto(fd, buf, len, flags, to, tolen);
	err = errno;
	t1 = st_now();
	learn_after_send(fd, ret, err, flags, to, tolen);
	st_rec_begin(&r, ST_FN_sendto, fd, t0, t1, ret, err);
	jw_kv_i64(&r.w, "len", (int64_t)(len));
	st_rec_msgflags(&r, "flags", flags);
	if (to)
		st_ev_sockaddr(&r.w, "addr", to, tolen);
	if (ret >= 0)
		jw_kv_i64(&r.w, "bytes", ret);
	st_rec_payload(&r, buf, ret);
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 __CONST_SOCKADDR_ARG to, socklen_t tolen)
{
	return st_sendto(fd, buf, len, flags, ST_SA(to), tolen);
}

static ssize_t st_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_rec r;

	if (!st_enter())
		return real_sendmsg(fd, msg, flags);
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = real_sendmsg(fd, msg, flags);
	err = errno;
	t1 = st_now();
	if (msg)
		learn_after_send(fd, ret, err, flags, msg->msg_name, msg->msg_namelen);
	st_rec_begin(&r, ST_FN_sendmsg, fd, t0, t1, ret, err);
	if (msg) {
		jw_kv_i64(&r.w, "len", (int64_t)(st_iov_total(msg->msg_iov, msg->msg_iovlen)));
		st_rec_msgflags(&r, "flags", flags);
		if (msg->msg_name)
			st_ev_sockaddr(&r.w, "addr", msg->msg_name, msg->msg_namelen);
		if (msg->msg_controllen)
			jw_kv_u64(&r.w, "control", msg->msg_controllen);
		if (ret >= 0)
			jw_kv_i64(&r.w, "bytes", ret);
		st_rec_payload_iov(&r, msg->msg_iov, msg->msg_iovlen, ret);
	}
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return st_sendmsg(fd, msg, flags);
}

static int st_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_rec r;

	if (!st_enter())
		return real_sendmmsg(fd, vec, vlen, flags);
	st_fd_is_socket(fd);
	t0 = st_now();
	ret = real_sendmmsg(fd, vec, vlen, flags);
	err = errno;
	t1 = st_now();
	if (vec && vlen)
		learn_after_send(fd, ret, err, flags, vec[0].msg_hdr.msg_name,
				 vec[0].msg_hdr.msg_namelen);
	st_rec_begin(&r, ST_FN_sendmmsg, fd, t0, t1, ret, err);
	jw_kv_u64(&r.w, "vlen", vlen);
	st_rec_msgflags(&r, "flags", flags);
	if (vec && vlen && vec[0].msg_hdr.msg_name)
		st_ev_sockaddr(&r.w, "addr", vec[0].msg_hdr.msg_name,
			       vec[0].msg_hdr.msg_namelen);
	if (ret > 0) {
		uint64_t bytes = 0;
		for (int i = 0; i < ret; i++)
			bytes += vec[i].msg_len;
		jw_kv_u64(&r.w, "bytes", bytes);
		st_rec_payload_iov(&r, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen,
				   vec[0].msg_len);
	}
	st_rec_emit(&r, fd);
	errno = err;
	return ret;
}

ST_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	return st_sendmmsg(fd, vec, vlen, flags);
}
