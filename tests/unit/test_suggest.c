/* suggest: edit distance and "did you mean". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "suggest.h"

#include <string.h>

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(st_edit_distance("", ""), 0);
	assert_int_equal(st_edit_distance("abc", ""), 3);
	assert_int_equal(st_edit_distance("", "abc"), 3);
	assert_int_equal(st_edit_distance("same", "same"), 0);
	assert_int_equal(st_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(st_edit_distance("sitting", "kitten"), 3);
	assert_int_equal(st_edit_distance("flaw", "lawn"), 2);
	/* A swap of adjacent letters is one edit, whatever else differs. */
	assert_int_equal(st_edit_distance("ab", "ba"), 1);
	assert_int_equal(st_edit_distance("prot", "port"), 1);
	assert_int_equal(st_edit_distance("ETIMEDOTU", "ETIMEDOUT"), 1);
	assert_int_equal(st_edit_distance("aXcb", "abc"), 2);
	/* Optimal string alignment: a swapped pair is not edited again. */
	assert_int_equal(st_edit_distance("ca", "abc"), 3);
	assert_int_equal(st_edit_distance("ECONNREFUSED", "ECONREFUSED"), 1);  /* deletion */
	assert_int_equal(st_edit_distance("ECONNREFUSED", "ECONNNREFUSED"), 1); /* insertion */
	assert_int_equal(st_edit_distance("ECONNREFUSED", "ECONNREFUSEX"), 1); /* substitution */
	assert_int_equal(st_edit_distance("SOCKTRACE_OUTT", "SOCKTRACE_OUT"), 1);
	assert_int_equal(st_edit_distance("abc", "xyz"), 3);
}

static void test_distance_case_insensitive(void **state)
{
	(void)state;
	assert_int_equal(st_edit_distance("econnrefused", "ECONNREFUSED"), 0);
	assert_int_equal(st_edit_distance("Socktrace_Out", "SOCKTRACE_OUT"), 0);
	assert_int_equal(st_edit_distance("etimedout", "ETIMEDOUTS"), 1);
	/* Only letters fold: '_' and '-' differ. */
	assert_int_equal(st_edit_distance("a_b", "a-b"), 1);
}

static void test_distance_cap(void **state)
{
	char a[100], b[100];

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'a', sizeof(b));
	/* 62 characters are measured, longer strings are "too far". */
	a[62] = '\0';
	b[60] = '\0';
	assert_int_equal(st_edit_distance(a, b), 2);
	a[62] = 'a';
	a[70] = '\0';
	assert_int_equal(st_edit_distance(a, b), 255);
	assert_int_equal(st_edit_distance(b, a), 255);
	a[99] = '\0';
	b[99] = '\0';
	assert_int_equal(st_edit_distance(a, b), 255);
}

static const char *const errnos[] = {
	"ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAGAIN", "EPIPE",
};
#define NERR (sizeof(errnos) / sizeof(errnos[0]))

static void test_suggest(void **state)
{
	(void)state;
	assert_string_equal(st_suggest("ECONNREFUSD", errnos, NERR), "ECONNREFUSED");
	assert_string_equal(st_suggest("econnreset", errnos, NERR), "ECONNRESET");
	assert_string_equal(st_suggest("ETIMEOUT", errnos, NERR), "ETIMEDOUT");
	assert_string_equal(st_suggest("EAGIAN", errnos, NERR), "EAGAIN");
	/* The exact name is its own best match. */
	assert_string_equal(st_suggest("EPIPE", errnos, NERR), "EPIPE");
	assert_null(st_suggest("xyz", errnos, NERR));
	/* A transposition in a short word is within the limit. */
	static const char *const keys[] = { "prob", "port", "addr", "prog" };
	/* prob is as close (one letter changed); port has the same letters. */
	assert_string_equal(st_suggest("prot", keys, 4), "port");
	assert_null(st_suggest("ENOENT", errnos, NERR));
	assert_null(st_suggest("ECONNREFUSED", errnos, 0));
}

static void test_suggest_closest(void **state)
{
	static const char *const c[] = { "ECONNREFUSED", "ECONNRESET" };
	static const char *const tie[] = { "ab2", "ab3" };

	(void)state;
	/* Close to both: the closer one wins, whatever the order. */
	assert_string_equal(st_suggest("ECONNRESE", c, 2), "ECONNRESET");
	assert_string_equal(st_suggest("ECONNREFUSE", c, 2), "ECONNREFUSED");
	assert_string_equal(st_suggest("ECONNRESE", c + 1, 1), "ECONNRESET");
	/* Equally close: the first listed. */
	assert_string_equal(st_suggest("ab1", tie, 2), "ab2");
}

static void test_suggest_limit(void **state)
{
	static const char *const three[] = { "abcxyz" };
	static const char *const two[] = { "abcdxy" };
	static const char *const one[] = { "ac" };
	static const char *const far[] = { "cd" };

	(void)state;
	/* At most a third of the word... */
	assert_int_equal(st_edit_distance("abcdef", "abcxyz"), 3);
	assert_null(st_suggest("abcdef", three, 1));
	assert_string_equal(st_suggest("abcdef", two, 1), "abcdxy");
	/* ...but at least one edit for short words. */
	assert_string_equal(st_suggest("ab", one, 1), "ac");
	assert_null(st_suggest("ab", far, 1));
	assert_null(st_suggest("", one, 1));
	assert_string_equal(st_suggest("a", one, 1), "ac");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_distance_case_insensitive),
		cmocka_unit_test(test_distance_cap),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_suggest_closest),
		cmocka_unit_test(test_suggest_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
