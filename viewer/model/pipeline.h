/* One pass over a trace: read in time order, decode, pair, put in causal
 * order, filter. Shared by `view` (one or two passes), `stats` and the
 * verdicts. */
#ifndef SOCKTRACE_PIPELINE_H
#define SOCKTRACE_PIPELINE_H

#include "model/causal.h"
#include "model/filter.h"
#include "model/pairing.h"
#include "read/trace_reader.h"
#include "read/vev.h"

struct pass {
	struct tr_reader reader;
	struct model *model;
	struct causal *order;
	unsigned long events;  /* records read */
	unsigned long shown;   /* passed the filter */
	unsigned long forced;  /* links dropped by the causal order (causal_forced) */
	const struct filter *f;
	void (*fn)(void *st, struct vev *ev);
	void *st;
};

/* Opens the inputs (TR_QUIET in flags: no warnings). Returns 0, or 1
 * when an input is unreadable or not a trace (printed). */
int pass_open(struct pass *p, const char *const *paths, size_t npaths, unsigned flags);
/* Feeds every record to the model and every one that passes f to fn, in
 * causal order (causal.h). Returns 0, or 1 on a fatal read error
 * (printed). */
int pass_run(struct pass *p, const struct filter *f, void (*fn)(void *st, struct vev *ev),
	     void *st);
/* What the causal order could not do, for the end of the output: "" when
 * nothing, else a sentence (links dropped past the window, sends dropped
 * past the in-flight bound). */
void pass_ordering_note(const struct pass *p, char *buf, size_t cap);
void pass_close(struct pass *p);

#endif
