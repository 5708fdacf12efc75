/* The traced processes as a tree, from the headers of the trace files
 * (pid, ppid) and the time each process's first record began: what the
 * pairing model needs to tell which processes a fork may have handed a
 * descriptor to before they used it.
 *
 * fork() itself is not in the trace. A child inherits every descriptor its
 * parent had when it forked, and it began its first traced call after the
 * fork: so a child whose first call began before a descriptor was opened
 * cannot hold it, and any other child that has not exited may. */
#ifndef SOCKTRACE_PTREE_H
#define SOCKTRACE_PTREE_H

#include "read/trace_reader.h"

#include <stdbool.h>
#include <stdint.h>

struct ptree;

/* The processes of r's files; times are relative to r->base, as the
 * events' are. NULL when out of memory. */
struct ptree *ptree_new(const struct tr_reader *r);
void ptree_free(struct ptree *t);

/* pid exited (an end record other than exec's): it holds nothing more. */
void ptree_exited(struct ptree *t, int pid);

/* Whether a traced descendant of pid that began after since (ns; INT64_MIN:
 * any) and has not exited may still hold a descriptor pid had since then:
 * may_hold(ctx, d) is asked of each such descendant d, and says false when
 * d is known not to (it closed it, or its descriptor of that number is
 * another socket). */
bool ptree_heir(const struct ptree *t, int pid, int64_t since,
		bool (*may_hold)(void *ctx, int pid), void *ctx);

#endif
