/* progname: the name a process is shown by; interpreters by their script,
 * found as the interpreter finds it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "read/progname.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__ }), \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

static void is(const char *want, const char *prog, const char *const *argv, size_t argc)
{
	char *got = prog_display_name(prog, argv, argc);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void interpreters_by_script(void **state)
{
	(void)state;
	is("srv.py", "python3.11", ARGV("python3", "srv.py", "--port", "80"));
	is("srv.py", "python3", ARGV("/usr/bin/python3", "-u", "/opt/app/srv.py"));
	is("srv.py", "python3", ARGV("python3", "-W", "ignore", "srv.py"));
	is("http.server", "python3", ARGV("python3", "-m", "http.server", "8000"));
	is("http.server", "python3", ARGV("python3", "-mhttp.server"));
	is("app.js", "node", ARGV("node", "--require", "x.js", "app.js"));
	is("deploy.sh", "bash", ARGV("bash", "-x", "./deploy.sh"));
	is("srv.pl", "perl", ARGV("perl", "-I", "lib", "srv.pl"));
	is("srv.py", "python3", ARGV("python3", "--", "srv.py"));
}

static void programs_and_inline_code_keep_their_name(void **state)
{
	(void)state;
	is("curl", "curl", ARGV("curl", "-s", "http://x/"));
	is("python3", "python3", ARGV("python3", "-c", "import socket"));
	is("python3", "python3", ARGV("python3"));
	is("sh", "sh", ARGV("sh", "-c", "echo hi"));
	is("node", "node", ARGV("node", "-e", "1"));
	is("python3", "python3", ARGV("python3", "-"));
	/* A prefix is not enough: shellcheck is not sh, nodemon is not node. */
	is("shellcheck", "shellcheck", ARGV("shellcheck", "a.sh"));
	is("nodemon", "nodemon", ARGV("nodemon", "app.js"));
	is("python3", "python3", ARGV("python3", "-m"));
	is("python3", "python3", (const char *const[]){ "python3" }, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interpreters_by_script),
		cmocka_unit_test(programs_and_inline_code_keep_their_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
