/* config: SOCKTRACE_* variables, read through a fake getter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CWD "/home/user/work"

/* The fake environment: name/value pairs, NULL-terminated. */
struct var {
	const char *name;
	const char *value;
};

static const struct var *vars;

static const char *fake_get(const char *name)
{
	for (const struct var *v = vars; v && v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v->value;
	return NULL;
}

#define MAX_MSGS 8

struct msgs {
	size_t n;
	char text[MAX_MSGS][512];
};

static void collect(void *ctx, const char *message)
{
	struct msgs *m = ctx;

	assert_non_null(message);
	if (m->n >= MAX_MSGS)
		fail_msg("too many messages; last: %s", message);
	snprintf(m->text[m->n++], sizeof(m->text[0]), "%s", message);
}

static struct st_config cfg;
static struct msgs msgs;

static void load_env(const struct var *v, char *const *env, const char *cwd)
{
	/* Garbage first: load must set every field. */
	memset(&cfg, 0x5a, sizeof(cfg));
	memset(&msgs, 0, sizeof(msgs));
	vars = v;
	st_config_load(&cfg, fake_get, env, cwd, collect, &msgs);
}

static void load(const struct var *v)
{
	load_env(v, NULL, CWD);
}

static void assert_no_msgs(void)
{
	if (msgs.n)
		fail_msg("unexpected message: %s", msgs.text[0]);
}

static void assert_one_msg(const char *expected)
{
	if (msgs.n != 1)
		fail_msg("%zu messages, expected 1: %s", msgs.n, expected);
	assert_string_equal(msgs.text[0], expected);
}

static void test_defaults(void **state)
{
	static const struct var none[] = { { NULL, NULL } };

	(void)state;
	load(none);
	assert_no_msgs();
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/socktrace-out");
	assert_int_equal(cfg.log, ST_LOG_STDERR);
	assert_int_equal(cfg.payload, 0);

	/* Unrelated variables change nothing. */
	static const struct var other[] = { { "HOME", "/root" }, { NULL, NULL } };
	load(other);
	assert_no_msgs();
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/socktrace-out");

}

/* The list of variables: NULL-terminated, holds the three the shim reads,
 * and none of them is ever reported as unknown. */
static void test_known_variables(void **state)
{
	static const struct var none[] = { { NULL, NULL } };
	char entries[16][64];
	char *env[17];
	bool out = false, log = false, payload = false;
	size_t n = 0;

	(void)state;
	for (; st_config_vars[n]; n++) {
		assert_true(n < 16);
		assert_memory_equal(st_config_vars[n], "SOCKTRACE_", 10);
		out |= strcmp(st_config_vars[n], "SOCKTRACE_OUT") == 0;
		log |= strcmp(st_config_vars[n], "SOCKTRACE_LOG") == 0;
		payload |= strcmp(st_config_vars[n], "SOCKTRACE_PAYLOAD") == 0;
		snprintf(entries[n], sizeof(entries[n]), "%s=x", st_config_vars[n]);
		env[n] = entries[n];
	}
	env[n] = NULL;
	assert_true(out && log && payload);
	load_env(none, env, CWD);
	assert_no_msgs();
}

static void test_out(void **state)
{
	(void)state;
	static const struct var off[] = { { "SOCKTRACE_OUT", "off" }, { NULL, NULL } };
	load(off);
	assert_no_msgs();
	assert_false(cfg.trace);

	static const struct var rel[] = { { "SOCKTRACE_OUT", "traces/run1" }, { NULL, NULL } };
	load(rel);
	assert_no_msgs();
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/traces/run1");

	static const struct var abs[] = { { "SOCKTRACE_OUT", "/var/tmp/st" }, { NULL, NULL } };
	load(abs);
	assert_no_msgs();
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, "/var/tmp/st");

	/* "OFF" is a directory name, not the keyword. */
	static const struct var upper[] = { { "SOCKTRACE_OUT", "OFF" }, { NULL, NULL } };
	load(upper);
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/OFF");

	static const struct var empty[] = { { "SOCKTRACE_OUT", "" }, { NULL, NULL } };
	load(empty);
	assert_one_msg("SOCKTRACE_OUT is empty; using 'socktrace-out' "
		       "(set a directory, or 'off' to record nothing)");
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/socktrace-out");
}

static void test_out_not_kept_by_pointer(void **state)
{
	char value[] = "/tmp/a";
	const struct var v[] = { { "SOCKTRACE_OUT", value }, { NULL, NULL } };

	(void)state;
	load(v);
	value[5] = 'b';
	assert_string_equal(cfg.out_dir, "/tmp/a");
}

static void test_out_too_long(void **state)
{
	char *path = malloc(PATH_MAX + 2);
	const struct var v[] = { { "SOCKTRACE_OUT", path }, { NULL, NULL } };
	char expected[128];

	(void)state;
	assert_non_null(path);
	/* PATH_MAX - 1 characters still fit (with the NUL). */
	memset(path, 'd', PATH_MAX - 1);
	path[0] = '/';
	path[PATH_MAX - 1] = '\0';
	load(v);
	assert_no_msgs();
	assert_true(cfg.trace);
	assert_int_equal(strlen(cfg.out_dir), PATH_MAX - 1);

	/* One more does not. */
	memset(path, 'd', PATH_MAX);
	path[0] = '/';
	path[PATH_MAX] = '\0';
	load(v);
	snprintf(expected, sizeof(expected),
		 "SOCKTRACE_OUT is longer than %d bytes; nothing will be recorded",
		 PATH_MAX - 1);
	assert_one_msg(expected);
	assert_false(cfg.trace);

	/* A relative path that only overflows once joined to the cwd. */
	memset(path, 'd', PATH_MAX - 4);
	path[PATH_MAX - 4] = '\0';
	load(v);
	assert_one_msg(expected);
	assert_false(cfg.trace);
	free(path);
}

static void test_log(void **state)
{
	(void)state;
	static const struct var off[] = { { "SOCKTRACE_LOG", "off" }, { NULL, NULL } };
	load(off);
	assert_no_msgs();
	assert_int_equal(cfg.log, ST_LOG_OFF);

	static const struct var err[] = { { "SOCKTRACE_LOG", "stderr" }, { NULL, NULL } };
	load(err);
	assert_no_msgs();
	assert_int_equal(cfg.log, ST_LOG_STDERR);

	static const struct var abs[] = { { "SOCKTRACE_LOG", "/tmp/st.log" }, { NULL, NULL } };
	load(abs);
	assert_no_msgs();
	assert_int_equal(cfg.log, ST_LOG_FILE);
	assert_string_equal(cfg.log_path, "/tmp/st.log");

	static const struct var rel[] = { { "SOCKTRACE_LOG", "st.log" }, { NULL, NULL } };
	load(rel);
	assert_no_msgs();
	assert_int_equal(cfg.log, ST_LOG_FILE);
	assert_string_equal(cfg.log_path, CWD "/st.log");

	static const struct var empty[] = { { "SOCKTRACE_LOG", "" }, { NULL, NULL } };
	load(empty);
	assert_one_msg("SOCKTRACE_LOG must be 'stderr', 'off' or a file path; using stderr");
	assert_int_equal(cfg.log, ST_LOG_STDERR);
	/* The log setting does not affect tracing. */
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/socktrace-out");
}

static void test_payload(void **state)
{
	static const struct {
		const char *value;
		unsigned payload;
		const char *msg;
	} cases[] = {
		{ "0", 0, NULL },
		{ "1", 1, NULL },
		{ "64", 64, NULL },
		{ "1024", 1024, NULL },
		{ "1025", 1024, "SOCKTRACE_PAYLOAD=1025 is above the maximum; recording 1024 bytes per call" },
		{ "99999999999999999999999", 1024,
		  "SOCKTRACE_PAYLOAD=18446744073709551615 is above the maximum; recording 1024 bytes per call" },
		{ "abc", 0, "SOCKTRACE_PAYLOAD='abc' is not a number of bytes; payloads are not recorded (use 0..1024)" },
		{ "-5", 0, "SOCKTRACE_PAYLOAD='-5' is not a number of bytes; payloads are not recorded (use 0..1024)" },
		{ "12abc", 0, "SOCKTRACE_PAYLOAD='12abc' is not a number of bytes; payloads are not recorded (use 0..1024)" },
		{ "+5", 0, "SOCKTRACE_PAYLOAD='+5' is not a number of bytes; payloads are not recorded (use 0..1024)" },
		{ " 5", 0, "SOCKTRACE_PAYLOAD=' 5' is not a number of bytes; payloads are not recorded (use 0..1024)" },
		{ "5 ", 0, "SOCKTRACE_PAYLOAD='5 ' is not a number of bytes; payloads are not recorded (use 0..1024)" },
		{ "", 0, "SOCKTRACE_PAYLOAD='' is not a number of bytes; payloads are not recorded (use 0..1024)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct var v[] = { { "SOCKTRACE_PAYLOAD", cases[i].value }, { NULL, NULL } };

		load(v);
		if (cfg.payload != cases[i].payload)
			fail_msg("SOCKTRACE_PAYLOAD='%s': payload %u, expected %u",
				 cases[i].value, cfg.payload, cases[i].payload);
		if (cases[i].msg)
			assert_one_msg(cases[i].msg);
		else
			assert_no_msgs();
		assert_true(cfg.trace);
	}
}

static void test_unknown_variables(void **state)
{
	static const struct var v[] = { { "SOCKTRACE_OUT", "/t" }, { NULL, NULL } };
	char *const env[] = {
		"PATH=/bin",
		"SOCKTRACE_OUT=/t",
		"SOCKTRACE_OUTT=/x",
		"SOCKTRACE_PAYLOADD",           /* no '=' at all */
		"SOCKTRACE_ZZZZZZZZZZZZZZZ=1",  /* nothing close */
		"socktrace_out=lower",          /* not our prefix */
		"MY_SOCKTRACE_OUT=1",
		"SOCKTRACE_LOG=off",
		NULL,
	};

	(void)state;
	load_env(v, env, CWD);
	assert_int_equal(msgs.n, 3);
	assert_string_equal(msgs.text[0],
			    "unknown variable SOCKTRACE_OUTT ignored; did you mean SOCKTRACE_OUT?");
	assert_string_equal(msgs.text[1],
			    "unknown variable SOCKTRACE_PAYLOADD ignored; did you mean SOCKTRACE_PAYLOAD?");
	assert_string_equal(msgs.text[2],
			    "unknown variable SOCKTRACE_ZZZZZZZZZZZZZZZ ignored");
	/* The environment is only checked, never read for values. */
	assert_string_equal(cfg.out_dir, "/t");
	assert_int_equal(cfg.log, ST_LOG_STDERR);

	/* A typo in the value of a known variable is not an unknown name. */
	char *const env2[] = { "SOCKTRACE_LOG=offf", NULL };
	static const struct var none[] = { { NULL, NULL } };
	load_env(none, env2, CWD);
	assert_no_msgs();
}

static void test_several_problems(void **state)
{
	static const struct var v[] = {
		{ "SOCKTRACE_OUT", "" },
		{ "SOCKTRACE_LOG", "" },
		{ "SOCKTRACE_PAYLOAD", "x" },
		{ NULL, NULL },
	};
	char *const env[] = { "SOCKTRACE_LOGG=1", NULL };

	(void)state;
	load_env(v, env, CWD);
	assert_int_equal(msgs.n, 4);
	/* Every problem is reported, each once. */
	assert_non_null(strstr(msgs.text[0], "SOCKTRACE_LOG must be"));
	assert_non_null(strstr(msgs.text[1], "SOCKTRACE_OUT is empty"));
	assert_non_null(strstr(msgs.text[2], "SOCKTRACE_PAYLOAD='x'"));
	assert_string_equal(msgs.text[3],
			    "unknown variable SOCKTRACE_LOGG ignored; did you mean SOCKTRACE_LOG?");
	assert_true(cfg.trace);
	assert_int_equal(cfg.log, ST_LOG_STDERR);
	assert_int_equal(cfg.payload, 0);

	/* Without a callback the problems are simply not reported. */
	vars = v;
	memset(&cfg, 0x5a, sizeof(cfg));
	st_config_load(&cfg, fake_get, env, CWD, NULL, NULL);
	assert_true(cfg.trace);
	assert_string_equal(cfg.out_dir, CWD "/socktrace-out");
	assert_int_equal(cfg.payload, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_known_variables),
		cmocka_unit_test(test_out),
		cmocka_unit_test(test_out_not_kept_by_pointer),
		cmocka_unit_test(test_out_too_long),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_unknown_variables),
		cmocka_unit_test(test_several_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
