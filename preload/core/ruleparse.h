/* What the rule parser shares with the parser of `expect` lines
 * (expect.c): the line's words, the error reporter and the selection
 * words, so both read `connect port=5432` alike and report alike. Not a
 * public interface: rules.h and expect.h are. */
#ifndef SOCKTRACE_RULEPARSE_H
#define SOCKTRACE_RULEPARSE_H

#include "rules.h"

#include <stdbool.h>
#include <stdint.h>

struct st_parser {
	struct st_ruleset *set;
	const char *name;
	unsigned line;
	bool inline_rules;  /* SOCKTRACE_FAULTS, -f: rules only, ';' splits */
	st_rule_report report;
	void *ctx;
	int errors;
	st_rule_report_error report_error; /* instead of report: in parts */
};

struct st_word {
	const char *text; /* NUL-terminated copy */
	unsigned col;     /* 1-based column in the line */
};

/* Reports "NAME:LINE:COL: message" and counts the error. */
void st_parse_fail(struct st_parser *p, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, for a message that suggests a word ("did you mean 'port'?"):
 * hint, that word, goes to a report_error in its own field. */
void st_parse_fail_hint(struct st_parser *p, unsigned col, const char *hint, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));
bool st_parse_u64(const char *s, uint64_t *out);
/* The first word of a rule or expectation: the calls it selects. */
bool st_parse_calls(struct st_parser *p, struct st_rule *r, const struct st_word *w);
/* Whether key (the part before '=') is a selection word: peer, local,
 * port, host, prog, after, for. */
bool st_is_selector_key(const char *key);
/* Any word of a rule: selection, when=, prob=, caller= or an action. */
bool st_parse_keyword(struct st_parser *p, struct st_rule *r, const struct st_word *w);

/* The parser of `expect` lines (expect.c): words[0] is "expect". */
void st_expect_parse_line(struct st_parser *p, const struct st_word *words, size_t nwords);

#endif
