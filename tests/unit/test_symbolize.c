/* symbolize: reading addr2line's answers (blocks per address, inlined
 * levels, unknown names and lines, discriminators, output cut short or
 * garbled), what a frame shows, and running addr2line for real: once per
 * module, never for a module that is not there, and without harm when the
 * program is missing or exits without reading. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/symbolize.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void parse(const char *text, const uint64_t *addrs, size_t n, struct sym_result *res,
		  size_t blocks)
{
	memset(res, 0, n * sizeof(*res));
	assert_int_equal(sym_parse(text, strlen(text), addrs, n, res), blocks);
}

static void free_all(struct sym_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sym_result_free(&res[i]);
}

static void blocks_and_inlined_levels(void **state)
{
	static const uint64_t addrs[] = { 0x1209, 0x1046, 0x0 };
	const char *out = "0x0000000000001209\n"
			  "db_connect\n"
			  "/src/app/callers.c:56\n"
			  "0x0000000000001046\n"
			  "f\n"
			  "/tmp/inl.c:1 (discriminator 3)\n"
			  "main\n"
			  "/tmp/inl.c:3\n"
			  "0x0000000000000000\n"
			  "??\n"
			  "??:0\n";
	struct sym_result res[3];

	(void)state;
	parse(out, addrs, 3, res, 3);
	assert_int_equal(res[0].nlocs, 1);
	assert_string_equal(res[0].locs[0].func, "db_connect");
	assert_string_equal(res[0].locs[0].file, "/src/app/callers.c");
	assert_int_equal(res[0].locs[0].line, 56);
	assert_int_equal(res[1].nlocs, 2);
	assert_string_equal(res[1].locs[0].func, "f");
	assert_string_equal(res[1].locs[0].file, "/tmp/inl.c");
	assert_int_equal(res[1].locs[0].line, 1);
	assert_string_equal(res[1].locs[1].func, "main");
	assert_int_equal(res[1].locs[1].line, 3);
	assert_int_equal(res[2].nlocs, 1);
	assert_null(res[2].locs[0].func);
	assert_null(res[2].locs[0].file);
	assert_int_equal(res[2].locs[0].line, 0);
	free_all(res, 3);
}

static void unknown_lines_and_names(void **state)
{
	static const uint64_t addrs[] = { 0x10, 0x20 };
	/* A program without debug information: the symbol table's name only.
	 * C++ names, demangled, contain spaces and colons. */
	const char *out = "0x0000000000000010\n"
			  "health_check\n"
			  "??:?\n"
			  "0x0000000000000020\n"
			  "ns::Db::connect(int, char const*)\n"
			  "/src/db.cc:?\n";
	struct sym_result res[2];

	(void)state;
	parse(out, addrs, 2, res, 2);
	assert_string_equal(res[0].locs[0].func, "health_check");
	assert_null(res[0].locs[0].file);
	assert_int_equal(res[0].locs[0].line, 0);
	assert_string_equal(res[1].locs[0].func, "ns::Db::connect(int, char const*)");
	assert_string_equal(res[1].locs[0].file, "/src/db.cc");
	assert_int_equal(res[1].locs[0].line, 0);
	free_all(res, 2);
}

static void cut_short_and_garbled(void **state)
{
	static const uint64_t addrs[] = { 0x10, 0x20, 0x30 };
	struct sym_result res[3];

	(void)state;
	/* Killed in the middle of the second block: the first is kept. */
	parse("0x10\nf\na.c:1\n0x20\ng\nb.c:", addrs, 3, res, 2);
	assert_int_equal(res[0].nlocs, 1);
	assert_int_equal(res[1].nlocs, 0);
	assert_int_equal(res[2].nlocs, 0);
	free_all(res, 3);
	/* Lines before any address, an address that is not the next one
	 * asked for, no trailing pair. */
	parse("addr2line: warning\n0x30\nf\na.c:1\n", addrs, 3, res, 0);
	free_all(res, 3);
	parse("0x10\nf\na.c:7\n0x30\nh\nc.c:9\n", addrs, 3, res, 1);
	/* 0x30 is not the block of 0x20: it stays with 0x10's lines. */
	assert_int_equal(res[0].nlocs, 2);
	assert_int_equal(res[1].nlocs, 0);
	free_all(res, 3);
	parse("", addrs, 3, res, 0);
	free_all(res, 3);
}

static void locations(void **state)
{
	unsigned long line;
	char *f;

	(void)state;
	f = sym_parse_location("/a/b.c:12", 9, &line);
	assert_string_equal(f, "/a/b.c");
	assert_int_equal(line, 12);
	free(f);
	f = sym_parse_location("b.c:7 (discriminator 2)", 23, &line);
	assert_string_equal(f, "b.c");
	assert_int_equal(line, 7);
	free(f);
	f = sym_parse_location("C:/x:y/b.c:40", 13, &line);
	assert_string_equal(f, "C:/x:y/b.c");
	assert_int_equal(line, 40);
	free(f);
	assert_null(sym_parse_location("??:0", 4, &line));
	assert_int_equal(line, 0);
	assert_null(sym_parse_location("??:?", 4, &line));
	assert_null(sym_parse_location("nocolon", 7, &line));
	assert_null(sym_parse_location(":12", 3, &line));
}

static void describe_frames(void **state)
{
	json_t *j = json_loads("{\"ip\":\"0x55d0c2a1b2c3\",\"module\":\"/usr/bin/app\","
			       "\"offset\":\"0x1b2c2\",\"func\":\"db_connect+0x52\"}",
			       0, NULL);
	struct sym_frame f;
	struct sym_loc line = { "db_connect", "/src/app/db.c", 54 };
	struct sym_loc noline = { "db_connect", NULL, 0 };
	char func[64], where[64];

	(void)state;
	assert_non_null(j);
	assert_true(sym_frame_decode(j, &f));
	assert_true(f.has_offset);
	assert_int_equal(f.offset, 0x1b2c2);
	assert_true(sym_describe(&f, &line, true, func, sizeof(func), where, sizeof(where)));
	assert_string_equal(func, "db_connect");
	assert_string_equal(where, "db.c:54");
	assert_true(sym_describe(&f, &line, false, func, sizeof(func), where, sizeof(where)));
	assert_string_equal(where, "/src/app/db.c:54");
	assert_false(sym_describe(&f, &noline, true, func, sizeof(func), where, sizeof(where)));
	assert_string_equal(func, "db_connect+0x52");
	assert_string_equal(where, "app+0x1b2c2");
	assert_false(sym_describe(&f, NULL, false, func, sizeof(func), where, sizeof(where)));
	assert_string_equal(where, "/usr/bin/app+0x1b2c2");
	json_decref(j);

	/* No module: the ip; no name at all: "?"; odd bytes made ASCII. */
	j = json_loads("{\"ip\":\"0x1000\",\"func\":\"f\\u00e9\"}", 0, NULL);
	assert_true(sym_frame_decode(j, &f));
	assert_false(f.has_offset);
	sym_describe(&f, NULL, true, func, sizeof(func), where, sizeof(where));
	assert_string_equal(func, "f??");
	assert_string_equal(where, "0x1000");
	json_decref(j);
	j = json_loads("{\"module\":\"/lib/x.so\",\"offset\":\"zz\"}", 0, NULL);
	assert_true(sym_frame_decode(j, &f));
	assert_false(f.has_offset);
	sym_describe(&f, NULL, true, func, sizeof(func), where, sizeof(where));
	assert_string_equal(func, "?");
	assert_string_equal(where, "x.so");
	json_decref(j);
	j = json_string("not a frame");
	assert_false(sym_frame_decode(j, &f));
	json_decref(j);
}

__attribute__((noinline)) static int here(int x)
{
	return x * 3 + 1;
}

static void real_runs(void **state)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct symbolizer *s;
	const struct sym_result *r;
	Dl_info info;
	uint64_t off;

	(void)state;
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(here(1), 4);
	/* Through an integer: ISO C has no function to object pointer cast. */
	uintptr_t addr = (uintptr_t)here;
	assert_true(dladdr((void *)addr, &info) != 0);
	off = (uint64_t)(addr - (uintptr_t)info.dli_fbase);

	/* none: nothing run, frames as recorded. */
	s = sym_new("none", "test");
	r = sym_get(s, exe, off);
	assert_int_equal(r->nlocs, 0);
	assert_int_equal(sym_runs(s), 0);
	sym_free(s);

	/* A module that is not there: addr2line is not even started. */
	s = sym_new("addr2line", "test");
	sym_want(s, "/nonexistent/module.so", 0x10);
	sym_resolve(s);
	assert_int_equal(sym_get(s, "/nonexistent/module.so", 0x10)->nlocs, 0);
	assert_int_equal(sym_runs(s), 0);
	sym_free(s);

	/* A program that is not there: said once, then nothing is tried. */
	s = sym_new("/nonexistent/addr2line", "test");
	sym_want(s, exe, off);
	sym_resolve(s);
	assert_int_equal(sym_get(s, exe, off)->nlocs, 0);
	assert_int_equal(sym_runs(s), 0);
	sym_free(s);

	/* One that exits without reading its input (far more than a pipe
	 * holds): no SIGPIPE, nothing resolved. */
	s = sym_new("true", "test");
	for (uint64_t a = 0; a < 20000; a++)
		sym_want(s, exe, a * 16);
	sym_resolve(s);
	assert_int_equal(sym_runs(s), 1);
	assert_int_equal(sym_get(s, exe, 16)->nlocs, 0);
	sym_free(s);

	/* addr2line itself, when binutils is installed: one run for the
	 * module however many addresses, each resolved once. */
	if (access("/usr/bin/addr2line", X_OK) != 0) {
		print_message("addr2line not installed: real run skipped\n");
		return;
	}
	s = sym_new("addr2line", "test");
	sym_want(s, exe, off);
	sym_want(s, exe, off);
	sym_want(s, exe, off + 1);
	sym_resolve(s);
	assert_int_equal(sym_runs(s), 1);
	r = sym_get(s, exe, off);
	assert_true(r->nlocs >= 1);
	assert_non_null(r->locs[0].func);
	assert_string_equal(r->locs[0].func, "here");
	if (r->locs[0].file) /* built with -g */
		assert_non_null(strstr(r->locs[0].file, "test_symbolize.c"));
	assert_true(sym_get(s, exe, off + 1)->nlocs >= 1);
	assert_int_equal(sym_runs(s), 1);
	/* Asked later, never wanted: resolved on the spot. */
	assert_true(sym_get(s, exe, off + 2)->nlocs >= 1);
	assert_int_equal(sym_runs(s), 2);
	sym_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocks_and_inlined_levels),
		cmocka_unit_test(unknown_lines_and_names),
		cmocka_unit_test(cut_short_and_garbled),
		cmocka_unit_test(locations),
		cmocka_unit_test(describe_frames),
		cmocka_unit_test(real_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
