/* event: formatting of one call record (docs/trace-format.md). Every line
 * produced is also parsed with jansson to prove it is valid JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#define GUARD 0xa5
#define GUARD_LEN 32

static char buf[ST_EV_MAX + GUARD_LEN];

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

static struct st_ev_head head(const char *fn, int fd, int64_t ret, int err)
{
	struct st_ev_head h = {
		.ts = 1000, .dur = 250, .pid = 42, .tid = 43, .fn = fn, .fd = fd,
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
	struct st_ev_head h = head("connect", 3, -1, ECONNREFUSED);
	struct sockaddr_in a = in4("127.0.0.1", 9);
	struct st_fdsnap s = snap("127.0.0.1:40000", NULL);
	struct jw w;
	size_t len;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_sockaddr(&w, "addr", &a, sizeof(a));
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"connect\",\"fd\":3,\"ret\":-1,\"errno\":\"ECONNREFUSED\","
		      "\"addr\":\"127.0.0.1:9\",\"local\":\"127.0.0.1:40000\"}\n");
}

static void test_send_ok_with_payload(void **state)
{
	struct st_ev_head h = head("send", 5, 5, 0);
	struct st_fdsnap s = snap("10.0.0.1:1234", "10.0.0.2:80");
	struct jw w;
	size_t len;

	(void)state;
	h.ts = INT64_MAX;
	h.dur = 0;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	jw_kv_u64(&w, "len", 5);
	st_ev_payload(&w, "hi\n\0\xff", 5, 5, 64);
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":9223372036854775807,\"dur\":0,\"pid\":42,"
		      "\"tid\":43,\"fn\":\"send\",\"fd\":5,\"ret\":5,\"len\":5,"
		      "\"data\":\"hi\\n\\u0000\\u00ff\","
		      "\"local\":\"10.0.0.1:1234\",\"peer\":\"10.0.0.2:80\"}\n");
}

static void test_errno_variants(void **state)
{
	struct st_ev_head h;
	struct jw w;
	size_t len;

	(void)state;
	/* A number when the name is unknown. */
	h = head("recv", 7, -1, 4000);
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":7,\"ret\":-1,\"errno\":4000}\n");

	/* Aliases are written under the usual name. */
	h = head("recv", 7, -1, EWOULDBLOCK);
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":7,\"ret\":-1,\"errno\":\"EAGAIN\"}\n");

	/* getaddrinfo: no fd, an EAI name instead of an errno. */
	h = head("getaddrinfo", -1, EAI_NONAME, 0);
	h.err_name = "EAI_NONAME";
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"getaddrinfo\",\"ret\":-2,\"errno\":\"EAI_NONAME\"}\n");

	/* The override wins over err. */
	h = head("getaddrinfo", -1, EAI_SYSTEM, ENOMEM);
	h.err_name = "EAI_SYSTEM";
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"getaddrinfo\",\"ret\":-11,\"errno\":\"EAI_SYSTEM\"}\n");

	/* fd 0 is an fd; success leaves errno out. */
	h = head("close", 0, 0, 0);
	h.pid = 2147483647;
	h.tid = 1;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":2147483647,"
		      "\"tid\":1,\"fn\":\"close\",\"fd\":0,\"ret\":0}\n");
}

static void test_payload_cut(void **state)
{
	struct st_ev_head h = head("recv", 4, 10, 0);
	struct jw w;
	size_t len;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, "abcdefghij", 10, 10, 4);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"recv\",\"fd\":4,\"ret\":10,"
		      "\"data\":\"abcd\",\"data_cut\":6}\n");

	/* A gathered preview (readv): data_cut counts from the total. */
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, "abc", 3, 10, 3);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
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
	assert_record(buf, len,
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
	struct st_ev_head h = head("__recvfrom_chk", ST_FD_LIMIT - 1, 1024, 0);
	unsigned char data[1024];
	unsigned char back[1024];
	char longest[ST_ADDR_MAX];
	struct st_fdsnap s;
	struct sockaddr_un un;
	json_t *root, *jdata, *jcut;
	struct jw w;
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
	jw_kv_name(&w, "flags", "MSG_PEEK|MSG_DONTWAIT|MSG_WAITALL|MSG_TRUNC|0x100000");
	jw_kv_u64(&w, "len", INT64_MAX);
	jw_kv_u64(&w, "bytes", 1024);
	st_ev_sockaddr(&w, "addr", &un, sizeof(un));
	st_ev_payload(&w, data, sizeof(data), sizeof(data), 1024);
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_true(len > 0 && len <= ST_EV_MAX);

	root = parse_line(buf, len);
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
	struct st_ev_head h = head("write", 9, 256, 0);
	unsigned char data[256];
	unsigned char back[256];
	json_t *root, *jdata;
	struct jw w;
	size_t len;

	(void)state;
	for (int i = 0; i < 256; i++)
		data[i] = (unsigned char)i;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_payload(&w, data, sizeof(data), sizeof(data), 1024);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	root = parse_line(buf, len);
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
	struct st_ev_head h = head("bind", 3, 0, 0);
	struct sockaddr_un un;
	struct jw w;
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
			st_ev_sockaddr(&w, "addr", &un,
				       (unsigned)offsetof(struct sockaddr_un, sun_path) + 5);
			len = st_ev_end(&w, buf, ST_EV_MAX, &h);
			json_decref(parse_line(buf, len));
		}
	}
}

static void test_no_sockaddr_when_empty(void **state)
{
	struct st_ev_head h = head("accept4", 3, 8, 0);
	struct st_fdsnap s = snap(NULL, NULL);
	struct sockaddr_in a = in4("127.0.0.1", 1);
	struct jw w;
	size_t len;

	(void)state;
	st_ev_begin(&w, buf, ST_EV_MAX, &h);
	st_ev_sockaddr(&w, "addr", NULL, 0);
	st_ev_sockaddr(&w, "addr", &a, 1); /* too short to hold a family */
	st_ev_addrs(&w, &s);
	len = st_ev_end(&w, buf, ST_EV_MAX, &h);
	assert_record(buf, len,
		      "{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		      "\"fn\":\"accept4\",\"fd\":3,\"ret\":8}\n");
}

/* Fills a record too big for cap: its head alone comes out, with "cut". */
static size_t big_record(char *b, size_t cap, const struct st_ev_head *h)
{
	struct st_fdsnap s;
	char longest[ST_ADDR_MAX];
	struct jw w;

	memset(longest, 'y', ST_ADDR_MAX - 1);
	longest[ST_ADDR_MAX - 1] = '\0';
	s = snap(longest, longest);
	st_ev_begin(&w, b, cap, h);
	jw_kv_u64(&w, "len", 100);
	st_ev_addrs(&w, &s);
	return st_ev_end(&w, b, cap, h);
}

static void test_overflow_becomes_cut_head(void **state)
{
	static const char cut[] =
		"{\"rec\":\"call\",\"ts\":1000,\"dur\":250,\"pid\":42,\"tid\":43,"
		"\"fn\":\"sendto\",\"fd\":11,\"ret\":-1,\"errno\":\"EPIPE\",\"cut\":true}\n";
	struct st_ev_head h = head("sendto", 11, -1, EPIPE);
	unsigned char b[512 + GUARD_LEN];
	char full[512];
	size_t full_len, len;

	(void)state;
	full_len = big_record(full, sizeof(full), &h);
	assert_true(full_len > sizeof(cut) + 200);
	json_decref(parse_line(full, full_len));

	memset(b, GUARD, sizeof(b));
	len = big_record((char *)b, 200, &h);
	assert_record((char *)b, len, cut);
	for (size_t i = 200; i < sizeof(b); i++)
		assert_int_equal(b[i], GUARD);

	/* Every capacity: the whole record, the cut head, or nothing (0) when
	 * not even the head fits; never a byte past cap. */
	for (size_t cap = 0; cap <= full_len; cap++) {
		memset(b, GUARD, sizeof(b));
		len = big_record((char *)b, cap, &h);
		for (size_t i = cap; i < cap + GUARD_LEN; i++)
			assert_int_equal(b[i], GUARD);
		if (cap == full_len) {
			assert_int_equal(len, full_len);
			assert_memory_equal(b, full, full_len);
		} else if (cap >= sizeof(cut) - 1) {
			assert_record((char *)b, len, cut);
		} else {
			assert_int_equal(len, 0);
		}
	}
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
