/* Connection setup: socket, socketpair, bind, listen, accept, connect. */
#include "call.h"
#include "hooks.h"
#include "fdtable.h"
#include "names.h"
#include "real.h"
#include "sandbox.h"
#include "unix_peer.h"

static void rec_socket_args(struct st_rec *r, int domain, int type, int protocol)
{
	char text[96];
	const char *name = st_family_name(domain);
	const char *proto = st_proto_name(domain, protocol);

	rb_name_or_i64(&r->b, ST_F_family, name, domain);
	st_socktype_str(text, sizeof(text), type);
	rb_cname(&r->b, ST_F_type, text);
	rb_name_or_i64(&r->b, ST_F_protocol, protocol ? proto : NULL, protocol);
}

int st_socket(int domain, int type, int protocol, enum st_via via)
{
	uint64_t t0, t1;
	int fd, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter())
		return real_socket(domain, type, protocol);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_socket, -1, NULL, 0, false, 0, t0, fd, err,
			 real_socket(domain, type, protocol));
	t1 = st_time_end();
	if (fd >= 0)
		st_fd_set_socket(fd, domain, type);
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_socket, fd, t0, t1, fd, err, via);
		rec_socket_args(&r, domain, type, protocol);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, -1);
	}
	errno = err;
	return fd;
}

ST_EXPORT int socket(int domain, int type, int protocol)
{
	return st_socket(domain, type, protocol, ST_VIA_NONE);
}

int st_socketpair(int domain, int type, int protocol, int sv[2], enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter())
		return real_socketpair(domain, type, protocol, sv);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_socketpair, -1, NULL, 0, false, 0, t0, ret, err,
			 real_socketpair(domain, type, protocol, sv));
	t1 = st_time_end();
	if (ret == 0) {
		for (int i = 0; i < 2; i++) {
			st_fd_set_socket(sv[i], domain, type);
			st_learn_local(sv[i]);
			st_learn_peer(sv[i]);
		}
	}
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_socketpair, -1, t0, t1, ret, err, via);
	rec_socket_args(&r, domain, type, protocol);
	if (ret == 0) {
		rb_arr(&r.b, ST_F_fds);
		rb_i64(&r.b, ST_F_NONE, sv[0]);
		rb_i64(&r.b, ST_F_NONE, sv[1]);
		rb_end(&r.b);
	}
	st_rec_fault(&r, &f);
	st_rec_emit(&r, -1);
out:
	errno = err;
	return ret;
}

ST_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	return st_socketpair(domain, type, protocol, sv, ST_VIA_NONE);
}

int st_bind(int fd, const struct sockaddr *addr, socklen_t len, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter())
		return real_bind(fd, addr, len);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_bind, fd, addr, len, true, 0, t0, ret, err,
			 real_bind(fd, addr, len));
	t1 = st_time_end();
	/* Ask the kernel: port 0 becomes the port it chose. */
	if (ret == 0)
		st_learn_local(fd);
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_bind, fd, t0, t1, ret, err, via);
		st_ev_sockaddr(&r.b, ST_F_addr, addr, len);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	return st_bind(fd, ST_SA(addr), len, ST_VIA_NONE);
}

int st_listen(int fd, int backlog, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter())
		return real_listen(fd, backlog);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_listen, fd, NULL, 0, false, 0, t0, ret, err,
			 real_listen(fd, backlog));
	t1 = st_time_end();
	/* listen without bind picks an ephemeral port. */
	if (ret == 0 && !st_fd_has_local(fd))
		st_learn_local(fd);
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_listen, fd, t0, t1, ret, err, via);
		rb_i64(&r.b, ST_F_backlog, backlog);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT int listen(int fd, int backlog)
{
	return st_listen(fd, backlog, ST_VIA_NONE);
}

/* The accepted socket inherits the listener's family and type; its peer
 * comes from the address the kernel returned when the caller's buffer held
 * it whole, otherwise from the kernel when a record or a rule needs it
 * (right away when tracing: the accept's own record shows it). */
static void learn_accepted(int listener, int fd, const struct sockaddr *addr,
			   socklen_t given, const socklen_t *lenp)
{
	struct st_fdsnap snap;

	st_fd_snapshot(listener, &snap);
	st_fd_set_socket(fd, snap.family, snap.socktype);
	st_fd_set_local_pending(fd);
	if (addr && lenp && *lenp <= given && *lenp > 0)
		st_fd_set_peer(fd, addr, *lenp);
	else
		st_fd_set_peer_pending(fd);
}

/* A unix socket's clients are unnamed: the pid of the one an accept took
 * (SO_PEERCRED: who called connect) is what tells a forking server's
 * connections apart in the trace. One getsockopt, never when sealed. */
static void rec_peer_pid(struct st_rec *r, int fd)
{
	struct st_fdsnap snap;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int saved = errno;

	if (st_sealed() || !st_fd_snapshot(fd, &snap) || snap.family != AF_UNIX)
		return;
	if (real_getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
		rb_i64(&r->b, ST_F_peer_pid, cred.pid);
	errno = saved;
	/* Exactly which client's socket: two threads of one client may
	 * connect at once. */
	uint64_t peer = snap.socktype == SOCK_STREAM || snap.socktype == SOCK_SEQPACKET ?
				st_unix_peer_ino(fd) : 0;
	if (peer)
		rb_u64(&r->b, ST_F_peer_ino, peer);
}

int st_accept(enum st_fn fn, int fd, struct sockaddr *addr, socklen_t *lenp,
		     int flags, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	socklen_t given = lenp ? *lenp : 0;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter())
		return fn == ST_FN_accept ? real_accept(fd, addr, lenp)
					  : real_accept4(fd, addr, lenp, flags);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, fn, fd, NULL, 0, false, 0, t0, ret, err,
			 fn == ST_FN_accept ? real_accept(fd, addr, lenp)
					    : real_accept4(fd, addr, lenp, flags));
	t1 = st_time_end();
	if (ret >= 0)
		learn_accepted(fd, ret, addr, given, lenp);
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, fn, fd, t0, t1, ret, err, via);
	if (fn == ST_FN_accept4 && flags) {
		char text[64];
		st_sockflags_str(text, sizeof(text), flags);
		rb_cname(&r.b, ST_F_flags, text);
	}
	if (ret >= 0)
		rec_peer_pid(&r, ret);
	st_rec_fault(&r, &f);
	/* The endpoints of the new connection, not of the listener. */
	st_rec_emit(&r, ret >= 0 ? ret : fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *lenp)
{
	return st_accept(ST_FN_accept, fd, ST_SA(addr), lenp, 0, ST_VIA_NONE);
}

ST_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *lenp, int flags)
{
	return st_accept(ST_FN_accept4, fd, ST_SA(addr), lenp, flags, ST_VIA_NONE);
}

int st_connect(int fd, const struct sockaddr *addr, socklen_t len, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter())
		return real_connect(fd, addr, len);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_connect, fd, addr, len, false, 0, t0, ret, err,
			 real_connect(fd, addr, len));
	t1 = st_time_end();
	if (addr && len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
		/* Dissolves a datagram socket's association. */
		if (ret == 0)
			st_fd_set_peer(fd, NULL, 0);
	} else if ((ret == 0 || err == EINPROGRESS) && !(f.rule && f.replaced)) {
		/* A non-blocking connect already has its local address. */
		st_fd_set_peer(fd, addr, len);
		st_fd_set_local_pending(fd);
	}
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_connect, fd, t0, t1, ret, err, via);
		st_ev_sockaddr(&r.b, ST_F_addr, addr, len);
		/* A unix client's socket, which the server's accept names. */
		if (ret == 0 && addr && len >= sizeof(sa_family_t) && addr->sa_family == AF_UNIX) {
			uint64_t ino = st_sock_ino(fd);
			if (ino)
				rb_u64(&r.b, ST_F_ino, ino);
		}
		st_rec_fault(&r, &f);
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	return st_connect(fd, ST_SA(addr), len, ST_VIA_NONE);
}
