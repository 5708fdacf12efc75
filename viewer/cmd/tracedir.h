/* Trace directories as `socktrace run` manages them. */
#ifndef SOCKTRACE_TRACEDIR_H
#define SOCKTRACE_TRACEDIR_H

#include <stddef.h>

#define ST_TRACE_ROOT "socktrace-out"
#define ST_TRACE_LATEST "latest"

/* Creates a fresh run directory socktrace-out/run-YYYYmmdd-HHMMSS-PID and
 * points socktrace-out/latest at it. Returns 0 or -1 with a message. */
int st_make_run_dir(char *path, size_t cap);
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
