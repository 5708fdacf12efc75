/* fdtable: the lock-free per-fd table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fdtable.h"
#include "fields.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

static int setup(void **state)
{
	(void)state;
	st_fd_reset_all();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	st_fd_reset_all();
	return 0;
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

static struct sockaddr_in6 in6(const char *ip, unsigned port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

#define SA(a) ((const struct sockaddr *)&(a))

static size_t last_bin_len; /* of the last record addrs_as_json read */

/* The endpoints st_fd_addrs_rec writes without ids, as the JSON fields
 * they print as (",\"local\":\"...\",\"peer\":\"...\""), into out. */
static size_t addrs_as_json(int fd, char *out, size_t room, bool *pending)
{
	uint8_t rec[512];
	size_t n = st_fd_addrs_rec(fd, rec, room < sizeof(rec) ? room : sizeof(rec), pending, NULL);
	size_t o = 0;

	if (n == 0 || n == SIZE_MAX)
		return n;
	last_bin_len = n;
	for (const uint8_t *p = rec, *end = rec + n; p < end;) {
		uint64_t t = 0, len = 0;
		assert_true(st_get_varint(&p, end, &t));
		assert_int_equal(t & 7, ST_W_NAME);
		assert_true(st_get_varint(&p, end, &len));
		o += (size_t)snprintf(out + o, 512 - o, ",\"%s\":\"%.*s\"",
				      (t >> 3) == ST_F_local ? "local" : "peer", (int)len, (const char *)p);
		p += len;
	}
	return o;
}

static void assert_field(const char *got, uint16_t len, const char *expected)
{
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(got, expected, len);
}

static void test_unknown_by_default(void **state)
{
	struct st_fdsnap s;

	(void)state;
	assert_int_equal(st_fd_kind(0), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(5), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(100000), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(ST_FD_LIMIT - 1), ST_FD_UNKNOWN);
	memset(&s, 0xff, sizeof(s));
	assert_false(st_fd_snapshot(5, &s));
	assert_int_equal(s.kind, ST_FD_UNKNOWN);
	assert_int_equal(s.local_len, 0);
	assert_int_equal(s.peer_len, 0);
	assert_false(st_fd_has_local(5));
}

static void test_kinds(void **state)
{
	struct st_fdsnap s;

	(void)state;
	st_fd_set_socket(5, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_int_equal(st_fd_kind(5), ST_FD_SOCKET);
	assert_true(st_fd_snapshot(5, &s));
	assert_int_equal(s.kind, ST_FD_SOCKET);
	assert_int_equal(s.family, AF_INET);
	assert_int_equal(s.socktype, SOCK_STREAM); /* flags stripped */
	assert_int_equal(s.local_len, 0);
	assert_int_equal(s.peer_len, 0);
	/* Neighbours are untouched. */
	assert_int_equal(st_fd_kind(4), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(6), ST_FD_UNKNOWN);

	st_fd_set_other(6);
	assert_int_equal(st_fd_kind(6), ST_FD_OTHER);
	assert_false(st_fd_snapshot(6, &s));
	assert_int_equal(s.kind, ST_FD_OTHER);

	st_fd_forget(5);
	assert_int_equal(st_fd_kind(5), ST_FD_UNKNOWN);
	assert_false(st_fd_snapshot(5, &s));
	assert_int_equal(s.kind, ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(6), ST_FD_OTHER);

	/* A socket can become something else and back. */
	st_fd_set_socket(6, AF_UNIX, SOCK_DGRAM);
	assert_int_equal(st_fd_kind(6), ST_FD_SOCKET);
	assert_true(st_fd_snapshot(6, &s));
	assert_int_equal(s.family, AF_UNIX);
	assert_int_equal(s.socktype, SOCK_DGRAM);

	/* Forgetting an fd never seen is harmless. */
	st_fd_forget(70000);
	assert_int_equal(st_fd_kind(70000), ST_FD_UNKNOWN);
}

static void test_addresses(void **state)
{
	struct sockaddr_in l = in4("127.0.0.1", 8080);
	struct sockaddr_in6 p = in6("::1", 443);
	struct sockaddr_un un;
	struct st_fdsnap s;

	(void)state;
	st_fd_set_socket(7, AF_INET, SOCK_STREAM);
	assert_false(st_fd_has_local(7));
	st_fd_set_local(7, SA(l), sizeof(l));
	assert_true(st_fd_has_local(7));
	st_fd_set_peer(7, SA(p), sizeof(p));
	assert_true(st_fd_snapshot(7, &s));
	assert_field(s.local, s.local_len, "127.0.0.1:8080");
	assert_field(s.peer, s.peer_len, "[::1]:443");

	/* Replacing one leaves the other. */
	l = in4("10.0.0.1", 1);
	st_fd_set_local(7, SA(l), sizeof(l));
	assert_true(st_fd_snapshot(7, &s));
	assert_field(s.local, s.local_len, "10.0.0.1:1");
	assert_field(s.peer, s.peer_len, "[::1]:443");

	/* NULL or empty clears. */
	st_fd_set_peer(7, NULL, 0);
	assert_true(st_fd_snapshot(7, &s));
	assert_int_equal(s.peer_len, 0);
	assert_field(s.local, s.local_len, "10.0.0.1:1");
	st_fd_set_local(7, SA(l), 0);
	assert_false(st_fd_has_local(7));
	assert_true(st_fd_snapshot(7, &s));
	assert_int_equal(s.local_len, 0);

	/* A unix name with escapes round-trips as its JSON text. */
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, "\0a\"b", 4);
	st_fd_set_peer(7, SA(un), (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 4));
	assert_true(st_fd_snapshot(7, &s));
	assert_field(s.peer, s.peer_len, "unix:@a\\\"b");

	/* set_socket starts afresh. */
	st_fd_set_local(7, SA(l), sizeof(l));
	st_fd_set_socket(7, AF_INET6, SOCK_DGRAM);
	assert_false(st_fd_has_local(7));
	assert_true(st_fd_snapshot(7, &s));
	assert_int_equal(s.local_len, 0);
	assert_int_equal(s.peer_len, 0);
	assert_int_equal(s.family, AF_INET6);

	/* So does forget. */
	st_fd_set_local(7, SA(l), sizeof(l));
	st_fd_set_peer(7, SA(p), sizeof(p));
	st_fd_forget(7);
	assert_false(st_fd_has_local(7));
	st_fd_set_socket(7, AF_INET, SOCK_STREAM);
	assert_true(st_fd_snapshot(7, &s));
	assert_int_equal(s.local_len, 0);
	assert_int_equal(s.peer_len, 0);
}

/* The endpoints as record fields, straight from the table. */
static void test_addrs_json(void **state)
{
	struct sockaddr_in l = in4("127.0.0.1", 8080);
	struct sockaddr_in p = in4("10.1.2.3", 443);
	char buf[256];
	bool pending = true;
	struct st_fdsnap snap;
	size_t n;

	(void)state;
	assert_int_equal(addrs_as_json(9, buf, sizeof(buf), &pending), 0);
	assert_false(pending);
	st_fd_set_other(9);
	assert_int_equal(addrs_as_json(9, buf, sizeof(buf), &pending), 0);
	st_fd_set_socket(9, AF_INET, SOCK_STREAM);
	assert_int_equal(addrs_as_json(9, buf, sizeof(buf), &pending), 0);
	st_fd_set_peer(9, SA(p), sizeof(p));
	n = addrs_as_json(9, buf, sizeof(buf), &pending);
	assert_field(buf, n, ",\"peer\":\"10.1.2.3:443\"");
	st_fd_set_local(9, SA(l), sizeof(l));
	n = addrs_as_json(9, buf, sizeof(buf), &pending);
	assert_field(buf, n, ",\"local\":\"127.0.0.1:8080\",\"peer\":\"10.1.2.3:443\"");
	assert_false(pending);
	/* One byte short: nothing written that the caller would keep. */
	{
		size_t bin = last_bin_len;
		uint8_t rec[512];
		memset(rec, 0xee, sizeof(rec));
		assert_int_equal(st_fd_addrs_rec(9, rec, bin - 1, &pending, NULL), SIZE_MAX);
		assert_int_equal(rec[0], 0xee);
		assert_int_equal(st_fd_addrs_rec(9, rec, bin, &pending, NULL), bin);
	}
	st_fd_set_local_pending(9);
	n = addrs_as_json(9, buf, sizeof(buf), &pending);
	assert_true(pending);
	assert_field(buf, n, ",\"peer\":\"10.1.2.3:443\"");
	/* An accepted socket whose peer nobody asked for yet. */
	st_fd_set_local(9, SA(l), sizeof(l));
	st_fd_set_peer_pending(9);
	n = addrs_as_json(9, buf, sizeof(buf), &pending);
	assert_true(pending);
	assert_field(buf, n, ",\"local\":\"127.0.0.1:8080\"");
	st_fd_snapshot(9, &snap);
	assert_true(snap.peer_pending);
	assert_false(snap.local_pending);
	assert_int_equal(snap.peer_len, 0);
	/* dup copies the mark; learning the peer clears it. */
	st_fd_copy(10, 9);
	st_fd_snapshot(10, &snap);
	assert_true(snap.peer_pending);
	st_fd_set_peer(9, SA(p), sizeof(p));
	n = addrs_as_json(9, buf, sizeof(buf), &pending);
	assert_false(pending);
	assert_field(buf, n, ",\"local\":\"127.0.0.1:8080\",\"peer\":\"10.1.2.3:443\"");
	/* A new socket on the number starts with nothing pending. */
	st_fd_set_socket(10, AF_INET, SOCK_STREAM);
	st_fd_snapshot(10, &snap);
	assert_false(snap.peer_pending);
}

/* close forgets the number only if nobody made it theirs after the real
 * close (another thread's accept getting the same number). */
static void test_forget_if_unchanged(void **state)
{
	struct sockaddr_in p = in4("10.1.2.3", 443);
	struct st_fdsnap s;
	uint32_t v;

	(void)state;
	st_fd_set_socket(11, AF_INET, SOCK_STREAM);
	v = st_fd_version(11);
	st_fd_forget_if_unchanged(11, v);
	assert_int_equal(st_fd_kind(11), ST_FD_UNKNOWN);

	st_fd_set_socket(11, AF_INET, SOCK_STREAM);
	v = st_fd_version(11);
	/* The number, freed by the kernel, is accepted again meanwhile. */
	st_fd_set_socket(11, AF_INET, SOCK_STREAM);
	st_fd_set_peer(11, SA(p), sizeof(p));
	st_fd_forget_if_unchanged(11, v);
	assert_true(st_fd_snapshot(11, &s));
	assert_field(s.peer, s.peer_len, "10.1.2.3:443");

	/* An entry never mapped, or a version taken mid-write: forgotten. */
	st_fd_forget_if_unchanged(900000, 0);
	assert_int_equal(st_fd_kind(900000), ST_FD_UNKNOWN);
	st_fd_forget_if_unchanged(11, st_fd_version(11) | 1);
	assert_int_equal(st_fd_kind(11), ST_FD_UNKNOWN);
}

static void test_copy(void **state)
{
	struct sockaddr_in l = in4("127.0.0.1", 5000);
	struct sockaddr_in r = in4("192.0.2.7", 80);
	struct st_fdsnap s;

	(void)state;
	st_fd_set_socket(3, AF_INET, SOCK_STREAM);
	st_fd_set_local(3, SA(l), sizeof(l));
	st_fd_set_peer(3, SA(r), sizeof(r));

	/* dup into the same chunk and into one never mapped. */
	st_fd_copy(9, 3);
	st_fd_copy(5000, 3);
	for (int i = 0; i < 2; i++) {
		int fd = i ? 5000 : 9;
		assert_int_equal(st_fd_kind(fd), ST_FD_SOCKET);
		assert_true(st_fd_snapshot(fd, &s));
		assert_int_equal(s.family, AF_INET);
		assert_int_equal(s.socktype, SOCK_STREAM);
		assert_field(s.local, s.local_len, "127.0.0.1:5000");
		assert_field(s.peer, s.peer_len, "192.0.2.7:80");
		assert_true(st_fd_has_local(fd));
	}
	/* The source is unchanged. */
	assert_true(st_fd_snapshot(3, &s));
	assert_field(s.peer, s.peer_len, "192.0.2.7:80");

	/* Copying onto itself changes nothing. */
	st_fd_copy(3, 3);
	assert_true(st_fd_snapshot(3, &s));
	assert_field(s.local, s.local_len, "127.0.0.1:5000");

	/* A non-socket is copied as such. */
	st_fd_set_other(4);
	st_fd_copy(10, 4);
	assert_int_equal(st_fd_kind(10), ST_FD_OTHER);

	/* dup2 of something we never saw over a known socket forgets it. */
	st_fd_copy(9, 20);
	assert_int_equal(st_fd_kind(9), ST_FD_UNKNOWN);
	assert_false(st_fd_snapshot(9, &s));
	assert_false(st_fd_has_local(9));
	st_fd_copy(5000, 600000); /* source in a chunk never mapped */
	assert_int_equal(st_fd_kind(5000), ST_FD_UNKNOWN);
	st_fd_copy(10, -1);
	assert_int_equal(st_fd_kind(10), ST_FD_UNKNOWN);
}

static void test_forget_range(void **state)
{
	static const int fds[] = { 999, 1000, 1023, 1024, 1500, 2047, 2048, 3000, 3001 };

	(void)state;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		st_fd_set_socket(fds[i], AF_INET, SOCK_STREAM);
	st_fd_set_other(10);
	st_fd_forget_range(1000, 3000);
	assert_int_equal(st_fd_kind(999), ST_FD_SOCKET);
	assert_int_equal(st_fd_kind(3001), ST_FD_SOCKET);
	assert_int_equal(st_fd_kind(10), ST_FD_OTHER);
	for (size_t i = 1; i + 1 < sizeof(fds) / sizeof(fds[0]); i++)
		if (st_fd_kind(fds[i]) != ST_FD_UNKNOWN)
			fail_msg("fd %d survived forget_range(1000, 3000)", fds[i]);

	/* A range that starts in a chunk never mapped and ends at ~0u. */
	st_fd_reset_all();
	st_fd_set_socket(10, AF_INET, SOCK_STREAM);
	st_fd_set_socket(5000, AF_INET, SOCK_STREAM);
	st_fd_set_socket(ST_FD_LIMIT - 1, AF_INET, SOCK_STREAM);
	assert_int_equal(st_fd_kind(ST_FD_LIMIT - 1), ST_FD_SOCKET);
	st_fd_forget_range(2000, ~0u);
	assert_int_equal(st_fd_kind(10), ST_FD_SOCKET);
	assert_int_equal(st_fd_kind(5000), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(ST_FD_LIMIT - 1), ST_FD_UNKNOWN);

	/* Everything. */
	st_fd_set_socket(5000, AF_INET, SOCK_STREAM);
	st_fd_forget_range(0, ~0u);
	assert_int_equal(st_fd_kind(10), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(5000), ST_FD_UNKNOWN);

	/* Single fd, empty and out-of-table ranges. */
	st_fd_set_socket(7, AF_INET, SOCK_STREAM);
	st_fd_set_socket(8, AF_INET, SOCK_STREAM);
	st_fd_forget_range(8, 8);
	assert_int_equal(st_fd_kind(7), ST_FD_SOCKET);
	assert_int_equal(st_fd_kind(8), ST_FD_UNKNOWN);
	st_fd_forget_range(9, 6);
	assert_int_equal(st_fd_kind(7), ST_FD_SOCKET);
	st_fd_forget_range(ST_FD_LIMIT, ~0u);
	st_fd_forget_range(~0u, ~0u);
	assert_int_equal(st_fd_kind(7), ST_FD_SOCKET);
}

static void test_out_of_range(void **state)
{
	struct sockaddr_in a = in4("127.0.0.1", 1);
	struct st_fdsnap s;

	(void)state;
	st_fd_set_socket(-1, AF_INET, SOCK_STREAM);
	st_fd_set_socket(ST_FD_LIMIT, AF_INET, SOCK_STREAM);
	st_fd_set_socket(2147483647, AF_INET, SOCK_STREAM);
	st_fd_set_other(-5);
	st_fd_set_local(-1, SA(a), sizeof(a));
	st_fd_set_peer(ST_FD_LIMIT, SA(a), sizeof(a));
	st_fd_forget(-1);
	st_fd_forget(ST_FD_LIMIT);
	assert_int_equal(st_fd_kind(-1), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(-5), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(ST_FD_LIMIT), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(2147483647), ST_FD_UNKNOWN);
	assert_false(st_fd_snapshot(-1, &s));
	assert_false(st_fd_snapshot(ST_FD_LIMIT, &s));
	assert_false(st_fd_has_local(-1));
	assert_false(st_fd_has_local(ST_FD_LIMIT));

	/* A copy to an untracked number is dropped, the source kept. */
	st_fd_set_socket(3, AF_INET, SOCK_STREAM);
	st_fd_copy(ST_FD_LIMIT, 3);
	st_fd_copy(-1, 3);
	assert_int_equal(st_fd_kind(ST_FD_LIMIT), ST_FD_UNKNOWN);
	assert_int_equal(st_fd_kind(3), ST_FD_SOCKET);
	/* The last tracked number works. */
	st_fd_set_local(ST_FD_LIMIT - 1, SA(a), sizeof(a)); /* chunk not mapped: ignored */
	st_fd_set_socket(ST_FD_LIMIT - 1, AF_INET, SOCK_STREAM);
	st_fd_set_local(ST_FD_LIMIT - 1, SA(a), sizeof(a));
	assert_true(st_fd_has_local(ST_FD_LIMIT - 1));
	assert_true(st_fd_snapshot(ST_FD_LIMIT - 1, &s));
	assert_field(s.local, s.local_len, "127.0.0.1:1");
}

/* Writers keep replacing the peer of one fd with one of two addresses while
 * readers take snapshots: a snapshot must hold one of the two texts whole
 * (or, when it gave up on a busy entry, none), never a mix. */
#define RACE_FD 77
#define RACE_WRITERS 4
#define RACE_READERS 4
#define RACE_WRITES 2000000
#define RACE_READS_MAX 100000000

struct race {
	struct sockaddr_in a;
	struct sockaddr_in6 b;
	char text_a[ST_ADDR_MAX];
	char text_b[ST_ADDR_MAX];
	size_t len_a, len_b;
	_Atomic int writers_left;
	_Atomic long torn;
	_Atomic long seen;
	pthread_mutex_t lock;
	char example[ST_ADDR_MAX + 32];
};

static bool race_ok(const struct race *r, const struct st_fdsnap *s)
{
	if (s->peer_len == 0)
		return true;
	if (s->peer_len == r->len_a && memcmp(s->peer, r->text_a, r->len_a) == 0)
		return true;
	return s->peer_len == r->len_b && memcmp(s->peer, r->text_b, r->len_b) == 0;
}

struct race_writer_arg {
	struct race *r;
	unsigned id;
};

static void *race_writer(void *arg)
{
	const struct race_writer_arg *wa = arg;
	struct race *r = wa->r;

	for (unsigned i = 0; i < RACE_WRITES; i++) {
		if ((i + wa->id) & 1)
			st_fd_set_peer(RACE_FD, SA(r->a), sizeof(r->a));
		else
			st_fd_set_peer(RACE_FD, SA(r->b), sizeof(r->b));
	}
	atomic_fetch_sub(&r->writers_left, 1);
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct st_fdsnap s;

	for (long i = 0; i < RACE_READS_MAX && atomic_load(&r->writers_left) > 0; i++) {
		bool sock = st_fd_snapshot(RACE_FD, &s);

		if (s.peer_len)
			atomic_fetch_add(&r->seen, 1);
		if (sock && s.kind == ST_FD_SOCKET && race_ok(r, &s))
			continue;
		if (atomic_fetch_add(&r->torn, 1) == 0) {
			pthread_mutex_lock(&r->lock);
			snprintf(r->example, sizeof(r->example), "kind %u, %u bytes: '%.*s'",
				 (unsigned)s.kind, (unsigned)s.peer_len,
				 (int)s.peer_len, s.peer);
			pthread_mutex_unlock(&r->lock);
		}
	}
	return NULL;
}

static void test_concurrent_snapshots(void **state)
{
	static struct race r;
	struct race_writer_arg wa[RACE_WRITERS];
	pthread_t w[RACE_WRITERS], rd[RACE_READERS];
	struct st_fdsnap s;

	(void)state;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	r.a = in4("10.1.2.3", 1111);
	r.b = in6("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 65535);
	r.len_a = st_sockaddr_json(r.text_a, sizeof(r.text_a), SA(r.a), sizeof(r.a));
	r.len_b = st_sockaddr_json(r.text_b, sizeof(r.text_b), SA(r.b), sizeof(r.b));
	assert_string_equal(r.text_a, "10.1.2.3:1111");
	assert_true(r.len_b > r.len_a);

	st_fd_set_socket(RACE_FD, AF_INET6, SOCK_STREAM);
	st_fd_set_peer(RACE_FD, SA(r.a), sizeof(r.a));
	atomic_store(&r.writers_left, RACE_WRITERS);
	for (int i = 0; i < RACE_READERS; i++)
		assert_int_equal(pthread_create(&rd[i], NULL, race_reader, &r), 0);
	for (int i = 0; i < RACE_WRITERS; i++) {
		wa[i].r = &r;
		wa[i].id = (unsigned)i;
		assert_int_equal(pthread_create(&w[i], NULL, race_writer, &wa[i]), 0);
	}
	for (int i = 0; i < RACE_WRITERS; i++)
		assert_int_equal(pthread_join(w[i], NULL), 0);
	for (int i = 0; i < RACE_READERS; i++)
		assert_int_equal(pthread_join(rd[i], NULL), 0);

	if (atomic_load(&r.torn))
		fail_msg("%ld torn snapshots of %ld, first: %s", atomic_load(&r.torn),
			 atomic_load(&r.seen), r.example);
	/* Quiet now: the entry itself must hold one whole address. */
	assert_true(st_fd_snapshot(RACE_FD, &s));
	assert_true(s.peer_len == r.len_a || s.peer_len == r.len_b);
	if (!race_ok(&r, &s))
		fail_msg("entry left torn: %.*s", (int)s.peer_len, s.peer);
	pthread_mutex_destroy(&r.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addrs_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_if_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_snapshots, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
