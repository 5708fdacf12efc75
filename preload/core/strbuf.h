/* Appending formatted text to a fixed buffer, cut at its end: for the
 * messages and normalised texts that core, shim and tool build piece by
 * piece without allocating. */
#ifndef SOCKTRACE_STRBUF_H
#define SOCKTRACE_STRBUF_H

#include <stddef.h>

/* Appends to buf (cap bytes) at *o and moves *o past what was written;
 * buf stays NUL-terminated, and once full further calls do nothing. */
void st_appendf(char *buf, size_t cap, size_t *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
