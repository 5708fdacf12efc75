/* The shim's own messages. They go to stderr only for what the user must
 * know (a bad SOCKTRACE_* value, a trace that cannot be written), or where
 * SOCKTRACE_LOG says; never through the program's stdio buffers. */
#ifndef SOCKTRACE_LOG_H
#define SOCKTRACE_LOG_H

void st_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Before the configuration is known, messages wait here. */
void st_log_flush_pending(void);
/* For a symbol that resolves to ourselves: written with a raw system call
 * because nothing else can be trusted at that point. */
void st_log_fatal_symbol(const char *name);

#endif
