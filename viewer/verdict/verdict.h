/* The verdict of a scenario over a trace: each condition of each `expect`
 * line, and each fault rule that had to act, checked over the whole
 * process tree's trace, with what was expected and what was seen.
 * Shared by `run -s`, `assert` and `report`. */
#ifndef SOCKTRACE_VERDICT_H
#define SOCKTRACE_VERDICT_H

#include "verdict/scenario.h"

#include <jansson.h>
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
	const char *condition; /* the condition ("count>=4"), or the rule's text */
	char expected[160];
	char seen[400];
	bool pass;
	/* What was counted, for scripts (assert --json): calls, bytes, the
	 * ns it took to recover, the times a rule acted; has_value false when
	 * nothing was (succeeds, recovery that never came). */
	bool has_value;
	uint64_t value;
	const char *unit;      /* "calls", "bytes", "ns", "acts" */
	bool optional;         /* a rule marked optional */
	uint64_t selected;     /* a rule: calls its selection words matched */
	uint64_t of_its_calls; /* a rule: calls of the kinds it names */
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
/* The results as one JSON document (verdict_json.c), for scripts:
 * scenario, the trace paths, the counts and every result. Returns 0, or
 * 1 when it could not be written. */
int verdict_print_json(const struct verdict *v, const char *scenario, const char *const *paths,
		       size_t npaths, FILE *out);
/* A JSON string of s, bytes that are not UTF-8 made '?' (file names,
 * program names); "" for NULL. */
json_t *verdict_json_text(const char *s);
void verdict_free(struct verdict *v);

#endif
