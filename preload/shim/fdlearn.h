/* What the shim asks the kernel about descriptors (fdlearn.c). */
#ifndef SOCKTRACE_FDLEARN_H
#define SOCKTRACE_FDLEARN_H

#include "fdtable.h"

#include <stdbool.h>

/* True when fd is a socket, asking the kernel once for an fd the table
 * has not seen (inherited across exec, or made by code we cannot see).
 * Preserves errno. */
bool st_fd_is_socket(int fd);

/* For a descriptor the table calls a socket, on calls that succeed on
 * any descriptor (close, dup): asks the kernel (fstat) whether it still
 * is one, and forgets it when not. A close that went past us (io_uring,
 * a library's own system call) leaves the number to whatever the program
 * opens next; without this, its close would be traced as the old
 * connection's. Preserves errno. */
bool st_fd_still_socket(int fd);

/* A snapshot with the local address resolved if it was pending. */
bool st_fd_snapshot_full(int fd, struct st_fdsnap *snap);

/* Fills the table's local (and peer) address from the kernel. */
void st_learn_local(int fd);
void st_learn_peer(int fd);

/* Asks the kernel for the addresses snap marks as pending. */
void st_learn_pending(int fd, const struct st_fdsnap *snap);

#endif
