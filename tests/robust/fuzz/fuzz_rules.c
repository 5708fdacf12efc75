/* Fuzz target: the fault rule parser (preload/core/rules.c), the same code
 * the shim runs on SOCKTRACE_FAULTS and scenario files and `socktrace
 * check` runs on files.
 *
 * The first byte of the input chooses the mode (bit 0: ';' separates rules
 * as in SOCKTRACE_FAULTS; bit 1: a ruleset of 2 rules (and 2 expect lines)
 * only, so the "too many" paths are reached; bit 2: `expect` lines are
 * parsed into an expectation set, as the tool reads a scenario file,
 * rather than skipped, as the shim does), the rest is the text. The text is handed over in
 * a buffer of exactly its size, without a terminating NUL, as the shim
 * hands over a mapped file: a read past its end is caught by ASan.
 *
 * Beyond "does not crash", properties checked (abort() when broken):
 *   - every message is NUL-terminated, starts with "NAME:LINE:COL: " and
 *     the parser's error count equals the number of messages;
 *   - each rule parsed is formatted (st_rule_format) into a NUL-terminated
 *     string no longer than the buffer, and that text parses back to one
 *     rule, without error, that formats to the same text (the documented
 *     round trip: `socktrace check` prints rules that way).
 *   - st_parse_duration / st_parse_rate on the input as a string, and their
 *     formatters on what they read: the formatted value reads back the
 *     same.
 *
 * Built two ways by tests/robust/meson.build: with libFuzzer (-Dfuzz=true,
 * clang), and with the small driver in driver.c that replays files
 * (always: the robust suite replays the corpus and the regressions). */
#include "expect.h"
#include "rules.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_RULES_MAX 128

struct seen {
	int messages;
	const char *name;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_rules: property broken: %s\n  %s\n", what, detail ? detail : "");
	abort();
}

static void collect(void *ctx, const char *message)
{
	struct seen *s = ctx;
	size_t nlen = strlen(s->name);

	s->messages++;
	if (!message)
		die("a NULL message", NULL);
	if (strnlen(message, 4096) == 4096)
		die("a message longer than 4 KiB (not terminated?)", NULL);
	/* NAME:LINE:COL: */
	if (strncmp(message, s->name, nlen) != 0 || message[nlen] != ':')
		die("a message that does not start with the file name", message);
	const char *p = message + nlen + 1;
	for (int field = 0; field < 2; field++) {
		if (*p < '0' || *p > '9')
			die("a message without LINE:COL", message);
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != ':')
			die("a message without LINE:COL", message);
	}
	if (*p != ' ')
		die("a message without a space after LINE:COL:", message);
}

static struct st_rule rules[FUZZ_RULES_MAX];
static struct st_rule again[2];

static void check_round_trip(const struct st_rule *r)
{
	char text[ST_RULE_TEXT_MAX + 64];
	char text2[ST_RULE_TEXT_MAX + 64];
	struct st_ruleset set = { again, 0, 2, NULL };
	struct seen seen = { 0, "roundtrip" };
	size_t n;

	memset(text, 0x7f, sizeof(text));
	n = st_rule_format(r, text, ST_RULE_TEXT_MAX);
	if (n >= ST_RULE_TEXT_MAX || memchr(text, '\0', ST_RULE_TEXT_MAX) == NULL ||
	    strlen(text) != n)
		die("st_rule_format: length or termination wrong", r->text);
	if (strcmp(text, r->text) != 0)
		die("st_rule_format differs from the text kept in the rule", text);
	int errors = st_rules_parse(&set, "roundtrip", text, n, false, collect, &seen);
	if (errors != 0 || set.count != 1) {
		char detail[ST_RULE_TEXT_MAX + 64];
		snprintf(detail, sizeof(detail), "'%s' gives %d errors, %zu rules", text, errors,
			 set.count);
		die("a formatted rule does not parse back", detail);
	}
	st_rule_format(&again[0], text2, sizeof(text2));
	if (strcmp(text, text2) != 0) {
		char detail[2 * ST_RULE_TEXT_MAX + 64];
		snprintf(detail, sizeof(detail), "'%s' -> '%s'", text, text2);
		die("a formatted rule reads back as another rule", detail);
	}
	if (again[0].fns != r->fns || again[0].fns_sending != r->fns_sending ||
	    again[0].fns_receiving != r->fns_receiving)
		die("a formatted rule selects other calls after the round trip", text);
}

static void check_units(const uint8_t *data, size_t size)
{
	char s[64], out[64];
	uint64_t v, v2;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	if (st_parse_duration(s, &v)) {
		st_format_duration(v, out, sizeof(out));
		if (!st_parse_duration(out, &v2) || v2 != v) {
			char detail[200];
			snprintf(detail, sizeof(detail), "'%s' -> %llu -> '%s'", s,
				 (unsigned long long)v, out);
			die("a formatted duration does not read back", detail);
		}
	}
	if (st_parse_rate(s, &v)) {
		st_format_rate(v, out, sizeof(out));
		if (!st_parse_rate(out, &v2) || v2 != v) {
			char detail[200];
			snprintf(detail, sizeof(detail), "'%s' -> %llu -> '%s'", s,
				 (unsigned long long)v, out);
			die("a formatted rate does not read back", detail);
		}
	}
}

/* What the expectation parser accepted: within the set, texts terminated. */
static void check_expects(const struct st_expectset *es)
{
	if (es->count > es->cap)
		die("more expect lines than the set holds", NULL);
	for (size_t i = 0; i < es->count; i++) {
		const struct st_expect *e = &es->v[i];
		if (!memchr(e->text, '\0', sizeof(e->text)))
			die("an expect line's text is not NUL-terminated", NULL);
		if (e->nchecks == 0 || e->nchecks > ST_EXPECT_CHECKS_MAX)
			die("an expect line accepted without conditions, or with too many", e->text);
		for (size_t k = 0; k < e->nchecks; k++)
			if (!memchr(e->checks[k].text, '\0', sizeof(e->checks[k].text)))
				die("a condition's text is not NUL-terminated", NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen seen = { 0, "fuzz.scn" };
	static struct st_expect expect_mem[FUZZ_RULES_MAX];
	struct st_expectset expects;
	struct st_ruleset set;
	bool semicolons, with_expects;
	size_t cap;
	char *text;
	int errors;

	if (size == 0)
		return 0;
	semicolons = data[0] & 1;
	cap = (data[0] & 2) ? 2 : FUZZ_RULES_MAX;
	with_expects = data[0] & 4;
	data++;
	size--;
	check_units(data, size);

	/* Exactly size bytes: no terminating NUL to lean on. */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	/* Garbage in the rule slots: the parser must set every field. */
	memset(rules, 0xa5, sizeof(rules));
	memset(expect_mem, 0xa5, sizeof(expect_mem));
	expects = (struct st_expectset){ expect_mem, 0, cap };
	set.rules = rules;
	set.count = 0;
	set.cap = cap;
	set.expects = with_expects ? &expects : NULL;
	errors = st_rules_parse(&set, seen.name, text, size, semicolons, collect, &seen);
	if (errors != seen.messages)
		die("the error count is not the number of messages", NULL);
	if (set.count > cap)
		die("more rules than the set holds", NULL);
	for (size_t i = 0; i < set.count; i++)
		check_round_trip(&rules[i]);
	if (with_expects)
		check_expects(&expects);
	free(text);
	return 0;
}
