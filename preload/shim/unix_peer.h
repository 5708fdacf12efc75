/* Which two unix sockets are the ends of one connection. Clients of a
 * unix socket are unnamed, and SO_PEERCRED names the process, not the
 * socket: two threads of one client connecting at once cannot be told
 * apart by it. The kernel knows each end's inode: the connect records its
 * socket's, the accept the inode of the socket at its other end (sock_diag,
 * UNIX_DIAG_PEER), and the viewer pairs them exactly. */
#ifndef SOCKTRACE_UNIX_PEER_H
#define SOCKTRACE_UNIX_PEER_H

#include <stdint.h>

/* The inode of socket fd (fstat); 0 when not known. */
uint64_t st_sock_ino(int fd);
/* The inode of the socket connected to unix socket fd; 0 when not known
 * (sealed under a seccomp filter, netlink refused: then never asked again).
 * A netlink socket of ours lives for the query alone. errno is kept. */
uint64_t st_unix_peer_ino(int fd);

#endif
