/* socktrace trace format: names shared by the writer (the shim) and every
 * reader. The format itself is specified in docs/trace-format.md. */
#ifndef SOCKTRACE_TRACE_FORMAT_H
#define SOCKTRACE_TRACE_FORMAT_H

#define SOCKTRACE_FORMAT_NAME "socktrace"
/* MAJOR.MINOR: a reader accepts any minor of the major it knows (new
 * fields and record kinds may appear) and refuses another major. */
#define SOCKTRACE_FORMAT_MAJOR 1
#define SOCKTRACE_FORMAT_MINOR 5
#define SOCKTRACE_FORMAT_VERSION "1.5"

/* Values of the "rec" field. */
#define SOCKTRACE_REC_HEADER "header"
#define SOCKTRACE_REC_CALL "call"
#define SOCKTRACE_REC_EXEC "exec"
#define SOCKTRACE_REC_END "end"
#define SOCKTRACE_REC_WARNING "warning"
/* A change of the fault rules by `socktrace ctl` (format 1.1). */
#define SOCKTRACE_REC_CTL "ctl"

/* Trace files are named PROG.PID.trace in the binary format (the
 * default), PROG.PID.jsonl in JSON Lines (PROG.PID-N.* when taken). */
#define SOCKTRACE_FILE_SUFFIX_BINARY ".trace"
#define SOCKTRACE_FILE_SUFFIX_JSONL ".jsonl"

#endif
