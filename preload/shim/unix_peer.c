/* Inodes of unix sockets' ends (see unix_peer.h). */
#include "unix_peer.h"

#include "real.h"
#include "sandbox.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* Set when netlink's sock_diag is refused (a sandbox, an old kernel): the
 * query is not made again. */
static atomic_bool diag_refused;

uint64_t st_sock_ino(int fd)
{
	struct stat st;
	int saved = errno;
	uint64_t ino = 0;

	if (!st_sealed() && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		ino = (uint64_t)st.st_ino;
	errno = saved;
	return ino;
}

/* The UNIX_DIAG_PEER attribute of a sock_diag answer. */
static uint64_t peer_of(const char *buf, ssize_t n)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	const struct unix_diag_msg *d;
	const struct rtattr *a;
	int len;

	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*d)) || !NLMSG_OK(h, (unsigned)n) ||
	    h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	d = NLMSG_DATA(h);
	len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*d));
	for (a = (const struct rtattr *)(d + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			uint32_t peer;
			memcpy(&peer, RTA_DATA(a), sizeof(peer));
			return peer;
		}
	}
	return 0;
}

uint64_t st_unix_peer_ino(int fd)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} q;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[512];
	uint64_t ino, peer = 0;
	int saved = errno, nl;
	ssize_t n;

	if (st_sealed() || atomic_load_explicit(&diag_refused, memory_order_relaxed))
		return 0;
	ino = st_sock_ino(fd);
	if (!ino || ino > UINT32_MAX)
		goto out;
	nl = real_socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0) {
		atomic_store_explicit(&diag_refused, true, memory_order_relaxed);
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST;
	q.r.sdiag_family = AF_UNIX;
	q.r.udiag_states = ~0u;
	q.r.udiag_ino = (uint32_t)ino;
	q.r.udiag_show = UDIAG_SHOW_PEER;
	q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0u; /* no cookie to check */
	/* The kernel answers while sending: the receive never waits. */
	if (real_sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&kernel, sizeof(kernel)) ==
	    (ssize_t)sizeof(q)) {
		n = real_recv(nl, buf, sizeof(buf), MSG_DONTWAIT);
		peer = n > 0 ? peer_of(buf, n) : 0;
	} else {
		atomic_store_explicit(&diag_refused, true, memory_order_relaxed);
	}
	real_close(nl);
out:
	errno = saved;
	return peer;
}
