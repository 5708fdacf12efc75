/* The bodies of the socket hooks, apart from the exported symbols: the
 * exported send() calls st_send(..., ST_VIA_NONE), and syscall() calls
 * the same bodies for syscall(SYS_sendto, ...) with ST_VIA_SYSCALL, so a
 * call is traced, faulted and kept in the fd table the same way however
 * the program reached it. Each body calls libc's real function, which
 * makes the very system call the program asked for. */
#ifndef SOCKTRACE_HOOKS_H
#define SOCKTRACE_HOOKS_H

#include "calls.h"
#include "event.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* hook_setup.c */
int st_socket(int domain, int type, int protocol, enum st_via via);
int st_socketpair(int domain, int type, int protocol, int sv[2], enum st_via via);
int st_bind(int fd, const struct sockaddr *addr, socklen_t len, enum st_via via);
int st_listen(int fd, int backlog, enum st_via via);
int st_accept(enum st_fn fn, int fd, struct sockaddr *addr, socklen_t *lenp, int flags,
	      enum st_via via);
int st_connect(int fd, const struct sockaddr *addr, socklen_t len, enum st_via via);

/* hook_close.c */
int st_close(int fd, enum st_via via);
int st_shutdown(int fd, int how, enum st_via via);
/* Keeps the fd table right; close_range is not an event. */
int st_close_range(unsigned first, unsigned last, int flags);

/* hook_send.c */
ssize_t st_send(int fd, const void *buf, size_t len, int flags, enum st_via via);
ssize_t st_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		  socklen_t tolen, enum st_via via);
ssize_t st_sendmsg(int fd, const struct msghdr *msg, int flags, enum st_via via);
int st_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, enum st_via via);

/* hook_recv.c */
ssize_t st_recv_any(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen, int flags,
		    struct sockaddr *from, socklen_t *fromlen, enum st_via via);
ssize_t st_recvmsg(int fd, struct msghdr *msg, int flags, enum st_via via);
int st_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, struct timespec *timeout,
		enum st_via via);

/* hook_rw.c */
ssize_t st_read(enum st_fn fn, int fd, void *buf, size_t len, size_t buflen, enum st_via via);
ssize_t st_write(int fd, const void *buf, size_t len, enum st_via via);
ssize_t st_rwv(enum st_fn fn, int fd, const struct iovec *iov, int n, enum st_via via);

/* hook_sendfile.c: off for sendfile, off64 for sendfile64 (NULL the other) */
ssize_t st_sendfile(enum st_fn fn, int out_fd, int in_fd, off_t *off, off64_t *off64,
		    size_t count, enum st_via via);
ssize_t st_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		  unsigned flags, enum st_via via);

/* hook_dup.c */
int st_dup(int fd, enum st_via via);
int st_dup23(enum st_fn fn, int fd, int fd2, int flags, enum st_via via);
int st_fcntl(int (*real)(int, int, void *), int fd, int cmd, void *arg, enum st_via via);

/* hook_opt.c */
int st_getsockopt(int fd, int level, int name, void *val, socklen_t *len, enum st_via via);
int st_setsockopt(int fd, int level, int name, const void *val, socklen_t len, enum st_via via);
int st_getname(enum st_fn fn, int fd, struct sockaddr *addr, socklen_t *len, enum st_via via);

#endif
