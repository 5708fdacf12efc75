/* names: symbolic names for errnos, families, flags and options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define GUARD 0xa5
#define GUARD_LEN 16

static void test_errno_names(void **state)
{
	(void)state;
	assert_string_equal(st_errno_name(ECONNREFUSED), "ECONNREFUSED");
	assert_string_equal(st_errno_name(EPERM), "EPERM");
	assert_string_equal(st_errno_name(EAGAIN), "EAGAIN");
	assert_string_equal(st_errno_name(EINPROGRESS), "EINPROGRESS");
	assert_string_equal(st_errno_name(EHWPOISON), "EHWPOISON");
	/* Aliases: the number maps to the usual name. */
	assert_int_equal(EWOULDBLOCK, EAGAIN);
	assert_string_equal(st_errno_name(EWOULDBLOCK), "EAGAIN");
	assert_string_equal(st_errno_name(ENOTSUP), "EOPNOTSUPP");
	assert_string_equal(st_errno_name(EDEADLOCK), "EDEADLK");
	/* Unknown numbers. */
	assert_null(st_errno_name(0));
	assert_null(st_errno_name(-1));
	assert_null(st_errno_name(41)); /* a hole in Linux's numbering */
	assert_null(st_errno_name(4000));
	assert_null(st_errno_name(INT_MIN));
}

static void test_errno_from_name(void **state)
{
	(void)state;
	assert_int_equal(st_errno_from_name("ECONNREFUSED"), ECONNREFUSED);
	assert_int_equal(st_errno_from_name("EAGAIN"), EAGAIN);
	assert_int_equal(st_errno_from_name("EWOULDBLOCK"), EAGAIN);
	assert_int_equal(st_errno_from_name("ENOTSUP"), EOPNOTSUPP);
	assert_int_equal(st_errno_from_name("EDEADLOCK"), EDEADLK);
	assert_int_equal(st_errno_from_name("ENOENT"), ENOENT);
	assert_int_equal(st_errno_from_name("EBOGUS"), -1);
	assert_int_equal(st_errno_from_name(""), -1);
	assert_int_equal(st_errno_from_name("ECONNREFUSEDX"), -1);
	assert_int_equal(st_errno_from_name("ECONNREFUSE"), -1);
}

static void test_errno_table(void **state)
{
	size_t count = 0;
	const struct st_name *t = st_errno_table(&count);

	(void)state;
	assert_non_null(t);
	assert_true(count > 100);
	for (size_t i = 0; i < count; i++) {
		const char *back;

		assert_non_null(t[i].name);
		assert_true(t[i].value > 0);
		/* Every name, alias or not, reads back as its number... */
		assert_int_equal(st_errno_from_name(t[i].name), t[i].value);
		/* ...and every number maps to a name that reads back. */
		back = st_errno_name(t[i].value);
		assert_non_null(back);
		assert_int_equal(st_errno_from_name(back), t[i].value);
		/* Names are unique. */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(t[i].name, t[j].name);
	}
}

/* The table means to name every errno Linux defines (it has EL2NSYNC and
 * EBFONT): 1..EHWPOISON, less the two unused numbers 41 and 58. */
static void test_errno_complete(void **state)
{
	(void)state;
	for (int e = 1; e <= EHWPOISON; e++) {
		if (e == 41 || e == 58)
			continue;
		if (!st_errno_name(e))
			fail_msg("errno %d (%s) has no name", e, strerror(e));
	}
	assert_string_equal(st_errno_name(ECHRNG), "ECHRNG");
	assert_int_equal(st_errno_from_name("ECHRNG"), ECHRNG);
}

static void test_families(void **state)
{
	(void)state;
	assert_string_equal(st_family_name(AF_UNSPEC), "AF_UNSPEC");
	assert_string_equal(st_family_name(AF_UNIX), "AF_UNIX");
	assert_string_equal(st_family_name(AF_LOCAL), "AF_UNIX");
	assert_string_equal(st_family_name(AF_INET), "AF_INET");
	assert_string_equal(st_family_name(AF_INET6), "AF_INET6");
	assert_string_equal(st_family_name(AF_NETLINK), "AF_NETLINK");
	assert_string_equal(st_family_name(AF_PACKET), "AF_PACKET");
	assert_string_equal(st_family_name(AF_VSOCK), "AF_VSOCK");
	assert_null(st_family_name(-1));
	assert_null(st_family_name(200));
}

static void test_socktype(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(st_socktype_str(buf, sizeof(buf), SOCK_STREAM), 11);
	assert_string_equal(buf, "SOCK_STREAM");
	st_socktype_str(buf, sizeof(buf), SOCK_DGRAM);
	assert_string_equal(buf, "SOCK_DGRAM");
	st_socktype_str(buf, sizeof(buf), SOCK_SEQPACKET);
	assert_string_equal(buf, "SOCK_SEQPACKET");
	assert_int_equal(st_socktype_str(buf, sizeof(buf),
					 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC),
			 strlen("SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"));
	assert_string_equal(buf, "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC");
	st_socktype_str(buf, sizeof(buf), SOCK_DGRAM | SOCK_CLOEXEC);
	assert_string_equal(buf, "SOCK_DGRAM|SOCK_CLOEXEC");
	/* Unknown base type and unknown flag bits as hex. */
	st_socktype_str(buf, sizeof(buf), 0xe);
	assert_string_equal(buf, "0xe");
	st_socktype_str(buf, sizeof(buf), 0);
	assert_string_equal(buf, "0x0");
	st_socktype_str(buf, sizeof(buf), SOCK_STREAM | 0x100);
	assert_string_equal(buf, "SOCK_STREAM|0x100");
	st_socktype_str(buf, sizeof(buf), SOCK_RAW | SOCK_NONBLOCK | 0x100000);
	assert_string_equal(buf, "SOCK_RAW|SOCK_NONBLOCK|0x100000");

	assert_int_equal(st_sockflags_str(buf, sizeof(buf), 0), 1);
	assert_string_equal(buf, "0");
	st_sockflags_str(buf, sizeof(buf), SOCK_NONBLOCK);
	assert_string_equal(buf, "SOCK_NONBLOCK");
	st_sockflags_str(buf, sizeof(buf), SOCK_CLOEXEC | SOCK_NONBLOCK);
	assert_string_equal(buf, "SOCK_NONBLOCK|SOCK_CLOEXEC");
}

static void test_msgflags(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(st_msgflags_str(buf, sizeof(buf), 0), 1);
	assert_string_equal(buf, "0");
	st_msgflags_str(buf, sizeof(buf), MSG_PEEK);
	assert_string_equal(buf, "MSG_PEEK");
	st_msgflags_str(buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);
	assert_string_equal(buf, "MSG_PEEK|MSG_DONTWAIT");
	assert_int_equal(st_msgflags_str(buf, sizeof(buf), MSG_NOSIGNAL | 0x100000),
			 strlen("MSG_NOSIGNAL|0x100000"));
	assert_string_equal(buf, "MSG_NOSIGNAL|0x100000");
	st_msgflags_str(buf, sizeof(buf), INT_MIN);
	assert_string_equal(buf, "0x80000000");
	st_msgflags_str(buf, sizeof(buf), MSG_CMSG_CLOEXEC | MSG_WAITALL);
	assert_string_equal(buf, "MSG_WAITALL|MSG_CMSG_CLOEXEC");
	st_msgflags_str(buf, sizeof(buf), 0x00300000);
	assert_string_equal(buf, "0x300000");

	assert_int_equal(st_aiflags_str(buf, sizeof(buf), 0), 1);
	assert_string_equal(buf, "0");
	st_aiflags_str(buf, sizeof(buf), AI_ADDRCONFIG | AI_PASSIVE);
	assert_string_equal(buf, "AI_PASSIVE|AI_ADDRCONFIG");
	st_aiflags_str(buf, sizeof(buf), AI_NUMERICHOST | 0x10000);
	assert_string_equal(buf, "AI_NUMERICHOST|0x10000");
}

typedef size_t (*flags_fn)(char *buf, size_t cap, int flags);

/* Every capacity: never a byte past cap, always NUL-terminated, the result a
 * prefix of the full text and the return value its length. */
static void check_small_buffers(flags_fn fn, int flags, const char *full)
{
	const size_t n = strlen(full);
	unsigned char buf[128 + GUARD_LEN];

	assert_true(n < 128);
	for (size_t cap = 0; cap <= n + 1; cap++) {
		size_t len;

		memset(buf, GUARD, sizeof(buf));
		len = fn((char *)buf, cap, flags);
		for (size_t i = cap; i < cap + GUARD_LEN; i++)
			assert_int_equal(buf[i], GUARD);
		if (cap == 0) {
			assert_int_equal(len, 0);
			continue;
		}
		assert_true(len < cap);
		assert_int_equal(buf[len], '\0');
		assert_int_equal(strlen((char *)buf), len);
		assert_memory_equal(buf, full, len);
		if (cap > n)
			assert_string_equal((char *)buf, full);
	}
}

static void test_small_buffers(void **state)
{
	(void)state;
	check_small_buffers(st_socktype_str, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC");
	check_small_buffers(st_socktype_str, 0xe | SOCK_CLOEXEC | 0x100,
			    "0xe|SOCK_CLOEXEC|0x100");
	check_small_buffers(st_msgflags_str, MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL | 0x100000,
			    "MSG_PEEK|MSG_DONTWAIT|MSG_NOSIGNAL|0x100000");
	check_small_buffers(st_msgflags_str, 0, "0");
	check_small_buffers(st_sockflags_str, SOCK_NONBLOCK | SOCK_CLOEXEC,
			    "SOCK_NONBLOCK|SOCK_CLOEXEC");
	check_small_buffers(st_aiflags_str, AI_PASSIVE | AI_CANONNAME | 0x10000,
			    "AI_PASSIVE|AI_CANONNAME|0x10000");
}

static void test_sockopt_names(void **state)
{
	(void)state;
	assert_string_equal(st_sol_name(SOL_SOCKET), "SOL_SOCKET");
	assert_string_equal(st_sol_name(IPPROTO_TCP), "IPPROTO_TCP");
	assert_string_equal(st_sol_name(IPPROTO_IP), "IPPROTO_IP");
	assert_string_equal(st_sol_name(IPPROTO_IPV6), "IPPROTO_IPV6");
	assert_null(st_sol_name(9999));

	/* The same number means different options at different levels. */
	assert_int_equal(SO_DEBUG, 1);
	assert_int_equal(TCP_NODELAY, 1);
	assert_int_equal(IP_TOS, 1);
	assert_string_equal(st_sockopt_name(SOL_SOCKET, 1), "SO_DEBUG");
	assert_string_equal(st_sockopt_name(IPPROTO_TCP, 1), "TCP_NODELAY");
	assert_string_equal(st_sockopt_name(IPPROTO_IP, 1), "IP_TOS");
	assert_null(st_sockopt_name(IPPROTO_UDP, 1));

	assert_string_equal(st_sockopt_name(SOL_SOCKET, SO_REUSEADDR), "SO_REUSEADDR");
	assert_string_equal(st_sockopt_name(SOL_SOCKET, SO_ERROR), "SO_ERROR");
	assert_string_equal(st_sockopt_name(SOL_SOCKET, SO_RCVTIMEO), "SO_RCVTIMEO");
	assert_string_equal(st_sockopt_name(SOL_SOCKET, SO_LINGER), "SO_LINGER");
	assert_string_equal(st_sockopt_name(IPPROTO_TCP, TCP_KEEPIDLE), "TCP_KEEPIDLE");
	assert_string_equal(st_sockopt_name(IPPROTO_TCP, TCP_CONGESTION), "TCP_CONGESTION");
	assert_string_equal(st_sockopt_name(IPPROTO_IP, IP_TTL), "IP_TTL");
	assert_string_equal(st_sockopt_name(IPPROTO_IPV6, IPV6_V6ONLY), "IPV6_V6ONLY");
	assert_string_equal(st_sockopt_name(IPPROTO_IPV6, IPV6_TCLASS), "IPV6_TCLASS");
	assert_null(st_sockopt_name(SOL_SOCKET, 9999));
	assert_null(st_sockopt_name(IPPROTO_TCP, 9999));
	assert_null(st_sockopt_name(9999, SO_REUSEADDR));
}

static void test_eai_names(void **state)
{
	static const int codes[] = {
		EAI_BADFLAGS, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_FAMILY,
		EAI_SOCKTYPE, EAI_SERVICE, EAI_MEMORY, EAI_SYSTEM, EAI_OVERFLOW,
	};

	(void)state;
	assert_string_equal(st_eai_name(EAI_NONAME), "EAI_NONAME");
	assert_string_equal(st_eai_name(EAI_AGAIN), "EAI_AGAIN");
	assert_string_equal(st_eai_name(EAI_SYSTEM), "EAI_SYSTEM");
	assert_int_equal(st_eai_from_name("EAI_NONAME"), EAI_NONAME);
	assert_int_equal(st_eai_from_name("EAI_BADFLAGS"), EAI_BADFLAGS);
	assert_null(st_eai_name(0));
	assert_null(st_eai_name(1));
	assert_null(st_eai_name(-9999));
	/* EAI codes are negative (EAI_BADFLAGS is -1), so unknown is 1. */
	assert_int_equal(EAI_BADFLAGS, -1);
	assert_int_equal(st_eai_from_name("EAI_BOGUS"), 1);
	assert_int_equal(st_eai_from_name("ENOENT"), 1);
	assert_int_equal(st_eai_from_name(""), 1);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *name = st_eai_name(codes[i]);
		assert_non_null(name);
		assert_int_equal(st_eai_from_name(name), codes[i]);
	}
}

static void test_other_names(void **state)
{
	(void)state;
	assert_string_equal(st_shutdown_name(SHUT_RD), "SHUT_RD");
	assert_string_equal(st_shutdown_name(SHUT_WR), "SHUT_WR");
	assert_string_equal(st_shutdown_name(SHUT_RDWR), "SHUT_RDWR");
	assert_null(st_shutdown_name(3));
	assert_string_equal(st_fcntl_name(F_DUPFD), "F_DUPFD");
	assert_string_equal(st_fcntl_name(F_DUPFD_CLOEXEC), "F_DUPFD_CLOEXEC");
	assert_string_equal(st_fcntl_name(F_SETFL), "F_SETFL");
	assert_null(st_fcntl_name(9999));
	assert_string_equal(st_proto_name(AF_INET, IPPROTO_TCP), "IPPROTO_TCP");
	assert_string_equal(st_proto_name(AF_INET6, IPPROTO_UDP), "IPPROTO_UDP");
	assert_string_equal(st_proto_name(AF_INET, 0), "IPPROTO_IP");
	assert_string_equal(st_proto_name(AF_INET6, IPPROTO_ICMPV6), "IPPROTO_ICMPV6");
	assert_null(st_proto_name(AF_UNIX, 0));
	assert_null(st_proto_name(AF_NETLINK, IPPROTO_TCP));
	assert_null(st_proto_name(AF_INET, 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_errno_from_name),
		cmocka_unit_test(test_errno_table),
		cmocka_unit_test(test_errno_complete),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_socktype),
		cmocka_unit_test(test_msgflags),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_sockopt_names),
		cmocka_unit_test(test_eai_names),
		cmocka_unit_test(test_other_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
