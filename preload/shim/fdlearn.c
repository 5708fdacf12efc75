/* What the shim asks the kernel about descriptors: whether a number is a
 * socket (once, for one the table has not seen), and the addresses the
 * table only marks as pending. */
#include "fdlearn.h"

#include "fdtable.h"
#include "real.h"
#include "sandbox.h"
#include "shim.h"
#include "writer.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* Asks the kernel for the addresses the table marks as pending. */
void st_learn_pending(int fd, const struct st_fdsnap *snap)
{
	if (snap->local_pending)
		st_learn_local(fd);
	if (snap->peer_pending)
		st_learn_peer(fd);
}

bool st_fd_snapshot_full(int fd, struct st_fdsnap *snap)
{
	bool is_socket = st_fd_snapshot(fd, snap);

	if (is_socket && (snap->local_pending || snap->peer_pending)) {
		st_learn_pending(fd, snap);
		is_socket = st_fd_snapshot(fd, snap);
	}
	return is_socket;
}

void st_learn_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;

	if (st_sealed())
		return; /* stays pending: no system call of ours */
	if (real_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		st_fd_set_local(fd, (struct sockaddr *)&ss, len);
	errno = saved;
}

void st_learn_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int saved = errno;

	if (st_sealed())
		return;
	if (real_getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		st_fd_set_peer(fd, (struct sockaddr *)&ss, len);
	errno = saved;
}

static void discover(int fd)
{
	struct stat st;
	int family = 0, type = 0;
	socklen_t len = sizeof(int);

	if (fstat(fd, &st) != 0)
		return; /* not open: stays unknown, nothing to trace */
	if (!S_ISSOCK(st.st_mode)) {
		st_fd_set_other(fd);
		return;
	}
	real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
	len = sizeof(int);
	real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	st_fd_set_socket(fd, family, type);
	st_learn_local(fd);
	st_learn_peer(fd);
}

bool st_fd_still_socket(int fd)
{
	struct stat st;
	int saved = errno;
	bool socket;

	if (st_sealed())
		return true; /* no fstat under a seccomp filter: trust the table */
	socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	if (!socket)
		st_fd_forget(fd);
	errno = saved;
	return socket;
}

bool st_fd_is_socket(int fd)
{
	enum st_fd_kind kind = st_fd_kind(fd);

	if (st_likely(kind != ST_FD_UNKNOWN))
		return kind == ST_FD_SOCKET;
	/* Under a seccomp filter a descriptor never seen stays unknown. */
	if (fd < 0 || fd >= ST_FD_LIMIT || st_sealed() || st_writer_owns_fd(fd))
		return false;
	int saved = errno;
	discover(fd);
	errno = saved;
	return st_fd_kind(fd) == ST_FD_SOCKET;
}
