/* The verdict of a scenario over a trace: each condition of each `expect`
 * line, and each fault rule that had to act, checked over the whole
 * process tree's trace, with what was expected and what was seen.
 * Shared by `run -s`, `assert` and `report`. */
#ifndef SOCKTRACE_VERDICT_H
#define SOCKTRACE_VERDICT_H

#include "verdict/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Connections kept per failed check, for the report's diagram. */
#define VERDICT_CONNS_MAX 16

enum result_kind {
	RESULT_EXPECT,  /* one condition of an expect line */
	RESULT_RULE,    /* a fault rule acted (or was optional) */
};

struct result {
	enum result_kind kind;
	const char *origin;    /* FILE:LINE of the line */
	char name[ST_RULE_TEXT_MAX + 160]; /* what was checked, for lists */
	char expected[160];
	char seen[400];
	bool pass;
	uint32_t conns[VERDICT_CONNS_MAX]; /* connections involved (c1, ...) */
	size_t nconns;
};

struct verdict {
	struct result *results;
	size_t count;
	size_t failed;
	unsigned long events;  /* records read */
	int64_t span_ns;       /* from the first call to the last return */
};

/* Reads the trace at paths (files or directories) and checks sc against
 * it; with npaths 0, against an empty trace. Returns 0, or 1 when the
 * trace could not be read (printed). */
int verdict_eval(struct verdict *v, const struct st_scenario *sc, const char *const *paths,
		 size_t npaths);
/* Whether sc asks for a verdict: it has expect lines. */
bool verdict_wanted(const struct st_scenario *sc);
/* The results as lines for a terminal (PASS/FAIL, expected, seen), and
 * a last line counting them. */
void verdict_print(const struct verdict *v, FILE *out, bool color, bool failures_only);
void verdict_free(struct verdict *v);

#endif
