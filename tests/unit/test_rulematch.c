/* rulematch: which calls a rule selects, when= counts, prob= draws and
 * prog= names. Rules are written as text and parsed, as users write them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rulematch.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define MS 1000000ull

static struct st_rule rule_mem[4];

static void report(void *ctx, const char *message)
{
	(void)ctx;
	fail_msg("unexpected message: %s", message);
}

static const struct st_rule *rule(const char *text)
{
	struct st_ruleset set = { rule_mem, 0, 1, NULL };

	memset(rule_mem, 0x5a, sizeof(rule_mem));
	assert_int_equal(st_rules_parse(&set, "m.scn", text, strlen(text), false, report, NULL), 0);
	assert_int_equal(set.count, 1);
	return &rule_mem[0];
}

static struct st_ep ep4(const char *ip, uint16_t port)
{
	struct st_ep ep;

	memset(&ep, 0, sizeof(ep));
	ep.family = AF_INET;
	ep.port = port;
	assert_int_equal(inet_pton(AF_INET, ip, ep.addr), 1);
	return ep;
}

static struct st_ep ep6(const char *ip, uint16_t port)
{
	struct st_ep ep;

	memset(&ep, 0, sizeof(ep));
	ep.family = AF_INET6;
	ep.port = port;
	assert_int_equal(inet_pton(AF_INET6, ip, ep.addr), 1);
	return ep;
}

static struct st_ep ep_unix(void)
{
	struct st_ep ep;

	memset(&ep, 0, sizeof(ep));
	ep.family = AF_UNIX;
	return ep;
}

/* A call of fn whose socket is connected to peer (may be NULL). */
static bool selects_peer(const struct st_rule *r, enum st_fn fn, const struct st_ep *peer)
{
	struct st_match_ctx c = { .fn = fn, .peer = peer };

	return st_rule_selects(r, &c);
}

static bool selects_local(const struct st_rule *r, enum st_fn fn, const struct st_ep *local)
{
	struct st_match_ctx c = { .fn = fn, .local = local };

	return st_rule_selects(r, &c);
}

static bool selects_at(const struct st_rule *r, enum st_fn fn, uint64_t elapsed_ns)
{
	struct st_match_ctx c = { .fn = fn, .elapsed_ns = elapsed_ns };

	return st_rule_selects(r, &c);
}

static void test_fn_mask(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("recv reset");
	assert_true(selects_peer(r, ST_FN_recv, NULL));
	assert_true(selects_peer(r, ST_FN___recv_chk, NULL));
	assert_false(selects_peer(r, ST_FN_recvfrom, NULL));
	assert_false(selects_peer(r, ST_FN_read, NULL));
	assert_false(selects_peer(r, ST_FN_send, NULL));

	r = rule("connect,send error=ECONNRESET");
	assert_true(selects_peer(r, ST_FN_connect, NULL));
	assert_true(selects_peer(r, ST_FN_send, NULL));
	assert_false(selects_peer(r, ST_FN_sendto, NULL));
	assert_false(selects_peer(r, ST_FN_accept, NULL));

	r = rule("data delay=1ms");
	assert_true(selects_peer(r, ST_FN_read, NULL));
	assert_true(selects_peer(r, ST_FN_writev, NULL));
	assert_true(selects_peer(r, ST_FN_recvmmsg, NULL));
	assert_false(selects_peer(r, ST_FN_connect, NULL));
	assert_false(selects_peer(r, ST_FN_close, NULL));

	r = rule("setup delay=1ms");
	assert_true(selects_peer(r, ST_FN_accept4, NULL));
	assert_true(selects_peer(r, ST_FN_socket, NULL));
	assert_false(selects_peer(r, ST_FN_getaddrinfo, NULL));

	r = rule("all delay=1ms");
	for (unsigned i = 0; i < ST_FN_COUNT; i++)
		assert_true(selects_peer(r, (enum st_fn)i, NULL));
}

/* A splice that writes to its socket is a send, one that reads from it
 * a receive; a rule naming splice takes both. */
static bool selects_dir(const struct st_rule *r, enum st_fn fn, enum st_data dir)
{
	struct st_match_ctx c = { .fn = fn, .dir = dir };

	return st_rule_selects(r, &c);
}

static void test_two_way_calls(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("sends short=100");
	assert_true(selects_dir(r, ST_FN_splice, ST_DATA_OUT));
	assert_false(selects_dir(r, ST_FN_splice, ST_DATA_IN));
	assert_false(selects_dir(r, ST_FN_splice, ST_DATA_NONE));
	assert_true(selects_dir(r, ST_FN_sendfile, ST_DATA_OUT));
	assert_true(selects_dir(r, ST_FN_sendfile64, ST_DATA_NONE));
	assert_true(selects_dir(r, ST_FN_send, ST_DATA_NONE));

	r = rule("receives delay=1ms");
	assert_false(selects_dir(r, ST_FN_splice, ST_DATA_OUT));
	assert_true(selects_dir(r, ST_FN_splice, ST_DATA_IN));
	assert_false(selects_dir(r, ST_FN_sendfile, ST_DATA_OUT));

	r = rule("splice error=EPIPE");
	assert_true(selects_dir(r, ST_FN_splice, ST_DATA_OUT));
	assert_true(selects_dir(r, ST_FN_splice, ST_DATA_IN));
	/* Whichever way it went, a rule taking both ways selects it. */
	assert_true(selects_dir(r, ST_FN_splice, ST_DATA_NONE));
	assert_false(selects_dir(r, ST_FN_sendfile, ST_DATA_OUT));
	assert_true(st_rule_calls(r, ST_FN_splice, ST_DATA_IN));
	assert_false(st_rule_calls(r, ST_FN_COUNT, ST_DATA_IN));

	/* close: only where splice reads. */
	r = rule("splice close");
	assert_false(selects_dir(r, ST_FN_splice, ST_DATA_OUT));
	assert_true(selects_dir(r, ST_FN_splice, ST_DATA_IN));

	r = rule("data corrupt=1");
	assert_false(selects_dir(r, ST_FN_splice, ST_DATA_OUT));
	assert_false(selects_dir(r, ST_FN_sendfile, ST_DATA_OUT));
	assert_true(selects_dir(r, ST_FN_write, ST_DATA_NONE));
}

static void test_ipv4_cidr(void **state)
{
	const struct st_rule *r;
	struct st_ep a;

	(void)state;
	r = rule("connect peer=10.1.2.0/24 delay=1ms");
	a = ep4("10.1.2.77", 80);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.1.2.0", 0);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.1.2.255", 65535);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.1.3.1", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep4("11.1.2.1", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	/* Unknown peer: a filter on it cannot hold. */
	assert_false(selects_peer(r, ST_FN_connect, NULL));
	memset(&a, 0, sizeof(a));
	assert_false(selects_peer(r, ST_FN_connect, &a));
	/* peer= looks at the peer, not the local end. */
	a = ep4("10.1.2.77", 80);
	assert_false(selects_local(r, ST_FN_connect, &a));
	/* An IPv6 peer is not an IPv4 one. */
	a = ep6("::a01:203", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	/* A prefix that does not end on a byte. */
	r = rule("connect peer=10.1.16.0/20 delay=1ms");
	a = ep4("10.1.16.0", 1);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.1.31.255", 1);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.1.32.0", 1);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.1.15.255", 1);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	/* One address. */
	r = rule("connect peer=192.168.1.10 delay=1ms");
	a = ep4("192.168.1.10", 443);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("192.168.1.11", 443);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	/* /0: every IPv4 address. */
	r = rule("connect peer=0.0.0.0/0 delay=1ms");
	a = ep4("203.0.113.9", 1);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("2001:db8::1", 1);
	assert_false(selects_peer(r, ST_FN_connect, &a));
}

static void test_ipv4_with_port(void **state)
{
	const struct st_rule *r;
	struct st_ep a;

	(void)state;
	r = rule("connect peer=10.0.0.0/8:5432 error=ECONNREFUSED");
	a = ep4("10.9.9.9", 5432);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep4("10.9.9.9", 5433);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep4("11.9.9.9", 5432);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	r = rule("recv local=127.0.0.1:8080 reset");
	a = ep4("127.0.0.1", 8080);
	assert_true(selects_local(r, ST_FN_recv, &a));
	assert_false(selects_peer(r, ST_FN_recv, &a));
	a = ep4("127.0.0.1", 8081);
	assert_false(selects_local(r, ST_FN_recv, &a));
}

static void test_ipv6_cidr(void **state)
{
	const struct st_rule *r;
	struct st_ep a;

	(void)state;
	r = rule("connect peer=[fe80::]/10 delay=1ms");
	a = ep6("fe80::1", 1);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("febf:ffff::1", 1);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("fec0::1", 1);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep4("254.128.0.1", 1);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	r = rule("connect peer=[::1]:80 error=ECONNREFUSED");
	a = ep6("::1", 80);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("::1", 81);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep6("::2", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep4("127.0.0.1", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	r = rule("connect peer=2001:db8::/32 delay=1ms");
	a = ep6("2001:db8:ffff::1", 1);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("2001:db9::1", 1);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	r = rule("connect peer=[2001:db8::]/32:443 delay=1ms");
	a = ep6("2001:db8::5", 443);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("2001:db8::5", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));
}

static void test_v4_mapped(void **state)
{
	const struct st_rule *r;
	struct st_ep a;

	(void)state;
	/* An IPv4 filter matches the same address on an IPv6 socket. */
	r = rule("connect peer=127.0.0.1 error=ECONNREFUSED");
	a = ep6("::ffff:127.0.0.1", 80);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("::ffff:127.0.0.2", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep6("::1", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	/* ::127.0.0.1 (compatible, not mapped) is not it. */
	a = ep6("::127.0.0.1", 80);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	r = rule("connect peer=127.0.0.0/8:8080 error=ECONNREFUSED");
	a = ep6("::ffff:127.3.4.5", 8080);
	assert_true(selects_peer(r, ST_FN_connect, &a));
	a = ep6("::ffff:127.3.4.5", 8081);
	assert_false(selects_peer(r, ST_FN_connect, &a));
	a = ep6("::ffff:128.0.0.1", 8080);
	assert_false(selects_peer(r, ST_FN_connect, &a));

	r = rule("accept local=10.0.0.0/8 delay=1ms");
	a = ep6("::ffff:10.20.30.40", 22);
	assert_true(selects_local(r, ST_FN_accept, &a));
}

static bool selects_text(const struct st_rule *r, enum st_fn fn, const char *peer_text,
			 const char *local_text)
{
	struct st_ep u = ep_unix();
	struct st_match_ctx c = {
		.fn = fn, .peer = &u, .local = &u, .peer_text = peer_text, .local_text = local_text,
	};

	return st_rule_selects(r, &c);
}

static void test_unix_globs(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("connect peer=unix:/run/*.sock error=ECONNREFUSED");
	assert_true(selects_text(r, ST_FN_connect, "unix:/run/db.sock", NULL));
	assert_true(selects_text(r, ST_FN_connect, "unix:/run/.sock", NULL));
	assert_false(selects_text(r, ST_FN_connect, "unix:/tmp/db.sock", NULL));
	assert_false(selects_text(r, ST_FN_connect, "unix:/run/db.socket", NULL));
	assert_false(selects_text(r, ST_FN_connect, "unix:@/run/db.sock", NULL));
	assert_false(selects_text(r, ST_FN_connect, "127.0.0.1:80", NULL));
	assert_false(selects_text(r, ST_FN_connect, NULL, "unix:/run/db.sock"));
	assert_false(selects_text(r, ST_FN_connect, NULL, NULL));

	r = rule("recv peer=unix:@name* reset");
	assert_true(selects_text(r, ST_FN_recv, "unix:@name1", NULL));
	assert_true(selects_text(r, ST_FN_recv, "unix:@name", NULL));
	assert_false(selects_text(r, ST_FN_recv, "unix:/name1", NULL));
	assert_false(selects_text(r, ST_FN_recv, "unix:@other", NULL));

	r = rule("accept local=unix:/tmp/s?.sock delay=1ms");
	assert_true(selects_text(r, ST_FN_accept, NULL, "unix:/tmp/s1.sock"));
	assert_false(selects_text(r, ST_FN_accept, NULL, "unix:/tmp/s12.sock"));
	assert_false(selects_text(r, ST_FN_accept, "unix:/tmp/s1.sock", NULL));

	/* An IP filter never matches a unix socket. */
	r = rule("connect peer=0.0.0.0/0 delay=1ms");
	assert_false(selects_text(r, ST_FN_connect, "unix:/run/db.sock", NULL));
}

static bool selects_ports(const struct st_rule *r, const struct st_ep *peer,
			  const struct st_ep *local)
{
	struct st_match_ctx c = { .fn = ST_FN_recv, .peer = peer, .local = local };

	return st_rule_selects(r, &c);
}

static void test_port_either_end(void **state)
{
	const struct st_rule *r;
	struct st_ep p, l, u = ep_unix();

	(void)state;
	r = rule("recv port=5432 reset");
	/* A client: the server's port is its peer's. */
	p = ep4("10.0.0.1", 5432);
	l = ep4("10.0.0.2", 40000);
	assert_true(selects_ports(r, &p, &l));
	/* A server: its own port. */
	p = ep4("10.0.0.2", 40000);
	l = ep4("10.0.0.1", 5432);
	assert_true(selects_ports(r, &p, &l));
	assert_true(selects_ports(r, NULL, &l));
	/* Neither end. */
	p = ep4("10.0.0.1", 5433);
	l = ep4("10.0.0.2", 40000);
	assert_false(selects_ports(r, &p, &l));
	assert_false(selects_ports(r, NULL, NULL));
	/* IPv6 ends count too; unix ones have no port. */
	p = ep6("::1", 5432);
	assert_true(selects_ports(r, &p, NULL));
	assert_false(selects_ports(r, &u, &u));

	r = rule("recv port=8000-8100 reset");
	p = ep4("10.0.0.1", 7999);
	assert_false(selects_ports(r, &p, NULL));
	p = ep4("10.0.0.1", 8000);
	assert_true(selects_ports(r, &p, NULL));
	p = ep4("10.0.0.1", 8050);
	assert_true(selects_ports(r, &p, NULL));
	p = ep4("10.0.0.1", 8100);
	assert_true(selects_ports(r, &p, NULL));
	p = ep4("10.0.0.1", 8101);
	assert_false(selects_ports(r, &p, NULL));
	l = ep4("10.0.0.1", 8100);
	p = ep4("10.0.0.9", 9000);
	assert_true(selects_ports(r, &p, &l));

	/* Selectors combine: all must hold. */
	r = rule("recv peer=10.0.0.0/8 port=80 reset");
	p = ep4("10.0.0.1", 80);
	assert_true(selects_ports(r, &p, NULL));
	p = ep4("10.0.0.1", 81);
	assert_false(selects_ports(r, &p, NULL));
	p = ep4("11.0.0.1", 80);
	assert_false(selects_ports(r, &p, NULL));
}

static bool selects_host(const struct st_rule *r, enum st_fn fn, const char *host)
{
	struct st_match_ctx c = { .fn = fn, .host = host };

	return st_rule_selects(r, &c);
}

static void test_host_glob(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("getaddrinfo host=example.invalid error=EAI_AGAIN");
	assert_true(selects_host(r, ST_FN_getaddrinfo, "example.invalid"));
	assert_true(selects_host(r, ST_FN_getaddrinfo, "EXAMPLE.Invalid"));
	assert_false(selects_host(r, ST_FN_getaddrinfo, "example.invalid.com"));
	assert_false(selects_host(r, ST_FN_getaddrinfo, "www.example.invalid"));
	assert_false(selects_host(r, ST_FN_getaddrinfo, ""));
	assert_false(selects_host(r, ST_FN_getaddrinfo, NULL));

	r = rule("connect host=*.Example.COM error=ECONNREFUSED");
	assert_true(selects_host(r, ST_FN_connect, "db.example.com"));
	assert_true(selects_host(r, ST_FN_connect, "DB.EXAMPLE.COM"));
	assert_true(selects_host(r, ST_FN_connect, "a.b.example.com"));
	assert_false(selects_host(r, ST_FN_connect, "example.com"));
	assert_false(selects_host(r, ST_FN_connect, "db.example.org"));
	/* An address nobody resolved has no host. */
	assert_false(selects_host(r, ST_FN_connect, NULL));

	r = rule("dns host=db?.internal hang=1s");
	assert_true(selects_host(r, ST_FN_getaddrinfo, "db1.internal"));
	assert_false(selects_host(r, ST_FN_getaddrinfo, "db12.internal"));

	/* No host= selects whatever the host. */
	r = rule("getaddrinfo error=EAI_NONAME");
	assert_true(selects_host(r, ST_FN_getaddrinfo, NULL));
	assert_true(selects_host(r, ST_FN_getaddrinfo, "anything"));
}

static void test_after_for_edges(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("recv reset after=300ms");
	assert_false(selects_at(r, ST_FN_recv, 0));
	assert_false(selects_at(r, ST_FN_recv, 300 * MS - 1));
	assert_true(selects_at(r, ST_FN_recv, 300 * MS));
	assert_true(selects_at(r, ST_FN_recv, 3600000 * MS));

	/* for= runs from after=: [300ms, 400ms). */
	r = rule("recv reset after=300ms for=100ms");
	assert_false(selects_at(r, ST_FN_recv, 300 * MS - 1));
	assert_true(selects_at(r, ST_FN_recv, 300 * MS));
	assert_true(selects_at(r, ST_FN_recv, 400 * MS - 1));
	assert_false(selects_at(r, ST_FN_recv, 400 * MS));
	assert_false(selects_at(r, ST_FN_recv, 3600000 * MS));

	/* for= alone runs from the start: [0, 1s). */
	r = rule("recv reset for=1s");
	assert_true(selects_at(r, ST_FN_recv, 0));
	assert_true(selects_at(r, ST_FN_recv, 1000 * MS - 1));
	assert_false(selects_at(r, ST_FN_recv, 1000 * MS));

	/* Neither: always. */
	r = rule("recv reset");
	assert_true(selects_at(r, ST_FN_recv, 0));
	assert_true(selects_at(r, ST_FN_recv, UINT64_MAX));
}

static void test_when(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("connect error=ECONNREFUSED");
	for (uint64_t n = 1; n < 100; n++)
		assert_true(st_rule_when(r, n));

	r = rule("connect error=ECONNREFUSED when=3");
	assert_false(st_rule_when(r, 1));
	assert_false(st_rule_when(r, 2));
	assert_true(st_rule_when(r, 3));
	assert_false(st_rule_when(r, 4));
	assert_false(st_rule_when(r, 1000));

	r = rule("connect error=ECONNREFUSED when=2..4");
	assert_false(st_rule_when(r, 1));
	assert_true(st_rule_when(r, 2));
	assert_true(st_rule_when(r, 3));
	assert_true(st_rule_when(r, 4));
	assert_false(st_rule_when(r, 5));

	r = rule("connect error=ECONNREFUSED when=5+");
	assert_false(st_rule_when(r, 4));
	assert_true(st_rule_when(r, 5));
	assert_true(st_rule_when(r, 6));
	assert_true(st_rule_when(r, 1000000000));
	assert_true(st_rule_when(r, UINT64_MAX));

	/* From 2, every 3rd: 2, 5, 8, ... */
	r = rule("send short=1 when=2+3");
	for (uint64_t n = 1; n <= 30; n++)
		assert_int_equal(st_rule_when(r, n), n >= 2 && (n - 2) % 3 == 0);

	r = rule("send short=1 when=2+2");
	for (uint64_t n = 1; n <= 20; n++)
		assert_int_equal(st_rule_when(r, n), n % 2 == 0);

	r = rule("send short=1 when=1+1");
	for (uint64_t n = 1; n <= 20; n++)
		assert_true(st_rule_when(r, n));
}

#define DRAWS 100000

static unsigned count_draws(const struct st_rule *r, uint64_t seed, unsigned index,
			    bool *out)
{
	unsigned hits = 0;

	for (uint64_t n = 1; n <= DRAWS; n++) {
		bool b = st_rule_prob(r, seed, index, n);
		if (out)
			out[n - 1] = b;
		hits += b;
	}
	return hits;
}

static bool draws_a[DRAWS], draws_b[DRAWS];

static void test_prob_deterministic(void **state)
{
	const struct st_rule *r;
	unsigned hits;

	(void)state;
	r = rule("recv reset prob=0.25");
	hits = count_draws(r, 42, 0, draws_a);
	/* Close to the asked rate: 25000 expected, sd about 137. */
	if (hits < 24000 || hits > 26000)
		fail_msg("prob=0.25: %u of %d draws", hits, DRAWS);
	/* The same inputs give the same draws. */
	assert_int_equal(count_draws(r, 42, 0, draws_b), hits);
	assert_memory_equal(draws_a, draws_b, sizeof(draws_a));
	/* Another seed, another rule: other draws, same rate. */
	hits = count_draws(r, 43, 0, draws_b);
	assert_true(hits > 24000 && hits < 26000);
	assert_memory_not_equal(draws_a, draws_b, sizeof(draws_a));
	hits = count_draws(r, 42, 1, draws_b);
	assert_true(hits > 24000 && hits < 26000);
	assert_memory_not_equal(draws_a, draws_b, sizeof(draws_a));
	/* Seed 0 is a seed like any other. */
	hits = count_draws(r, 0, 0, NULL);
	assert_true(hits > 24000 && hits < 26000);
}

static void test_prob_rates(void **state)
{
	static const struct {
		const char *text;
		unsigned lo, hi;
	} cases[] = {
		{ "recv reset prob=0.5", 49000, 51000 },
		{ "recv reset prob=0.01", 800, 1200 },
		{ "recv reset prob=0.9", 89000, 91000 },
		{ "recv reset prob=0.999", 99700, 100000 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned hits = count_draws(rule(cases[i].text), 7, 3, NULL);
		if (hits < cases[i].lo || hits > cases[i].hi)
			fail_msg("%s: %u of %d draws", cases[i].text, hits, DRAWS);
	}
	/* prob=1 and no prob=: always. */
	assert_int_equal(count_draws(rule("recv reset prob=1"), 7, 3, NULL), DRAWS);
	assert_int_equal(count_draws(rule("recv reset"), 7, 3, NULL), DRAWS);
}

static void test_random(void **state)
{
	(void)state;
	/* A pure function of its inputs. */
	assert_true(st_rule_random(1, 2, 3, 4) == st_rule_random(1, 2, 3, 4));
	assert_true(st_rule_random(1, 2, 3, 4) != st_rule_random(2, 2, 3, 4));
	assert_true(st_rule_random(1, 2, 3, 4) != st_rule_random(1, 3, 3, 4));
	assert_true(st_rule_random(1, 2, 3, 4) != st_rule_random(1, 2, 4, 4));
	assert_true(st_rule_random(1, 2, 3, 4) != st_rule_random(1, 2, 3, 5));
	/* Consecutive counts are well mixed: about half the bits change. */
	for (uint64_t n = 1; n < 1000; n++) {
		uint64_t x = st_rule_random(99, 0, n, 0) ^ st_rule_random(99, 0, n + 1, 0);
		int bits = __builtin_popcountll(x);
		assert_true(bits > 10 && bits < 54);
	}
}

static void test_for_prog(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = rule("send prog=tcp_server short=1");
	assert_true(st_rule_for_prog(r, "tcp_server"));
	assert_false(st_rule_for_prog(r, "tcp_client"));
	assert_false(st_rule_for_prog(r, "tcp_server2"));
	assert_false(st_rule_for_prog(r, "TCP_SERVER"));

	r = rule("send prog=tcp_* short=1");
	assert_true(st_rule_for_prog(r, "tcp_server"));
	assert_true(st_rule_for_prog(r, "tcp_client"));
	assert_false(st_rule_for_prog(r, "udp_server"));

	r = rule("send prog=python3* short=1");
	assert_true(st_rule_for_prog(r, "python3"));
	assert_true(st_rule_for_prog(r, "python3.11"));
	assert_false(st_rule_for_prog(r, "python"));

	/* No prog=: every program. */
	r = rule("send short=1");
	assert_true(st_rule_for_prog(r, "anything"));
	assert_true(st_rule_for_prog(r, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fn_mask),
		cmocka_unit_test(test_two_way_calls),
		cmocka_unit_test(test_ipv4_cidr),
		cmocka_unit_test(test_ipv4_with_port),
		cmocka_unit_test(test_ipv6_cidr),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_unix_globs),
		cmocka_unit_test(test_port_either_end),
		cmocka_unit_test(test_host_glob),
		cmocka_unit_test(test_after_for_edges),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_prob_deterministic),
		cmocka_unit_test(test_prob_rates),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_for_prog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
