/* sockaddr_fmt: socket addresses as trace text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sockaddr_fmt.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#define GUARD 0xa5
#define GUARD_LEN 16

/* Formats into an ST_ADDR_MAX buffer followed by guard bytes, checks the
 * guard, the NUL and the returned length, and returns the text. */
static const char *fmt(const void *sa, size_t len)
{
	static unsigned char buf[ST_ADDR_MAX + GUARD_LEN];
	size_t n;

	memset(buf, GUARD, sizeof(buf));
	n = st_sockaddr_json((char *)buf, ST_ADDR_MAX, sa, (socklen_t)len);
	for (size_t i = ST_ADDR_MAX; i < sizeof(buf); i++)
		assert_int_equal(buf[i], GUARD);
	assert_true(n < ST_ADDR_MAX);
	assert_int_equal(buf[n], '\0');
	assert_int_equal(strlen((char *)buf), n);
	return (const char *)buf;
}

static struct sockaddr_in in4(const char *ip, unsigned port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 in6(const char *ip, unsigned port, uint32_t scope)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons((uint16_t)port);
	a.sin6_scope_id = scope;
	assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

/* A unix address whose sun_path holds the n bytes of path; returns the
 * address length that covers exactly those bytes. */
static socklen_t un_addr(struct sockaddr_un *a, const char *path, size_t n)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	assert_true(n <= sizeof(a->sun_path));
	memcpy(a->sun_path, path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static void test_ipv4(void **state)
{
	struct sockaddr_in a;

	(void)state;
	a = in4("127.0.0.1", 8080);
	assert_string_equal(fmt(&a, sizeof(a)), "127.0.0.1:8080");
	assert_int_equal(st_sockaddr_json((char[ST_ADDR_MAX]){0}, ST_ADDR_MAX,
					  (struct sockaddr *)&a, sizeof(a)), 14);
	a = in4("0.0.0.0", 0);
	assert_string_equal(fmt(&a, sizeof(a)), "0.0.0.0:0");
	a = in4("255.255.255.255", 65535);
	assert_string_equal(fmt(&a, sizeof(a)), "255.255.255.255:65535");
	a = in4("10.20.30.40", 53);
	assert_string_equal(fmt(&a, sizeof(a)), "10.20.30.40:53");
	/* Longer than needed is fine (sockaddr_storage). */
	assert_string_equal(fmt(&a, sizeof(struct sockaddr_storage)), "10.20.30.40:53");
}

static void test_ipv6(void **state)
{
	struct sockaddr_in6 a;

	(void)state;
	a = in6("::1", 8080, 0);
	assert_string_equal(fmt(&a, sizeof(a)), "[::1]:8080");
	a = in6("fe80::1", 53, 2);
	assert_string_equal(fmt(&a, sizeof(a)), "[fe80::1%2]:53");
	a = in6("fe80::1", 53, 4294967295u);
	assert_string_equal(fmt(&a, sizeof(a)), "[fe80::1%4294967295]:53");
	a = in6("::ffff:192.0.2.1", 443, 0);
	assert_string_equal(fmt(&a, sizeof(a)), "[::ffff:192.0.2.1]:443");
	a = in6("::", 0, 0);
	assert_string_equal(fmt(&a, sizeof(a)), "[::]:0");
	a = in6("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 65535, 0);
	assert_string_equal(fmt(&a, sizeof(a)),
			    "[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535");
}

static void test_unix_path(void **state)
{
	struct sockaddr_un a;
	socklen_t len;

	(void)state;
	len = un_addr(&a, "/run/x.sock", sizeof("/run/x.sock"));
	assert_string_equal(fmt(&a, len), "unix:/run/x.sock");
	/* The length the kernel reports may or may not count the NUL. */
	assert_string_equal(fmt(&a, len - 1), "unix:/run/x.sock");
	assert_string_equal(fmt(&a, sizeof(a)), "unix:/run/x.sock");
	/* A length shorter than the path ends it. */
	assert_string_equal(fmt(&a, len - 6), "unix:/run/x");
	/* Path bytes are JSON string content. */
	len = un_addr(&a, "/tmp/a\"b\\c\n\xc3\xa9\x80", 14);
	assert_string_equal(fmt(&a, len), "unix:/tmp/a\\\"b\\\\c\\n\xc3\xa9\xef\xbf\xbd");
}

static void test_unix_abstract(void **state)
{
	struct sockaddr_un a;
	socklen_t len;

	(void)state;
	len = un_addr(&a, "\0name", 5);
	assert_string_equal(fmt(&a, len), "unix:@name");
	/* Not NUL-terminated: the length says where the name ends, and bytes
	 * past it are not part of it. */
	memcpy(a.sun_path + 5, "junk", 4);
	assert_string_equal(fmt(&a, len), "unix:@name");
	/* An embedded NUL is part of the name. */
	len = un_addr(&a, "\0ab\0cd", 6);
	assert_string_equal(fmt(&a, len), "unix:@ab\\u0000cd");
	/* Trailing NULs too. */
	len = un_addr(&a, "\0x\0", 3);
	assert_string_equal(fmt(&a, len), "unix:@x\\u0000");
	/* The empty abstract name. */
	len = un_addr(&a, "\0", 1);
	assert_string_equal(fmt(&a, len), "unix:@");
}

static void test_unix_unnamed(void **state)
{
	struct sockaddr_un a;

	(void)state;
	un_addr(&a, "", 0);
	assert_string_equal(fmt(&a, sizeof(sa_family_t)), "unix:");
	assert_int_equal(st_sockaddr_json((char[ST_ADDR_MAX]){0}, ST_ADDR_MAX,
					  (struct sockaddr *)&a, sizeof(sa_family_t)), 5);
}

static void test_unix_long(void **state)
{
	struct sockaddr_un a;
	char path[sizeof(a.sun_path)];
	char expected[ST_ADDR_MAX];
	const char *got;
	size_t n;

	(void)state;
	/* A 108-byte path without a NUL: "unix:" + 108 bytes fit the 127
	 * characters kept, so nothing is cut. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	un_addr(&a, path, sizeof(path));
	memcpy(expected, "unix:", 5);
	memcpy(expected + 5, path, sizeof(path));
	expected[5 + sizeof(path)] = '\0';
	assert_string_equal(fmt(&a, sizeof(a)), expected);

	/* 108 bytes that each need a 6-byte escape cannot fit: cut on an
	 * escape boundary and marked with "...". */
	memset(path, 0x01, sizeof(path));
	un_addr(&a, path, sizeof(path));
	got = fmt(&a, sizeof(a));
	n = strlen(got);
	assert_true(n <= ST_ADDR_MAX - 1);
	assert_memory_equal(got, "unix:", 5);
	assert_memory_equal(got + n - 3, "...", 3);
	assert_int_equal((n - 5 - 3) % 6, 0);
	for (size_t i = 5; i + 3 < n; i += 6)
		assert_memory_equal(got + i, "\\u0001", 6);
	assert_true(n > ST_ADDR_MAX - 1 - 6); /* and not cut too early */

	/* The same for an abstract name with two-byte escapes. */
	memset(path, '"', sizeof(path));
	path[0] = '\0';
	un_addr(&a, path, sizeof(path));
	got = fmt(&a, sizeof(a));
	n = strlen(got);
	assert_memory_equal(got, "unix:@", 6);
	assert_memory_equal(got + n - 3, "...", 3);
	assert_int_equal((n - 6 - 3) % 2, 0);
	for (size_t i = 6; i + 3 < n; i += 2)
		assert_memory_equal(got + i, "\\\"", 2);
	assert_true(n > ST_ADDR_MAX - 1 - 2 - 3);

	/* Bytes replaced by U+FFFD grow threefold. */
	memset(path, 0xff, sizeof(path));
	un_addr(&a, path, sizeof(path));
	got = fmt(&a, sizeof(a));
	n = strlen(got);
	assert_memory_equal(got + n - 3, "...", 3);
	assert_int_equal((n - 5 - 3) % 3, 0);
}

/* A name whose text fits in the ST_ADDR_MAX - 1 characters kept must be
 * kept whole: the header promises a cut only for a path that does not fit. */
static void test_unix_exact_fit(void **state)
{
	struct sockaddr_un a;
	char path[sizeof(a.sun_path)];
	char expected[ST_ADDR_MAX];
	/* "unix:" + 61 quotes escaped as \" = 5 + 122 = 127 characters. */
	const size_t quotes = (ST_ADDR_MAX - 1 - 5) / 2;
	socklen_t len;

	(void)state;
	memset(path, '"', quotes);
	len = un_addr(&a, path, quotes);
	memcpy(expected, "unix:", 5);
	for (size_t i = 0; i < quotes; i++)
		memcpy(expected + 5 + 2 * i, "\\\"", 2);
	expected[5 + 2 * quotes] = '\0';
	assert_int_equal(strlen(expected), ST_ADDR_MAX - 1);
	assert_string_equal(fmt(&a, len), expected);
}

static void test_netlink_unspec_other(void **state)
{
	struct sockaddr_nl nl;
	struct sockaddr sa;

	(void)state;
	memset(&nl, 0, sizeof(nl));
	nl.nl_family = AF_NETLINK;
	nl.nl_pid = 1234;
	assert_string_equal(fmt(&nl, sizeof(nl)), "netlink:1234");
	nl.nl_pid = 0;
	assert_string_equal(fmt(&nl, sizeof(nl)), "netlink:0");
	nl.nl_pid = 4294967295u;
	assert_string_equal(fmt(&nl, sizeof(nl)), "netlink:4294967295");

	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	assert_string_equal(fmt(&sa, sizeof(sa_family_t)), "unspec");
	assert_string_equal(fmt(&sa, sizeof(sa)), "unspec");

	sa.sa_family = AF_PACKET;
	assert_string_equal(fmt(&sa, sizeof(sa)), "af:17");
	sa.sa_family = 200;
	assert_string_equal(fmt(&sa, sizeof(sa_family_t)), "af:200");
	sa.sa_family = 65535;
	assert_string_equal(fmt(&sa, sizeof(sa)), "af:65535");
}

static void test_too_short(void **state)
{
	struct sockaddr_in a4 = in4("127.0.0.1", 80);
	struct sockaddr_in6 a6 = in6("::1", 80, 0);
	struct sockaddr_nl nl;
	struct sockaddr_un un;
	char buf[ST_ADDR_MAX];

	(void)state;
	memset(&nl, 0, sizeof(nl));
	nl.nl_family = AF_NETLINK;
	un_addr(&un, "/x", 3);

#define SHORT(sa, len) do { \
		memset(buf, 'z', sizeof(buf)); \
		assert_int_equal(st_sockaddr_json(buf, sizeof(buf), \
				 (const struct sockaddr *)(sa), (socklen_t)(len)), 0); \
		assert_int_equal(buf[0], '\0'); \
	} while (0)

	SHORT(&a4, sizeof(a4) - 1);
	SHORT(&a4, 0);
	SHORT(&a4, 1);
	SHORT(&a6, sizeof(a6) - 1);
	SHORT(&a6, 24);
	SHORT(&nl, sizeof(nl) - 1);
	SHORT(&un, 1);
	SHORT(NULL, sizeof(a4));
#undef SHORT

	/* cap 0: nothing written at all. */
	buf[0] = 'z';
	assert_int_equal(st_sockaddr_json(buf, 0, (struct sockaddr *)&a4, sizeof(a4)), 0);
	assert_int_equal(buf[0], 'z');
}

/* Every capacity: never past cap, NUL-terminated, a prefix of the full text. */
static void check_small_caps(const void *sa, size_t len, bool whole_at_n1)
{
	char full[ST_ADDR_MAX];
	unsigned char buf[ST_ADDR_MAX + GUARD_LEN];
	size_t n = st_sockaddr_json(full, sizeof(full), sa, (socklen_t)len);

	assert_true(n > 0);
	for (size_t cap = 1; cap <= n + 1; cap++) {
		size_t got;

		memset(buf, GUARD, sizeof(buf));
		got = st_sockaddr_json((char *)buf, cap, sa, (socklen_t)len);
		for (size_t i = cap; i < cap + GUARD_LEN; i++)
			assert_int_equal(buf[i], GUARD);
		assert_true(got < cap);
		assert_int_equal(buf[got], '\0');
		/* A prefix, or for a unix name a prefix marked as cut. */
		if (memcmp(buf, full, got) != 0) {
			assert_true(got >= 3);
			assert_memory_equal(buf + got - 3, "...", 3);
			assert_memory_equal(buf, full, got - 3);
		}
		/* (A unix name keeps room for "..." and is checked at full size
		 * by test_unix_exact_fit.) */
		if (cap == n + 1 && whole_at_n1)
			assert_string_equal((char *)buf, full);
	}
}

static void test_small_caps(void **state)
{
	struct sockaddr_in a4 = in4("192.168.100.200", 65000);
	struct sockaddr_in6 a6 = in6("fe80::abcd", 12345, 77);
	struct sockaddr_un un;
	struct sockaddr_nl nl;
	socklen_t len;

	(void)state;
	check_small_caps(&a4, sizeof(a4), true);
	check_small_caps(&a6, sizeof(a6), true);
	len = un_addr(&un, "\0a\"b\x01", 5);
	check_small_caps(&un, len, false);
	memset(&nl, 0, sizeof(nl));
	nl.nl_family = AF_NETLINK;
	nl.nl_pid = 99;
	check_small_caps(&nl, sizeof(nl), true);
}

static void test_port(void **state)
{
	struct sockaddr_in a4 = in4("127.0.0.1", 8080);
	struct sockaddr_in6 a6 = in6("::1", 53, 0);
	struct sockaddr_un un;

	(void)state;
	un_addr(&un, "/x", 3);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a4, sizeof(a4)), 8080);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a6, sizeof(a6)), 53);
	a4.sin_port = htons(65535);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a4, sizeof(a4)), 65535);
	a4.sin_port = 0;
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a4, sizeof(a4)), 0);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&un, sizeof(un)), -1);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a4, sizeof(a4) - 1), -1);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a6, sizeof(a6) - 1), -1);
	assert_int_equal(st_sockaddr_port(NULL, sizeof(a4)), -1);
	assert_int_equal(st_sockaddr_port((struct sockaddr *)&a4, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_unix_path),
		cmocka_unit_test(test_unix_abstract),
		cmocka_unit_test(test_unix_unnamed),
		cmocka_unit_test(test_unix_long),
		cmocka_unit_test(test_unix_exact_fit),
		cmocka_unit_test(test_netlink_unspec_other),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_small_caps),
		cmocka_unit_test(test_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
