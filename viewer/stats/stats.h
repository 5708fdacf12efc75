/* socktrace stats: per call and per connection figures, in bounded memory
 * (a histogram per call name, a summary per connection). */
#ifndef SOCKTRACE_STATS_H
#define SOCKTRACE_STATS_H

#include "stats/hist.h"
#include "model/pairing.h"
#include "read/vev.h"

#include <stdio.h>

struct errcount {
	char name[24];
	uint64_t count;
};

struct callstat {
	char name[32];
	uint64_t count, errors, faults;
	uint64_t pending;   /* "not yet" results (EINPROGRESS, EAGAIN): not errors */
	struct hist dur;
	struct errcount *errs;
	size_t nerrs;
};

struct stats;

struct stats *stats_new(void);
/* Groups calls by caller as well (stats --by-caller): by the innermost
 * frame of their stack in the traced program (the header's exe), else the
 * innermost frame; file:line from addr2line (NULL or "none": without). */
void stats_by_caller(struct stats *st, const char *addr2line);
void stats_add(struct stats *st, const struct vev *ev);
/* The call table and the connection table (its first max_conns rows). */
void stats_print(const struct stats *st, const struct model *m, size_t max_conns, FILE *out);
void stats_free(struct stats *st);
/* The caller table alone (stats_print prints it instead of the call table
 * with stats_by_caller). */
void stats_print_callers(const struct stats *st, FILE *out);
/* Whether one of connection id's calls was counted (passed the filters). */
bool stats_has_conn(const struct stats *st, uint32_t id);
/* The call figures, busiest first (each one's errnos sorted too); *v is
 * the caller's to free. */
size_t stats_calls(const struct stats *st, const struct callstat ***v);
uint64_t stats_ncalls(const struct stats *st);
size_t stats_nprocs(const struct stats *st);
/* The connections (stats_conns.c): the table (its first max rows), then a
 * roll-up per server address and per program; socketpairs within a
 * process apart. */
void stats_print_conns(const struct stats *st, const struct model *m, size_t max, FILE *out);
/* All of it as one JSON document (stats_json.c), for scripts; note: what
 * the causal order could not link (pass_ordering_note), "" when nothing. */
int stats_print_json(const struct stats *st, const struct model *m, const char *note, FILE *out);
/* The warnings of the shim in the trace (kinds, most frequent first); *v
 * is the caller's to free. */
size_t stats_warnings(const struct stats *st, struct errcount **v);
/* One line of the --by-caller table. */
struct caller_row {
	const struct callstat *cs;  /* cs->name: the call */
	const char *caption;        /* as the table shows it: "db_connect  callers.c:54" */
	const char *function;       /* the function, NULL when not known */
	const char *location;       /* file:line (line_known), else module+0xOFFSET or
				     * the ip; NULL when not known */
	const char *module;         /* the frame's module as recorded, or NULL */
	bool line_known;
	bool nostack;               /* the calls recorded without a stack */
};
/* With stats_by_caller, the call sites in the table's order (else none);
 * *rows is the caller's to free, valid while st is. */
size_t stats_callers(const struct stats *st, struct caller_row **rows);
bool stats_is_by_caller(const struct stats *st);
/* For the tests: the figures of one call name, NULL if it never came. */
const struct callstat *stats_call(const struct stats *st, const char *name);

#endif
