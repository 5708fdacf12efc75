/* event: encoding of one call record, read back as the JSON line `socktrace
 * cat` prints (recjson.c). Every line produced is also parsed with jansson
 * to prove it is valid JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "calls.h"
#include "event.h"
#include "recjson.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#define GUARD 0xa5
#define GUARD_LEN 32

static uint8_t buf[ST_EV_MAX + GUARD_LEN];
static char text[ST_JSON_LINE_MAX];

/* The record body in b as its JSON line (in text): its length. */
static size_t json_of(const uint8_t *b, size_t len)
{
	struct st_conv cv = { .base = 0 };
	const char *why = NULL;
	size_t n;

	assert_true(len > 1);
	assert_int_equal(b[0], ST_K_CALL);
	n = st_call_json(text, sizeof(text), b + 1, len - 1, &cv, &why);
	if (!n)
		fail_msg("not a record: %s", why ? why : "?");
	return n;
}

/* Parses one record: a single line ending in '\n', one JSON object, no
 * duplicate keys. The caller owns the result. */
static json_t *parse_line(const char *line, size_t len)
{
	json_error_t err;
	json_t *root;

	assert_true(len > 2);
	assert_int_equal(line[len - 1], '\n');
	assert_int_equal(line[len - 2], '}');
	assert_null(memchr(line, '\n', len - 1));
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!root)
		fail_msg("invalid JSON (%s at column %d): %.*s", err.text, err.column,
			 (int)len, line);
	assert_true(json_is_object(root));
	return root;
}

/* Compares the whole record and checks it parses. */
static void assert_record(const char *line, size_t len, const char *expected)
{
	json_t *root;

	assert_int_equal(len, strlen(expected));
	assert_memory_equal(line, expected, len);
	root = parse_line(line, len);
	json_decref(root);
}

static struct st_ev_head head(enum st_fn fn, int fd, int64_t ret, int err)
{
	struct st_ev_head h = {
		.ts = 1000, .dur = 250, .pid = 42, .tid = 43, .fn = (uint16_t)fn, .fd = fd,
		.ret = ret, .err = err, .err_name = NULL,
	};
	return h;
}

static struct st_fdsnap snap(const char *local, const char *peer)
{
	struct st_fdsnap s;

	memset(&s, 0, sizeof(s));
	s.kind = ST_FD_SOCKET;
	if (local) {
		s.local_len = (uint16_t)strlen(local);
		memcpy(s.local, local, s.local_len);
	}
	if (peer) {
		s.peer_len = (uint16_t)strlen(peer);
		memcpy(s.peer, peer, s.peer_len);
	}
	return s;
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

static void test_connect_refused(void **state)
{
	struct st_ev_head h = head(ST_FN_connect, 3, -1, ECONNREFUSED);
	struct sockaddr_in a = in4("127.0.0.1", 9);
	struct st_fdsnap s = snap("127.0.0.1:40000", NULL);
	struct rb w;
	size_t len;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_sockaddr(&w, ST_F_addr, &a, sizeof(a));
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"connect\",\"fd\":3,\"ret\":-1,\"errno\":\"ECONNREFUSED\","
		      "\"addr\":\"127.0.0.1:9\",\"local\":\"127.0.0.1:40000\"}\n");
}

static void test_send_ok_with_payload(void **state)
{
	struct st_ev_head h = head(ST_FN_send, 5, 5, 0);
	struct st_fdsnap s = snap("10.0.0.1:1234", "10.0.0.2:80");
	struct rb w;
	size_t len;

	(void)state;
	h.ts = INT64_MAX;
	h.dur = 0;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	rb_u64(&w, ST_F_len, 5);
	st_ev_payload(&w, "hi\n\0\xff", 5, 5, 64);
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":9223372036854775807,\"dur\":0,\"pid\":42,"
		      "\"tid\":43,\"fn\":\"send\",\"fd\":5,\"ret\":5,\"len\":5,"
		      "\"data\":\"hi\\n\\u0000\\u00ff\","
		      "\"local\":\"10.0.0.1:1234\",\"peer\":\"10.0.0.2:80\"}\n");
}

static void test_errno_variants(void **state)
{
	struct st_ev_head h;
	struct rb w;
	size_t len;

	(void)state;
	/* A number when the name is unknown. */
	h = head(ST_FN_recv, 7, -1, 4000);
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":7,\"ret\":-1,\"errno\":4000}\n");

	/* Aliases are written under the usual name. */
	h = head(ST_FN_recv, 7, -1, EWOULDBLOCK);
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":7,\"ret\":-1,\"errno\":\"EAGAIN\"}\n");

	/* getaddrinfo: no fd, an EAI name instead of an errno. */
	h = head(ST_FN_getaddrinfo, -1, EAI_NONAME, 0);
	h.err_name = "EAI_NONAME";
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"getaddrinfo\",\"ret\":-2,\"errno\":\"EAI_NONAME\"}\n");

	/* The override wins over err. */
	h = head(ST_FN_getaddrinfo, -1, EAI_SYSTEM, ENOMEM);
	h.err_name = "EAI_SYSTEM";
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"getaddrinfo\",\"ret\":-11,\"errno\":\"EAI_SYSTEM\"}\n");

	/* fd 0 is an fd; success leaves errno out. */
	h = head(ST_FN_close, 0, 0, 0);
	h.pid = 2147483647;
	h.tid = 1;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":2147483647,"
		      "\"tid\":1,\"fn\":\"close\",\"fd\":0,\"ret\":0}\n");
}

static void test_payload_cut(void **state)
{
	struct st_ev_head h = head(ST_FN_recv, 4, 10, 0);
	struct rb w;
	size_t len;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, "abcdefghij", 10, 10, 4);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":4,\"ret\":10,"
		      "\"data\":\"abcd\",\"data_cut\":6}\n");

	/* A gathered preview (readv): data_cut counts from the total. */
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, "abc", 3, 10, 3);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":4,\"ret\":10,"
		      "\"data\":\"abc\",\"data_cut\":7}\n");

	/* All of it: no data_cut. Nothing, or max 0: no data at all. */
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, "abcdefghij", 10, 10, 10);
	st_ev_payload(&w, "xyz", 3, 3, 0);
	st_ev_payload(&w, "xyz", 0, 0, 16);
	st_ev_payload(&w, NULL, 3, 3, 16);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":4,\"ret\":10,\"data\":\"abcdefghij\"}\n");
}

/* Decodes the UTF-8 of a JSON string whose code points are all below
 * U+0100 back into bytes; returns how many. */
static size_t latin1_bytes(const char *s, size_t n, unsigned char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(o < cap);
		if (u[i] < 0x80) {
			out[o++] = u[i];
		} else {
			assert_true(u[i] == 0xc2 || u[i] == 0xc3);
			assert_true(i + 1 < n);
			out[o++] = (unsigned char)(((u[i] & 0x1f) << 6) | (u[i + 1] & 0x3f));
			i++;
		}
	}
	return o;
}

/* The longest addresses and a full payload of the worst bytes still fit in
 * ST_EV_MAX: the preview shrinks, the record is not cut, and the bytes a
 * reader decodes are exactly the first bytes of the data. */
static void test_payload_fits_with_longest_addresses(void **state)
{
	struct st_ev_head h = head(ST_FN___recvfrom_chk, ST_FD_LIMIT - 1, 1024, 0);
	unsigned char data[1024];
	unsigned char back[1024];
	char longest[ST_ADDR_MAX];
	struct st_fdsnap s;
	struct sockaddr_un un;
	json_t *root, *jdata, *jcut;
	struct rb w;
	size_t len, shown;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(0x80 | (i * 7)); /* all 6-byte escapes */
	memset(longest, 'x', ST_ADDR_MAX - 1);
	longest[ST_ADDR_MAX - 1] = '\0';
	s = snap(longest, longest);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memset(un.sun_path, 0x01, sizeof(un.sun_path));
	/* (jansson reads integers up to INT64_MAX only.) */
	h.ts = INT64_MAX;
	h.dur = INT64_MAX;
	h.pid = -2147483647 - 1;
	h.tid = -2147483647 - 1;

	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	rb_u64(&w, ST_F_msgflags, MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_TRUNC | 0x100000);
	rb_u64(&w, ST_F_len, INT64_MAX);
	rb_u64(&w, ST_F_bytes, 1024);
	st_ev_sockaddr(&w, ST_F_addr, &un, sizeof(un));
	st_ev_payload(&w, data, sizeof(data), sizeof(data), 1024);
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_true(len > 0 && len <= ST_EV_MAX);

	root = parse_line(text, json_of(buf, len));
	assert_null(json_object_get(root, "cut"));
	assert_string_equal(json_string_value(json_object_get(root, "fn")), "__recvfrom_chk");
	assert_string_equal(json_string_value(json_object_get(root, "local")), longest);
	assert_string_equal(json_string_value(json_object_get(root, "peer")), longest);
	jdata = json_object_get(root, "data");
	jcut = json_object_get(root, "data_cut");
	assert_true(json_is_string(jdata));
	/* Whether the worst case is cut depends on ST_EV_MAX; either way
	 * what is shown and what is counted as cut add up to the data. */
	assert_true(jcut == NULL || json_is_integer(jcut));
	shown = latin1_bytes(json_string_value(jdata), json_string_length(jdata),
			     back, sizeof(back));
	assert_true(shown > 0);
	assert_int_equal(shown + (jcut ? (size_t)json_integer_value(jcut) : 0), sizeof(data));
	if (6 * sizeof(data) + 2 * ST_ADDR_MAX + 512 < ST_EV_MAX)
		assert_null(jcut);
	assert_memory_equal(back, data, shown);
	json_decref(root);
}

/* Every byte value survives the trip through a JSON parser. */
static void test_payload_all_bytes_decode(void **state)
{
	struct st_ev_head h = head(ST_FN_write, 9, 256, 0);
	unsigned char data[256];
	unsigned char back[256];
	json_t *root, *jdata;
	struct rb w;
	size_t len;

	(void)state;
	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, data, sizeof(data), sizeof(data), 1024);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	root = parse_line(text, json_of(buf, len));
	assert_null(json_object_get(root, "data_cut"));
	jdata = json_object_get(root, "data");
	assert_int_equal(latin1_bytes(json_string_value(jdata), json_string_length(jdata),
				      back, sizeof(back)), 256);
	assert_memory_equal(back, data, 256);
	json_decref(root);
}

/* Whatever bytes a unix name holds, the record stays valid JSON (jansson
 * rejects invalid UTF-8, overlong forms and surrogates). */
static void test_unix_names_any_bytes(void **state)
{
	static const unsigned char second[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
						0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	struct st_ev_head h = head(ST_FN_bind, 3, 0, 0);
	struct sockaddr_un un;
	struct rb w;
	size_t len;

	(void)state;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	for (unsigned lead = 0x01; lead <= 0xff; lead++) {
		for (size_t j = 0; j < sizeof(second); j++) {
			/* abstract: \0 lead second 0x80 0x80 */
			un.sun_path[1] = (char)lead;
			un.sun_path[2] = (char)second[j];
			un.sun_path[3] = (char)0x80;
			un.sun_path[4] = (char)0x80;
			st_ev_begin(&w, buf, ST_EV_MAX, &h);
			st_ev_sockaddr(&w, ST_F_addr, &un,
				       (unsigned)offsetof(struct sockaddr_un, sun_path) + 5);
			len = st_ev_end(&w, buf, ST_EV_MAX, &h);
			json_decref(parse_line(text, json_of(buf, len)));
		}
	}
}

static void test_no_sockaddr_when_empty(void **state)
{
	struct st_ev_head h = head(ST_FN_accept4, 3, 8, 0);
	struct st_fdsnap s = snap(NULL, NULL);
	struct sockaddr_in a = in4("127.0.0.1", 1);
	struct rb w;
	size_t len;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_sockaddr(&w, ST_F_addr, NULL, 0);
	st_ev_sockaddr(&w, ST_F_addr, &a, 1); /* too short to hold a family */
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(text, json_of(buf, len),
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"accept4\",\"fd\":3,\"ret\":8}\n");
}

/* Fills a record too big for cap: its head alone comes out, with "cut". */
static size_t big_record(uint8_t *b, size_t cap, const struct st_ev_head *h)
{
	struct st_fdsnap s;
	char longest[ST_ADDR_MAX];
	struct rb w;

	memset(longest, 'y', ST_ADDR_MAX - 1);
	longest[ST_ADDR_MAX - 1] = '\0';
	s = snap(longest, longest);
	st_ev_begin(&w, b, cap, h);
	rb_u64(&w, ST_F_len, 100);
	st_ev_addrs(&w, &s);
	return st_ev_end(&w, b, cap, h);
}

static void test_overflow_becomes_cut_head(void **state)
{
	static const char cut[] =
		"{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		"\"fn\":\"sendto\",\"fd\":11,\"ret\":-1,\"errno\":\"EPIPE\",\"cut\":true}\n";
	struct st_ev_head h = head(ST_FN_sendto, 11, -1, EPIPE);
	unsigned char b[512 + 2 * RB_SCALAR_MAX + GUARD_LEN];
	uint8_t full[512];
	size_t full_len, len, first_cut = 0;

	(void)state;
	full_len = big_record(full, sizeof(full), &h);
	assert_true(full_len > 2 * ST_ADDR_MAX);
	json_decref(parse_line(text, json_of(full, full_len)));

	/* Every capacity: the whole record, the cut head, or nothing (0) when
	 * not even the head fits; never a byte past cap. The checks of room
	 * are a little conservative: the whole record needs a few bytes more
	 * than its length. */
	size_t first_whole = 0;
	for (size_t cap = 0; cap <= full_len + 2 * RB_SCALAR_MAX; cap++) {
		memset(b, GUARD, sizeof(b));
		len = big_record(b, cap, &h);
		for (size_t i = cap; i < cap + GUARD_LEN; i++)
			assert_int_equal(b[i], GUARD);
		if (len == full_len) {
			if (!first_whole)
				first_whole = cap;
			assert_memory_equal(b, full, full_len);
		} else if (len) {
			assert_int_equal(first_whole, 0);
			if (!first_cut)
				first_cut = cap;
			assert_record(text, json_of(b, len), cut);
		} else {
			assert_int_equal(first_cut, 0); /* bigger caps fit the head */
			assert_int_equal(first_whole, 0);
		}
	}
	assert_true(first_whole >= full_len && first_whole <= full_len + RB_SCALAR_MAX);
	assert_true(first_cut > 0 && first_cut < 200);
}

/* A record whose JSON would pass the line's limit is printed as its head
 * with "cut", the same as the shim's jsonl mode writes it. */
static void test_json_too_long_is_cut(void **state)
{
	static const char cut[] =
		"{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		"\"fn\":\"recv\",\"fd\":4,\"ret\":10,\"cut\":true}\n";
	struct st_ev_head h = head(ST_FN_recv, 4, 10, 0);
	struct st_conv cv = { .base = 0 };
	char small[200];
	struct rb w;
	size_t len, n;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10, 10, 10);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	n = st_call_json(small, sizeof(small), buf + 1, len - 1, &cv, NULL);
	assert_true(n > 0);
	n = st_call_json(small, 130, buf + 1, len - 1, &cv, NULL);
	assert_int_equal(n, sizeof(cut) - 1);
	assert_memory_equal(small, cut, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_send_ok_with_payload),
		cmocka_unit_test(test_errno_variants),
		cmocka_unit_test(test_payload_cut),
		cmocka_unit_test(test_payload_fits_with_longest_addresses),
		cmocka_unit_test(test_payload_all_bytes_decode),
		cmocka_unit_test(test_unix_names_any_bytes),
		cmocka_unit_test(test_no_sockaddr_when_empty),
		cmocka_unit_test(test_overflow_becomes_cut_head),
		cmocka_unit_test(test_json_too_long_is_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
