/* Trace directories as `socktrace run` manages them. */
#ifndef SOCKTRACE_TRACEDIR_H
#define SOCKTRACE_TRACEDIR_H

#include <stddef.h>

#define ST_TRACE_ROOT "socktrace-out"
#define ST_TRACE_LATEST "latest"

/* How many runs socktrace-out/ keeps by default (SOCKTRACE_KEEP, run
 * --keep). */
#define ST_KEEP_RUNS_DEFAULT 20

/* Creates a fresh run directory socktrace-out/run-YYYYmmdd-HHMMSS-PID.
 * Returns 0 or -1 with a message. */
int st_make_run_dir(char *path, size_t cap);
/* Points socktrace-out/latest at the run directory path, once its command
 * has started. */
void st_point_latest(const char *path);
/* Removes the oldest runs of socktrace-out/ past the newest keep, never
 * current, the one latest points to, one whose `socktrace run` or any of
 * whose writers is alive, or one holding files that are not traces. */
void st_prune_runs(unsigned keep, const char *current);
/* The trace a reading command reads when given none; NULL, after saying
 * what to run first, when there is none. */
const char *st_default_trace(const char *command);
/* mkdir -p with mode 0700 for what it creates. */
int st_mkdirs(const char *path);
/* After the traced processes have ended: trims the NUL padding that a
 * killed writer leaves at the end of its file, so every file is plain JSON
 * Lines. Files whose writer is still alive are left alone. Returns the
 * number of trace files in dir, or -1. */
int st_tidy_traces(const char *dir);

/* Prints each warning record the shim left in dir's traces (io_uring in
 * use, ...) once per process on stderr. Returns how many. */
int st_report_warnings(const char *dir);

#endif
