/* jsonw: the bounded JSON writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "jsonw.h"

#include <stdio.h>
#include <string.h>

#define GUARD 0xa5
#define GUARD_LEN 32

/* Asserts that w wrote exactly expected (no overflow) into buf. */
static void assert_written(const struct jw *w, const char *buf, const char *expected)
{
	size_t n = strlen(expected);

	assert_false(w->overflow);
	assert_int_equal(jw_len(w, buf), n);
	assert_memory_equal(buf, expected, n);
}

static void assert_guard(const unsigned char *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g[i], GUARD);
}

/* Every digit count, at and around each power of ten, and a spread of
 * other values, against printf: the digit-pair formatter has a branch
 * per length. */
static void check_u64(uint64_t v)
{
	char got[32], want[32];
	char *end = jw_put_u64(got, v);

	*end = '\0';
	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	assert_string_equal(got, want);
}

static void test_integer_lengths(void **state)
{
	uint64_t p = 1;

	(void)state;
	for (int e = 0; e < 20; e++) {
		for (int d = -2; d <= 2; d++)
			if ((int64_t)p + d >= 0)
				check_u64(p + (uint64_t)d);
		check_u64(p * 9 / 10 * 10 + p / 3);
		if (e < 19)
			p *= 10;
	}
	check_u64(UINT64_MAX);
	check_u64(UINT64_MAX - 1);
	for (uint64_t v = 1, x = 88172645463325252u; v < 200000; v++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_u64(x >> (v % 64));
	}
	char buf[32];
	*jw_put_i64(buf, -1234567890123) = '\0';
	assert_string_equal(buf, "-1234567890123");
}

static void test_integers(void **state)
{
	char buf[128];
	struct jw w;

	(void)state;
	jw_init(&w, buf, sizeof(buf));
	jw_u64(&w, 0);
	assert_written(&w, buf, "0");

	jw_init(&w, buf, sizeof(buf));
	jw_u64(&w, UINT64_MAX);
	assert_written(&w, buf, "18446744073709551615");

	jw_init(&w, buf, sizeof(buf));
	jw_i64(&w, INT64_MIN);
	assert_written(&w, buf, "-9223372036854775808");

	jw_init(&w, buf, sizeof(buf));
	jw_i64(&w, INT64_MAX);
	assert_written(&w, buf, "9223372036854775807");

	jw_init(&w, buf, sizeof(buf));
	jw_i64(&w, 0);
	jw_raw(&w, " ", 1);
	jw_i64(&w, -1);
	jw_raw(&w, " ", 1);
	jw_u64(&w, 10);
	jw_raw(&w, " ", 1);
	jw_bool(&w, true);
	jw_raw(&w, " ", 1);
	jw_bool(&w, false);
	assert_written(&w, buf, "0 -1 10 true false");
}

static void test_string_escapes(void **state)
{
	static const char in[] = "a\"b\\c\nd\te\rf\x01g\x1fh\x7f" "i\0j/";
	char buf[128];
	struct jw w;

	(void)state;
	jw_init(&w, buf, sizeof(buf));
	jw_str(&w, in, sizeof(in) - 1);
	assert_written(&w, buf,
		       "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh\\u007fi\\u0000j/\"");

	jw_init(&w, buf, sizeof(buf));
	jw_cstr(&w, "");
	assert_written(&w, buf, "\"\"");

	jw_init(&w, buf, sizeof(buf));
	jw_cstr(&w, "plain ascii 0-9 ~");
	assert_written(&w, buf, "\"plain ascii 0-9 ~\"");
}

static void test_string_utf8_kept(void **state)
{
	/* e-acute, euro, U+D7FF, U+E000, U+FFFD, U+1F600, U+10FFFF */
	static const char in[] = "\xc3\xa9 \xe2\x82\xac \xed\x9f\xbf \xee\x80\x80 "
				 "\xef\xbf\xbd \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
	char buf[128];
	char expected[128];
	struct jw w;

	(void)state;
	snprintf(expected, sizeof(expected), "\"%s\"", in);
	jw_init(&w, buf, sizeof(buf));
	jw_str(&w, in, sizeof(in) - 1);
	assert_written(&w, buf, expected);
}

#define FFFD "\xef\xbf\xbd"

static void check_str(const char *in, size_t n, const char *expected)
{
	char buf[256];
	struct jw w;

	jw_init(&w, buf, sizeof(buf));
	jw_str(&w, in, n);
	assert_written(&w, buf, expected);
}

#define CHECK_STR(lit, expected) check_str(lit, sizeof(lit) - 1, expected)

static void test_string_invalid_utf8(void **state)
{
	(void)state;
	/* Every byte that does not start a valid sequence becomes U+FFFD. */
	CHECK_STR("\x80", "\"" FFFD "\"");
	CHECK_STR("a\x80z", "\"a" FFFD "z\"");
	CHECK_STR("\xc0\x80", "\"" FFFD FFFD "\"");           /* overlong NUL */
	CHECK_STR("\xc1\xbf", "\"" FFFD FFFD "\"");           /* overlong */
	CHECK_STR("\xe0\x80\x80", "\"" FFFD FFFD FFFD "\""); /* overlong 3 */
	CHECK_STR("\xf0\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	CHECK_STR("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""); /* U+D800 */
	CHECK_STR("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\""); /* U+DFFF */
	CHECK_STR("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
	CHECK_STR("\xf5", "\"" FFFD "\"");
	CHECK_STR("\xff", "\"" FFFD "\"");
	CHECK_STR("\xc3", "\"" FFFD "\"");                    /* truncated */
	CHECK_STR("\xe2\x82", "\"" FFFD FFFD "\"");           /* truncated */
	CHECK_STR("\xc3" "A", "\"" FFFD "A\"");               /* bad continuation */
	CHECK_STR("\xc3\xa9\x80\xc3\xa9", "\"\xc3\xa9" FFFD "\xc3\xa9\"");
}

static void test_bytes(void **state)
{
	static const unsigned char in[] = {
		'A', 0x00, 0x01, 0x1f, ' ', '~', 0x7f, 0x80, 0xc3, 0xa9, 0xff,
		'"', '\\', '/',
	};
	unsigned char all[256];
	char buf[256 * 6 + 8];
	struct jw w;

	(void)state;
	jw_init(&w, buf, sizeof(buf));
	jw_bytes(&w, in, sizeof(in));
	/* Valid UTF-8 (c3 a9) is not kept: bytes are bytes. */
	assert_written(&w, buf,
		       "\"A\\u0000\\u0001\\u001f ~\\u007f\\u0080\\u00c3\\u00a9\\u00ff"
		       "\\\"\\\\/\"");

	/* The three whitespace controls take JSON's short escapes, which decode
	 * to the same code points as \u000a, \u000d, \u0009. */
	jw_init(&w, buf, sizeof(buf));
	jw_bytes(&w, "\n\r\t\x0b", 4);
	assert_written(&w, buf, "\"\\n\\r\\t\\u000b\"");

	/* Whatever the byte, the output is printable ASCII. */
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	jw_init(&w, buf, sizeof(buf));
	jw_bytes(&w, all, sizeof(all));
	assert_false(w.overflow);
	for (size_t i = 0; i < jw_len(&w, buf); i++)
		assert_in_range((unsigned char)buf[i], 0x20, 0x7e);
	/* 95 printable bytes, 2 of them escaped with a backslash, 3 short
	 * control escapes, 158 \u00XX, 2 quotes. */
	assert_int_equal(jw_len(&w, buf), 93 + 2 * 2 + 3 * 2 + 158 * 6 + 2);

	jw_init(&w, buf, sizeof(buf));
	jw_bytes(&w, "", 0);
	assert_written(&w, buf, "\"\"");
}

static void test_object_array_commas(void **state)
{
	char buf[256];
	struct jw w;

	(void)state;
	jw_init(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	jw_kv_u64(&w, "a", 1);
	jw_key(&w, "b");
	jw_arr_begin(&w);
	jw_elem(&w);
	jw_u64(&w, 1);
	jw_elem(&w);
	jw_i64(&w, -2);
	jw_elem(&w);
	jw_obj_begin(&w);
	jw_key(&w, "c");
	jw_bool(&w, true);
	jw_obj_end(&w);
	jw_elem(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_arr_end(&w);
	jw_kv_str(&w, "d", "x\"y");
	jw_key(&w, "e");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_key(&w, "f");
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_kv_i64(&w, "g", -7);
	jw_kv_name(&w, "h", "SOCK_STREAM");
	jw_obj_end(&w);
	assert_written(&w, buf,
		       "{\"a\":1,\"b\":[1,-2,{\"c\":true},[]],\"d\":\"x\\\"y\","
		       "\"e\":[],\"f\":{},\"g\":-7,\"h\":\"SOCK_STREAM\"}");
}

/* One record with every kind of value; returns the length it needs. */
static size_t write_sample(char *buf, size_t cap, bool *overflow)
{
	static const unsigned char bin[] = { 0x00, 'x', 0xff, '\n' };
	struct jw w;

	jw_init(&w, buf, cap);
	jw_obj_begin(&w);
	jw_kv_i64(&w, "n", INT64_MIN);
	jw_kv_str(&w, "s", "tab\there \xc3\xa9 bad\x80 \"q\"");
	jw_kv_name(&w, "t", "NAME");
	jw_key(&w, "b");
	jw_bytes(&w, bin, sizeof(bin));
	jw_key(&w, "a");
	jw_arr_begin(&w);
	jw_elem(&w);
	jw_u64(&w, UINT64_MAX);
	jw_elem(&w);
	jw_bool(&w, false);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_char(&w, '\n');
	*overflow = w.overflow;
	assert_true(w.p >= buf && w.p <= buf + cap);
	return jw_len(&w, buf);
}

static void test_overflow_guard(void **state)
{
	static const char expected[] =
		"{\"n\":-9223372036854775808,\"s\":\"tab\\there \xc3\xa9 bad"
		FFFD " \\\"q\\\"\",\"t\":\"NAME\",\"b\":\"\\u0000x\\u00ff\\n\","
		"\"a\":[18446744073709551615,false]}\n";
	unsigned char full[512];
	unsigned char buf[512 + GUARD_LEN];
	bool overflow;
	size_t need;

	(void)state;
	need = write_sample((char *)full, sizeof(full), &overflow);
	assert_false(overflow);
	assert_int_equal(need, strlen(expected));
	assert_memory_equal(full, expected, need);

	for (size_t cap = 0; cap <= need; cap++) {
		size_t len;

		memset(buf, GUARD, sizeof(buf));
		len = write_sample((char *)buf, cap, &overflow);
		assert_true(len <= cap);
		assert_guard(buf + cap, GUARD_LEN);
		if (cap < need) {
			if (!overflow)
				fail_msg("cap %zu < %zu but no overflow", cap, need);
		} else {
			assert_false(overflow);
			assert_int_equal(len, need);
			assert_memory_equal(buf, full, need);
		}
	}
}

static void test_overflow_sticky(void **state)
{
	char buf[16 + GUARD_LEN];
	struct jw w;

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	jw_init(&w, buf, 8);
	jw_cstr(&w, "0123456789");
	assert_true(w.overflow);
	jw_char(&w, 'x'); /* may or may not be written: the flag stays */
	jw_u64(&w, 1);
	assert_true(w.overflow);
	assert_true(jw_len(&w, buf) <= 8);
	assert_guard((unsigned char *)buf + 8, GUARD_LEN);

	/* A zero-capacity writer never writes. */
	memset(buf, GUARD, sizeof(buf));
	jw_init(&w, buf, 0);
	jw_obj_begin(&w);
	jw_kv_str(&w, "k", "v");
	assert_true(w.overflow);
	assert_int_equal(jw_len(&w, buf), 0);
	assert_guard((unsigned char *)buf, sizeof(buf));

	/* Escapes and multibyte characters near the end are never split. */
	for (size_t cap = 0; cap < 16; cap++) {
		memset(buf, GUARD, sizeof(buf));
		jw_init(&w, buf, cap);
		jw_str(&w, "\x01\xc3\xa9\x80", 4);
		assert_guard((unsigned char *)buf + cap, GUARD_LEN);
		assert_int_equal(w.overflow, cap < 2 + 6 + 2 + 3);
	}
}

static void test_escape_text_consumed(void **state)
{
	char dst[64];
	size_t consumed = 99;
	size_t n;

	(void)state;
	/* "ab\n": the escape needs two bytes, so cap 3 stops before it. */
	n = json_escape_text(dst, 3, "ab\n", 3, &consumed);
	assert_int_equal(n, 2);
	assert_int_equal(consumed, 2);
	assert_memory_equal(dst, "ab", 2);
	n = json_escape_text(dst, 4, "ab\n", 3, &consumed);
	assert_int_equal(n, 4);
	assert_int_equal(consumed, 3);
	assert_memory_equal(dst, "ab\\n", 4);

	/* \u0001 is all or nothing. */
	n = json_escape_text(dst, 5, "\x01", 1, &consumed);
	assert_int_equal(n, 0);
	assert_int_equal(consumed, 0);
	n = json_escape_text(dst, 6, "\x01", 1, &consumed);
	assert_int_equal(n, 6);
	assert_int_equal(consumed, 1);
	assert_memory_equal(dst, "\\u0001", 6);

	/* A multibyte character is never split. */
	n = json_escape_text(dst, 1, "\xe2\x82\xac", 3, &consumed);
	assert_int_equal(n, 0);
	assert_int_equal(consumed, 0);
	n = json_escape_text(dst, 3, "\xe2\x82\xac", 3, &consumed);
	assert_int_equal(n, 3);
	assert_int_equal(consumed, 3);

	/* A replaced byte consumes one input byte for three output bytes. */
	n = json_escape_text(dst, 2, "\x80", 1, &consumed);
	assert_int_equal(n, 0);
	assert_int_equal(consumed, 0);
	n = json_escape_text(dst, 3, "\x80\x80", 2, &consumed);
	assert_int_equal(n, 3);
	assert_int_equal(consumed, 1);
	assert_memory_equal(dst, FFFD, 3);

	/* consumed may be NULL; empty input writes nothing. */
	assert_int_equal(json_escape_text(dst, sizeof(dst), "x\"", 2, NULL), 3);
	assert_memory_equal(dst, "x\\\"", 3);
	assert_int_equal(json_escape_text(dst, sizeof(dst), "", 0, &consumed), 0);
	assert_int_equal(consumed, 0);
}

/* For every capacity, the output is exactly the escape of the consumed
 * prefix: never a partial escape, never past cap. */
static void test_escape_text_every_cap(void **state)
{
	static const char in[] = "a\"\\\n\x01\xc3\xa9\x80\xf0\x9f\x98\x80z\xed\xa0\x80";
	const size_t n = sizeof(in) - 1;
	char full[128];
	char prefix[128];
	unsigned char buf[128 + GUARD_LEN];
	size_t full_len, consumed;

	(void)state;
	full_len = json_escape_text(full, sizeof(full), in, n, &consumed);
	assert_int_equal(consumed, n);
	assert_int_equal(full_len, 1 + 2 + 2 + 2 + 6 + 2 + 3 + 4 + 1 + 9);

	for (size_t cap = 0; cap <= full_len; cap++) {
		size_t len, plen, pc;

		memset(buf, GUARD, sizeof(buf));
		len = json_escape_text((char *)buf, cap, in, n, &consumed);
		assert_true(len <= cap);
		assert_true(consumed <= n);
		assert_guard(buf + cap, GUARD_LEN);
		plen = json_escape_text(prefix, sizeof(prefix), in, consumed, &pc);
		assert_int_equal(pc, consumed);
		assert_int_equal(plen, len);
		assert_memory_equal(buf, prefix, len);
		assert_int_equal(consumed == n, cap == full_len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_lengths),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_string_utf8_kept),
		cmocka_unit_test(test_string_invalid_utf8),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_object_array_commas),
		cmocka_unit_test(test_overflow_guard),
		cmocka_unit_test(test_overflow_sticky),
		cmocka_unit_test(test_escape_text_consumed),
		cmocka_unit_test(test_escape_text_every_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
