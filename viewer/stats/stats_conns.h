/* The figures of one connection, as socktrace stats shows them in its
 * table and in --json: who is at each end, what it carried, how long it
 * took to come up and to answer, how it ended. */
#ifndef SOCKTRACE_STATS_CONNS_H
#define SOCKTRACE_STATS_CONNS_H

#include "model/pairing.h"
#include "util/addr.h"
#include "util/hmap.h"

#include <stdbool.h>
#include <stdint.h>

struct conn_end {
	int pid;             /* the traced process on that side; 0: not traced */
	const char *prog;    /* its program, or NULL */
	const char *addr;    /* its address ("?" when unknown) */
	bool listener_only;  /* pid listens there but never took this one */
};

struct conn_figures {
	struct conn_end end[2];
	int64_t bytes[2], msgs[2]; /* sent by side d (what either end saw) */
	int64_t connect_ns;  /* connect began -> set up; -1: not known */
	int64_t first_byte_ns; /* connect began -> the server's first byte
				* arrived; -1 */
	int64_t duration_ns;
	const char *outcome; /* conn_outcome_text() */
	char ended[64];      /* conn_end_text() */
};

void conn_figures(const struct model *m, const struct conn *c, struct conn_figures *f);

/* A line of a roll-up: connections and bytes of one server address or
 * one program. */
struct rollup {
	char key[ADDR_MAX + 64];
	uint64_t conns, failed, as_client, as_server;
	int64_t out, in;     /* bytes client->server, server->client (address);
			      * sent, received (program) */
	int64_t slowest_connect; /* -1: none known */
};

/* What the lines under the connection table say, for the text and for
 * --json: the roll-ups, how the connections ended, socketpairs apart. */
struct conn_summary {
	struct hmap by_addr;  /* server address -> struct rollup */
	struct hmap by_prog;  /* program -> struct rollup */
	struct hmap endings;  /* conn_end_text -> count (hmap_count) */
	size_t counted;       /* connections counted (not socketpairs) */
	size_t pairs;         /* socketpairs within processes */
};

struct stats;
void conn_summary(const struct stats *st, const struct model *m, struct conn_summary *s);
void conn_summary_free(struct conn_summary *s);
/* A roll-up's lines, most connections first; the array is the caller's
 * to free. */
const struct rollup **rollups_sorted(const struct hmap *h, size_t *n);

#endif
