/* The _FORTIFY_SOURCE entry points we interpose. glibc declares them only
 * in fortified builds, and the shim is never built fortified (its hooks
 * must reach the plain real functions), so they are declared here. */
#ifndef SOCKTRACE_FORTIFY_H
#define SOCKTRACE_FORTIFY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *from, socklen_t *fromlen);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

#endif
