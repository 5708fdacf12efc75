/* jscan and trace_fields: the reader's fast record scanner. Every line
 * the scanner accepts must be one jansson accepts, decoded to the same
 * values; what it refuses goes to jansson, so refusing is always safe
 * and accepting never is when jansson would not. Each case here checks
 * both: the expected outcome, and agreement with json_loadb. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "read/jscan.h"
#include "read/trace_fields.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether jansson, as the reader calls it, takes the line as an object. */
static bool jansson_object(const char *line, size_t n)
{
	json_error_t err;
	json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &err);
	bool ok = json_is_object(j);

	json_decref(j);
	return ok;
}

static bool same_val(const struct js_val *a, const struct js_val *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JS_INT:
		return a->i == b->i;
	case JS_STR:
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	case JS_ARR:
		return a->len == b->len;
	default:
		return true;
	}
}

/* Scans line[0..n); asserts that an accepted line is an object for jansson
 * with the same value in every slot. Returns the fields (free them), or
 * NULL when refused. */
static struct tr_fields *scan_n(const char *line, size_t n)
{
	struct tr_fields *f = tr_fields_parse(line, n, false);
	json_error_t err;
	json_t *j;

	if (!f)
		return NULL;
	j = json_loadb(line, n, JSON_ALLOW_NUL, &err);
	if (!json_is_object(j))
		fail_msg("accepted what jansson refuses: %.*s (%s)", (int)n, line, err.text);
	for (int s = 0; s < TF_NSLOTS; s++) {
		struct js_val want = tf_json_val(j, (enum tf_slot)s);
		if (!same_val(&f->v[s], &want))
			fail_msg("slot %d differs from jansson's in %.*s", s, (int)n, line);
	}
	json_decref(j);
	return f;
}

static struct tr_fields *scan(const char *line)
{
	return scan_n(line, strlen(line));
}

static void accepts(const char *line)
{
	struct tr_fields *f = scan(line);

	if (!f)
		fail_msg("refused: %s", line);
	tr_fields_free(f);
}

static void refuses_n(const char *line, size_t n, bool jansson_too)
{
	struct tr_fields *f = scan_n(line, n);

	if (f)
		fail_msg("accepted: %.*s", (int)n, line);
	if (jansson_too && jansson_object(line, n))
		fail_msg("jansson takes it, the test is wrong: %.*s", (int)n, line);
}

/* Refused by both (invalid JSON, or not an object). */
static void refuses(const char *line)
{
	refuses_n(line, strlen(line), true);
}

/* Left to jansson, which takes it. */
static void leaves_to_jansson(const char *line)
{
	refuses_n(line, strlen(line), false);
	assert_true(jansson_object(line, strlen(line)));
}

/* The string in one field of {"local": VALUE}. */
static void string_is(const char *json_value, const char *want, size_t want_len)
{
	char line[256];
	struct tr_fields *f;

	snprintf(line, sizeof(line), "{\"local\":%s}", json_value);
	f = scan(line);
	if (!f)
		fail_msg("refused: %s", line);
	assert_int_equal(f->v[TF_LOCAL].type, JS_STR);
	assert_int_equal(f->v[TF_LOCAL].len, want_len);
	assert_memory_equal(f->v[TF_LOCAL].s, want, want_len);
	assert_int_equal(f->v[TF_LOCAL].s[want_len], '\0');
	tr_fields_free(f);
}

static void a_record(void **state)
{
	static const char line[] =
		"{\"rec\":\"call\",\"ts\":818171886071,\"dur\":24877,\"pid\":3674,\"tid\":3675,"
		"\"fn\":\"send\",\"fd\":5,\"ret\":78,\"len\":78,\"flags\":\"MSG_NOSIGNAL\",\"bytes\":78,"
		"\"local\":\"127.0.0.1:39158\",\"peer\":\"127.0.0.1:8765\"}";
	struct tr_fields *f = scan(line);

	(void)state;
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_REC), "call");
	assert_int_equal(tf_int_or(f, TF_TS, 0), 818171886071LL);
	assert_int_equal(tf_int_or(f, TF_TID, 0), 3675);
	assert_string_equal(tf_str(f, TF_FN), "send");
	assert_string_equal(tf_str(f, TF_PEER), "127.0.0.1:8765");
	assert_int_equal(f->v[TF_ERRNO].type, JS_ABSENT);
	assert_int_equal(f->v[TF_FAULT].type, JS_ABSENT);
	tr_fields_free(f);
	/* Whitespace wherever JSON allows it. */
	accepts(" \t{ \"rec\" : \"call\" ,\r\n\"ts\":1 , \"fds\" : [ 3 , 4 ] } \r");
	accepts("{}");
	accepts("{ }");
}

static void escapes(void **state)
{
	(void)state;
	string_is("\"a\\nb\\t\\\"q\\\"\\\\\\/\"", "a\nb\t\"q\"\\/", 9);
	string_is("\"\\b\\f\\r\"", "\b\f\r", 3);
	string_is("\"\\u0041\\u00e9\\u00E9\"", "A\xc3\xa9\xc3\xa9", 5);
	string_is("\"\\u20ac\"", "\xe2\x82\xac", 3);
	/* A surrogate pair is one code point, four bytes of UTF-8. */
	string_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	string_is("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	/* U+0000 in a value (JSON_ALLOW_NUL): counted, kept. */
	string_is("\"a\\u0000b\"", "a\0b", 3);
	string_is("\"\"", "", 0);
	/* Raw UTF-8, one to four bytes. */
	string_is("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);

	refuses("{\"local\":\"\\ud83d\"}");          /* a high half alone */
	refuses("{\"local\":\"\\ud83dx\"}");
	refuses("{\"local\":\"\\ude00\"}");          /* a low half first */
	refuses("{\"local\":\"\\ud83d\\u0041\"}");   /* not followed by a low half */
	refuses("{\"local\":\"\\ud83d\\ud83d\"}");
	refuses("{\"local\":\"\\u12g4\"}");
	refuses("{\"local\":\"\\u12\"}");
	refuses("{\"local\":\"\\x41\"}");
	refuses("{\"local\":\"\\'\"}");
	refuses("{\"local\":\"a\tb\"}");              /* a raw control character */
	refuses("{\"local\":\"\x7f\x01\"}");
	refuses("{\"local\":\"\xc0\x80\"}");          /* overlong */
	refuses("{\"local\":\"\xe0\x80\x80\"}");
	refuses("{\"local\":\"\xf0\x80\x80\x80\"}");
	refuses("{\"local\":\"\xed\xa0\x80\"}");      /* a surrogate in UTF-8 */
	refuses("{\"local\":\"\xf4\x90\x80\x80\"}");  /* beyond U+10FFFF */
	refuses("{\"local\":\"\xf5\x80\x80\x80\"}");
	refuses("{\"local\":\"\x80\"}");              /* a stray continuation byte */
	refuses("{\"local\":\"\xc3\"}");              /* cut */
	refuses("{\"local\":\"\xe2\x82\"}");
	refuses("{\"x\":\"\xff\"}");                  /* also where nothing is kept */
	refuses("{\"x\":[\"\\ude00\"]}");
	/* Keys: escapes compared after unescaping, NUL refused. */
	{
		struct tr_fields *f = scan("{\"f\\u006e\":\"recv\",\"\\u0072ec\":\"call\"}");
		assert_non_null(f);
		assert_string_equal(tf_str(f, TF_FN), "recv");
		assert_string_equal(tf_str(f, TF_REC), "call");
		tr_fields_free(f);
	}
	refuses("{\"fn\\u0000\":1}");
	refuses("{\"a\\u0000b\":{}}");
	accepts("{\"\xc3\xa9t\xc3\xa9\":1,\"\":2}");
}

static void numbers(void **state)
{
	struct tr_fields *f;

	(void)state;
	f = scan("{\"ts\":0,\"pid\":-0,\"ret\":-1,\"bytes\":9223372036854775807,"
		 "\"fd\":-9223372036854775808,\"dur\":1.5,\"tid\":2e3,\"data_cut\":-0.0e-1}");
	assert_non_null(f);
	assert_int_equal(tf_int_or(f, TF_TS, 7), 0);
	assert_int_equal(tf_int_or(f, TF_PID, 7), 0);
	assert_int_equal(tf_int_or(f, TF_RET, 7), -1);
	assert_true(tf_int_or(f, TF_BYTES, 7) == INT64_MAX);
	assert_true(tf_int_or(f, TF_FD, 7) == INT64_MIN);
	/* Reals where integers are expected: not integers. */
	assert_int_equal(f->v[TF_DUR].type, JS_REAL);
	assert_int_equal(f->v[TF_TID].type, JS_REAL);
	assert_int_equal(f->v[TF_DATA_CUT].type, JS_REAL);
	tr_fields_free(f);
	accepts("{\"x\":1E+2,\"y\":1e-400,\"z\":123456789012345678901234567890.5}");
	accepts("{\"x\":1.7976931348623157e308}");
	/* A real too long to check here: jansson's. */
	leaves_to_jansson("{\"x\":1.000000000000000000000000000000000000000000000000000000000000000001}");
	/* Out of range: jansson's "too big integer", "real number overflow". */
	refuses("{\"x\":9223372036854775808}");
	refuses("{\"x\":-9223372036854775809}");
	refuses("{\"x\":99999999999999999999999}");
	refuses("{\"x\":1e400}");
	refuses("{\"x\":-1.8e308}");
	/* Not JSON numbers. */
	refuses("{\"x\":01}");
	refuses("{\"x\":-01}");
	refuses("{\"x\":1.}");
	refuses("{\"x\":.5}");
	refuses("{\"x\":-}");
	refuses("{\"x\":+1}");
	refuses("{\"x\":1e}");
	refuses("{\"x\":1e+}");
	refuses("{\"x\":1.5.3}");
	refuses("{\"x\":0x10}");
	refuses("{\"x\":1x}");
	refuses("{\"x\":NaN}");
	refuses("{\"x\":Infinity}");
	refuses("{\"x\":-Infinity}");
}

static void literals_and_structure(void **state)
{
	struct tr_fields *f;

	(void)state;
	f = scan("{\"fault\":{\"made\":true,\"rule\":\"r:1\",\"action\":\"error\"},\"x\":[false,null]}");
	assert_non_null(f);
	assert_int_equal(f->v[TF_FAULT].type, JS_OBJ);
	assert_int_equal(f->v[TF_FAULT_MADE].type, JS_TRUE);
	assert_string_equal(tf_str(f, TF_FAULT_RULE), "r:1");
	tr_fields_free(f);
	refuses("{\"x\":tru}");
	refuses("{\"x\":truex}");
	refuses("{\"x\":true1}");
	refuses("{\"x\":nul}");
	refuses("{\"x\":True}");
	refuses("{\"x\":1,}");
	refuses("{,\"x\":1}");
	refuses("{\"x\" 1}");
	refuses("{\"x\":}");
	refuses("{\"x\":1 \"y\":2}");
	refuses("{x:1}");
	refuses("{'x':1}");
	refuses("{\"x\":[1,]}");
	refuses("{\"x\":[,1]}");
	refuses("{\"x\":[1 2]}");
	refuses("{\"x\":{\"y\"}}");
	refuses("{\"x\":1}}");
	refuses("{\"x\":1} {}");
	refuses("{\"x\":1}x");
	refuses("");
	refuses("   ");
	refuses("\"call\"");
	refuses("42");
	refuses("\xef\xbb\xbf{}"); /* a byte order mark */
	/* Valid JSON but not an object: jansson says so ("not a JSON object"). */
	refuses_n("[1,2]", 5, false);
	assert_false(jansson_object("[1,2]", 5));
}

/* As jansson: the last of duplicate keys wins, a whole nested value too. */
static void duplicate_keys(void **state)
{
	struct tr_fields *f;

	(void)state;
	f = scan("{\"fn\":\"send\",\"fn\":\"recv\",\"ts\":1,\"ts\":\"x\"}");
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_FN), "recv");
	assert_int_equal(f->v[TF_TS].type, JS_STR);
	tr_fields_free(f);
	f = scan("{\"fault\":{\"rule\":\"a:1\",\"made\":true},\"fault\":null}");
	assert_non_null(f);
	assert_int_equal(f->v[TF_FAULT].type, JS_NULL);
	assert_int_equal(f->v[TF_FAULT_RULE].type, JS_ABSENT);
	assert_int_equal(f->v[TF_FAULT_MADE].type, JS_ABSENT);
	tr_fields_free(f);
	f = scan("{\"fault\":{\"rule\":\"a:1\"},\"fault\":{\"action\":\"delay\"}}");
	assert_non_null(f);
	assert_null(tf_str(f, TF_FAULT_RULE));
	assert_string_equal(tf_str(f, TF_FAULT_ACTION), "delay");
	tr_fields_free(f);
	f = scan("{\"fds\":[3,4],\"fds\":[5]}");
	assert_non_null(f);
	assert_int_equal(f->v[TF_FDS].len, 1);
	assert_int_equal(tf_int_or(f, TF_FDS0, -1), 5);
	assert_int_equal(f->v[TF_FDS1].type, JS_ABSENT);
	tr_fields_free(f);
	/* A known key's name inside another object is not that key. */
	f = scan("{\"x\":{\"fn\":\"connect\",\"rule\":\"z\"},\"rule\":\"y\"}");
	assert_non_null(f);
	assert_null(tf_str(f, TF_FN));
	assert_null(tf_str(f, TF_FAULT_RULE));
	tr_fields_free(f);
}

/* Unknown members of any shape are skipped, whatever they hold. */
static void unknown_members(void **state)
{
	struct tr_fields *f;

	(void)state;
	f = scan("{\"stack\":[{\"ip\":\"0x1\",\"module\":\"/a\\\"}]{\",\"func\":\"f+0x1\"},{}],"
		 "\"value\":{\"onoff\":1,\"linger\":[1,[2,{\"x\":\"}\"}]]},\"argv\":[],\"fn\":\"close\"}");
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_FN), "close");
	assert_int_equal(f->v[TF_VALUE].type, JS_OBJ);
	tr_fields_free(f);
}

static void nesting(void **state)
{
	char line[512];
	size_t n;

	(void)state;
	/* Up to JS_MAX_DEPTH containers, the record itself included. */
	for (int depth = JS_MAX_DEPTH - 2; depth <= JS_MAX_DEPTH + 2; depth++) {
		n = (size_t)snprintf(line, sizeof(line), "{\"x\":");
		for (int i = 1; i < depth; i++)
			line[n++] = '[';
		line[n++] = '1';
		for (int i = 1; i < depth; i++)
			line[n++] = ']';
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"fn\":\"x\"}");
		if (depth <= JS_MAX_DEPTH) {
			struct tr_fields *f = scan_n(line, n);
			assert_non_null(f);
			tr_fields_free(f);
		} else {
			/* Deeper: jansson's (it goes to 2048). */
			refuses_n(line, n, false);
			assert_true(jansson_object(line, n));
		}
	}
	/* Unbalanced. */
	refuses("{\"x\":[[1]}");
	refuses("{\"x\":[1]]}");
	refuses("{\"x\":{\"y\":1}");
}

/* Every proper prefix of a record is refused, as by jansson: a record
 * cut by a killed writer is never taken for a whole one. */
static void truncation(void **state)
{
	static const char line[] =
		"{\"rec\":\"call\",\"ts\":12,\"pid\":1,\"fn\":\"send\",\"data\":\"a\\u00e9\\ud83d\\ude00\","
		"\"fault\":{\"rule\":\"f:1\",\"made\":false},\"fds\":[1,2],\"x\":-1.5e3,\"y\":null}";
	size_t n = sizeof(line) - 1;

	(void)state;
	for (size_t k = 0; k < n; k++)
		refuses_n(line, k, true);
	accepts(line);
}

/* The per-record arena never overflows: strings made only of escapes
 * shrink, never grow. */
static void arena_bound(void **state)
{
	char line[4096];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(line + n, sizeof(line) - n, "{\"data\":\"");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\\ud83d\\ude00\\n\\u0000");
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"\\u0066\\u006e\":\"\\u00ff\"}");
	struct tr_fields *f = scan_n(line, n);
	assert_non_null(f);
	assert_int_equal(f->v[TF_DATA].len, 200 * 6);
	assert_string_equal(tf_str(f, TF_FN), "\xc3\xbf");
	tr_fields_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_record),
		cmocka_unit_test(escapes),
		cmocka_unit_test(numbers),
		cmocka_unit_test(literals_and_structure),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(unknown_members),
		cmocka_unit_test(nesting),
		cmocka_unit_test(truncation),
		cmocka_unit_test(arena_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
