/* rules: the fault rule parser, its messages and its pretty-printer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "calls.h"
#include "rules.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define FN(name) ((uint64_t)1 << ST_FN_##name)
#define MS 1000000ull
#define SEC 1000000000ull

#define MAX_RULES 64
#define MAX_MSGS 16

struct msgs {
	size_t n;
	char text[MAX_MSGS][512];
};

static struct st_rule rules_mem[MAX_RULES];
static struct st_ruleset set;
static struct msgs msgs;

static void collect(void *ctx, const char *message)
{
	struct msgs *m = ctx;

	assert_non_null(message);
	if (m->n >= MAX_MSGS)
		fail_msg("too many messages; last: %s", message);
	snprintf(m->text[m->n++], sizeof(m->text[0]), "%s", message);
}

/* Parses text into a fresh set of cap rules; returns the error count. */
static int parse_cap(const char *name, const char *text, bool split, size_t cap)
{
	/* Garbage first: the parser must set every field of a rule. */
	memset(rules_mem, 0x5a, sizeof(rules_mem));
	memset(&msgs, 0, sizeof(msgs));
	set.rules = rules_mem;
	set.count = 0;
	set.cap = cap;
	return st_rules_parse(&set, name, text, strlen(text), split, collect, &msgs);
}

static int parse(const char *name, const char *text, bool split)
{
	return parse_cap(name, text, split, MAX_RULES);
}

static void assert_no_msgs(void)
{
	if (msgs.n)
		fail_msg("unexpected message: %s", msgs.text[0]);
}

/* One valid rule, from a scenario file named s.scn. */
static const struct st_rule *one(const char *text)
{
	int errors = parse("s.scn", text, false);

	if (errors || msgs.n)
		fail_msg("'%s' did not parse: %s", text, msgs.n ? msgs.text[0] : "?");
	assert_int_equal(set.count, 1);
	return &rules_mem[0];
}

/* text has exactly one error, reported as expected, and adds no rule. */
static void assert_error_as(const char *name, const char *text, bool split,
			    const char *expected)
{
	int errors = parse(name, text, split);

	if (msgs.n != 1)
		fail_msg("'%s': %zu messages, expected 1: %s%s%s", text, msgs.n, expected,
			 msgs.n ? "; first: " : "", msgs.n ? msgs.text[0] : "");
	assert_int_equal(errors, 1);
	assert_string_equal(msgs.text[0], expected);
	assert_int_equal(set.count, 0);
}

static void assert_error(const char *text, const char *expected)
{
	assert_error_as("s.scn", text, false, expected);
}

static void assert_bytes(const uint8_t *got, const uint8_t *want, size_t n)
{
	assert_memory_equal(got, want, n);
}

/* ------------------------------------------------------------------ */
/* Every form parses to the expected fields. */

static void test_defaults(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("connect error=ECONNREFUSED");
	assert_string_equal(r->calls, "connect");
	assert_int_equal(r->fns, FN(connect));
	assert_false(r->peer.set);
	assert_false(r->local.set);
	assert_false(r->has_port);
	assert_string_equal(r->host, "");
	assert_string_equal(r->prog, "");
	assert_int_equal(r->when_first, 0);
	assert_true(r->prob == 1.0);
	assert_true(r->prob_threshold == UINT64_MAX);
	assert_int_equal(r->after_ns, 0);
	assert_int_equal(r->for_ns, 0);
	assert_true(r->has_error);
	assert_int_equal(r->error, ECONNREFUSED);
	assert_int_equal(r->delay_ns, 0);
	assert_int_equal(r->jitter_ns, 0);
	assert_true(r->short_bytes == -1);
	assert_false(r->reset);
	assert_false(r->eof);
	assert_false(r->hang);
	assert_int_equal(r->hang_ns, 0);
	assert_int_equal(r->corrupt_count, 0);
	assert_true(r->corrupt_rate == 0);
	assert_int_equal(r->bandwidth, 0);
	assert_string_equal(r->origin, "s.scn:1");
	assert_string_equal(r->text, "connect error=ECONNREFUSED");
}

static void test_calls_and_groups(void **state)
{
	uint64_t all = ((uint64_t)1 << ST_FN_COUNT) - 1;

	(void)state;
	assert_int_equal(one("connect delay=1ms")->fns, FN(connect));
	/* A call name takes its variants along. */
	assert_int_equal(one("recv delay=1ms")->fns, FN(recv) | FN(__recv_chk));
	assert_int_equal(one("read delay=1ms")->fns, FN(read) | FN(__read_chk));
	assert_int_equal(one("recvfrom delay=1ms")->fns, FN(recvfrom) | FN(__recvfrom_chk));
	assert_int_equal(one("accept delay=1ms")->fns, FN(accept) | FN(accept4));
	assert_int_equal(one("accept4 delay=1ms")->fns, FN(accept4));
	assert_int_equal(one("__recv_chk delay=1ms")->fns, FN(__recv_chk));
	/* send and close are call names first (the calls, not the groups). */
	assert_int_equal(one("send delay=1ms")->fns, FN(send));
	assert_int_equal(one("close delay=1ms")->fns, FN(close));
	assert_int_equal(one("connect,send,recv delay=1ms")->fns,
			 FN(connect) | FN(send) | FN(recv) | FN(__recv_chk));
	assert_string_equal(rules_mem[0].calls, "connect,send,recv");

	assert_int_equal(one("setup delay=1ms")->fns, FN(socket) | FN(socketpair) | FN(bind) |
			 FN(listen) | FN(accept) | FN(accept4) | FN(connect));
	assert_int_equal(one("opt delay=1ms")->fns,
			 FN(getsockopt) | FN(setsockopt) | FN(getsockname) | FN(getpeername));
	assert_int_equal(one("fd delay=1ms")->fns, FN(dup) | FN(dup2) | FN(dup3) | FN(fcntl));
	assert_int_equal(one("dns delay=1ms")->fns, FN(getaddrinfo));
	assert_int_equal(one("getaddrinfo delay=1ms")->fns, FN(getaddrinfo));
	assert_int_equal(one("data delay=1ms")->fns,
			 FN(send) | FN(sendto) | FN(sendmsg) | FN(sendmmsg) | FN(write) |
			 FN(writev) | FN(recv) | FN(__recv_chk) | FN(recvfrom) |
			 FN(__recvfrom_chk) | FN(recvmsg) | FN(recvmmsg) | FN(read) |
			 FN(__read_chk) | FN(readv) | FN(sendfile) | FN(sendfile64) | FN(splice));
	assert_int_equal(one("all delay=1ms")->fns, all);
	assert_int_equal(one("setup,data delay=1ms")->fns & FN(connect), FN(connect));
	assert_int_equal(one("setup,data delay=1ms")->fns & FN(readv), FN(readv));
	assert_string_equal(rules_mem[0].calls, "setup,data");
}

/* splice writes to a socket or reads from one, call by call: a group
 * takes it in its own direction, its name both ways. */
static void test_two_way_calls(void **state)
{
	const struct st_rule *r;
	const uint64_t kcopy = FN(sendfile) | FN(sendfile64) | FN(splice);

	(void)state;
	r = one("splice delay=1ms");
	assert_int_equal(r->fns, FN(splice));
	assert_int_equal(r->fns_sending, FN(splice));
	assert_int_equal(r->fns_receiving, FN(splice));
	r = one("sends delay=1ms");
	assert_int_equal(r->fns & kcopy, kcopy);
	assert_int_equal(r->fns_sending, FN(splice));
	assert_int_equal(r->fns_receiving, 0);
	r = one("receives delay=1ms");
	assert_int_equal(r->fns & kcopy, FN(splice));
	assert_int_equal(r->fns_sending, 0);
	assert_int_equal(r->fns_receiving, FN(splice));
	r = one("data delay=1ms");
	assert_int_equal(r->fns_sending & r->fns_receiving, FN(splice));
	r = one("all delay=1ms");
	assert_int_equal(r->fns_sending & r->fns_receiving, FN(splice));
	/* Named besides its group: both ways. */
	r = one("receives,splice delay=1ms");
	assert_int_equal(r->fns_sending, FN(splice));
	/* One-way calls have no direction bits. */
	r = one("sendfile short=1000");
	assert_int_equal(r->fns, FN(sendfile) | FN(sendfile64));
	assert_int_equal(r->fns_sending | r->fns_receiving, 0);
	assert_string_equal(r->text, "sendfile short=1000");
	assert_int_equal(one("sendfile64 bandwidth=1MB/s")->fns, FN(sendfile64));
	assert_int_equal(one("sendfile,splice error=EPIPE")->fns, kcopy);
	assert_int_equal(one("splice reset")->fns, FN(splice));

	/* close makes a receive return 0: splice only where it reads. */
	r = one("splice close");
	assert_int_equal(r->fns, FN(splice));
	assert_int_equal(r->fns_sending, 0);
	assert_int_equal(r->fns_receiving, FN(splice));
	r = one("receives close");
	assert_int_equal(r->fns_receiving, FN(splice));
	assert_error("sends close",
		     "s.scn:1:1: close makes a receive return 0 (end of stream): use it with receive calls only (recv, read, ...)");

	/* corrupt= has no bytes to change in a copy the kernel makes: left
	 * out of a group, refused by name. */
	r = one("sends corrupt=1");
	assert_int_equal(r->fns & kcopy, 0);
	assert_true(r->fns & FN(send));
	r = one("data corrupt=0.5");
	assert_int_equal(r->fns & kcopy, 0);
	assert_int_equal(r->fns_sending | r->fns_receiving, 0);
	assert_true(r->fns & FN(readv));
	assert_error("send,sendfile corrupt=1",
		     "s.scn:1:6: corrupt= changes bytes in the program's buffers, and sendfile has none: the kernel moves its bytes from descriptor to descriptor; leave sendfile out (a group such as 'sends' leaves it out by itself)");
	assert_error("splice corrupt=0.01",
		     "s.scn:1:1: corrupt= changes bytes in the program's buffers, and splice has none: the kernel moves its bytes from descriptor to descriptor; leave splice out (a group such as 'sends' leaves it out by itself)");
	/* errnos: sendfile's own, and the socket's. */
	assert_int_equal(one("sendfile error=EOVERFLOW")->error, EOVERFLOW);
	assert_int_equal(one("splice error=ESPIPE")->error, ESPIPE);
	assert_error("sendfile error=ECONNABORTED",
		     "s.scn:1:16: sendfile never fails with ECONNABORTED; it can fail with EINTR, EAGAIN, EPIPE, ECONNRESET, ENOTCONN, ETIMEDOUT, ENOBUFS, ENOMEM, EMSGSIZE, EDESTADDRREQ, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ENETDOWN, EBADF, EFAULT, EINVAL, EIO, EOVERFLOW, ESPIPE");
}

static void test_error_values(void **state)
{
	const struct st_rule *r;

	(void)state;
	assert_int_equal(one("connect error=ETIMEDOUT")->error, ETIMEDOUT);
	/* A number is an errno too. */
	r = one("connect error=111");
	assert_true(r->has_error);
	assert_int_equal(r->error, ECONNREFUSED);
	assert_string_equal(r->text, "connect error=ECONNREFUSED");
	/* An alias is the same number, printed by its usual name. */
	r = one("recv error=EWOULDBLOCK");
	assert_int_equal(r->error, EAGAIN);
	assert_string_equal(r->text, "recv error=EAGAIN");
	r = one("getaddrinfo error=EAI_AGAIN");
	assert_true(r->has_error);
	assert_int_equal(r->error, EAI_AGAIN);
	assert_string_equal(r->text, "getaddrinfo error=EAI_AGAIN");
	r = one("dns host=*.invalid error=EAI_NONAME");
	assert_int_equal(r->error, EAI_NONAME);
	assert_string_equal(r->host, "*.invalid");
	assert_string_equal(r->text, "dns host=*.invalid error=EAI_NONAME");
	r = one("send,recv error=ECONNRESET");
	assert_int_equal(r->error, ECONNRESET);
}

static void test_actions(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("connect delay=200ms");
	assert_int_equal(r->delay_ns, 200 * MS);
	assert_false(r->has_error);
	r = one("recv delay=1.5s jitter=250ms");
	assert_int_equal(r->delay_ns, 1500 * MS);
	assert_int_equal(r->jitter_ns, 250 * MS);
	assert_string_equal(r->text, "recv delay=1500ms jitter=250ms");
	r = one("send short=1");
	assert_true(r->short_bytes == 1);
	r = one("recv short=65536");
	assert_true(r->short_bytes == 65536);
	r = one("recv reset");
	assert_true(r->reset);
	r = one("recv close");
	assert_true(r->eof);
	assert_false(r->reset);
	r = one("recv hang");
	assert_true(r->hang);
	assert_int_equal(r->hang_ns, 0);
	r = one("connect hang=300ms");
	assert_true(r->hang);
	assert_int_equal(r->hang_ns, 300 * MS);
	r = one("getaddrinfo hang=2s");
	assert_int_equal(r->hang_ns, 2 * SEC);
	r = one("send corrupt=3");
	assert_int_equal(r->corrupt_count, 3);
	assert_true(r->corrupt_rate == 0);
	r = one("send corrupt=1");
	assert_int_equal(r->corrupt_count, 1);
	/* A decimal point makes a rate, even for one. */
	r = one("recv corrupt=0.01");
	assert_int_equal(r->corrupt_count, 0);
	assert_true(r->corrupt_rate == 0.01);
	r = one("recv corrupt=1.0");
	assert_int_equal(r->corrupt_count, 0);
	assert_true(r->corrupt_rate == 1.0);
	assert_string_equal(r->text, "recv corrupt=1.0");
	r = one("send bandwidth=100kB/s");
	assert_int_equal(r->bandwidth, 100000);
	assert_string_equal(r->text, "send bandwidth=100kB/s");
	r = one("recv bandwidth=10Mbit/s");
	assert_int_equal(r->bandwidth, 1250000);
	/* delay goes with any one other action. */
	r = one("recv delay=10ms reset");
	assert_int_equal(r->delay_ns, 10 * MS);
	assert_true(r->reset);
	r = one("connect delay=10ms jitter=5ms error=ECONNREFUSED");
	assert_true(r->has_error);
	assert_int_equal(r->jitter_ns, 5 * MS);
}

static void test_when(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("connect error=ECONNREFUSED when=3");
	assert_int_equal(r->when_first, 3);
	assert_int_equal(r->when_last, 3);
	assert_int_equal(r->when_step, 1);
	r = one("connect error=ECONNREFUSED when=1..3");
	assert_int_equal(r->when_first, 1);
	assert_int_equal(r->when_last, 3);
	assert_int_equal(r->when_step, 1);
	r = one("connect error=ECONNREFUSED when=4+");
	assert_int_equal(r->when_first, 4);
	assert_true(r->when_last == UINT64_MAX);
	assert_int_equal(r->when_step, 1);
	r = one("send short=1 when=2+2");
	assert_int_equal(r->when_first, 2);
	assert_true(r->when_last == UINT64_MAX);
	assert_int_equal(r->when_step, 2);
	assert_string_equal(r->text, "send when=2+2 short=1");
	r = one("send short=1 when=5..5");
	assert_int_equal(r->when_first, 5);
	assert_int_equal(r->when_last, 5);
	assert_string_equal(r->text, "send when=5 short=1");
}

static void test_prob(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("recv reset prob=0.25");
	assert_true(r->prob == 0.25);
	/* 0.25 of 2^64, exactly. */
	assert_true(r->prob_threshold == (uint64_t)1 << 62);
	assert_string_equal(r->text, "recv prob=0.25 reset");
	r = one("recv reset prob=0.5");
	assert_true(r->prob_threshold == (uint64_t)1 << 63);
	r = one("recv reset prob=1");
	assert_true(r->prob == 1.0);
	assert_true(r->prob_threshold == UINT64_MAX);
	assert_string_equal(r->text, "recv reset");
	r = one("recv reset prob=0.001");
	assert_true(r->prob == 0.001);
	assert_string_equal(r->text, "recv prob=0.001 reset");
}

static void test_windows(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("recv port=6379 reset after=2s");
	assert_int_equal(r->after_ns, 2 * SEC);
	assert_int_equal(r->for_ns, 0);
	r = one("recv reset after=300ms for=1.5s");
	assert_int_equal(r->after_ns, 300 * MS);
	assert_int_equal(r->for_ns, 1500 * MS);
	assert_string_equal(r->text, "recv after=300ms for=1500ms reset");
	r = one("recv reset for=1m");
	assert_int_equal(r->for_ns, 60 * SEC);
	assert_string_equal(r->text, "recv for=1m reset");
}

static void test_peer_ipv4(void **state)
{
	static const uint8_t net[4] = { 10, 1, 2, 0 };
	static const uint8_t one_addr[4] = { 10, 0, 0, 1 };
	static const uint8_t ten[4] = { 10, 0, 0, 0 };
	const struct st_rule *r;

	(void)state;
	r = one("recv,read peer=10.1.2.0/24 delay=200ms jitter=50ms prob=0.25");
	assert_true(r->peer.set);
	assert_int_equal(r->peer.family, AF_INET);
	assert_int_equal(r->peer.prefix, 24);
	assert_bytes(r->peer.addr, net, 4);
	assert_false(r->peer.has_port);
	assert_false(r->local.set);
	assert_string_equal(r->text, "recv,read peer=10.1.2.0/24 prob=0.25 delay=200ms jitter=50ms");

	r = one("connect peer=10.0.0.1:5432 error=ECONNREFUSED");
	assert_int_equal(r->peer.family, AF_INET);
	assert_int_equal(r->peer.prefix, 32);
	assert_bytes(r->peer.addr, one_addr, 4);
	assert_true(r->peer.has_port);
	assert_int_equal(r->peer.port, 5432);

	r = one("connect peer=10.0.0.0/8:5432 error=ECONNREFUSED");
	assert_int_equal(r->peer.prefix, 8);
	assert_bytes(r->peer.addr, ten, 4);
	assert_int_equal(r->peer.port, 5432);
	assert_string_equal(r->text, "connect peer=10.0.0.0/8:5432 error=ECONNREFUSED");

	r = one("recv local=127.0.0.1:8080 reset");
	assert_false(r->peer.set);
	assert_true(r->local.set);
	assert_int_equal(r->local.family, AF_INET);
	assert_int_equal(r->local.port, 8080);
	assert_string_equal(r->text, "recv local=127.0.0.1:8080 reset");

	r = one("connect peer=0.0.0.0/0 delay=1ms");
	assert_int_equal(r->peer.prefix, 0);
}

static void test_peer_ipv6(void **state)
{
	uint8_t loop6[16] = { 0 };
	uint8_t fe80[16] = { 0xfe, 0x80 };
	const struct st_rule *r;

	(void)state;
	loop6[15] = 1;
	r = one("connect peer=[::1]:80 error=ECONNREFUSED");
	assert_int_equal(r->peer.family, AF_INET6);
	assert_int_equal(r->peer.prefix, 128);
	assert_bytes(r->peer.addr, loop6, 16);
	assert_true(r->peer.has_port);
	assert_int_equal(r->peer.port, 80);
	assert_string_equal(r->text, "connect peer=[::1]:80 error=ECONNREFUSED");

	r = one("connect peer=[::1] error=ECONNREFUSED");
	assert_int_equal(r->peer.family, AF_INET6);
	assert_int_equal(r->peer.prefix, 128);
	assert_false(r->peer.has_port);
	assert_string_equal(r->text, "connect peer=[::1] error=ECONNREFUSED");

	r = one("connect peer=::1/128 error=ECONNREFUSED");
	assert_int_equal(r->peer.prefix, 128);

	r = one("connect peer=fe80::/10 delay=1ms");
	assert_int_equal(r->peer.family, AF_INET6);
	assert_int_equal(r->peer.prefix, 10);
	assert_bytes(r->peer.addr, fe80, 16);
	assert_string_equal(r->text, "connect peer=[fe80::]/10 delay=1ms");

	r = one("connect peer=[fe80::]/10 delay=1ms");
	assert_int_equal(r->peer.prefix, 10);

	r = one("connect peer=[2001:db8::]/32:443 delay=1ms");
	assert_int_equal(r->peer.prefix, 32);
	assert_int_equal(r->peer.port, 443);
	assert_string_equal(r->text, "connect peer=[2001:db8::]/32:443 delay=1ms");
}

static void test_peer_unix(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("connect peer=unix:/run/*.sock error=ECONNREFUSED");
	assert_true(r->peer.set);
	assert_int_equal(r->peer.family, AF_UNIX);
	assert_string_equal(r->peer.path, "/run/*.sock");
	assert_string_equal(r->text, "connect peer=unix:/run/*.sock error=ECONNREFUSED");
	r = one("recv peer=unix:@name* reset");
	assert_string_equal(r->peer.path, "@name*");
	r = one("accept local=unix:/tmp/s delay=1ms");
	assert_int_equal(r->local.family, AF_UNIX);
	assert_string_equal(r->local.path, "/tmp/s");
}

static void test_port_host_prog(void **state)
{
	const struct st_rule *r;

	(void)state;
	r = one("connect port=5432 error=ECONNREFUSED");
	assert_true(r->has_port);
	assert_int_equal(r->port_lo, 5432);
	assert_int_equal(r->port_hi, 5432);
	r = one("connect port=8000-8100 error=ECONNREFUSED");
	assert_int_equal(r->port_lo, 8000);
	assert_int_equal(r->port_hi, 8100);
	assert_string_equal(r->text, "connect port=8000-8100 error=ECONNREFUSED");
	r = one("connect port=0-65535 error=ECONNREFUSED");
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 65535);
	r = one("connect port=7-7 error=ECONNREFUSED");
	assert_string_equal(r->text, "connect port=7 error=ECONNREFUSED");

	r = one("connect host=*.example.com error=ECONNREFUSED");
	assert_string_equal(r->host, "*.example.com");
	r = one("send prog=tcp_serv* short=1");
	assert_string_equal(r->prog, "tcp_serv*");
	assert_string_equal(r->text, "send prog=tcp_serv* short=1");
}

static void test_normalised_order(void **state)
{
	const struct st_rule *r;

	(void)state;
	/* Written in any order, printed selectors first, then actions. */
	r = one("  recv  reset  when=2  prog=srv  host=db  port=6379  local=10.0.0.1  "
		"peer=10.0.0.2  prob=0.5  after=1s  for=2s  delay=3ms  ");
	assert_string_equal(r->text, "recv peer=10.0.0.2 local=10.0.0.1 port=6379 host=db prog=srv "
				     "when=2 prob=0.5 after=1s for=2s delay=3ms reset");
}

/* ------------------------------------------------------------------ */
/* Round trip: parse -> format -> parse gives the same rule. */

static void assert_filter_equal(const struct st_addr_filter *a, const struct st_addr_filter *b,
				const char *what)
{
	if (a->set != b->set || a->family != b->family || a->prefix != b->prefix ||
	    a->has_port != b->has_port || (a->has_port && a->port != b->port))
		fail_msg("%s differs", what);
	if (a->family == AF_UNIX)
		assert_string_equal(a->path, b->path);
	else if (a->set)
		assert_memory_equal(a->addr, b->addr, 16);
}

/* Every field but origin and text. */
static void assert_rule_equal(const struct st_rule *a, const struct st_rule *b)
{
	assert_string_equal(a->calls, b->calls);
	assert_int_equal(a->fns, b->fns);
	assert_filter_equal(&a->peer, &b->peer, "peer");
	assert_filter_equal(&a->local, &b->local, "local");
	assert_int_equal(a->has_port, b->has_port);
	assert_int_equal(a->port_lo, b->port_lo);
	assert_int_equal(a->port_hi, b->port_hi);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->prog, b->prog);
	assert_string_equal(a->caller_module, b->caller_module);
	assert_string_equal(a->caller_func, b->caller_func);
	assert_int_equal(a->when_first, b->when_first);
	assert_true(a->when_last == b->when_last);
	assert_int_equal(a->when_step, b->when_step);
	assert_true(a->prob == b->prob);
	assert_true(a->prob_threshold == b->prob_threshold);
	assert_int_equal(a->after_ns, b->after_ns);
	assert_int_equal(a->for_ns, b->for_ns);
	assert_int_equal(a->has_error, b->has_error);
	assert_int_equal(a->error, b->error);
	assert_int_equal(a->delay_ns, b->delay_ns);
	assert_int_equal(a->jitter_ns, b->jitter_ns);
	assert_true(a->short_bytes == b->short_bytes);
	assert_int_equal(a->reset, b->reset);
	assert_int_equal(a->eof, b->eof);
	assert_int_equal(a->hang, b->hang);
	assert_int_equal(a->hang_ns, b->hang_ns);
	assert_int_equal(a->corrupt_count, b->corrupt_count);
	assert_true(a->corrupt_rate == b->corrupt_rate);
	assert_int_equal(a->bandwidth, b->bandwidth);
}

static void check_round_trip(const char *text)
{
	struct st_rule first, second;
	char once[ST_RULE_TEXT_MAX], twice[ST_RULE_TEXT_MAX];

	if (parse("rt.scn", text, false) != 0 || set.count != 1)
		fail_msg("'%s' does not parse: %s", text, msgs.n ? msgs.text[0] : "?");
	first = rules_mem[0];
	st_rule_format(&first, once, sizeof(once));
	/* The text a rule carries is its formatted form. */
	assert_string_equal(first.text, once);
	if (parse("rt.scn", once, false) != 0 || set.count != 1)
		fail_msg("'%s' formats as '%s', which does not parse back: %s", text, once,
			 msgs.n ? msgs.text[0] : "?");
	second = rules_mem[0];
	assert_rule_equal(&first, &second);
	/* Idempotent: formatting the reparsed rule gives the same text. */
	st_rule_format(&second, twice, sizeof(twice));
	assert_string_equal(once, twice);
	assert_string_equal(second.text, once);
}

static const char *const corpus[] = {
	"connect error=ECONNREFUSED",
	"connect port=5432 error=ECONNREFUSED when=1..3",
	"recv,read peer=10.1.2.0/24 delay=200ms jitter=50ms prob=0.25",
	"recv port=6379 reset after=2s",
	"connect peer=[::1]:80 error=ETIMEDOUT",
	"connect peer=::1 hang",
	"connect peer=[fe80::]/10 delay=1ms",
	"connect peer=fe80::1/64 delay=1ms",
	"connect peer=[2001:db8::]/32:443 delay=1ms",
	"connect peer=10.0.0.0/8:5432 error=EHOSTUNREACH",
	"connect peer=0.0.0.0/0 delay=5ms",
	"connect peer=[::ffff:10.0.0.1]:80 error=ECONNREFUSED",
	"accept local=127.0.0.1:8080 delay=100ms",
	"connect peer=unix:/run/*.sock error=ECONNREFUSED",
	"recv peer=unix:@name* close",
	"connect port=8000-8100 error=ECONNREFUSED",
	"connect port=0 error=ECONNREFUSED",
	"getaddrinfo host=example.invalid error=EAI_AGAIN",
	"dns host=*.internal error=EAI_NONAME when=1..2",
	"getaddrinfo host=DB.Example.COM hang=2s",
	"connect host=*.example.com error=ECONNREFUSED",
	"send prog=tcp_server short=1",
	"send,recv prog=tcp_* short=2",
	"send short=1 when=2+2",
	"recv close when=3",
	"recv reset when=5+",
	"recv reset when=1..1",
	"send corrupt=1",
	"recv corrupt=0.01",
	"recv corrupt=1.0",
	"send corrupt=0.5 when=2+",
	"send bandwidth=200kB/s",
	"recv bandwidth=1MiB/s",
	"data bandwidth=10Mbit/s delay=1ms",
	"recv hang",
	"recv hang=300ms",
	"recv hang=0s",
	"connect hang=1.5s",
	"connect delay=200ms",
	"connect delay=1m jitter=30s",
	"connect delay=90m",
	"connect delay=2h",
	"connect delay=500us",
	"connect delay=3ns",
	"connect delay=1.0005s",
	"recv reset prob=0.1",
	"recv reset prob=0.3333333333333333",
	"recv reset prob=1e-5",
	"recv reset prob=1",
	"recv reset after=300ms for=1s",
	"recv reset for=100ms",
	"recv error=ECONNRESET after=0s",
	"connect error=111",
	"recv error=EWOULDBLOCK",
	"setup delay=10ms",
	"all delay=1ms",
	"opt error=EINVAL",
	"close error=EIO",
	"listen error=EADDRINUSE",
	"socket error=EMFILE",
	"accept error=ECONNABORTED",
	"recv,recvfrom,recvmsg short=100",
	"send,sendto,sendmsg,sendmmsg,write,writev short=7",
	"connect caller=Curl_* error=ECONNREFUSED",
	"recv caller=libcurl.so*:Curl_* delay=5ms",
	"recv peer=10.1.2.3 local=10.1.2.4:99 port=1-2 host=h prog=p when=3+4 prob=0.75 "
		"after=1s for=2s delay=3ms jitter=1ms reset",
};

static void test_round_trip(void **state)
{
	(void)state;
	assert_true(sizeof(corpus) / sizeof(corpus[0]) >= 40);
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++)
		check_round_trip(corpus[i]);
}

/* Small corrupt= rates print in exponent form: the printed rule must
 * still read back as a rate. */
static void test_round_trip_small_corrupt_rate(void **state)
{
	(void)state;
	check_round_trip("recv corrupt=0.0001");
	check_round_trip("recv corrupt=0.00005");
}

/* An IPv4-mapped address is an IPv6 address, and prints as one that
 * must read back. */
static void test_round_trip_v4_mapped(void **state)
{
	(void)state;
	check_round_trip("connect peer=[::ffff:10.0.0.1] error=ECONNREFUSED");
}

/* An IPv6 address written with a dotted quad at its end, as inet_ntop
 * prints mapped addresses, is an address. */
static void test_parse_v4_mapped_unbracketed(void **state)
{
	(void)state;
	check_round_trip("connect peer=::ffff:10.0.0.1 error=ECONNREFUSED");
	check_round_trip("connect peer=::ffff:10.0.0.0/104 error=ECONNREFUSED");
}

/* ------------------------------------------------------------------ */
/* Messages: FILE:LINE:COL, what is wrong, the fix. */

static void test_unknown_call(void **state)
{
	(void)state;
	assert_error("conect error=ECONNREFUSED",
		     "s.scn:1:1: unknown call 'conect'; did you mean 'connect'?");
	/* The column of the bad name inside a list. */
	assert_error("connect,sendd error=EPIPE",
		     "s.scn:1:9: unknown call 'sendd'; did you mean 'send'?");
	assert_error("setp delay=1s", "s.scn:1:1: unknown call 'setp'; did you mean 'setup'?");
	/* A transposition is one edit. */
	assert_error("setpu delay=1s", "s.scn:1:1: unknown call 'setpu'; did you mean 'setup'?");
	assert_error("frobnicate delay=1s",
		     "s.scn:1:1: unknown call 'frobnicate' (calls: connect, accept, send, recv, "
		     "...; groups: setup, sends, receives, data, teardown, opt, fd, dns, all)");
	/* Calls are case-sensitive, as C names are; the suggestion is not. */
	assert_error("Connect error=ECONNREFUSED",
		     "s.scn:1:1: unknown call 'Connect'; did you mean 'connect'?");
	/* A rule that starts with a key forgot its calls. */
	assert_error("error=ECONNREFUSED",
		     "s.scn:1:1: a rule starts with the calls it applies to, e.g. 'connect "
		     "error=ECONNREFUSED'");
}

static void test_unknown_key(void **state)
{
	(void)state;
	assert_error("connect delayy=200ms",
		     "s.scn:1:9: unknown key 'delayy'; did you mean 'delay'?");
	assert_error("connect dely=200ms", "s.scn:1:9: unknown key 'dely'; did you mean 'delay'?");
	assert_error("connect prot=80 error=ECONNREFUSED",
		     "s.scn:1:9: unknown key 'prot'; did you mean 'port'?");
	assert_error("connect error=ECONNREFUSED wen=1",
		     "s.scn:1:28: unknown key 'wen'; did you mean 'when'?");
	assert_error("connect zzzzzz=1", "s.scn:1:9: unknown key 'zzzzzz'");
	assert_error("recv rest", "s.scn:1:6: unknown word 'rest'; did you mean 'reset'?");
	assert_error("recv xyzzy",
		     "s.scn:1:6: unknown word 'xyzzy'; actions: error=, delay=, short=, reset, "
		     "close, hang, corrupt=, bandwidth=");
	assert_error("connect error", "s.scn:1:9: 'error' needs a value: error=...");
	assert_error("connect delay", "s.scn:1:9: 'delay' needs a value: delay=...");
	assert_error("connect error=", "s.scn:1:15: error= needs a value");
	assert_error("connect host= error=ECONNREFUSED", "s.scn:1:14: host= needs a value");
}

static void test_unknown_errno(void **state)
{
	(void)state;
	assert_error("connect error=ECONREFUSED",
		     "s.scn:1:15: unknown errno 'ECONREFUSED'; did you mean 'ECONNREFUSED'?");
	assert_error("connect error=econnrefused",
		     "s.scn:1:15: unknown errno 'econnrefused'; did you mean 'ECONNREFUSED'?");
	assert_error("connect error=NOTANERRNO",
		     "s.scn:1:15: unknown errno 'NOTANERRNO'; write a name such as ECONNREFUSED "
		     "or a number");
	assert_error("connect error=0",
		     "s.scn:1:15: unknown errno '0'; write a name such as ECONNREFUSED or a number");
}

static void test_errno_the_call_cannot_return(void **state)
{
	(void)state;
	assert_error("listen error=ECONNREFUSED",
		     "s.scn:1:14: listen never fails with ECONNREFUSED; it can fail with "
		     "EADDRINUSE, EBADF, ENOTSOCK, EOPNOTSUPP");
	assert_error("listen error=EBADFD",
		     "s.scn:1:14: listen never fails with EBADFD; did you mean 'EBADF'? (it can "
		     "fail with EADDRINUSE, EBADF, ENOTSOCK, EOPNOTSUPP)");
	assert_error("connect error=ENOENT",
		     "s.scn:1:15: connect never fails with ENOENT; it can fail with EBADF, EINTR, "
		     "ENOTSOCK, ENOMEM, ENOBUFS, EACCES, EPERM, EADDRINUSE, EADDRNOTAVAIL, "
		     "EAFNOSUPPORT, EAGAIN, EALREADY, ECONNREFUSED, EFAULT, EINPROGRESS, EISCONN, "
		     "ENETUNREACH, EHOSTUNREACH, ETIMEDOUT, ECONNRESET, EPROTOTYPE, EINVAL, "
		     "ENETDOWN");
	assert_error("close error=EIOO",
		     "s.scn:1:13: unknown errno 'EIOO'; did you mean 'EIO'?");
	assert_error("close error=EAGAIN",
		     "s.scn:1:13: close never fails with EAGAIN; it can fail with EBADF, EINTR, EIO");
	/* A number the call cannot return is named as written. */
	assert_error("close error=111",
		     "s.scn:1:13: close never fails with 111; it can fail with EBADF, EINTR, EIO");
	/* A group: the first call of it that cannot fail this way. */
	assert_error("connect,close error=EISCONN",
		     "s.scn:1:21: close never fails with EISCONN; it can fail with EBADF, EINTR, EIO");
}

/* The list of errnos a call can fail with names each errno once (the
 * table lists EAGAIN and EWOULDBLOCK, the same number). */
static void test_errno_list_has_no_duplicates(void **state)
{
	const char *list;

	(void)state;
	parse("s.scn", "data error=EPIPE", false);
	assert_int_equal(msgs.n, 1);
	assert_non_null(strstr(msgs.text[0], "recv never fails with EPIPE"));
	list = strstr(msgs.text[0], "it can fail with ");
	assert_non_null(list);
	if (strstr(list, "EAGAIN, EAGAIN"))
		fail_msg("EAGAIN listed twice: %s", msgs.text[0]);
}

static void test_getaddrinfo_errors(void **state)
{
	(void)state;
	assert_error("getaddrinfo error=EAI_AGIAN",
		     "s.scn:1:19: unknown getaddrinfo error 'EAI_AGIAN'; did you mean 'EAI_AGAIN'?");
	assert_error("getaddrinfo error=ECONNREFUSED",
		     "s.scn:1:19: getaddrinfo error must be an EAI_* name such as EAI_AGAIN or "
		     "EAI_NONAME, not 'ECONNREFUSED'");
	assert_error("dns error=-3",
		     "s.scn:1:11: getaddrinfo error must be an EAI_* name such as EAI_AGAIN or "
		     "EAI_NONAME, not '-3'");
	assert_error("getaddrinfo,connect error=ECONNREFUSED",
		     "s.scn:1:27: getaddrinfo fails with EAI_* codes, other calls with errno: give "
		     "getaddrinfo a rule of its own");
	assert_error("all error=EINTR",
		     "s.scn:1:11: getaddrinfo fails with EAI_* codes, other calls with errno: give "
		     "getaddrinfo a rule of its own");
	/* Mixed without error= is fine. */
	assert_int_equal(one("getaddrinfo,connect delay=1ms")->fns, FN(getaddrinfo) | FN(connect));
}

static void test_bad_durations(void **state)
{
	(void)state;
	assert_error("connect delay=fast",
		     "s.scn:1:15: delay=fast is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
	assert_error("connect delay=1ms jitter=1x",
		     "s.scn:1:26: jitter=1x is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
	assert_error("recv reset after=-1s",
		     "s.scn:1:18: after=-1s is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
	assert_error("recv reset for=1.5.5s",
		     "s.scn:1:16: for=1.5.5s is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
	assert_error("recv hang=forever",
		     "s.scn:1:11: hang=forever is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
	assert_error("recv reset for=0s",
		     "s.scn:1:16: for=0 selects nothing; give a positive duration");
	assert_error("recv delay=200MS",
		     "s.scn:1:12: delay=200MS is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
}

static void test_bad_values(void **state)
{
	(void)state;
	assert_error("connect port=70000 error=ECONNREFUSED",
		     "s.scn:1:14: port=70000: write a port (5432) or a range (8000-8100), 0 to 65535");
	assert_error("connect port=90-80 error=ECONNREFUSED",
		     "s.scn:1:14: port=90-80: write a port (5432) or a range (8000-8100), 0 to 65535");
	assert_error("connect port=http error=ECONNREFUSED",
		     "s.scn:1:14: port=http: write a port (5432) or a range (8000-8100), 0 to 65535");
	assert_error("connect port=80- error=ECONNREFUSED",
		     "s.scn:1:14: port=80-: write a port (5432) or a range (8000-8100), 0 to 65535");
	assert_error("connect port=-80 error=ECONNREFUSED",
		     "s.scn:1:14: port=-80: write a port (5432) or a range (8000-8100), 0 to 65535");
	assert_error("connect port=1-2-3 error=ECONNREFUSED",
		     "s.scn:1:14: port=1-2-3: write a port (5432) or a range (8000-8100), 0 to 65535");
	assert_error("send short=0",
		     "s.scn:1:12: short=0: give the most bytes one call may move, at least 1");
	assert_error("send short=lots",
		     "s.scn:1:12: short=lots: give the most bytes one call may move, at least 1");
	assert_error("send corrupt=0",
		     "s.scn:1:14: corrupt=0: give a number of bytes to flip per call (corrupt=1) or a "
		     "fraction of bytes (corrupt=0.01, at least 0.000000000001)");
	assert_error("send corrupt=1.5",
		     "s.scn:1:14: corrupt=1.5: give a number of bytes to flip per call (corrupt=1) "
		     "or a fraction of bytes (corrupt=0.01, at least 0.000000000001)");
	assert_error("send bandwidth=fast",
		     "s.scn:1:16: bandwidth=fast is not a rate; write e.g. 512B/s, 100kB/s, 1MB/s, "
		     "1MiB/s, 10Mbit/s");
	assert_error("send bandwidth=100kb/s",
		     "s.scn:1:16: bandwidth=100kb/s is not a rate; write e.g. 512B/s, 100kB/s, "
		     "1MB/s, 1MiB/s, 10Mbit/s");
}

static void test_bad_when(void **state)
{
	static const char *const bad[] = {
		"0", "2..1", "x", "1..", "+3", "1+0", "..3", "1.5", "1+x", "-1", "3..x",
	};
	char text[128], want[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "connect error=ECONNREFUSED when=%s", bad[i]);
		snprintf(want, sizeof(want),
			 "s.scn:1:33: when='%s' is not a call count; use N (the N-th call), N..M, N+ "
			 "(from N on) or N+K (from N, every K-th), counting from 1",
			 bad[i]);
		assert_error(text, want);
	}
}

static void test_bad_prob(void **state)
{
	static const char *const bad[] = { "0", "1.5", "abc", "-0.5", "50%", "0.0", "nan", "inf" };
	char text[128], want[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "recv reset prob=%s", bad[i]);
		snprintf(want, sizeof(want),
			 "s.scn:1:17: prob=%s: give a probability from 0.000000000001 to 1, e.g. "
			 "prob=0.25",
			 bad[i]);
		assert_error(text, want);
	}
}

static void test_bad_addresses(void **state)
{
	static const char *const generic = ": not an address; write 10.0.0.1, 10.0.0.0/8, "
					   "10.0.0.1:5432, [::1]:80, ::1/128 or unix:/path/glob";
	static const char *const bad[] = {
		"10.0.0.256", "10.0.0.0/33", "[::1", "10.0.0.1:99999", "10.0.0.1:http",
		"::1/129", "db1.example.com", "1.2.3.4/8/8",
	};
	char text[128], want[512];

	(void)state;
	/* A name where an address belongs: the fix is host=. */
	assert_error("connect peer=db.example.com error=ECONNREFUSED",
		     "s.scn:1:14: peer=db.example.com: not an address; for a host name use "
		     "host=db.example.com");
	assert_error("connect peer=localhost error=ECONNREFUSED",
		     "s.scn:1:14: peer=localhost: not an address; for a host name use host=localhost");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "connect peer=%s error=ECONNREFUSED", bad[i]);
		snprintf(want, sizeof(want), "s.scn:1:14: peer=%s%s", bad[i], generic);
		assert_error(text, want);
	}
	assert_error("accept local=10.0.0.1/40 delay=1ms",
		     "s.scn:1:14: local=10.0.0.1/40: not an address; write 10.0.0.1, 10.0.0.0/8, "
		     "10.0.0.1:5432, [::1]:80, ::1/128 or unix:/path/glob");
	assert_error("connect peer=unix: error=ECONNREFUSED",
		     "s.scn:1:14: peer=unix:: a unix path filter needs a path (glob) of at most "
		     "107 bytes");
}

static void test_long_globs(void **state)
{
	char text[512], want[512];

	(void)state;
	snprintf(text, sizeof(text), "connect host=%0108d error=ECONNREFUSED", 0);
	assert_error(text, "s.scn:1:14: host= needs a name or glob of 1 to 107 characters");
	snprintf(text, sizeof(text), "connect host=%0107d error=ECONNREFUSED", 0);
	assert_int_equal(strlen(one(text)->host), 107);
	snprintf(text, sizeof(text), "send prog=%064d short=1", 0);
	assert_error(text, "s.scn:1:11: prog= needs a name or glob of 1 to 63 characters");
	snprintf(text, sizeof(text), "send prog=%063d short=1", 0);
	assert_int_equal(strlen(one(text)->prog), 63);
	snprintf(text, sizeof(text), "connect peer=unix:/%0107d error=ECONNREFUSED", 0);
	snprintf(want, sizeof(want), "s.scn:1:14: peer=unix:/%0107d: a unix path filter needs a "
		 "path (glob) of at most 107 bytes", 0);
	assert_error(text, want);
	snprintf(text, sizeof(text), "connect peer=unix:/%0106d error=ECONNREFUSED", 0);
	assert_int_equal(strlen(one(text)->peer.path), 107);
}

static void test_action_call_mismatch(void **state)
{
	static const char *const data_only = "short=, corrupt= and bandwidth= act on data: use "
					     "them with send and receive calls only (e.g. 'send,recv')";
	char want[512];

	(void)state;
	snprintf(want, sizeof(want), "s.scn:1:1: %s", data_only);
	assert_error("connect short=10", want);
	assert_error("connect corrupt=1", want);
	assert_error("accept bandwidth=1MB/s", want);
	assert_error("all short=1", want);
	assert_error("send close",
		     "s.scn:1:1: close makes a receive return 0 (end of stream): use it with receive "
		     "calls only (recv, read, ...)");
	assert_error("data close",
		     "s.scn:1:1: close makes a receive return 0 (end of stream): use it with receive "
		     "calls only (recv, read, ...)");
	assert_error("connect reset",
		     "s.scn:1:1: reset aborts a connection during a data call: use it with send and "
		     "receive calls (for connect use error=ECONNRESET or error=ECONNREFUSED)");
	assert_error("close hang",
		     "s.scn:1:1: hang blocks a call that waits on the network: use it with setup, "
		     "send, receive or getaddrinfo calls");
	assert_error("setsockopt hang",
		     "s.scn:1:1: hang blocks a call that waits on the network: use it with setup, "
		     "send, receive or getaddrinfo calls");
	assert_error("getaddrinfo peer=10.0.0.1 error=EAI_AGAIN",
		     "s.scn:1:1: getaddrinfo has no socket: select it with host= instead of peer=, "
		     "local= or port=");
	assert_error("dns port=53 delay=1s",
		     "s.scn:1:1: getaddrinfo has no socket: select it with host= instead of peer=, "
		     "local= or port=");
	/* The column is the calls' column. */
	assert_error("   connect short=10", "s.scn:1:4: short=, corrupt= and bandwidth= act on "
		     "data: use them with send and receive calls only (e.g. 'send,recv')");
	/* The fitting calls are accepted. */
	one("send,recv short=10");
	one("recv,read,recvfrom,recvmsg close");
	one("data reset");
	one("setup,data,dns hang");
}

static void test_action_count(void **state)
{
	(void)state;
	assert_error("connect port=5432",
		     "s.scn:1:1: no action; add one of error=, delay=, short=, reset, close, hang, "
		     "corrupt=, bandwidth=");
	assert_error("connect", "s.scn:1:1: no action; add one of error=, delay=, short=, reset, "
		     "close, hang, corrupt=, bandwidth=");
	assert_error("recv reset close",
		     "s.scn:1:1: one action per rule (delay= may go with any one); split this rule "
		     "in two");
	assert_error("recv error=ECONNRESET hang",
		     "s.scn:1:1: one action per rule (delay= may go with any one); split this rule "
		     "in two");
	assert_error("send short=1 corrupt=1 bandwidth=1MB/s",
		     "s.scn:1:1: one action per rule (delay= may go with any one); split this rule "
		     "in two");
	assert_error("connect jitter=10ms error=ECONNREFUSED",
		     "s.scn:1:1: jitter= varies a delay: add delay=");
	/* jitter alone is no action at all. */
	assert_error("connect jitter=10ms", "s.scn:1:1: no action; add one of error=, delay=, "
		     "short=, reset, close, hang, corrupt=, bandwidth=");
	/* delay=0 is no delay. */
	assert_error("connect delay=0s", "s.scn:1:1: no action; add one of error=, delay=, "
		     "short=, reset, close, hang, corrupt=, bandwidth=");
}

/* ------------------------------------------------------------------ */
/* Lines, comments, separators and positions. */

static void test_comments_and_blank_lines(void **state)
{
	static const char text[] =
		"# flaky database\n"
		"\n"
		"connect port=5432 error=ECONNREFUSED when=1..3   # the first three\n"
		"   \n"
		"\t# an indented comment\n"
		"recv port=5432 reset when=5\r\n"
		"#\n"
		"   recv close # last";
	int errors;

	(void)state;
	errors = parse("flaky.scn", text, false);
	assert_no_msgs();
	assert_int_equal(errors, 0);
	assert_int_equal(set.count, 3);
	assert_string_equal(rules_mem[0].origin, "flaky.scn:3");
	assert_string_equal(rules_mem[0].text, "connect port=5432 when=1..3 error=ECONNREFUSED");
	assert_string_equal(rules_mem[1].origin, "flaky.scn:6");
	assert_string_equal(rules_mem[1].text, "recv port=5432 when=5 reset");
	assert_string_equal(rules_mem[2].origin, "flaky.scn:8");
	assert_string_equal(rules_mem[2].text, "recv close");

	/* Nothing but comments and space: no rule, no error. */
	assert_int_equal(parse("empty.scn", "# nothing\n\n \t \n#\n", false), 0);
	assert_int_equal(set.count, 0);
	assert_no_msgs();
	assert_int_equal(parse("empty.scn", "", false), 0);
	assert_int_equal(set.count, 0);
}

static void test_semicolons(void **state)
{
	static const char text[] = "connect error=ECONNREFUSED;recv reset";
	int errors;

	(void)state;
	/* SOCKTRACE_FAULTS: ';' separates rules, numbered by position. */
	errors = parse("SOCKTRACE_FAULTS", text, true);
	assert_no_msgs();
	assert_int_equal(errors, 0);
	assert_int_equal(set.count, 2);
	assert_string_equal(rules_mem[0].origin, "SOCKTRACE_FAULTS:1");
	assert_string_equal(rules_mem[1].origin, "SOCKTRACE_FAULTS:2");
	assert_string_equal(rules_mem[1].text, "recv reset");

	/* Newlines separate too, and empty pieces still count. */
	errors = parse("SOCKTRACE_FAULTS", "connect error=ECONNREFUSED;;\nrecv reset", true);
	assert_int_equal(errors, 0);
	assert_int_equal(set.count, 2);
	assert_string_equal(rules_mem[1].origin, "SOCKTRACE_FAULTS:4");

	/* An error names the rule's position and its column within it; the
	 * good rule before it is kept. */
	errors = parse("SOCKTRACE_FAULTS", "connect error=ECONNREFUSED; recv resett", true);
	assert_int_equal(errors, 1);
	assert_int_equal(msgs.n, 1);
	assert_string_equal(msgs.text[0],
			    "SOCKTRACE_FAULTS:2:7: unknown word 'resett'; did you mean 'reset'?");
	assert_int_equal(set.count, 1);
	errors = parse("SOCKTRACE_FAULTS", "recv reset\n\nrecv close;conect error=EPIPE", true);
	assert_int_equal(errors, 1);
	assert_int_equal(msgs.n, 1);
	assert_string_equal(msgs.text[0],
			    "SOCKTRACE_FAULTS:4:1: unknown call 'conect'; did you mean 'connect'?");
	assert_int_equal(set.count, 2);
	assert_string_equal(rules_mem[1].origin, "SOCKTRACE_FAULTS:3");

	/* In a file ';' is no separator. */
	assert_error_as("s.scn", text, false,
			"s.scn:1:15: unknown errno 'ECONNREFUSED;recv'; did you mean 'ECONNREFUSED'?");
}

static void test_positions(void **state)
{
	(void)state;
	/* A tab is one column; leading space counts. */
	assert_error("\t\tconnect\terror=EBOGUS",
		     "s.scn:1:17: unknown errno 'EBOGUS'; write a name such as ECONNREFUSED or a number");
	assert_error("    conect error=ECONNREFUSED",
		     "s.scn:1:5: unknown call 'conect'; did you mean 'connect'?");
	assert_error("connect   \t  error=ECONNREFUSED  delayy=1s",
		     "s.scn:1:34: unknown key 'delayy'; did you mean 'delay'?");
	/* Lines count blank and comment lines, and CRLF ends a line. */
	assert_int_equal(parse("s.scn", "# one\n\r\n  \nconnect error=ECONNREFUSED\r\n\tsend close\r\n",
			       false), 1);
	assert_int_equal(msgs.n, 1);
	assert_string_equal(msgs.text[0],
			    "s.scn:5:2: close makes a receive return 0 (end of stream): use it with "
			    "receive calls only (recv, read, ...)");
	assert_int_equal(set.count, 1);
	assert_string_equal(rules_mem[0].origin, "s.scn:4");
	/* Comments do not shift columns. */
	assert_error("recv prob=2 # prob=0.5",
		     "s.scn:1:11: prob=2: give a probability from 0.000000000001 to 1, e.g. prob=0.25");
}

static void test_several_errors(void **state)
{
	static const char text[] =
		"connect error=ECONNREFUSED\n"
		"conect error=ECONNREFUSED\n"
		"recv reset\n"
		"recv hang=soon\n";
	int errors;

	(void)state;
	errors = parse("m.scn", text, false);
	assert_int_equal(errors, 2);
	assert_int_equal(msgs.n, 2);
	assert_string_equal(msgs.text[0], "m.scn:2:1: unknown call 'conect'; did you mean 'connect'?");
	assert_string_equal(msgs.text[1],
			    "m.scn:4:11: hang=soon is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m");
	/* The good rules are kept, in order. */
	assert_int_equal(set.count, 2);
	assert_string_equal(rules_mem[0].origin, "m.scn:1");
	assert_string_equal(rules_mem[1].origin, "m.scn:3");
	/* One message per bad rule: the first problem only. */
	assert_int_equal(parse("m.scn", "conect error=EBOGUS prob=7", false), 1);
	assert_int_equal(msgs.n, 1);
}

static void test_limits(void **state)
{
	char text[2048];
	size_t o;

	(void)state;
	/* Too many rules for the set. */
	assert_int_equal(parse_cap("c.scn", "recv reset\nrecv close\nrecv hang", false, 2), 1);
	assert_int_equal(set.count, 2);
	assert_int_equal(msgs.n, 1);
	assert_string_equal(msgs.text[0], "c.scn:3:1: too many rules (at most 2)");

	/* A line longer than the parser takes. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "recv reset", 10);
	text[1500] = '\0';
	assert_error(text, "s.scn:1:1: rule longer than 1023 characters");

	/* Too many words. */
	o = (size_t)snprintf(text, sizeof(text), "recv");
	for (int i = 0; i < 48; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, " delay=1ms");
	/* 48 words are taken (the calls count): the 49th is refused. */
	assert_error(text, "s.scn:1:476: too many words in one rule");

	/* A call list longer than the rule keeps. */
	o = (size_t)snprintf(text, sizeof(text), "connect");
	while (o < 100)
		o += (size_t)snprintf(text + o, sizeof(text) - o, ",connect");
	snprintf(text + o, sizeof(text) - o, " delay=1ms");
	assert_error(text, "s.scn:1:1: call list too long (at most 95 characters)");
}

/* ------------------------------------------------------------------ */
/* Durations and rates. */

static void test_parse_duration(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} good[] = {
		{ "10ns", 10 }, { "500us", 500000 }, { "200ms", 200 * MS }, { "2s", 2 * SEC },
		{ "1.5s", 1500 * MS }, { "1m", 60 * SEC }, { "2h", 7200 * SEC }, { "0s", 0 },
		{ ".5s", 500 * MS }, { "0.25ms", 250000 }, { "1e3ms", SEC }, { "2.5ns", 3 },
		{ "100000h", 360000000000000000ull },
		/* A bare number is seconds; µs is us. */
		{ "1.5", 1500 * MS }, { "200", 200 * SEC }, { "0", 0 }, { "30\xc2\xb5s", 30000 },
	};
	static const char *const bad[] = {
		"", "ms", "-1", ".", "1,5", "-1s", "1x", "1 s", "1.5.5s", "s1", "1ss", "1S", "1MS", "1e400s",
		"5000000h", "inf", "nans", "+1s", "1sec",
	};
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = 12345;
		if (!st_parse_duration(good[i].text, &ns))
			fail_msg("'%s' is a duration", good[i].text);
		if (ns != good[i].ns)
			fail_msg("'%s': %llu ns, expected %llu", good[i].text, (unsigned long long)ns,
				 (unsigned long long)good[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (st_parse_duration(bad[i], &ns))
			fail_msg("'%s' is not a duration", bad[i]);
	assert_false(st_parse_duration(NULL, &ns));
}

/* The parser takes durations up to 1.8e19 ns (above 2^63): such a
 * duration is either refused or read exactly, never wrapped. */
static void test_parse_duration_huge(void **state)
{
	uint64_t ns = 0;

	(void)state;
	if (st_parse_duration("4000000h", &ns) && ns != 14400000000000000000ull)
		fail_msg("'4000000h' read as %llu ns, expected 14400000000000000000",
			 (unsigned long long)ns);
	if (st_parse_rate("10000000000GB/s", &ns) && ns != 10000000000000000000ull)
		fail_msg("'10000000000GB/s' read as %llu B/s, expected 10000000000000000000",
			 (unsigned long long)ns);
}

static void test_format_duration(void **state)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} cases[] = {
		{ 0, "0ns" }, { 1, "1ns" }, { 999, "999ns" }, { 1000, "1us" }, { 1500, "1500ns" },
		{ 200 * MS, "200ms" }, { 1500 * MS, "1500ms" }, { SEC, "1s" }, { 90 * SEC, "90s" },
		{ 60 * SEC, "1m" }, { 90 * 60 * SEC, "90m" }, { 3600 * SEC, "1h" },
		{ 7200 * SEC + 1, "7200000000001ns" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = st_format_duration(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(n, strlen(cases[i].text));
	}
	/* What it prints parses back to the same value. */
	for (uint64_t ns = 1; ns < 20 * 3600 * SEC; ns = ns * 7 + 3) {
		uint64_t back;
		st_format_duration(ns, buf, sizeof(buf));
		assert_true(st_parse_duration(buf, &back));
		assert_int_equal(back, ns);
	}
}

static void test_parse_rate(void **state)
{
	static const struct {
		const char *text;
		uint64_t bps;
	} good[] = {
		{ "512B/s", 512 }, { "100kB/s", 100000 }, { "100KB/s", 100000 },
		{ "1MB/s", 1000000 }, { "1GB/s", 1000000000 }, { "1KiB/s", 1024 },
		{ "1MiB/s", 1048576 }, { "1GiB/s", 1073741824 }, { "8bit/s", 1 },
		{ "1kbit/s", 125 }, { "10Mbit/s", 1250000 }, { "1Gbit/s", 125000000 },
		{ "1.5kB/s", 1500 }, { "1B/s", 1 },
	};
	static const char *const bad[] = {
		"", "0B/s", "4bit/s", "100kb/s", "100", "kB/s", "-1kB/s", "1.5", "1 MB/s",
		"1MBps", "1MB", "0.5B/s",
	};
	uint64_t bps;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		bps = 12345;
		if (!st_parse_rate(good[i].text, &bps))
			fail_msg("'%s' is a rate", good[i].text);
		if (bps != good[i].bps)
			fail_msg("'%s': %llu B/s, expected %llu", good[i].text, (unsigned long long)bps,
				 (unsigned long long)good[i].bps);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (st_parse_rate(bad[i], &bps))
			fail_msg("'%s' is not a rate", bad[i]);
}

static void test_format_rate(void **state)
{
	static const struct {
		uint64_t bps;
		const char *text;
	} cases[] = {
		{ 1, "1B/s" }, { 512, "512B/s" }, { 1500, "1500B/s" }, { 1000, "1kB/s" },
		{ 1024, "1KiB/s" }, { 100000, "100kB/s" }, { 1250000, "1250kB/s" },
		{ 1048576, "1MiB/s" }, { 2000000, "2MB/s" }, { 1073741824, "1GiB/s" },
		{ 3000000000ull, "3GB/s" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = st_format_rate(cases[i].bps, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(n, strlen(cases[i].text));
	}
	/* What it prints parses back to the same value. */
	for (uint64_t bps = 1; bps < 100000000000ull; bps = bps * 3 + 1) {
		uint64_t back;
		st_format_rate(bps, buf, sizeof(buf));
		assert_true(st_parse_rate(buf, &back));
		assert_int_equal(back, bps);
	}
}

/* A long rule, within every limit the parser sets, keeps its whole
 * normalised text (the text the trace and `socktrace check` show). */
static void test_long_rule_text_complete(void **state)
{
	char text[1024], full[1024];
	const struct st_rule *r;

	(void)state;
	snprintf(text, sizeof(text),
		 "send,sendto,sendmsg,sendmmsg,write,writev,recv,recvfrom,recvmsg,recvmmsg,read,readv "
		 "peer=[2001:db8:1234:5678:9abc:def0:1234:5678]/64:65535 "
		 "local=[2001:db8:1234:5678:9abc:def0:1234:5679]/64:65534 port=10000-20000 "
		 "host=%0100d prog=%060d when=1000000..2000000 prob=0.123456789 after=1500ms "
		 "for=2500ms delay=1500ms jitter=500ms short=1",
		 0, 0);
	r = one(text);
	st_rule_format(r, full, sizeof(full));
	assert_true(strlen(full) > 300);
	assert_string_equal(r->text, full);
}

static void test_format_small_buffer(void **state)
{
	char buf[12];
	size_t n;

	(void)state;
	one("connect port=5432 error=ECONNREFUSED when=1..3");
	memset(buf, 'x', sizeof(buf));
	n = st_rule_format(&rules_mem[0], buf, sizeof(buf));
	/* Cut, but always terminated. */
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	assert_int_equal(strncmp(buf, "connect por", 11), 0);
	assert_int_equal(st_rule_format(&rules_mem[0], buf, 0), 0);
}

static void test_origin_line(void **state)
{
	size_t n;

	(void)state;
	assert_int_equal(st_origin_line("dir/retry.scn:12", &n), 12);
	assert_int_equal(n, strlen("dir/retry.scn"));
	/* The last colon: a path may hold colons of its own. */
	assert_int_equal(st_origin_line("a:b/c.scn:7", &n), 7);
	assert_int_equal(n, strlen("a:b/c.scn"));
	assert_int_equal(st_origin_line("SOCKTRACE_FAULTS:1", NULL), 1);
	/* No line: the whole text is the file. */
	assert_int_equal(st_origin_line("plain", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(st_origin_line("x:", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(st_origin_line("x:12a", NULL), 0);
	assert_int_equal(st_origin_line("x:99999999999", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_calls_and_groups),
		cmocka_unit_test(test_two_way_calls),
		cmocka_unit_test(test_error_values),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_prob),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_peer_ipv4),
		cmocka_unit_test(test_peer_ipv6),
		cmocka_unit_test(test_peer_unix),
		cmocka_unit_test(test_port_host_prog),
		cmocka_unit_test(test_normalised_order),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_small_corrupt_rate),
		cmocka_unit_test(test_round_trip_v4_mapped),
		cmocka_unit_test(test_parse_v4_mapped_unbracketed),
		cmocka_unit_test(test_unknown_call),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_errno),
		cmocka_unit_test(test_errno_the_call_cannot_return),
		cmocka_unit_test(test_errno_list_has_no_duplicates),
		cmocka_unit_test(test_getaddrinfo_errors),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_when),
		cmocka_unit_test(test_bad_prob),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_long_globs),
		cmocka_unit_test(test_action_call_mismatch),
		cmocka_unit_test(test_action_count),
		cmocka_unit_test(test_comments_and_blank_lines),
		cmocka_unit_test(test_semicolons),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_duration_huge),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_parse_rate),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_long_rule_text_complete),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_origin_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
