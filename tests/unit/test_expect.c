/* expect: the parser of expect lines, and the verdict they give over
 * small traces written here (each condition made to pass and to fail). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "expect.h"
#include "rules.h"
#include "verdict/scenario.h"
#include "verdict/verdict.h"
#include "trace_fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_MSGS 8

struct msgs {
	size_t n;
	char text[MAX_MSGS][512];
};

static struct st_rule rules_mem[16];
static struct st_expect expects_mem[16];
static struct st_expectset expects;
static struct st_ruleset set;
static struct msgs msgs;

static void collect(void *ctx, const char *message)
{
	struct msgs *m = ctx;

	if (m->n < MAX_MSGS)
		snprintf(m->text[m->n++], sizeof(m->text[0]), "%s", message);
}

/* Parses text as a scenario file (with_expects) or as the shim does. */
static int parse_as(const char *text, bool with_expects, bool split)
{
	memset(rules_mem, 0x5a, sizeof(rules_mem));
	memset(expects_mem, 0x5a, sizeof(expects_mem));
	memset(&msgs, 0, sizeof(msgs));
	expects = (struct st_expectset){ expects_mem, 0, 16 };
	set = (struct st_ruleset){ rules_mem, 0, 16, with_expects ? &expects : NULL };
	return st_rules_parse(&set, "s.scn", text, strlen(text), split, collect, &msgs);
}

static int parse(const char *text)
{
	return parse_as(text, true, false);
}

static void assert_error(const char *text, const char *message)
{
	assert_int_equal(parse(text), 1);
	if (!strstr(msgs.text[0], message))
		fail_msg("for '%s'\n  got:  %s\n  want: %s", text, msgs.text[0], message);
}

static void test_conditions(void **state)
{
	(void)state;
	assert_int_equal(parse("expect connect port=5432 count>=4 ok=1 failed<3 faults>0 succeeds\n"
			       "expect recv,read peer=10.0.0.0/8 bytes>=4kB recovery<=1.5s never=ECONNRESET,ETIMEDOUT\n"
			       "expect getaddrinfo host=*.internal never=EAI_AGAIN\n"
			       "expect send never=any prog=x\n"),
			 1); /* the last: a selection word after a condition */
	assert_int_equal(expects.count, 3);
	const struct st_expect *e = &expects.v[0];
	assert_string_equal(e->sel.origin, "s.scn:1");
	assert_int_equal(e->nchecks, 5);
	assert_int_equal(e->checks[0].kind, ST_CHECK_COUNT);
	assert_int_equal(e->checks[0].cmp, ST_CMP_GE);
	assert_int_equal(e->checks[0].value, 4);
	assert_int_equal(e->checks[1].kind, ST_CHECK_OK);
	assert_int_equal(e->checks[1].cmp, ST_CMP_EQ);
	assert_int_equal(e->checks[2].cmp, ST_CMP_LT);
	assert_int_equal(e->checks[3].cmp, ST_CMP_GT);
	assert_int_equal(e->checks[4].kind, ST_CHECK_SUCCEEDS);
	assert_string_equal(e->text, "expect connect port=5432 count>=4 ok=1 failed<3 faults>0 succeeds");

	e = &expects.v[1];
	assert_int_equal(e->checks[0].kind, ST_CHECK_BYTES);
	assert_int_equal(e->checks[0].value, 4000);
	assert_int_equal(e->checks[1].kind, ST_CHECK_RECOVERY);
	assert_int_equal(e->checks[1].value, 1500000000ull);
	assert_int_equal(e->checks[2].kind, ST_CHECK_NEVER);
	assert_int_equal(e->checks[2].nnever, 2);
	assert_string_equal(e->text, "expect recv,read peer=10.0.0.0/8 bytes>=4kB recovery<=1500ms never=ECONNRESET,ETIMEDOUT");
	assert_true(expects.v[2].checks[0].never_eai[0]);
	assert_string_equal(msgs.text[0],
			    "s.scn:4:23: selection words come before the conditions: move prog=x before never=any");
}

static void test_errors(void **state)
{
	(void)state;
	assert_error("expect", "s.scn:1:1: expect what?");
	assert_error("expect connect", "s.scn:1:15: no condition; add one");
	assert_error("expect conect count=1", "s.scn:1:8: unknown call 'conect'; did you mean 'connect'?");
	assert_error("expect connect cont>=1", "s.scn:1:16: unknown condition 'cont'; did you mean 'count'?");
	assert_error("expect connect count", "s.scn:1:16: count needs a comparison");
	assert_error("expect connect count>=x", "s.scn:1:23: count: 'x' is not a count");
	assert_error("expect recv bytes>=4q", "s.scn:1:20: bytes: '4q' is not a size");
	assert_error("expect connect recovery>2s", "recovery is a bound");
	assert_error("expect connect recovery<soon", "'soon' is not a duration");
	assert_error("expect recv never=EPIPE", "s.scn:1:19: none of recv ever fails with EPIPE");
	assert_error("expect recv never=ECONNRESTE", "unknown errno 'ECONNRESTE'");
	assert_error("expect connect error=ECONNREFUSED count=1",
		     "s.scn:1:16: error is a word of fault rules");
	assert_error("expect connect port=99999 count=1", "s.scn:1:21: port=99999");
	assert_error("expect connect banana", "'banana' is not a selection word or a condition");
}

/* The shim skips expect lines; inline rules may not hold them. */
static void test_shim_and_inline(void **state)
{
	(void)state;
	assert_int_equal(parse_as("connect error=ECONNREFUSED\nexpect connect nonsense\n", false, false), 0);
	assert_int_equal(set.count, 1);
	assert_int_equal(parse_as("connect error=ECONNREFUSED;expect connect count=1", true, true), 1);
	assert_non_null(strstr(msgs.text[0], "s.scn:2:1: expect lines belong in a scenario file"));
}

static void test_optional_rule(void **state)
{
	char text[ST_RULE_TEXT_MAX];

	(void)state;
	assert_int_equal(parse("connect error=ECONNREFUSED optional\n"), 0);
	assert_true(rules_mem[0].optional);
	st_rule_format(&rules_mem[0], text, sizeof(text));
	assert_string_equal(text, "connect error=ECONNREFUSED optional");
}

static void test_sizes(void **state)
{
	uint64_t v;
	char buf[32];

	(void)state;
	assert_true(st_parse_size("0", &v) && v == 0);
	assert_true(st_parse_size("1MiB", &v) && v == 1048576);
	assert_true(st_parse_size("1.5k", &v) && v == 1500);
	assert_false(st_parse_size("1.5", &v));
	assert_false(st_parse_size("-1", &v));
	st_format_size(4096, buf, sizeof(buf));
	assert_string_equal(buf, "4KiB");
	st_format_size(12, buf, sizeof(buf));
	assert_string_equal(buf, "12");
}

/* A client (pid 20, prog "cli") whose first connect is refused by a
 * fault of s.scn:1, then gets through 300 ms later and moves 12 bytes;
 * a recv that is reset at the end. */
#define CALL(ts, dur, rest) \
	"{\"rec\":\"call\",\"ts\":" #ts ",\"dur\":" #dur ",\"pid\":20,\"tid\":20," rest "}\n"
static const char client_trace[] =
	HDR(20, 1, "cli")
	CALL(1000000, 1000, "\"fn\":\"connect\",\"fd\":3,\"ret\":-1,\"errno\":\"ECONNREFUSED\","
	     "\"addr\":\"127.0.0.1:5432\",\"fault\":{\"rule\":\"s.scn:1\","
	     "\"text\":\"connect port=5432 when=1 error=ECONNREFUSED\",\"action\":\"error\","
	     "\"nth\":1,\"made\":false}")
	CALL(2000000, 1000, "\"fn\":\"connect\",\"fd\":3,\"ret\":-1,\"errno\":\"EINPROGRESS\","
	     "\"addr\":\"127.0.0.1:5432\"")
	CALL(301000000, 1000, "\"fn\":\"connect\",\"fd\":4,\"ret\":0,\"addr\":\"127.0.0.1:5432\","
	     "\"local\":\"127.0.0.1:40000\",\"peer\":\"127.0.0.1:5432\"")
	CALL(302000000, 1000, "\"fn\":\"send\",\"fd\":4,\"ret\":5,\"len\":5,\"bytes\":5,"
	     "\"local\":\"127.0.0.1:40000\",\"peer\":\"127.0.0.1:5432\"")
	CALL(303000000, 1000, "\"fn\":\"recv\",\"fd\":4,\"ret\":7,\"len\":64,\"bytes\":7,"
	     "\"local\":\"127.0.0.1:40000\",\"peer\":\"127.0.0.1:5432\"")
	CALL(304000000, 1000, "\"fn\":\"recv\",\"fd\":4,\"ret\":-1,\"len\":64,\"errno\":\"ECONNRESET\","
	     "\"local\":\"127.0.0.1:40000\",\"peer\":\"127.0.0.1:5432\"")
	"{\"rec\":\"end\",\"ts\":305000000,\"pid\":20,\"reason\":\"exit\",\"dropped\":0}\n";

struct verdict_case {
	const char *line;
	bool pass;
	const char *seen; /* part of what the result says it saw */
};

/* Loads the scenario text (named as the fault events name it: s.scn) and
 * judges it over the trace directory dir. */
static void judge(const char *dir, const char *text, struct st_scenario *sc, struct verdict *v)
{
	const char *paths[] = { dir };

	memset(sc, 0, sizeof(*sc));
	assert_int_equal(st_scenario_load_file_text(sc, "s.scn", text), 0);
	assert_int_equal(verdict_eval(v, sc, paths, 1), 0);
}

static void judged_free(struct st_scenario *sc, struct verdict *v)
{
	verdict_free(v);
	st_scenario_free(sc);
}

static void check_cases(const struct verdict_case *cases, size_t n)
{
	char *dir = fixture_dir();

	fixture_write(dir, "cli.20.jsonl", client_trace, 0);
	for (size_t i = 0; i < n; i++) {
		char text[1024];
		struct st_scenario sc;
		struct verdict v;

		snprintf(text, sizeof(text), "%s\n%s\n", "connect port=5432 error=ECONNREFUSED when=1",
			 cases[i].line);
		judge(dir, text, &sc, &v);
		assert_int_equal(v.count, 2);
		assert_true(v.results[1].pass); /* the rule acted */
		if (v.results[0].pass != cases[i].pass || !strstr(v.results[0].seen, cases[i].seen))
			fail_msg("%s: %s, seen '%s' (want %s, '%s')", cases[i].line,
				 v.results[0].pass ? "pass" : "FAIL", v.results[0].seen,
				 cases[i].pass ? "pass" : "FAIL", cases[i].seen);
		judged_free(&sc, &v);
	}
	fixture_rm(dir);
}

static void test_verdict_each_condition(void **state)
{
	static const struct verdict_case cases[] = {
		{ "expect connect count=3", true, "3 calls" },
		{ "expect connect count>=4", false, "3 calls" },
		{ "expect connect port=5432 ok=1", true, "1 call that succeeded" },
		{ "expect connect port=80 count=0", true, "0 calls" },
		/* EINPROGRESS is "not yet": neither failed nor a success */
		{ "expect connect failed=1", true, "1 call that failed" },
		{ "expect connect failed=0", false, "1 call that failed" },
		{ "expect connect faults>=1", true, "1 call a fault acted on" },
		{ "expect connect faults=0", false, "1 call a fault acted on" },
		{ "expect connect succeeds", true, "last: connect ok" },
		{ "expect recv succeeds", false, "last: recv ECONNRESET" },
		{ "expect send succeeds", true, "last: send ok" },
		{ "expect accept succeeds", false, "no call concluded" },
		{ "expect send,recv bytes>=12", true, "12 bytes on the busiest connection" },
		{ "expect send,recv bytes>=13", false, "12 bytes" },
		{ "expect recv bytes=7", true, "7 bytes" },
		{ "expect connect recovery<1s", true, "recovered in 300.0ms" },
		{ "expect connect recovery<100ms", false, "recovered in 300.0ms" },
		{ "expect send recovery<1s", false, "nothing to recover from" },
		{ "expect recv recovery<1s", false, "never recovered" },
		{ "expect connect never=ECONNRESET", true, "none (3 calls)" },
		{ "expect recv never=ECONNRESET", false, "1 call, first: recv ECONNRESET" },
		{ "expect send never=any", true, "none" },
		{ "expect connect never=any", false, "2 calls, first: connect ECONNREFUSED" },
		/* selection: after= counts from the process start (0 here) */
		{ "expect connect after=100ms count=1", true, "1 call" },
		{ "expect connect for=100ms count=2", true, "2 calls" },
		{ "expect connect prog=cli count=3", true, "3 calls" },
		{ "expect connect prog=srv count=0", true, "0 calls" },
		{ "expect connect peer=127.0.0.1:5432 count=3", true, "3 calls" },
		{ "expect recv local=127.0.0.1 count=2", true, "2 calls" },
	};

	(void)state;
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* caller= selects on the record's stack: one rule's caller is in it (the
 * call matched, when= picked none), the other's is not. */
static void test_verdict_rule_caller(void **state)
{
	static const char trace[] =
		HDR(21, 1, "cli")
		CALL(1000000, 1000, "\"fn\":\"send\",\"fd\":4,\"ret\":5,\"len\":5,\"bytes\":5,"
		     "\"stack\":[{\"pc\":\"0x401000\",\"func\":\"flush+0x10\","
		     "\"module\":\"/usr/bin/cli\"},{\"pc\":\"0x401200\",\"func\":\"main+0x22\","
		     "\"module\":\"/usr/bin/cli\"}]")
		"{\"rec\":\"end\",\"ts\":2000000,\"pid\":21,\"reason\":\"exit\",\"dropped\":0}\n";
	char *dir = fixture_dir();
	struct st_scenario sc;
	struct verdict v;

	(void)state;
	fixture_write(dir, "cli.21.jsonl", trace, 0);
	judge(dir,
	      "send caller=flush error=EPIPE when=9\n"
	      "send caller=cli:nosuch error=EPIPE\n"
	      "expect send count=1\n",
	      &sc, &v);
	assert_int_equal(v.count, 3);
	assert_false(v.results[1].pass);
	assert_non_null(strstr(v.results[1].seen, "1 calls matched, when=/prob=/after= picked none"));
	assert_false(v.results[2].pass);
	assert_non_null(strstr(v.results[2].seen, "none of 1 send calls matched its selection"));
	judged_free(&sc, &v);
	fixture_rm(dir);
}

/* A rule that never acts fails the verdict unless it is optional. */
static void test_verdict_rule_never_acted(void **state)
{
	char *dir = fixture_dir();
	struct st_scenario sc;
	struct verdict v;

	(void)state;
	fixture_write(dir, "cli.20.jsonl", client_trace, 0);
	judge(dir,
	      "connect port=5432 error=ECONNREFUSED when=1\n"
	      "connect port=80 error=ECONNREFUSED\n"
	      "recv port=5432 delay=1s optional\n"
	      "send port=5432 error=EPIPE when=9\n"
	      "expect connect count>=1\n",
	      &sc, &v);
	assert_int_equal(v.count, 5);
	assert_int_equal(v.failed, 2);
	assert_true(v.results[1].pass);
	assert_false(v.results[2].pass);
	assert_non_null(strstr(v.results[2].seen, "none of 3 connect calls matched its selection"));
	assert_true(v.results[3].pass);
	assert_false(v.results[4].pass);
	assert_non_null(strstr(v.results[4].seen, "1 calls matched, when=/prob=/after= picked none"));
	judged_free(&sc, &v);
	fixture_rm(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_shim_and_inline),
		cmocka_unit_test(test_optional_rule),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_verdict_each_condition),
		cmocka_unit_test(test_verdict_rule_never_acted),
		cmocka_unit_test(test_verdict_rule_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
