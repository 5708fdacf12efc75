#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define N(x) { x, #x }

static const struct st_name errno_names[] = {
	N(EPERM), N(ENOENT), N(ESRCH), N(EINTR), N(EIO), N(ENXIO), N(E2BIG),
	N(ENOEXEC), N(EBADF), N(ECHILD), N(EAGAIN), N(ENOMEM), N(EACCES),
	N(EFAULT), N(ENOTBLK), N(EBUSY), N(EEXIST), N(EXDEV), N(ENODEV),
	N(ENOTDIR), N(EISDIR), N(EINVAL), N(ENFILE), N(EMFILE), N(ENOTTY),
	N(ETXTBSY), N(EFBIG), N(ENOSPC), N(ESPIPE), N(EROFS), N(EMLINK),
	N(EPIPE), N(EDOM), N(ERANGE), N(EDEADLK), N(ENAMETOOLONG), N(ENOLCK),
	N(ENOSYS), N(ENOTEMPTY), N(ELOOP), N(ENOMSG), N(EIDRM), N(ENOSTR),
	N(ENODATA), N(ETIME), N(ENOSR), N(ENOLINK), N(EPROTO), N(EMULTIHOP),
	N(EBADMSG), N(EOVERFLOW), N(EILSEQ), N(EUSERS), N(ENOTSOCK),
	N(EDESTADDRREQ), N(EMSGSIZE), N(EPROTOTYPE), N(ENOPROTOOPT),
	N(EPROTONOSUPPORT), N(ESOCKTNOSUPPORT), N(EOPNOTSUPP), N(EPFNOSUPPORT),
	N(EAFNOSUPPORT), N(EADDRINUSE), N(EADDRNOTAVAIL), N(ENETDOWN),
	N(ENETUNREACH), N(ENETRESET), N(ECONNABORTED), N(ECONNRESET),
	N(ENOBUFS), N(EISCONN), N(ENOTCONN), N(ESHUTDOWN), N(ETOOMANYREFS),
	N(ETIMEDOUT), N(ECONNREFUSED), N(EHOSTDOWN), N(EHOSTUNREACH),
	N(EALREADY), N(EINPROGRESS), N(ESTALE), N(EDQUOT), N(ECANCELED),
	N(EOWNERDEAD), N(ENOTRECOVERABLE), N(ERFKILL), N(EHWPOISON),
	N(ENOMEDIUM), N(EMEDIUMTYPE), N(ENOKEY), N(EKEYEXPIRED),
	N(EKEYREVOKED), N(EKEYREJECTED), N(EREMOTEIO), N(ECOMM), N(EREMOTE),
	N(ENONET), N(ENOPKG), N(EL2NSYNC), N(EL3HLT), N(EL3RST), N(ELNRNG),
	N(EUNATCH), N(ENOCSI), N(ECHRNG), N(EL2HLT), N(EBADE), N(EBADR), N(EXFULL),
	N(ENOANO), N(EBADRQC), N(EBADSLT), N(EBFONT), N(EADV), N(ESRMNT),
	N(EDOTDOT), N(ENOTUNIQ), N(EBADFD), N(EREMCHG), N(ELIBACC),
	N(ELIBBAD), N(ELIBSCN), N(ELIBMAX), N(ELIBEXEC), N(ERESTART),
	N(ESTRPIPE), N(EUCLEAN), N(ENOTNAM), N(ENAVAIL), N(EISNAM),
	/* Aliases last so that the number maps to the usual name first. */
	N(EWOULDBLOCK), N(ENOTSUP), N(EDEADLOCK),
};

static const char *lookup(const struct st_name *t, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return NULL;
}

static int rlookup(const struct st_name *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *st_errno_name(int err)
{
	return lookup(errno_names, COUNT(errno_names), err);
}

int st_errno_from_name(const char *name)
{
	return rlookup(errno_names, COUNT(errno_names), name);
}

const struct st_name *st_errno_table(size_t *count)
{
	*count = COUNT(errno_names);
	return errno_names;
}

static const struct st_name families[] = {
	N(AF_UNSPEC), N(AF_UNIX), N(AF_INET), N(AF_INET6), N(AF_NETLINK),
	N(AF_PACKET), N(AF_BLUETOOTH), N(AF_VSOCK), N(AF_ALG), N(AF_CAN),
	N(AF_TIPC), N(AF_XDP), N(AF_KEY), N(AF_APPLETALK), N(AF_X25),
	N(AF_AX25), N(AF_IPX), N(AF_RDS), N(AF_LLC), N(AF_IB), N(AF_MPLS),
	N(AF_NFC), N(AF_QIPCRTR), N(AF_SMC),
};

const char *st_family_name(int family)
{
	return lookup(families, COUNT(families), family);
}

static const struct st_name eai_names[] = {
	N(EAI_BADFLAGS), N(EAI_NONAME), N(EAI_AGAIN), N(EAI_FAIL),
	N(EAI_FAMILY), N(EAI_SOCKTYPE), N(EAI_SERVICE), N(EAI_MEMORY),
	N(EAI_SYSTEM), N(EAI_OVERFLOW), N(EAI_NODATA), N(EAI_ADDRFAMILY),
	N(EAI_INPROGRESS), N(EAI_CANCELED), N(EAI_NOTCANCELED),
	N(EAI_ALLDONE), N(EAI_INTR), N(EAI_IDN_ENCODE),
};

const char *st_eai_name(int code)
{
	return lookup(eai_names, COUNT(eai_names), code);
}

int st_eai_from_name(const char *name)
{
	for (size_t i = 0; i < COUNT(eai_names); i++)
		if (strcmp(eai_names[i].name, name) == 0)
			return eai_names[i].value;
	return 1; /* EAI codes are negative: 1 means "unknown" */
}

static const struct st_name shutdown_names[] = {
	N(SHUT_RD), N(SHUT_WR), N(SHUT_RDWR),
};

const char *st_shutdown_name(int how)
{
	return lookup(shutdown_names, COUNT(shutdown_names), how);
}

static const struct st_name sol_names[] = {
	N(SOL_SOCKET), N(IPPROTO_IP), N(IPPROTO_IPV6), N(IPPROTO_TCP),
	N(IPPROTO_UDP), N(SOL_RAW), N(IPPROTO_ICMP), N(IPPROTO_SCTP),
};

const char *st_sol_name(int level)
{
	return lookup(sol_names, COUNT(sol_names), level);
}

static const struct st_name so_names[] = {
	N(SO_DEBUG), N(SO_REUSEADDR), N(SO_TYPE), N(SO_ERROR),
	N(SO_DONTROUTE), N(SO_BROADCAST), N(SO_SNDBUF), N(SO_RCVBUF),
	N(SO_SNDBUFFORCE), N(SO_RCVBUFFORCE), N(SO_KEEPALIVE),
	N(SO_OOBINLINE), N(SO_NO_CHECK), N(SO_PRIORITY), N(SO_LINGER),
	N(SO_BSDCOMPAT), N(SO_REUSEPORT), N(SO_PASSCRED), N(SO_PEERCRED),
	N(SO_RCVLOWAT), N(SO_SNDLOWAT), N(SO_RCVTIMEO), N(SO_SNDTIMEO),
	N(SO_BINDTODEVICE), N(SO_ACCEPTCONN), N(SO_PROTOCOL), N(SO_DOMAIN),
	N(SO_TIMESTAMP), N(SO_TIMESTAMPNS), N(SO_MARK), N(SO_RXQ_OVFL),
	N(SO_BUSY_POLL), N(SO_INCOMING_CPU), N(SO_ZEROCOPY), N(SO_PEERSEC),
	N(SO_PASSSEC), N(SO_PEEK_OFF), N(SO_TXTIME), N(SO_COOKIE),
};

static const struct st_name tcp_names[] = {
	N(TCP_NODELAY), N(TCP_MAXSEG), N(TCP_CORK), N(TCP_KEEPIDLE),
	N(TCP_KEEPINTVL), N(TCP_KEEPCNT), N(TCP_SYNCNT), N(TCP_LINGER2),
	N(TCP_DEFER_ACCEPT), N(TCP_WINDOW_CLAMP), N(TCP_INFO),
	N(TCP_QUICKACK), N(TCP_CONGESTION), N(TCP_MD5SIG),
	N(TCP_USER_TIMEOUT), N(TCP_FASTOPEN), N(TCP_FASTOPEN_CONNECT),
	N(TCP_NOTSENT_LOWAT), N(TCP_ULP),
};

static const struct st_name ip_names[] = {
	N(IP_TOS), N(IP_TTL), N(IP_HDRINCL), N(IP_OPTIONS), N(IP_RECVERR),
	N(IP_PKTINFO), N(IP_MTU_DISCOVER), N(IP_MTU), N(IP_FREEBIND),
	N(IP_TRANSPARENT), N(IP_MULTICAST_IF), N(IP_MULTICAST_TTL),
	N(IP_MULTICAST_LOOP), N(IP_ADD_MEMBERSHIP), N(IP_DROP_MEMBERSHIP),
	N(IP_BIND_ADDRESS_NO_PORT), N(IP_RECVTOS), N(IP_RECVTTL),
};

static const struct st_name ipv6_names[] = {
	N(IPV6_V6ONLY), N(IPV6_UNICAST_HOPS), N(IPV6_MULTICAST_IF),
	N(IPV6_MULTICAST_HOPS), N(IPV6_MULTICAST_LOOP), N(IPV6_RECVPKTINFO),
	N(IPV6_PKTINFO), N(IPV6_TCLASS), N(IPV6_RECVERR), N(IPV6_MTU),
	N(IPV6_MTU_DISCOVER), N(IPV6_JOIN_GROUP), N(IPV6_LEAVE_GROUP),
};

const char *st_sockopt_name(int level, int optname)
{
	switch (level) {
	case SOL_SOCKET:
		return lookup(so_names, COUNT(so_names), optname);
	case IPPROTO_TCP:
		return lookup(tcp_names, COUNT(tcp_names), optname);
	case IPPROTO_IP:
		return lookup(ip_names, COUNT(ip_names), optname);
	case IPPROTO_IPV6:
		return lookup(ipv6_names, COUNT(ipv6_names), optname);
	default:
		return NULL;
	}
}

static const struct st_name fcntl_names[] = {
	N(F_DUPFD), N(F_DUPFD_CLOEXEC), N(F_GETFD), N(F_SETFD), N(F_GETFL),
	N(F_SETFL),
};

const char *st_fcntl_name(int cmd)
{
	return lookup(fcntl_names, COUNT(fcntl_names), cmd);
}

static const struct st_name proto_inet[] = {
	N(IPPROTO_IP), N(IPPROTO_ICMP), N(IPPROTO_TCP), N(IPPROTO_UDP),
	N(IPPROTO_IPV6), N(IPPROTO_SCTP), N(IPPROTO_UDPLITE), N(IPPROTO_RAW),
	N(IPPROTO_ICMPV6), N(IPPROTO_MPTCP),
};

const char *st_proto_name(int family, int proto)
{
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	return lookup(proto_inet, COUNT(proto_inet), proto);
}

/* Appends name to buf with a '|' separator; keeps buf NUL-terminated and
 * silently stops at cap so a caller's fixed buffer can never overflow. */
static size_t append(char *buf, size_t cap, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (cap == 0)
		return 0;
	if (len && len + 1 < cap)
		buf[len++] = '|';
	if (n > cap - 1 - len)
		n = cap - 1 - len;
	memcpy(buf + len, name, n);
	len += n;
	buf[len] = '\0';
	return len;
}

static size_t append_hex(char *buf, size_t cap, size_t len, unsigned v)
{
	char tmp[12] = "0x";
	size_t n = 2;
	int shift = 28;

	while (shift > 0 && ((v >> shift) & 15) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		tmp[n++] = "0123456789abcdef"[(v >> shift) & 15];
	tmp[n] = '\0';
	return append(buf, cap, len, tmp);
}

static size_t flags_str(char *buf, size_t cap, const struct st_name *t,
			size_t n, unsigned flags)
{
	size_t len = 0;

	if (cap)
		buf[0] = '\0';
	if (flags == 0)
		return append(buf, cap, 0, "0");
	/* Names in table order; the loop ends as soon as no known bit is left
	 * (a data call usually has one flag, if any). */
	for (size_t i = 0; i < n && flags; i++) {
		unsigned bit = (unsigned)t[i].value;
		if (bit && (flags & bit) == bit) {
			len = append(buf, cap, len, t[i].name);
			flags &= ~bit;
		}
	}
	if (flags)
		len = append_hex(buf, cap, len, flags);
	return len;
}

static const struct st_name sock_flags[] = {
	N(SOCK_NONBLOCK), N(SOCK_CLOEXEC),
};

static const struct st_name sock_types[] = {
	N(SOCK_STREAM), N(SOCK_DGRAM), N(SOCK_RAW), N(SOCK_RDM),
	N(SOCK_SEQPACKET), N(SOCK_DCCP), N(SOCK_PACKET),
};

size_t st_socktype_str(char *buf, size_t cap, int type)
{
	int base = type & 0xf;
	const char *name = lookup(sock_types, COUNT(sock_types), base);
	size_t len;

	if (cap)
		buf[0] = '\0';
	len = name ? append(buf, cap, 0, name) : append_hex(buf, cap, 0, (unsigned)base);
	if (type & ~0xf) {
		char rest[64];
		flags_str(rest, sizeof(rest), sock_flags, COUNT(sock_flags),
			  (unsigned)type & ~0xfu);
		len = append(buf, cap, len, rest);
	}
	return len;
}

size_t st_sockflags_str(char *buf, size_t cap, int flags)
{
	return flags_str(buf, cap, sock_flags, COUNT(sock_flags), (unsigned)flags);
}

static const struct st_name msg_flags[] = {
	N(MSG_OOB), N(MSG_PEEK), N(MSG_DONTROUTE), N(MSG_CTRUNC), N(MSG_PROXY),
	N(MSG_TRUNC), N(MSG_DONTWAIT), N(MSG_EOR), N(MSG_WAITALL), N(MSG_FIN),
	N(MSG_SYN), N(MSG_CONFIRM), N(MSG_RST), N(MSG_ERRQUEUE),
	N(MSG_NOSIGNAL), N(MSG_MORE), N(MSG_WAITFORONE), N(MSG_BATCH),
	N(MSG_ZEROCOPY), N(MSG_FASTOPEN), N(MSG_CMSG_CLOEXEC),
};

size_t st_msgflags_str(char *buf, size_t cap, int flags)
{
	return flags_str(buf, cap, msg_flags, COUNT(msg_flags), (unsigned)flags);
}

/* fcntl.h names them under _GNU_SOURCE; the values are the kernel's. */
static const struct st_name splice_flags[] = {
	N(SPLICE_F_MOVE), N(SPLICE_F_NONBLOCK), N(SPLICE_F_MORE), N(SPLICE_F_GIFT),
};

size_t st_spliceflags_str(char *buf, size_t cap, unsigned flags)
{
	return flags_str(buf, cap, splice_flags, COUNT(splice_flags), flags);
}

static const struct st_name ai_flags[] = {
	N(AI_PASSIVE), N(AI_CANONNAME), N(AI_NUMERICHOST), N(AI_V4MAPPED),
	N(AI_ALL), N(AI_ADDRCONFIG), N(AI_NUMERICSERV), N(AI_IDN),
	N(AI_CANONIDN),
};

size_t st_aiflags_str(char *buf, size_t cap, int flags)
{
	return flags_str(buf, cap, ai_flags, COUNT(ai_flags), (unsigned)flags);
}
