/* One pass over a trace: read in time order, decode, pair, filter. Shared
 * by `view` (one or two passes) and `stats`. */
#ifndef SOCKTRACE_PIPELINE_H
#define SOCKTRACE_PIPELINE_H

#include "filter.h"
#include "pairing.h"
#include "trace_reader.h"
#include "vev.h"

struct pass {
	struct tr_reader reader;
	struct model *model;
	unsigned long events;  /* records read */
	unsigned long shown;   /* passed the filter */
};

/* Opens the inputs (TR_QUIET in flags: no warnings). Returns 0, or 1
 * when an input is unreadable or not a trace (printed). */
int pass_open(struct pass *p, const char *const *paths, size_t npaths, unsigned flags);
/* Feeds every record to the model and every one that passes f to fn.
 * Returns 0, or 1 on a fatal read error (printed). */
int pass_run(struct pass *p, const struct filter *f, void (*fn)(void *st, struct vev *ev),
	     void *st);
void pass_close(struct pass *p);

#endif
