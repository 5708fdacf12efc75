/* The pager long output on a terminal goes through, as git and perf do:
 * $PAGER, else `less -RS` (with LESS=FRX when LESS is not set, so that
 * output shorter than a screen is just written). */
#ifndef SOCKTRACE_PAGER_H
#define SOCKTRACE_PAGER_H

#include <stdbool.h>

/* Starts the pager with standard output going to it. Call only when
 * standard output is a terminal and was asked for (no -o, no
 * --no-pager), after everything that looks at the terminal (its width,
 * colours). An empty $PAGER or "cat" means none. Returns false, standard
 * output untouched, when there is none or it cannot start.
 *
 * While it runs, a write to a pager the user quit (SIGPIPE) ends the
 * process with status 0, after the pager; an interrupt or termination
 * closes the output, waits for the pager, then takes effect. */
bool pager_start(void);
/* After the last write: flushes standard output, closes the pipe and
 * waits for the user to quit the pager. */
void pager_finish(void);

#endif
