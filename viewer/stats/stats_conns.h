/* The figures of one connection, as socktrace stats shows them in its
 * table and in --json: who is at each end, what it carried, how long it
 * took to come up and to answer, how it ended. */
#ifndef SOCKTRACE_STATS_CONNS_H
#define SOCKTRACE_STATS_CONNS_H

#include "model/pairing.h"

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

#endif
