/* The event filters of `socktrace view` and `socktrace stats`: --pid,
 * --conn, --fn, --since, --until, --errors. Criteria of different kinds
 * must all hold; values of one kind (--pid 1,2) are alternatives. */
#ifndef SOCKTRACE_FILTER_H
#define SOCKTRACE_FILTER_H

#include "read/vev.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct filter {
	int *pids;
	size_t npids;
	char **fns;
	size_t nfns;
	uint32_t *conn_ids;
	size_t nconn_ids;
	char **conn_addrs;   /* normalised addresses, or ":PORT" */
	size_t nconn_addrs;
	int64_t since, until; /* ns since the trace start, on return time */
	bool errors;
	/* Who the messages about bad values come from ("socktrace view"). */
	const char *who;
};

void filter_init(struct filter *f);
void filter_free(struct filter *f);
/* Each parses one option's argument (comma-separated lists); on a bad
 * value they print why and return -1. */
int filter_add_pids(struct filter *f, const char *arg);
int filter_add_fns(struct filter *f, const char *arg);
int filter_add_conns(struct filter *f, const char *arg);
int filter_set_time(struct filter *f, const char *arg, bool since);
/* The options, for a getopt_long table; the short letters p, c and e are
 * also short options (-p, -c, -e). */
#define FILTER_LONGOPTS \
	{ "pid", required_argument, NULL, 'p' }, \
	{ "conn", required_argument, NULL, 'c' }, \
	{ "fn", required_argument, NULL, 'F' }, \
	{ "since", required_argument, NULL, 'S' }, \
	{ "until", required_argument, NULL, 'U' }, \
	{ "errors", no_argument, NULL, 'e' }
/* Applies one of them: 0 done, 1 not a filter option, -1 bad value. */
int filter_option(struct filter *f, int opt, const char *arg);

bool filter_match(const struct filter *f, const struct vev *ev);
/* True when some criterion is set. */
bool filter_active(const struct filter *f);

#endif
