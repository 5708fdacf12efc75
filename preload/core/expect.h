/* Expectations: `expect` lines of a scenario file, what a run must show.
 *
 *   expect connect port=5432 count>=4 succeeds
 *   expect recv,read port=5432 never=ECONNRESET
 *   expect connect port=5432 recovery<2s
 *
 * After `expect` come the calls and the selection words of rules (peer=,
 * local=, port=, host=, prog=, after=, for=), then one or more conditions
 * on the calls they select, each checked on its own:
 *
 *   count OP N      calls selected           (OP: >= <= = > <)
 *   ok OP N         ... that succeeded
 *   failed OP N     ... that failed (errno set; a fault counts as its result)
 *   faults OP N     ... a fault rule acted on
 *   bytes OP SIZE   bytes the selected data calls moved on one connection
 *                   (the connection that moved most)
 *   recovery OP D   from the first failed call to the first success after it
 *   succeeds        the last call that concluded succeeded ("eventually")
 *   never=E[,E...]  no call failed with these errnos (never=any: at all)
 *
 * Parsed by the same parser as rules (rules.c), into caller memory. */
#ifndef SOCKTRACE_EXPECT_H
#define SOCKTRACE_EXPECT_H

#include "rules.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_EXPECT_CHECKS_MAX 8
#define ST_EXPECT_NEVER_MAX 8

enum st_cmp {
	ST_CMP_EQ,
	ST_CMP_LT,
	ST_CMP_LE,
	ST_CMP_GT,
	ST_CMP_GE,
};

enum st_check_kind {
	ST_CHECK_COUNT,
	ST_CHECK_OK,
	ST_CHECK_FAILED,
	ST_CHECK_FAULTS,
	ST_CHECK_BYTES,
	ST_CHECK_RECOVERY,
	ST_CHECK_SUCCEEDS,
	ST_CHECK_NEVER,
};

struct st_check {
	enum st_check_kind kind;
	enum st_cmp cmp;
	uint64_t value;               /* a count, bytes, or ns for recovery */
	size_t nnever;                /* never=: errnos listed; 0: never=any */
	int never[ST_EXPECT_NEVER_MAX];
	bool never_eai[ST_EXPECT_NEVER_MAX]; /* an EAI_* code, not an errno */
	char text[96];                /* normalised: "count>=4" */
};

struct st_expect {
	struct st_rule sel;           /* the calls and selection words; origin */
	struct st_check checks[ST_EXPECT_CHECKS_MAX];
	size_t nchecks;
	char text[ST_RULE_TEXT_MAX];  /* normalised, "expect" and all */
};

struct st_expectset {
	struct st_expect *v;
	size_t count;
	size_t cap;
};

bool st_cmp_holds(enum st_cmp cmp, uint64_t seen, uint64_t want);
const char *st_cmp_text(enum st_cmp cmp);

#endif
