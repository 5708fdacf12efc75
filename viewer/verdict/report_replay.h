/* What a report says to reproduce a traced run: the command that replays
 * it (the same program, rules and seed), and each fault rule in force
 * with how often it acted. From the trace alone: the headers carry each
 * process's argv, rules and seed, the fault records which rule acted. */
#ifndef SOCKTRACE_REPORT_REPLAY_H
#define SOCKTRACE_REPORT_REPLAY_H

#include "read/trace_reader.h"
#include "read/vev.h"

#include <stdio.h>

struct replay;

struct replay *replay_new(void);
/* Counts ev for its rule when a fault rule acted on it. */
void replay_count(struct replay *rp, const struct vev *ev);
/* The Markdown section: replay commands (one per program started on its
 * own, not a child of another traced process) and the rule table. Reads
 * the headers of r's files again. Nothing when no process had rules. */
void replay_print(struct replay *rp, const struct tr_reader *r, FILE *out);
void replay_free(struct replay *rp);

#endif
